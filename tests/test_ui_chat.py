"""The polished chat in chromium: citation links and each answer's sources, status and stop, modes, the phone layout."""

from __future__ import annotations

import re

import pytest

from tests.test_ui import (  # noqa: F401 (fixtures used by name)
    ARTIFACTS,
    SHUANG,
    WAIT_MS,
    ask_in_chat,
    browser,
    corpus_app,
    page,
)

pytestmark = pytest.mark.e2e

SECRECY = "办公室怎样做好保密工作？"
PHONE = {"width": 390, "height": 844}


def view_shot(tab, name: str) -> None:
    """What the user sees (the viewport, not the whole page), saved under test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / name))


def _bot(tab, which: int):
    return tab.locator('#chat [data-testid="bot"]').nth(which)


def test_browser_citation_links_show_their_card_and_older_answers_keep_their_own_sources(corpus_app, page):  # noqa: F811
    from playwright.sync_api import expect

    page.goto(corpus_app)
    ask_in_chat(page, SHUANG)
    ask_in_chat(page, SECRECY)
    head = page.locator("#sources .src-turn")
    expect(head).to_contain_text("第 2 个回答的来源")
    first = _bot(page, 0)
    cites = first.locator("a.cite")
    assert cites.count() >= 2 and cites.nth(1).inner_text() == "[2]"

    # Clicking an older answer's text does not switch the panel.
    first.click(position={"x": 8, "y": 8})
    page.wait_for_timeout(700)
    expect(head).to_contain_text("第 2 个回答的来源")
    expect(page.locator("#sources .src-for")).to_contain_text(SECRECY)

    # Its [2] does: the panel says it now shows answer 1, and card [2] is highlighted and in view.
    cites.nth(1).click()
    expect(head).to_contain_text("第 1 个回答的来源")
    expect(head).to_contain_text("Sources of answer 1 of 2")
    expect(page.locator("#sources .src-for")).to_contain_text(SHUANG)
    card = page.locator("#sources #source-2")
    expect(card).to_have_class(re.compile(r"\bsrc-flash\b"))
    expect(page.locator("#sources .src-flash")).to_have_count(1)
    expect(card.locator(".src-badge")).to_have_text("[2]")
    expect(card).to_be_in_viewport()
    expect(page.locator("#chat")).to_be_in_viewport()  # the panel scrolled, not the page
    view_shot(page, "ui-citation-link-1400.png")

    # [1] of the same answer moves the highlight without asking the server again.
    cites.nth(0).click()
    expect(page.locator("#sources #source-1")).to_have_class(re.compile(r"\bsrc-flash\b"))
    expect(page.locator("#sources .src-flash")).to_have_count(1)

    # Back to the latest answer from the panel's own link.
    head.locator("a.src-open").click()
    expect(head).to_contain_text("第 2 个回答的来源")
    expect(page.locator("#sources .src-for")).to_contain_text(SECRECY)
    assert page.dialogs == []


def test_browser_status_line_and_stop_button_stop_the_local_model(corpus_app, page):  # noqa: F811
    from playwright.sync_api import expect

    page.goto(corpus_app)
    page.locator("#settings").get_by_text("设置 Settings").click()
    page.locator("#answer-mode").get_by_text("本地模型 Local model").click()
    # The modes that are not set up here are shown greyed out, with a note in plain words.
    off = page.locator("#modes-off .mode-off")
    expect(off.filter(has_text="OpenAI")).to_contain_text("未配置 OpenAI 兼容服务，请联系管理员")
    expect(off.filter(has_text="OpenAI").locator("input")).to_be_disabled()
    # With Settings open and scrolled to, most of the chat is out of view, as a user would have it.
    page.locator("#filter-until").scroll_into_view_if_needed()
    expect(page.locator("#chat")).not_to_be_in_viewport(ratio=0.5)

    box = page.locator("#question textarea")
    box.fill(SHUANG)
    box.press("Enter")
    status = page.locator("#chat-status")
    expect(status).to_contain_text(re.compile("检索中…|生成中…"))
    expect(page.locator("#stop")).to_be_visible()
    expect(page.locator("#send")).to_be_hidden()
    expect(page.locator("#chat")).to_be_in_viewport(ratio=0.9)  # sending brought the conversation back
    expect(status).to_contain_text(re.compile(r"生成中… [1-9]\d* s"), timeout=WAIT_MS)
    shown = status.inner_text()
    expect(status).not_to_have_text(shown)  # the seconds keep counting
    expect(status).to_contain_text(re.compile(r"生成中… \d+ s"))
    view_shot(page, "ui-generating-1400.png")

    page.locator("#stop").click()
    answer = _bot(page, -1)
    expect(answer).to_contain_text("已停止生成")
    expect(page.get_by_text("错误", exact=True)).to_have_count(0)  # a stop is not an error
    expect(status).to_have_text("")
    expect(page.locator("#send")).to_be_visible()
    expect(page.locator("#stop")).to_be_hidden()
    page.wait_for_timeout(3000)  # a generation still running would now replace the stopped bubble
    expect(answer).to_contain_text("已停止生成")
    expect(answer).not_to_contain_text("▍")
    expect(page.locator("#sources .src-empty")).to_contain_text("提问后")  # no answer, so no sources came
    view_shot(page, "ui-stopped-1400.png")

    # The conversation goes on after a stop, and the answers keep their numbers.
    page.locator("#answer-mode").get_by_text("抽取式 Extractive").click()
    ask_in_chat(page, SECRECY)
    expect(page.locator("#sources .src-turn")).to_contain_text("第 2 个回答的来源")
    text = page.locator("body").inner_text()
    assert "ASSISTANT_" not in text and "\\" not in text and "ollama serve" not in text

    # 新对话 (in the conversation list) starts over: no messages, the empty sources panel.
    page.locator("#conv-new").click()
    expect(page.locator('#chat [data-testid="bot"]')).to_have_count(0)
    expect(page.locator("#sources .src-empty")).to_contain_text("提问后")
    assert page.dialogs == []


def test_browser_phone_width_has_a_compact_header_and_a_sources_drawer_reached_from_each_answer(corpus_app, browser):  # noqa: F811
    from playwright.sync_api import expect

    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    phone = context.new_page()
    phone.set_default_timeout(WAIT_MS)
    try:
        phone.goto(corpus_app)
        header = phone.locator("#app-header")
        expect(header).to_be_visible()
        # Compact once the page's own CSS applies (on a loaded machine that comes a moment after the first paint): the
        # header was a quarter of the screen.
        limit = 0.08 * PHONE["height"]
        phone.wait_for_function(f"document.querySelector('#app-header').getBoundingClientRect().height <= {limit}")
        ask_in_chat(phone, SHUANG)
        # One way to start over (no trash icon beside 新对话), and no label floating over the messages.
        expect(phone.get_by_role("button", name=re.compile("新对话"))).to_have_count(1)
        expect(phone.locator("#chat .top-panel")).to_be_hidden()
        assert phone.get_by_role("button", name=re.compile("清空|Clear")).filter(visible=True).count() == 0
        assert phone.locator('#chat [data-testid="block-label"]').filter(visible=True).count() == 0
        column = phone.locator("#sources-column")
        expect(column).to_be_hidden()  # the sources wait in a drawer, not 1,000 px below the chat
        answer = _bot(phone, -1)
        answer.locator("a.src-open").click()
        expect(column).to_be_in_viewport()
        phone.wait_for_timeout(400)  # the drawer slides in
        expect(phone.locator("#sources .src-turn")).to_contain_text("第 1 个回答的来源")
        expect(phone.locator("#sources .src").first).to_be_in_viewport()
        view_shot(phone, "ui-phone-drawer-390.png")
        phone.locator("#sources-close").click()
        expect(column).to_be_hidden()
        expect(phone.locator("#sources .src").first).not_to_be_in_viewport()  # slid away, not just faded

        # A citation opens the drawer at its card.
        answer.locator("a.cite").nth(1).click()
        card = phone.locator("#sources #source-2")
        expect(card).to_have_class(re.compile(r"\bsrc-flash\b"))
        expect(card).to_be_in_viewport()
        phone.wait_for_timeout(400)
        view_shot(phone, "ui-phone-citation-390.png")
        phone.locator("#sources-close").click()
        expect(column).to_be_hidden()
        expect(card).not_to_be_in_viewport()
        expect(answer).to_be_in_viewport()  # back at the answer the citation came from
        view_shot(phone, "ui-phone-chat-390.png")
    finally:
        context.close()
