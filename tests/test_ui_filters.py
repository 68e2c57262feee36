"""The chat's filter controls in a real browser: answers come only from the chosen office; a bad date says what to type."""

from __future__ import annotations

import pytest

from tests.test_ui import SHUANG, ask_in_chat, browser, corpus_app, page, screenshot  # noqa: F401 (fixtures used by name)

pytestmark = pytest.mark.e2e

OFFICE = "市政府办公室党总支"


def _open_settings(tab) -> None:
    tab.locator("#settings").get_by_text("设置 Settings").click()


def test_browser_office_filter_keeps_other_offices_out_and_a_bad_date_says_what_to_type(corpus_app, page):  # noqa: F811
    from playwright.sync_api import expect

    page.goto(corpus_app)
    ask_in_chat(page, SHUANG)  # unfiltered, the 双报到 answer cites more than one office
    cards = page.locator("#sources .src")
    assert cards.count() >= 2
    assert any(OFFICE not in text for text in cards.all_inner_texts())

    _open_settings(page)
    office = page.locator("#filter-office input")
    office.fill(OFFICE)
    office.press("Enter")
    expect(office).to_have_value(OFFICE)
    ask_in_chat(page, SHUANG + " ")  # a new question text, so the wait sees the new sources panel
    expect(page.locator("#sources .src").first).to_contain_text(OFFICE)
    texts = page.locator("#sources .src").all_inner_texts()
    assert texts and all(OFFICE in text for text in texts), texts
    screenshot(page, "ui-filter-office.png")

    since = page.locator("#filter-since textarea, #filter-since input").first
    since.fill("2023/01/01")
    box = page.locator("#question textarea")
    box.fill("双报到制度怎样落实？")
    box.press("Enter")
    expect(page.locator('#chat [data-testid="bot"]').last).to_contain_text("YYYY-MM-DD")
    assert page.dialogs == []
