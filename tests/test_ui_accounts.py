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


def _act_as(browser, url, name, password, upload):  # noqa: F811
    """Log in as `name`, upload `upload`, then delete FILE; the two summaries the page shows."""
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
        page.locator("#upload input[type=file]").set_input_files([str(upload)])
        expect(page.locator("#upload")).to_contain_text(upload.name)
        page.locator("#ingest").click()
        uploaded = page.locator("#ingest-summary")
        expect(uploaded).to_contain_text(re.compile("权限|已添加"))
        page.locator("#to-delete input").click()
        page.get_by_role("option", name=FILE, exact=False).first.click()
        page.locator("#documents").click()  # close the dropdown
        page.locator("#delete").click()
        page.locator("#delete-yes").click()
        deleted = page.locator("#delete-summary")
        expect(deleted).to_contain_text(re.compile("权限|已删除|删除失败"))
        return uploaded.inner_text(), deleted.inner_text()
    finally:
        context.close()


def test_a_reader_may_not_change_files_and_an_editor_may_and_the_audit_says_who(
    accounts_app,
    browser,  # noqa: F811
    tmp_path,
):
    kb, url = accounts_app
    new = tmp_path / "值班制度.txt"
    new.write_text("值班制度：节假日安排专人值班，值班人员须保持通讯畅通。", encoding="utf-8")
    uploaded, deleted = _act_as(browser, url, "reader", "r-pw", new)
    assert "没有上传文件的权限" in uploaded and "没有删除文件的权限" in deleted
    assert [d.source for d in kb.documents()] and all(not d.source.endswith(new.name) for d in kb.documents())
    uploaded, deleted = _act_as(browser, url, "editor", "e-pw", new)
    assert "已添加 1" in uploaded and "已删除 Deleted 1" in deleted
    assert [d.source.rsplit("/", 1)[-1] for d in kb.documents()] == [new.name]
    entries = open_audit(kb.settings.kb_dir).entries()
    assert [(e.user, e.action, e.detail, e.via) for e in entries] == [
        ("editor", "upload", new.name, "chat"),
        ("editor", "delete", FILE, "chat"),
    ]
