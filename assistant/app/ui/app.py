"""The browser chat (Gradio 6): the page's layout, its wiring to the handlers, and the /ask API."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from typing import Any

# Gradio reads this when it is imported: no usage statistics leave an offline machine.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

import gradio as gr  # noqa: E402  (the environment variable must be set first)

from assistant.accounts import Accounts  # noqa: E402
from assistant.app.shelf import Shelf  # noqa: E402
from assistant.app.ui.assets import PAGE_CSS, SCROLL_TO_CHAT_JS, SOURCES_JS  # noqa: E402
from assistant.app.ui.documents_tab import knowledge_tab  # noqa: E402
from assistant.app.ui.history import ChatHistory, empty_session  # noqa: E402
from assistant.app.ui.kb_picker import KbAccess  # noqa: E402
from assistant.app.ui.modes import default_mode, mode_statuses, unusable_html, usable_choices  # noqa: E402
from assistant.app.ui.render import SOURCES_CSS, answer_dict, esc, sources_html  # noqa: E402
from assistant.app.ui.respond import (  # noqa: E402
    make_responder,
    make_settler,
    make_stop_request,
    show_turn,
)
from assistant.app.ui.session import session_kb  # noqa: E402
from assistant.app.ui.status import Runs  # noqa: E402
from assistant.conversations.audit import login_of  # noqa: E402
from assistant.errors import AssistantError  # noqa: E402
from assistant.results import Answer  # noqa: E402

log = logging.getLogger("assistant.app.ui.app")

EXAMPLES = [
    "机关是怎样落实在职党员“双报到”制度的？",
    "How do offices run the 双报到 system?",
    "办公室怎样做好保密工作？",
    "办公室如何开展督查督办工作？",
    "机关是如何开展清廉机关建设的？",
]


def ask_kb(
    kb: Any, question: str, k: int | None = None, mode: str | None = None, history: Sequence | None = None
) -> Answer:
    """kb.ask, passing the number of passages, mode and history only when they are given."""
    extra: dict[str, Any] = {}
    if k is not None and int(k) != kb.settings.top_k:
        extra["k"] = int(k)
    if mode:
        extra["mode"] = mode
    if history:
        extra["history"] = list(history)
    return kb.ask(question, **extra)


def _constant(value: str) -> Callable[[], str]:
    return lambda: value


def _api_ask(access: KbAccess) -> Callable[..., dict]:
    """The /ask API handler (its name, signature and docstring describe the endpoint)."""

    def api_ask(question: str, k: int = 0, mode: str = "", kb: str = "", request: gr.Request | None = None) -> dict:
        """Answer a question from the documents: text with [n] markers, refused flag, citations.

        `mode` picks the answerer (extractive, local, openai, ollama); empty = the configured default.
        `kb` names the knowledge base (empty = the server's first one you may read).
        """
        try:
            asked = access.kb(kb, login_of(request))
        except AssistantError as exc:
            raise gr.Error(str(exc)) from exc
        name = str(asked.settings.kb)
        access.audit(name).record(login_of(request), name, "ask", question, via="gradio-api")
        try:
            answer = ask_kb(asked, question, k or None, mode or None)
        except AssistantError as exc:
            raise gr.Error(str(exc)) from exc
        return answer_dict(answer)

    return api_ask


# -- the page -----------------------------------------------------------------------------------
def _header(warning: str | None, access: KbAccess) -> gr.Dropdown:
    """The title with the knowledge-base picker beside it, and the warning (if any) above everything else."""
    with gr.Row(equal_height=True, elem_id="app-top"):
        gr.Markdown(
            "## 办公文档问答助手 · Office document Q&A\n"
            "答案只来自知识库中的文件，每句话都标注来源 [n]。"
            "Answers come only from the documents in the knowledge base; every statement cites its source [n].",
            elem_id="app-header",
        )
        picker = access.picker()
    if warning:
        gr.HTML(
            f'<div class="ui-warning" role="alert">⚠ {esc(warning)}</div>',
            css_template=".ui-warning { border: 1px solid #c0392b; background: rgba(192,57,43,.12);"
            " border-radius: 6px; padding: 8px 10px; }",
            js_on_load=None,
            elem_id="warning",
        )
    return picker


def _filter_choices(kb: Any) -> tuple[list[str], list[str]]:
    """The offices and 文种 the documents of a knowledge base print."""
    docs = kb.documents()
    return sorted({d.office for d in docs if d.office}), sorted({d.doc_type for d in docs if d.doc_type})


def _filter_controls(kb: Any | None) -> list[gr.components.Component]:
    """Office, 文种 and date range the answer may come from (choices: what the documents print; any may be typed).

    `kb` None (several knowledge bases): no choices until the page knows which one it shows."""
    offices, types = _filter_choices(kb) if kb is not None else ([], [])
    gr.Markdown("只在这些文件中查找 Only search documents of:")
    with gr.Row():
        office = gr.Dropdown(
            offices, value=None, allow_custom_value=True, label="发文机关 Office", elem_id="filter-office"
        )
        doc_type = gr.Dropdown(types, value=None, allow_custom_value=True, label="文种 Type", elem_id="filter-type")
    with gr.Row():
        since = gr.Textbox(label="成文日期起 From", placeholder="YYYY-MM-DD", elem_id="filter-since")
        until = gr.Textbox(label="成文日期止 To", placeholder="YYYY-MM-DD", elem_id="filter-until")
    return [office, doc_type, since, until]


def _mode_picker(kb: Any, app: gr.Blocks) -> gr.Radio:
    """The answer modes that can answer here; the others greyed out with a plain note (checked at each page load)."""
    statuses = mode_statuses(kb.settings)
    answer_mode = gr.Radio(
        usable_choices(statuses),
        value=default_mode(statuses, kb.settings.answer_mode),
        elem_id="answer-mode",
        label="回答方式 Answer mode",
        info="抽取式直接引用原文；语言模型改写成通顺的回答，每句都会核对出处，找不到依据的句子会标出。"
        " Extractive quotes the documents; a language model writes the answer and every"
        " sentence is checked against the passages (unsupported ones are flagged).",
    )
    unusable = gr.HTML(unusable_html(statuses), js_on_load=None, elem_id="modes-off", padding=False)

    def recheck():
        now = mode_statuses(kb.settings)
        picker = gr.update(choices=usable_choices(now), value=default_mode(now, kb.settings.answer_mode))
        return picker, unusable_html(now)

    app.load(recheck, None, [answer_mode, unusable], api_visibility="private")
    return answer_mode


def _chat_tab(access: KbAccess, app: gr.Blocks, session: gr.State, saved: ChatHistory, picker: gr.Dropdown) -> None:
    """The chat tab (conversation, status, question box, examples, settings; sources beside it) and its events."""
    kb = access.shelf.get()  # the settings are the server's, the same in every knowledge base
    default_k = max(1, min(10, kb.settings.top_k))
    with gr.Tab("问答 Chat", id="chat"):
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=360):
                chatbot = gr.Chatbot(
                    show_label=False,  # a label floats over the first message once the chat scrolls
                    elem_id="chat",
                    height=520,
                    sanitize_html=True,
                    render_markdown=True,
                    latex_delimiters=[],
                    feedback_options=("Like", "Dislike"),
                    buttons=["copy"],
                    placeholder="请在下方输入问题，或点击示例。Ask a question below, or pick an example.",
                )
                status = gr.HTML("", js_on_load=None, elem_id="chat-status", padding=False)
                with gr.Row():
                    question = gr.Textbox(
                        show_label=False,
                        placeholder="输入问题，按回车发送 · Type a question and press Enter",
                        scale=5,
                        elem_id="question",
                        max_lines=4,
                        autofocus=True,
                    )
                    send = gr.Button("发送 Send", variant="primary", scale=1, min_width=90, elem_id="send")
                    stop = gr.Button("停止 Stop", variant="stop", scale=1, min_width=90, elem_id="stop", visible=False)
                saved.controls()  # regenerate, export, feedback; 新对话 is in the conversation list (history.py)
                gr.Markdown("示例问题 Examples：")
                with gr.Row():
                    example_buttons = [
                        gr.Button(e, size="sm", variant="secondary", elem_classes=["example"]) for e in EXAMPLES
                    ]
                with gr.Accordion("设置 Settings", open=False, elem_id="settings"):
                    top_k = gr.Slider(
                        1, 10, value=default_k, step=1, label="检索段落数 Passages to use (top k)", elem_id="top-k"
                    )
                    answer_mode = _mode_picker(kb, app)
                    limits = _filter_controls(None if access.several else kb)
            with gr.Column(scale=2, min_width=320, elem_id="sources-column"):
                gr.HTML(
                    '<div id="sources-bar"><h3>来源 Sources</h3>'
                    '<button id="sources-close" type="button">关闭 Close ✕</button></div>',
                    js_on_load=None,
                    padding=False,
                    elem_id="sources-head",
                )
                sources = gr.HTML(
                    sources_html(None),
                    css_template=SOURCES_CSS,
                    js_on_load=SOURCES_JS,
                    head=f"<style>{PAGE_CSS}</style>",  # the page's own CSS, added to <head> once
                    elem_id="sources",
                    padding=False,
                )

    runs = Runs()
    respond = make_responder(kb, runs, access=access)
    private: dict[str, Any] = {"api_visibility": "private"}
    inputs = [question, chatbot, session, top_k, answer_mode, *limits]
    outputs = [question, chatbot, session, sources, status, send, stop]
    answering = [  # the events the stop button cancels
        question.submit(respond, inputs, outputs, js=SCROLL_TO_CHAT_JS, **private),
        send.click(respond, inputs, outputs, js=SCROLL_TO_CHAT_JS, **private),
    ]
    for button, text in zip(example_buttons, EXAMPLES, strict=True):
        picked = button.click(_constant(text), None, question, queue=False, **private)
        answering.append(picked.then(respond, inputs, outputs, js=SCROLL_TO_CHAT_JS, **private))

    def ask_again(trigger: Any) -> Any:  # regenerate (history.py): the same answer handler, stoppable too
        event = trigger.then(respond, inputs, outputs, **private)
        answering.append(event)
        return event

    saved.attach(chatbot, session, sources, question, ask_again, picker)
    # After an answer, or after a stop: the page's final state, Send back. Its outputs are all the answer's
    # (the question box too), so none keeps the mark Gradio puts on the outputs of a cancelled event.
    for event in answering:
        event.then(make_settler(runs), [chatbot, session], outputs, **private)
    # Gradio cancels the answer event (also one still queued); the handler stops the model at once.
    stop.click(make_stop_request(runs), None, None, cancels=list[dict[str, Any]](answering), queue=False, **private)
    sources.click(show_turn, [session], sources, queue=False, **private)
    # The conversation list's 新对话 (history.py opens the empty conversation) also ends an answer still being
    # written: the run stops and its handler returns. (Not cancels=: under load a cancel sent with the click
    # could land after the next question was sent, and drop that one; seen in tests/test_ui_history.py.)
    saved.new.click(make_stop_request(runs), None, None, queue=False, **private)
    picker.input(make_stop_request(runs), None, None, queue=False, **private)  # switching starts a new conversation

    def filter_choices(session: dict | None, request: gr.Request):
        try:
            offices, types = _filter_choices(access.kb(session_kb(session), login_of(request)))
        except AssistantError:
            offices, types = [], []
        return gr.update(choices=offices, value=None), gr.update(choices=types, value=None)

    # Another knowledge base prints other offices and 文种: the filters offer its own, and drop the old choice.
    picker.change(filter_choices, [session], limits[:2], **private)


def build_app(
    kb: Any,
    *,
    max_upload_mb: int | None = None,
    max_upload_files: int | None = None,
    warning: str | None = None,
    accounts: Accounts | None = None,
    shelf: Shelf | None = None,
) -> gr.Blocks:
    """The Gradio app for a knowledge base: chat with sources, knowledge-base tab, and the /ask API.

    Args:
        kb: an open Assistant (not used when `shelf` is given).
        max_upload_mb: largest file accepted for upload (default settings.max_upload_mb).
        max_upload_files: most files per upload (default settings.max_upload_files).
        warning: a notice shown at the top of the page (e.g. the server is exposed without a password).
        accounts: the users file: a user sees the knowledge bases where their role is read or higher, and uploads
            and deletions need the role "upload" (or "admin") in the one shown.
        shelf: several knowledge bases: a 知识库 picker lists those the user may read (hidden when only one).
    """
    access = KbAccess(shelf or Shelf.of(kb), accounts)
    first = access.shelf.get()
    max_mb = max_upload_mb or first.settings.max_upload_mb
    max_files = max_upload_files or first.settings.max_upload_files
    with gr.Blocks(title="办公文档问答 · Office document Q&A", analytics_enabled=False) as app:
        saved = ChatHistory(first, access)  # conversations, feedback, export, regenerate (history.py)
        # Already in the default knowledge base: restoring a conversation there then leaves the session as it is,
        # so no save runs at load (a change event waiting behind a slow one replaces it: Gradio's "always_last").
        session = gr.State(empty_session(access.shelf.default))
        saved.sidebar()
        picker = _header(warning, access)
        with gr.Tabs():
            _chat_tab(access, app, session, saved, picker)
            saved.restore_on(app)
            knowledge_tab(access, app, max_mb, max_files, session, picker)
        gr.api(_api_ask(access), api_name="ask")
    return app


__all__ = ["EXAMPLES", "ask_kb", "build_app"]
