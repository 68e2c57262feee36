"""The knowledge-base tab in chromium: names and clean titles, no server paths, compilations grouped, delete confirmed, .xls and .ppt uploads."""

from __future__ import annotations

import re
import shutil

import pytest
from conftest import CORPUS, HashEmbedder, models_dir
from office_files import needs_impress

from tests.test_ui import ARTIFACTS, WAIT_MS, browser, launch_app  # noqa: F401 (fixtures used by name)

pytestmark = pytest.mark.e2e

COMPILATION = "004_a27570de015ca1d1.txt"
MASKED = "001_74ca4dddf80f577d.txt"  # its derived title starts with the mask "*"


@pytest.fixture(scope="module")
def documents_app(tmp_path_factory):
    """The sample corpus in a knowledge base of its own (deleting from it leaves the other tests' alone).

    The list and deletion need no real embeddings, so a small stand-in model keeps this quick.
    """
    from assistant.api import Assistant
    from assistant.settings import Settings

    folder = tmp_path_factory.mktemp("server-side-folder")
    for path in CORPUS.glob("*.txt"):
        shutil.copy(path, folder / path.name)
    kb = Assistant(
        Settings.load(tmp_path_factory.mktemp("documents-home"), models=str(models_dir())), embedder=HashEmbedder()
    )
    kb.ingest([folder])
    app, url = launch_app(kb)
    yield kb, url, folder
    app.close()
    kb.close()


def _open_tab(browser, url, viewport):  # noqa: F811
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(url)
    page.get_by_role("tab", name="知识库 Knowledge base").click()
    return context, page


def test_browser_document_list_shows_names_and_titles_with_a_compilation_under_its_file(documents_app, browser):  # noqa: F811
    from playwright.sync_api import expect

    kb, url, folder = documents_app
    for viewport, name in (
        ({"width": 1400, "height": 1000}, "ui-documents-1400.png"),
        ({"width": 390, "height": 844}, "ui-documents-390.png"),
    ):
        context, page = _open_tab(browser, url, viewport)
        try:
            table = page.locator("#documents table.docs")
            expect(table).to_be_visible()
            files = table.locator("tr.file")
            expect(files).to_have_count(5)  # five files, though the compilation holds six documents
            compilation = files.filter(has_text=COMPILATION)
            expect(compilation).to_contain_text("汇编 · 6 篇文章")
            expect(compilation).to_contain_text("材料汇编（6篇）")
            # The six articles follow their file's row, indented under it.
            articles = table.locator(f'tr.file:has-text("{COMPILATION}") ~ tr.article')
            expect(articles).to_have_count(6)
            titles = table.locator("td.doc-title").all_inner_texts()
            assert titles and not any(t.startswith("*") for t in titles), titles
            expect(files.filter(has_text=MASKED)).to_contain_text("市委办公室全面落实")
            text = page.locator("#documents").inner_text() + " ".join(page.locator("#to-delete").all_inner_texts())
            assert str(folder) not in text and "/tmp" not in text and "uploads" not in text
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / name), full_page=True)
        finally:
            context.close()


def test_browser_delete_asks_first_and_cancel_keeps_the_file(documents_app, browser):  # noqa: F811
    from playwright.sync_api import expect

    kb, url, folder = documents_app
    context, page = _open_tab(browser, url, {"width": 1400, "height": 1000})
    try:
        picker = page.locator("#to-delete")
        picker.locator("input").click()
        option = page.get_by_role("option", name=re.compile(re.escape(MASKED)))
        expect(option).to_contain_text("《市委办公室全面落实")  # file name and title, no path
        option.click()
        page.locator("#delete").click()
        question = page.locator("#delete-question")
        expect(question).to_contain_text("确定要从知识库删除这 1 个文件吗")
        expect(question).to_contain_text(MASKED)
        expect(page.locator("#delete-yes")).to_be_visible()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "ui-delete-confirm-1400.png"), full_page=True)

        page.locator("#delete-no").click()  # changed one's mind: nothing is deleted
        expect(page.locator("#delete-yes")).to_be_hidden()
        assert any(d.source.endswith(MASKED) for d in kb.documents())
        expect(page.locator("#documents")).to_contain_text(MASKED)

        page.locator("#delete").click()
        page.locator("#delete-yes").click()
        expect(page.locator("#delete-summary")).to_contain_text(f"已删除 Deleted 1：{MASKED}")
        expect(page.locator("#documents")).not_to_contain_text(MASKED)
        expect(page.locator("#delete-yes")).to_be_hidden()
        assert not any(d.source.endswith(MASKED) for d in kb.documents())
    finally:
        context.close()


@needs_impress
def test_browser_upload_reads_an_xls_and_a_ppt(documents_app, browser, tmp_path):  # noqa: F811
    from office_files import deck, duty_workbook_xls, soffice_convert
    from playwright.sync_api import expect

    kb, url, folder = documents_app
    workbook = duty_workbook_xls(tmp_path / "值班.xls")
    soffice_convert(
        "ppt", tmp_path, deck(tmp_path / "旧汇报.pptx")
    )  # PowerPoint 97–2003, written by LibreOffice Impress
    context, page = _open_tab(browser, url, {"width": 1400, "height": 1000})
    try:
        page.locator("#upload input[type=file]").set_input_files([str(workbook), str(tmp_path / "旧汇报.ppt")])
        expect(page.locator("#upload")).to_contain_text(re.compile(r"旧汇报\s*\.ppt"))
        page.locator("#ingest").click()
        results = page.locator("#ingest-results")
        expect(results.get_by_role("row").filter(has_text="旧汇报.ppt")).to_contain_text("已添加 added")
        expect(results.get_by_role("row").filter(has_text="值班.xls")).to_contain_text("已添加 added")
        expect(page.locator("#documents")).to_contain_text("2024年春节值班安排")
        expect(page.locator("#documents")).to_contain_text("2024年安全生产工作汇报")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "ui-upload-xls-ppt.png"), full_page=True)
    finally:
        context.close()
