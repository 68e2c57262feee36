"""The chat with a users file, in chromium: each user logs in, and the knowledge-base tab shows what their role allows."""

from __future__ import annotations

import pytest
from conftest import CORPUS, HashEmbedder, free_port, models_dir

from assistant.accounts import Accounts
from assistant.app.ui.app import build_app
from assistant.app.ui.server import ServerOptions
from assistant.conversations.audit import open_audit
from tests.test_ui import WAIT_MS, browser, log_in  # noqa: F401 (a fixture used by name)

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


def _log_in(browser, url, name, password, width=1400):  # noqa: F811
    """A new browser context logged in as `name`, on the knowledge-base tab (close its context when done)."""
    page = log_in(browser, url, name, password, width)
    page.get_by_role("tab", name="知识库 Knowledge base").click()
    return page


def test_a_reader_sees_no_upload_or_delete_and_an_editor_uploads_deletes_and_the_audit_says_who(
    accounts_app,
    browser,  # noqa: F811
    tmp_path,
):
    from playwright.sync_api import expect

    kb, url = accounts_app
    page = _log_in(browser, url, "reader", "r-pw")
    try:
        expect(page.locator("#read-only")).to_contain_text("只读")  # first: shown once the page has the role
        expect(page.locator("#documents")).to_contain_text(FILE)  # the documents are listed to every role
        for control in ("#upload", "#ingest", "#to-delete", "#delete"):
            expect(page.locator(control)).to_be_hidden()
    finally:
        page.context.close()

    new = tmp_path / "值班制度.txt"
    new.write_text("值班制度：节假日安排专人值班，值班人员须保持通讯畅通。", encoding="utf-8")
    page = _log_in(browser, url, "editor", "e-pw")
    try:
        expect(page.locator("#read-only")).to_be_hidden()
        page.locator("#upload input[type=file]").set_input_files([str(new)])
        expect(page.locator("#upload")).to_contain_text(new.name)
        page.locator("#ingest").click()
        expect(page.locator("#ingest-summary")).to_contain_text("已添加 1")
        page.locator("#to-delete input").click()
        page.get_by_role("option", name=FILE, exact=False).first.click()
        page.locator("#documents").click()  # close the dropdown
        page.locator("#delete").click()
        page.locator("#delete-yes").click()
        expect(page.locator("#delete-summary")).to_contain_text("已删除 Deleted 1")
    finally:
        page.context.close()
    assert [d.source.rsplit("/", 1)[-1] for d in kb.documents()] == [new.name]
    entries = open_audit(kb.settings.kb_dir).entries()
    assert [(e.user, e.action, e.detail, e.via) for e in entries] == [
        ("editor", "upload", new.name, "chat"),
        ("editor", "delete", FILE, "chat"),
    ]


@pytest.fixture(scope="module")
def proxied_app(tmp_path_factory):
    """The server `serve` runs, its chat and API behind a sign-in proxy's X-Remote-User (the proxy: this machine)."""
    import shutil

    from assistant.api import Assistant
    from assistant.app.http import ApiSettings
    from assistant.app.ui.server import server_app
    from assistant.settings import Settings
    from tests.test_http_api import Running

    folder = tmp_path_factory.mktemp("proxied-files")
    shutil.copy(CORPUS / FILE, folder / FILE)
    users = Accounts(folder / "users.json")
    users.add("reader", "r-pw", "read")
    users.add("editor", "e-pw", "upload")
    settings = Settings.load(
        tmp_path_factory.mktemp("proxied-home"),
        models=str(models_dir()),
        users_file=str(users.path),
        trusted_user_header="X-Remote-User",
    )
    kb = Assistant(settings, embedder=HashEmbedder())
    kb.ingest([folder / FILE])
    running = Running(server_app(kb, api_settings=ApiSettings.load()))
    yield running.url
    running.stop()
    kb.close()


def test_behind_a_sign_in_proxy_the_header_is_the_login_and_the_role_decides_the_controls(
    proxied_app,
    browser,  # noqa: F811
):
    from playwright.sync_api import expect

    for name, may_change in (("reader", False), ("editor", True)):
        context = browser.new_context(
            viewport={"width": 1400, "height": 1000}, locale="zh-CN", extra_http_headers={"X-Remote-User": name}
        )
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        try:
            page.goto(proxied_app)  # no login form: the proxy signed the user in
            page.get_by_role("tab", name="知识库 Knowledge base").click()
            expect(page.locator("#documents")).to_contain_text(FILE)
            if not may_change:  # first: the note shows once the page asked the server for the role
                expect(page.locator("#read-only")).to_contain_text("只读")
            for control in ("#upload", "#ingest", "#delete"):
                if may_change:
                    expect(page.locator(control)).to_be_visible()
                else:
                    expect(page.locator(control)).to_be_hidden()
        finally:
            context.close()
    context = browser.new_context(locale="zh-CN")  # no proxy in front: no way in
    try:
        page = context.new_page()
        response = page.goto(proxied_app)
        assert response is not None and response.status == 401
        expect(page.locator("body")).to_contain_text("sign-in proxy")
        assert page.locator("#documents").count() == 0
    finally:
        context.close()
