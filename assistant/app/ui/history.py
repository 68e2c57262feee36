"""The chat's saved conversations (sidebar: new, rename, delete; restored on reload), 👍/👎 feedback, export, regenerate."""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Any

import gradio as gr

from assistant.app.shelf import Shelf
from assistant.app.ui.exports import ExportFiles
from assistant.app.ui.kb_picker import KbAccess, NotReadable
from assistant.app.ui.render import sources_html
from assistant.app.ui.session import (
    empty_session,
    entry_of,
    message_text,
    parse_entry,
    plain_question,
    session_kb,
    with_turn,
)
from assistant.conversations.store import ConversationStore, Turn, open_store
from assistant.errors import AssistantError

log = logging.getLogger("assistant.app.ui.history")

NARROW_PX = 768  # below this window width the conversation list starts folded away
WIDTH_JS = "() => [window.innerWidth]"  # hands the browser window's width to a handler
# After a conversation is picked or started on a phone, fold the list away to show the chat. In the browser: the
# sidebar's own toggle (a server update to open=False is ignored once the user has opened it by hand).
FOLD_JS = f"""() => {{
  const side = document.getElementById("conversations");
  if (window.innerWidth < {NARROW_PX} && side && side.classList.contains("open"))
    side.querySelector(".toggle-button")?.click();
}}"""


class ChatHistory:
    """The saved-conversation controls of one app; build the sidebar and controls, then `attach` the events.

    Each knowledge base keeps its users' conversations (conversations.sqlite3 in its folder); the list shows those of
    every knowledge base the user may read, and opening one switches the chat to its knowledge base.
    """

    def __init__(self, kb: Any, access: KbAccess | None = None):
        """`kb`: the knowledge base of a chat of one; `access`: the served knowledge bases (then `kb` is not used)."""
        self.access = access or KbAccess(Shelf.of(kb))
        self.default = self.access.shelf.default
        self._stores: dict[str, ConversationStore] = {}
        self._stores_lock = threading.Lock()
        self.store = self.store_of(self.default)  # also keeps the key of the browsers' saved state
        self.exports = ExportFiles()  # the files of the export buttons

    # -- the page ------------------------------------------------------------------------------
    def sidebar(self) -> None:
        """The conversation list with new, rename and delete (a sidebar the user can fold away)."""
        # The browser remembers who it is and which conversation is open, encrypted with a key kept in the store,
        # so a reload, and a server restart, open the same conversation again.
        # The key names the knowledge base of a server of one, as before there was a choice; a server of several
        # does not name its default: every browser is sent the key, also one whose user may not read that one.
        # "kb" is the open conversation's knowledge base (absent in a state saved before: the default).
        self.browser = gr.BrowserState(
            {"user": "", "conversation": "", "kb": ""},
            storage_key=f"office-assistant-{'kbs' if self.access.several else self.default}",
            secret=self.store.secret(),
        )
        self.ident = gr.State({"user": "", "conversation": "", "kb": ""})
        self.width = gr.Number(visible=False)  # the browser window's width, filled in on load
        with gr.Sidebar(label="对话记录 Conversations", open=True, width=280, elem_id="conversations") as self.side:
            gr.Markdown("### 对话记录 Conversations")
            self.new = gr.Button("＋ 新对话 New conversation", variant="primary", size="sm", elem_id="conv-new")
            self.listing = gr.Radio([], value=None, show_label=False, container=False, elem_id="conv-list")
            self.status = gr.Markdown(elem_id="conv-status")
            with gr.Accordion("重命名 / 删除 Rename / delete", open=False, elem_id="conv-manage"):
                self.title = gr.Textbox(label="对话标题 Title", max_lines=1, elem_id="conv-title")
                self.rename = gr.Button("重命名 Rename", size="sm", elem_id="conv-rename")
                self.delete = gr.Button("删除此对话 Delete", variant="stop", size="sm", elem_id="conv-delete")
                with gr.Row(visible=False) as self.confirm_row:
                    self.confirm = gr.Button("确认删除 Confirm", variant="stop", size="sm", elem_id="conv-confirm")
                    self.cancel = gr.Button("取消 Cancel", size="sm", elem_id="conv-cancel")

    def controls(self) -> None:
        """Under the conversation: regenerate, export of the shown answer, and the feedback comment box."""
        with gr.Row(elem_id="export-row"):
            small: dict[str, Any] = {"size": "sm", "min_width": 100, "interactive": False}  # one row at 390 px
            self.regenerate = gr.Button("↻ 重新生成 Regenerate", elem_id="regenerate", **small)
            self.docx = gr.DownloadButton("导出 Word", elem_id="export-docx", **small)
            self.markdown = gr.DownloadButton("导出 Markdown", elem_id="export-md", **small)
        self.rated = gr.State({})  # the feedback a comment belongs to: {"kb", "id"}
        with gr.Row(visible=False, elem_id="feedback-row") as self.feedback_row:
            self.comment = gr.Textbox(
                show_label=False, placeholder="可选：说说这个回答好在哪里或错在哪里 · Optional comment", scale=5,
                elem_id="feedback-comment",
            )  # fmt: skip
            self.send_comment = gr.Button("提交评论 Send", size="sm", scale=1, elem_id="feedback-send")
            self.close_comment = gr.Button("关闭 Close", size="sm", scale=1, elem_id="feedback-close")

    # -- helpers --------------------------------------------------------------------------------
    def store_of(self, kb: str) -> ConversationStore:
        """The conversations of knowledge base `kb` (opened once)."""
        with self._stores_lock:
            if kb not in self._stores:
                self._stores[kb] = open_store(self.access.shelf.get(kb).settings.kb_dir)
            return self._stores[kb]

    def _kb(self, ident: dict) -> str:
        return str(ident.get("kb") or self.default)

    def _choices(self, user: str) -> list[tuple[str, str]]:
        """The user's conversations in every knowledge base they may read, by last answer; each marked with its
        knowledge base when there are several."""
        if not user:
            return []
        names = self.access.readable(user)
        found = [(c.updated, kb, c) for kb in names for c in self.store_of(kb).conversations(user)]
        found.sort(key=lambda item: item[0], reverse=True)
        return [(f"【{kb}】{c.title}" if len(names) > 1 else c.title, entry_of(kb, c.id)) for _, kb, c in found]

    def _opened(self, user: str, conversation: str, kb: str) -> tuple:
        """(ident, browser, list, title, chatbot, session, sources, regenerate, docx, md, knowledge-base picker) for a
        conversation of knowledge base `kb` ("" with no conversation and no knowledge base the user may read)."""
        ident = {"user": user, "conversation": conversation, "kb": kb}
        store = self.store_of(kb) if conversation else None
        turns = store.turns(user, conversation) if store else []
        chat, session = [], empty_session(kb)
        for turn in turns:
            chat += [{"role": "user", "content": turn.user_message}, {"role": "assistant", "content": turn.reply}]
            if turn.answer:  # as in the chat: only answers are context for follow-ups
                session["searched"].append(turn.searched)
            session["sources"].append(turn.panel)
            session["answers"].append(turn.answer)
            session["messages"].append([turn.user_message, turn.reply])
        title = store.get(user, conversation).title if store else ""
        last = session["answers"][-1] if turns else None
        return (
            ident,
            ident,
            gr.update(choices=self._choices(user), value=entry_of(kb, conversation) if conversation else None),
            title,
            chat,
            session,
            session["sources"][-1] if turns and session["sources"][-1] else sources_html(None),
            gr.update(interactive=bool(turns)),
            *self.exports.buttons(last),
            self.access.picker_update(user, kb or None),
        )

    # -- handlers -------------------------------------------------------------------------------
    def restore(self, saved: dict | None, request: gr.Request) -> tuple:
        """On page load: who this is (login name, else the browser's own id) and the conversation left open."""
        saved = saved or {}
        user = getattr(request, "username", None) or saved.get("user") or f"browser-{uuid.uuid4().hex}"
        was = str(saved.get("kb") or self.default)
        kb = self.access.choose(was, user) or ""  # the conversation's knowledge base, if the user still may read it
        if not kb:
            gr.Warning(str(NotReadable("")))
        conversation = str(saved.get("conversation") or "") if kb == was else ""
        try:
            opened = self._opened(user, conversation, kb)
        except AssistantError:  # deleted meanwhile, or from another login: start afresh and say so
            opened = self._opened(user, "", kb)
            gr.Info("上次打开的对话已不存在，已开始新对话。The conversation open last time no longer exists.")
        return opened

    def sync(self, ident: dict, session: dict | None) -> tuple:
        """After every answer (the session changed): save the new turns; a first answer creates the conversation."""
        session = session or empty_session()
        user, conversation, kb = ident.get("user") or "", ident.get("conversation") or "", self._kb(ident)
        was_open = conversation
        n = len(session.get("sources", []))
        if not user:
            return (gr.update(),) * 7
        if session_kb(session) and session_kb(session) != kb:
            # The page switched knowledge base while this answer was being settled: its turn is not saved in a
            # conversation of the other knowledge base.
            log.info("an answer from %r arrived after the switch to %r; not saved", session_kb(session), kb)
            return (gr.update(),) * 7
        store = self.store_of(kb)
        if n == 0:
            # The chat was emptied: a new conversation (saved with its first answer), unless the open one has no
            # turns left in the store either (its only answer is being regenerated): then the answer goes there.
            try:
                if conversation and store.turns(user, conversation):
                    conversation = ""
            except AssistantError:
                conversation = ""
            ident = {"user": user, "conversation": conversation, "kb": kb}
            return (ident, ident, gr.update(choices=self._choices(user), value=None), "", gr.update(interactive=False),
                    *self.exports.buttons(None))  # fmt: skip
        answers = session.get("answers") or []
        messages = session.get("messages") or []
        try:
            if not conversation:
                first = answers[0] if answers and answers[0] else {}
                asked = messages[0][0] if messages and messages[0] else ""
                conversation = store.create(user, first.get("question") or plain_question(asked)).id
            stored = len(store.turns(user, conversation))
            for i in range(stored, n):
                answer = answers[i] if i < len(answers) else None
                asked, reply = (list(messages[i]) + ["", ""])[:2] if i < len(messages) else ("", "")
                store.append(
                    user,
                    conversation,
                    Turn(
                        question=(answer or {}).get("question") or plain_question(asked),
                        user_message=asked,
                        reply=reply,
                        panel=session["sources"][i] or "",
                        searched=(answer or {}).get("searched", ""),
                        answer=answer,
                        mode=(answer or {}).get("mode", ""),
                    ),
                )
        except AssistantError as exc:
            log.warning("conversation not saved: %s", exc)
            gr.Warning(f"对话未能保存 The conversation was not saved：{exc}")
            return (gr.update(),) * 7
        ident = {"user": user, "conversation": conversation, "kb": kb}
        # The title box is filled only when this answer created the conversation: refilling it for an open one would
        # overwrite what the user is typing there (opening a conversation fills it already).
        title = store.get(user, conversation).title if conversation != was_open else gr.update()
        last = answers[n - 1] if len(answers) >= n else None
        return (ident, ident, gr.update(choices=self._choices(user), value=entry_of(kb, conversation)), title,
                gr.update(interactive=True), *self.exports.buttons(last))  # fmt: skip

    def open(self, ident: dict, entry: str | None) -> tuple:
        """A conversation picked in the list: opened in its knowledge base (the chat switches to it)."""
        user = ident.get("user") or ""
        kb, conversation = parse_entry(entry)
        kb = kb or self._kb(ident)  # a bare id: a conversation of the open knowledge base
        try:
            if kb not in self.access.readable(user):
                raise NotReadable(kb)
            return self._opened(user, conversation, kb)
        except AssistantError as exc:
            gr.Warning(str(exc))
            return self._opened(user, "", self._kb(ident))

    def start_new(self, ident: dict) -> tuple:
        return self._opened(ident.get("user") or "", "", self._kb(ident))

    def switch(self, ident: dict, kb: str | None) -> tuple:
        """The knowledge-base picker changed: a new conversation in that knowledge base."""
        user = ident.get("user") or ""
        if not kb or kb not in self.access.readable(user):  # only a request not sent by the page gets here
            gr.Warning(str(NotReadable(kb or "")))
            return (*(gr.update(),) * 10, self.access.picker_update(user, self._kb(ident)))
        return self._opened(user, "", kb)

    def rename_to(self, ident: dict, title: str) -> tuple:
        user, conversation = ident.get("user") or "", ident.get("conversation") or ""
        if not conversation:
            gr.Warning("请先提问：对话在第一个回答后保存，之后才能重命名。Ask a question first: a conversation is saved with its first answer.")  # fmt: skip
            return gr.update(), gr.update()
        try:
            renamed = self.store_of(self._kb(ident)).rename(user, conversation, title)
        except AssistantError as exc:
            gr.Warning(str(exc))
            return gr.update(), gr.update()
        return gr.update(choices=self._choices(user), value=entry_of(self._kb(ident), conversation)), renamed.title

    def delete_open(self, ident: dict) -> tuple:
        user, conversation = ident.get("user") or "", ident.get("conversation") or ""
        try:
            if conversation:
                self.store_of(self._kb(ident)).delete(user, conversation)
        except AssistantError as exc:
            gr.Warning(str(exc))
        gr.Info("对话已删除。The conversation was deleted.")
        return (*self._opened(user, "", self._kb(ident)), gr.update(visible=False))

    def rate(self, ident: dict, evt: gr.LikeData) -> tuple:
        """👍/👎 on an answer: stored with the question, the answer, its citations and mode; the comment box opens."""
        user, conversation = ident.get("user") or "", ident.get("conversation") or ""
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        if evt.liked not in (True, False) or not isinstance(index, int):
            return gr.update(), gr.update(), gr.update()
        try:
            if not conversation:
                raise AssistantError(
                    "这个对话还没有保存，请稍后再评价。The conversation is not saved yet; rate it again."
                )
            item = self.store_of(self._kb(ident)).rate(user, conversation, index // 2, "up" if evt.liked else "down")
        except AssistantError as exc:
            gr.Warning(str(exc))
            return gr.update(), gr.update(), gr.update()
        gr.Info("感谢反馈，已记录。Thanks, your feedback is saved.")
        # The comment goes to the knowledge base rated in, even if the chat has switched since.
        return {"kb": self._kb(ident), "id": item.id}, gr.update(visible=True), ""

    def add_comment(self, ident: dict, rated: dict, comment: str) -> tuple:
        rated = rated if isinstance(rated, dict) else {}
        try:
            store = self.store_of(rated.get("kb") or self._kb(ident))
            store.comment(ident.get("user") or "", int(rated.get("id") or 0), comment)
        except AssistantError as exc:
            gr.Warning(str(exc))
            return gr.update(), gr.update()
        gr.Info("评论已保存。Your comment is saved.")
        return gr.update(visible=False), ""

    def pop_last(self, ident: dict, chat: list | None, session: dict | None) -> tuple:
        """Regenerate, step 1: take the last turn off (the page and the store) and put its question back in the box."""
        session = session or empty_session()
        chat = list(chat or [])
        if not session["sources"] or len(chat) < 2:
            gr.Warning("还没有可以重新生成的回答。There is no answer to regenerate yet.")
            return gr.update(), gr.update(), gr.update()
        answers = session.get("answers") or []
        last = answers[-1] if len(answers) == len(session["sources"]) else None
        question = (last or {}).get("question") or plain_question(message_text(chat[-2]))
        user, conversation = ident.get("user") or "", ident.get("conversation") or ""
        if conversation:
            try:
                self.store_of(self._kb(ident)).drop_last(user, conversation)
            except AssistantError as exc:
                log.warning("cannot drop the last turn: %s", exc)
        searched = session["searched"][:-1] if last else session["searched"]
        trimmed = {
            "kb": session_kb(session),
            "searched": searched,
            "sources": session["sources"][:-1],
            "answers": answers[:-1],
            "messages": list(session.get("messages") or [])[:-1],
        }
        return question, chat[:-2], trimmed

    def show_turn_exports(self, session: dict | None, evt: gr.SelectData) -> tuple:
        """Clicking an earlier message makes the export buttons export that answer."""
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        answers = (session or {}).get("answers") or []
        if isinstance(index, int) and 0 <= index // 2 < len(answers) and answers[index // 2]:
            return self.exports.buttons(answers[index // 2])
        return gr.update(), gr.update()

    # -- events ---------------------------------------------------------------------------------
    def attach(self, chatbot: Any, session: Any, sources: Any, question: Any, ask: Any, picker: Any) -> None:
        """Wire the events; `ask(trigger)` chains the chat's answer handler after `trigger` (for regenerate); `picker`
        is the knowledge-base dropdown (KbAccess.picker)."""
        self.opened = opened = [
            self.ident, self.browser, self.listing, self.title, chatbot, session, sources, self.regenerate,
            self.docx, self.markdown, picker,
        ]  # fmt: skip
        private: dict[str, Any] = {"api_visibility": "private"}
        # Saving, opening, starting, renaming and deleting all read and write which conversation is open (`ident`):
        # one queue runs them in the order they were asked, so a save still running when the user clicks 新对话
        # cannot write the old conversation back over the new one (it did under load, and the next answer was lost).
        ordered: dict[str, Any] = {"concurrency_id": "conversations", "concurrency_limit": 1, **private}
        synced = [self.ident, self.browser, self.listing, self.title, self.regenerate, self.docx, self.markdown]
        session.change(self.sync, [self.ident, session], synced, **ordered)
        fold = {"fn": None, "js": FOLD_JS, **private}
        self.listing.input(self.open, [self.ident, self.listing], opened, **ordered).then(**fold)
        self.new.click(self.start_new, [self.ident], opened, **ordered).then(**fold)
        picker.input(self.switch, [self.ident, picker], opened, **ordered)
        self.rename.click(self.rename_to, [self.ident, self.title], [self.listing, self.title], **ordered)
        self.title.submit(self.rename_to, [self.ident, self.title], [self.listing, self.title], **ordered)
        self.delete.click(lambda: gr.update(visible=True), None, self.confirm_row, **private)
        self.cancel.click(lambda: gr.update(visible=False), None, self.confirm_row, **private)
        self.confirm.click(self.delete_open, [self.ident], [*opened, self.confirm_row], **ordered)
        chatbot.like(self.rate, [self.ident], [self.rated, self.feedback_row, self.comment], **private)
        self.send_comment.click(
            self.add_comment, [self.ident, self.rated, self.comment], [self.feedback_row, self.comment], **private
        )
        self.comment.submit(
            self.add_comment, [self.ident, self.rated, self.comment], [self.feedback_row, self.comment], **private
        )
        self.close_comment.click(lambda: gr.update(visible=False), None, self.feedback_row, **private)
        chatbot.select(self.show_turn_exports, [session], [self.docx, self.markdown], **private)
        for trigger in (self.regenerate.click, chatbot.retry):
            ask(trigger(self.pop_last, [self.ident, chatbot, session], [question, chatbot, session], **private))

    def restore_on(self, app: gr.Blocks) -> None:
        """Reopen the browser's conversation when the page loads (call after `attach`)."""
        app.load(self.restore, [self.browser], self.opened, concurrency_id="conversations", concurrency_limit=1,
                 api_visibility="private")  # fmt: skip
        # On a phone the open sidebar would cover the chat: it starts folded there (the ☰ button opens it).
        app.load(lambda width: gr.update(open=not width or width >= NARROW_PX), [self.width], self.side, js=WIDTH_JS,
                 api_visibility="private")  # fmt: skip


__all__ = ["ChatHistory", "empty_session", "message_text", "plain_question", "with_turn"]
