"""Saved conversations, feedback, export and regenerate in a real browser against a real Gradio server."""

from __future__ import annotations

import pytest
from conftest import free_port

from assistant.app.ui.app import build_app
from assistant.app.ui.history import plain_question
from assistant.app.ui.render import chat_text
from assistant.conversations.store import open_store
from tests.test_conversations import docx_parts
from tests.test_ui import ARTIFACTS, SHUANG, WAIT_MS, ask_in_chat, browser, page, screenshot  # noqa: F401 (fixtures by name)

pytestmark = pytest.mark.e2e

DUCHA = "办公室如何开展督查督办工作？"


def test_plain_question_undoes_the_chat_escaping():
    for text in ("机关*怎样*落实[1]？", "1. <b>x</b> \\ _y_ #z", "- 一项 + 二项 = 三项 (a) {b} |c| ~d~ !e $f$"):
        assert plain_question(chat_text(text)) == text


class Server:
    """The chat of a knowledge base on a fixed port, so it can be stopped and started again at the same address."""

    def __init__(self, kb):
        self.kb = kb
        self.port = free_port()
        self.app = None
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> None:
        self.app = build_app(self.kb)
        self.app.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=self.port, ssr_mode=False, quiet=True)  # fmt: skip

    def stop(self) -> None:
        if self.app is not None:
            self.app.close()
            self.app = None


@pytest.fixture(scope="module")
def server(corpus_kb):
    corpus_kb.ask(SHUANG)  # warm up, so browser waits measure the UI
    running = Server(corpus_kb)
    yield running
    running.stop()


def _open(tab, url: str) -> None:
    """Load the chat and wait until it has restored the browser's conversation (it then writes the browser's state)."""
    from playwright.sync_api import expect

    tab.goto(url)
    expect(tab.locator("#conv-new")).to_be_visible()
    tab.wait_for_function("() => localStorage.getItem('office-assistant-default') !== null", timeout=WAIT_MS)


def _listing(tab) -> list[str]:
    return [t.strip() for t in tab.locator("#conv-list label").all_inner_texts()]


def _type_title(tab, text: str) -> None:
    """Open 重命名 / 删除 and type a title. The box is mounted as the section opens and may take the title shown
    a moment later, so typing waits until what was typed stays."""
    from playwright.sync_api import expect

    tab.locator("#conv-manage").get_by_text("重命名 / 删除").click()
    title = tab.locator("#conv-title input, #conv-title textarea").first
    expect(title).to_be_editable()
    for _ in range(5):
        title.fill(text)
        tab.wait_for_timeout(300)
        if title.input_value() == text:
            return
    raise AssertionError(f"the title box kept refilling itself instead of holding {text!r}")


def _messages(tab):
    return tab.locator('#chat [data-testid="bot"], #chat [data-testid="user"]')


def test_conversations_are_listed_renamed_deleted_and_restored_after_reload_and_restart(server, page):  # noqa: F811
    from playwright.sync_api import expect

    _open(page, server.url)
    ask_in_chat(page, SHUANG)
    expect(page.locator("#conv-list label")).to_have_count(1, timeout=WAIT_MS)
    assert _listing(page) == [SHUANG]
    ask_in_chat(page, "那保密工作呢？", expect_searched="保密工作")
    expect(_messages(page)).to_have_count(4)

    # A reload opens the same conversation: both turns, the sources of the last, the entry selected.
    page.reload()
    expect(_messages(page)).to_have_count(4, timeout=WAIT_MS)
    expect(page.locator("#sources .src-for")).to_contain_text("那保密工作呢？")
    expect(page.locator("#conv-list input:checked")).to_have_count(1)
    # The restored conversation goes on: a follow-up still uses what was searched before.
    ask_in_chat(page, "那督查督办呢？", expect_searched="督查督办")
    expect(_messages(page)).to_have_count(6)

    # A second conversation; the list shows both, newest first; picking the first brings it back.
    page.locator("#conv-new").click()
    expect(_messages(page)).to_have_count(0)
    ask_in_chat(page, DUCHA)
    expect(page.locator("#conv-list label")).to_have_count(2, timeout=WAIT_MS)
    assert _listing(page) == [DUCHA, SHUANG]
    screenshot(page, "ui-history-sidebar-1400.png")
    page.locator("#conv-list label").filter(has_text=SHUANG).click()
    expect(_messages(page)).to_have_count(6, timeout=WAIT_MS)
    expect(page.locator("#sources .src-for")).to_contain_text("那督查督办呢？")

    # Rename it; an empty title is refused with what to do.
    _type_title(page, "  ")
    page.locator("#conv-rename").click()
    expect(page.get_by_text("type a new title first")).to_be_visible(timeout=WAIT_MS)
    page.locator("#conv-title input, #conv-title textarea").first.fill("双报到与保密 汇总")
    page.locator("#conv-rename").click()
    expect(page.locator("#conv-list label").filter(has_text="双报到与保密 汇总")).to_have_count(1, timeout=WAIT_MS)

    # Survives a server restart at the same address: the browser reopens it from the saved store.
    server.stop()
    server.start()
    page.reload()
    expect(_messages(page)).to_have_count(6, timeout=WAIT_MS)
    assert _listing(page) == [DUCHA, "双报到与保密 汇总"]  # by last answer; renaming is no new use

    # Delete asks for a confirmation, then the list has one entry and the chat is empty.
    page.locator("#conv-manage").get_by_text("重命名 / 删除").click()
    page.locator("#conv-delete").click()
    page.locator("#conv-confirm").click()
    expect(page.locator("#conv-list label")).to_have_count(1, timeout=WAIT_MS)
    expect(_messages(page)).to_have_count(0)
    assert _listing(page) == [DUCHA]
    # Another browser (another user) sees none of this browser's conversations.
    other = page.context.browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN").new_page()
    _open(other, server.url)
    expect(other.locator("#conv-new")).not_to_be_in_viewport(timeout=WAIT_MS)  # folded away on a phone
    expect(other.locator("#question textarea")).to_be_visible()
    assert _listing(other) == []
    screenshot(other, "ui-history-390-empty.png")
    other.context.close()
    assert page.dialogs == []


def test_feedback_export_and_regenerate(server, page, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    _open(page, server.url)
    page.locator("#conv-new").click()
    ask_in_chat(page, SHUANG + " ")
    expect(page.locator("#export-docx")).to_be_enabled(timeout=WAIT_MS)

    # 👍 on the answer, then the comment: an empty one is refused with what to do, a real one is saved.
    page.locator('#chat [data-testid="bot"]').last.hover()
    page.locator("#chat").get_by_role("button", name="赞", exact=True).last.click()
    expect(page.locator("#feedback-comment")).to_be_visible(timeout=WAIT_MS)
    page.locator("#feedback-send").click()
    expect(page.get_by_text("The comment is empty")).to_be_visible(timeout=WAIT_MS)
    page.locator("#feedback-comment textarea").fill("引用准确，第二条来源最有用")
    page.locator("#feedback-send").click()
    expect(page.locator("#feedback-comment")).to_be_hidden(timeout=WAIT_MS)
    store = open_store(server.kb.settings.kb_dir)
    (item,) = [i for i in store.feedback() if i.question == SHUANG]
    assert item.rating == "up" and item.comment == "引用准确，第二条来源最有用" and item.mode == "extractive"
    assert item.answer["citations"] and item.quotes
    screenshot(page, "ui-history-feedback-1400.png")

    # Export: the Word file has the question, the answer and footnoted sources; the Markdown its [^n] notes.
    with page.expect_download(timeout=WAIT_MS) as download:
        page.locator("#export-docx").click()
    path = tmp_path / "answer.docx"
    download.value.save_as(path)
    assert download.value.suggested_filename.endswith(".docx")
    body, notes = docx_parts(path.read_bytes())
    assert SHUANG in body and "{1}" in body
    assert notes and all("文件标题：《" in n and "引文：“" in n for n in notes)
    assert any(q in n for q in item.quotes for n in notes)
    with page.expect_download(timeout=WAIT_MS) as download:
        page.locator("#export-md").click()
    download.value.save_as(tmp_path / "answer.md")
    assert "[^1]:" in (tmp_path / "answer.md").read_text(encoding="utf-8")

    # 👎 replaces the 👍 of the same answer (the comment stays).
    page.locator('#chat [data-testid="bot"]').last.hover()
    page.locator("#chat").get_by_role("button", name="踩", exact=True).last.click()
    expect(page.locator("#feedback-comment")).to_be_visible(timeout=WAIT_MS)
    page.locator("#feedback-close").click()
    (item,) = [i for i in store.feedback() if i.question == SHUANG]
    assert item.rating == "down" and item.comment

    # Regenerate: the last answer is asked again and replaces the old one, on the page and in the store.
    page.locator("#regenerate").click()
    expect(_messages(page)).to_have_count(2, timeout=WAIT_MS)
    expect(page.locator("#sources .src-for")).to_contain_text(SHUANG, timeout=WAIT_MS)
    conversation = next(c for c in store.conversations(item.user) if c.id == item.conversation)
    page.wait_for_timeout(1500)
    assert len(store.turns(item.user, conversation.id)) == 1

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(_messages(page)).to_have_count(2, timeout=WAIT_MS)
    # On a phone the conversation list starts folded away, so the chat is what one sees first.
    expect(page.locator("#conv-new")).not_to_be_in_viewport(timeout=WAIT_MS)
    expect(page.locator("#question textarea")).to_be_visible()
    page.locator("#export-docx").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "ui-history-390-controls.png"))
    screenshot(page, "ui-history-390.png")
    # Opened with its toggle, the list covers the page; starting a new conversation folds it away again.
    page.get_by_role("button", name="Toggle Sidebar").click()
    expect(page.locator("#conv-new")).to_be_in_viewport(timeout=WAIT_MS)
    page.wait_for_timeout(800)  # the sidebar slides in
    page.screenshot(path=str(ARTIFACTS / "ui-history-390-sidebar.png"))
    page.locator("#conv-new").click()
    expect(_messages(page)).to_have_count(0, timeout=WAIT_MS)
    expect(page.locator("#conv-new")).not_to_be_in_viewport(timeout=WAIT_MS)
    assert page.dialogs == []


def test_a_slow_save_does_not_swallow_the_next_conversation(corpus_kb, page, monkeypatch):  # noqa: F811
    """Under load a save can still be running when the user starts a new conversation; the next answer must not
    be appended to (or hidden in) the old conversation, and typing a title must not be undone by the save."""
    import time

    from playwright.sync_api import expect

    from assistant.app.ui.history import ChatHistory

    sync = ChatHistory.sync
    users = set()

    def slow_sync(self, ident, session):
        users.add(ident.get("user"))
        time.sleep(2.0)  # what a busy machine does to a SQLite write
        return sync(self, ident, session)

    monkeypatch.setattr(ChatHistory, "sync", slow_sync)
    slow = Server(corpus_kb)
    try:
        _open(page, slow.url)
        page.locator("#conv-new").click()
        ask_in_chat(page, SHUANG + "  ")
        page.locator("#conv-new").click()  # while the first answer is still being saved
        expect(_messages(page)).to_have_count(0)
        ask_in_chat(page, DUCHA + "  ")
        expect(page.locator("#conv-list label").filter(has_text=DUCHA)).to_have_count(1, timeout=WAIT_MS)
        expect(page.locator("#conv-list label").filter(has_text=SHUANG)).to_have_count(1)
        store = open_store(corpus_kb.settings.kb_dir)
        (user,) = users
        by_title = {c.title: c for c in store.conversations(user)}
        assert [t.question for t in store.turns(user, by_title[SHUANG].id)] == [SHUANG]
        assert [t.question for t in store.turns(user, by_title[DUCHA].id)] == [DUCHA]

        # Open the first again and type a title at once, while the opening's save still runs: it stays typed.
        page.locator("#conv-list label").filter(has_text=SHUANG).click()
        expect(page.locator("#sources .src-for")).to_contain_text(SHUANG, timeout=WAIT_MS)
        _type_title(page, "双报到 专题")
        page.locator("#conv-rename").click()
        expect(page.locator("#conv-list label").filter(has_text="双报到 专题")).to_have_count(1, timeout=WAIT_MS)
        page.wait_for_timeout(3000)  # past the slow save
        expect(page.locator("#conv-title input, #conv-title textarea").first).to_have_value("双报到 专题")
    finally:
        slow.stop()
