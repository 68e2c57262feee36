"""The chat with a users file, in chromium: each user logs in, and the knowledge-base tab keeps to their role."""

from __future__ import annotations

import re

import pytest
from conftest import CORPUS, HashEmbedder, free_port, models_dir

from assistant.accounts import Accounts
from assistant.app.ui.app import build_app
from assistant.app.ui.server import ServerOptions
from assistant.conversations.audit import open_audit
from tests.test_ui import WAIT_MS, browser  # noqa: F401 (a fixture used by name)

pytestmark = pytest.mark.e2e

FILE = "001_74ca4dddf80f577d.txt"


@pytest.fixture(scope="module")
def accounts_app(tmp_path_factory):
    """One file in a knowledge base of its own (a stand-in embedder: nothing here is about answers)."""
    import shutil

    from assistant.api import Assistant
    from assistant.settings import Settings

    folder = tmp_path_factory.mktemp("accounts-files")
    shutil.copy(CORPUS / FILE, folder / FILE)
    kb = Assistant(
        Settings.load(tmp_path_factory.mktemp("accounts-home"), models=str(models_dir())), embedder=HashEmbedder()
    )
    kb.ingest([folder / FILE])
    users = Accounts(folder / "users.json")
    users.add("reader", "r-pw", "read")
    users.add("editor", "e-pw", "upload")
    app = build_app(kb, accounts=users)
    auth = ServerOptions(users_file=str(users.path), kb="default").auth
    port = free_port()
    app.launch(
        prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, ssr_mode=False, quiet=True, auth=auth
    )
    yield kb, app.local_url
    app.close()
    kb.close()


def _delete_as(browser, url, name, password):  # noqa: F811
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    try:
        page.goto(url)
        page.locator("input").nth(0).fill(name)
        page.locator("input[type=password]").fill(password)
        page.locator("input[type=password]").press("Enter")  # the button says 登录 or Login by the browser's locale
        page.get_by_role("tab", name="知识库 Knowledge base").click()
        page.locator("#to-delete input").click()
        page.get_by_role("option", name=FILE, exact=False).first.click()
        page.locator("#documents").click()  # close the dropdown
        page.locator("#delete").click()
        page.locator("#delete-yes").click()
        summary = page.locator("#delete-summary")
        expect(summary).to_contain_text(re.compile("权限|已删除|删除失败"))
        return summary.inner_text()
    finally:
        context.close()


def test_a_reader_may_not_delete_and_an_editor_may_and_the_audit_says_who(accounts_app, browser):  # noqa: F811
    kb, url = accounts_app
    refused = _delete_as(browser, url, "reader", "r-pw")
    assert "没有删除文件的权限" in refused and kb.documents()
    done = _delete_as(browser, url, "editor", "e-pw")
    assert "已删除 Deleted 1" in done and kb.documents() == []
    entries = open_audit(kb.settings.kb_dir).entries()
    assert [(e.user, e.action, e.detail, e.via) for e in entries] == [("editor", "delete", FILE, "chat")]
