"""Spreadsheets and slides on files real tools wrote: .xlsx by openpyxl, XlsxWriter and LibreOffice Calc, .xls by xlwt and Calc, .pptx by python-pptx."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from office_files import (
    RARE,
    deck,
    duty_workbook,
    duty_workbook_xls,
    load_error,
    needs_soffice,
    notice_docx,
    password_protected_copy,
    soffice_convert,
)

from ingest.chunking import chunk_document
from ingest.documents import prepare_documents
from ingest.loaders import discover, load

# --------------------------------------------------------------------------- .xlsx


def test_xlsx_sheets_rows_with_headers_and_merged_cells(tmp_path: Path) -> None:
    raw = load(duty_workbook(tmp_path / "值班.xlsx"))
    assert raw.format == "xlsx" and raw.title == "2024年春节值班安排"
    assert raw.parts[0].text.split("\n") == [
        "# 值班表",
        "2024年春节值班安排",
        "部门：办公室，姓名：张三，职务：科长，天数：3。",
        "部门：办公室，姓名：李四，职务：副科长，天数：2.5。",  # 办公室 is merged down over both rows
        "部门：财务科，姓名：王五，天数：1。",
        # openpyxl saves formulas without a calculated value, and data_only reads only that value:
        # a workbook never opened in Excel/WPS has none, so the total is left out rather than guessed.
        "姓名：合计。",
        "# 通讯录",
        "单位：市应急管理局，电话：0571-12345678。",
    ]


@needs_soffice
def test_xlsx_formula_value_after_libreoffice_calc_saved_it(tmp_path: Path) -> None:
    # The workbook as it is once an office program has opened and saved it: the total is calculated.
    source = duty_workbook(tmp_path / "值班.xlsx")
    saved = tmp_path / "saved"
    saved.mkdir()
    with contextlib.suppress(subprocess.CalledProcessError):  # without Calc, LibreOffice cannot load it
        soffice_convert("xlsx", saved, source)
    if not (saved / "值班.xlsx").exists():
        pytest.skip("LibreOffice Calc is not installed (apt-get install libreoffice-calc-nogui)")
    assert "姓名：合计，天数：6.5。" in load(saved / "值班.xlsx").parts[0].text.split("\n")


def test_xlsx_formula_reads_its_saved_value(tmp_path: Path) -> None:
    import datetime

    import xlsxwriter  # writes a formula together with its calculated value, as Excel does

    path = tmp_path / "经费.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("经费")
    sheet.write_row(0, 0, ["项目", "金额（万元）", "日期"])
    sheet.write_row(1, 0, ["培训", 12.5])
    sheet.write_datetime(1, 2, datetime.datetime(2024, 3, 1), book.add_format({"num_format": "yyyy-mm-dd"}))
    sheet.write_row(2, 0, ["差旅", 7.5])
    sheet.write(3, 0, "合计")
    sheet.write_formula(3, 1, "=SUM(B2:B3)", None, 20)
    book.close()
    lines = load(path).parts[0].text.split("\n")
    assert lines == [
        "# 经费",
        "项目：培训，金额（万元）：12.5，日期：2024-03-01。",
        "项目：差旅，金额（万元）：7.5。",
        "项目：合计，金额（万元）：20。",
    ]


def test_xlsx_chunks_are_filed_under_their_sheet(tmp_path: Path) -> None:
    (doc,) = prepare_documents(load(duty_workbook(tmp_path / "值班.xlsx")))
    chunks = chunk_document(doc.doc_id, doc.text, size=60, overlap=0)
    phone = next(c for c in chunks if "0571" in c.text)
    assert phone.section == "通讯录"
    assert next(c for c in chunks if "王五" in c.text).section.startswith("值班表")


@pytest.mark.slow
def test_large_sheet_is_streamed_merged_ranges_included(tmp_path: Path) -> None:
    import openpyxl

    path = tmp_path / "台账.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["序号", "单位", "地址", "状态"])
    for i in range(1, 30_001):
        sheet.append([i, f"单位{i}", f"杭州市西湖区文三路{i}号", "已检查"])
    sheet["B30002"] = "末尾单位"
    sheet.merge_cells("B30002:B30003")  # the last rows: found after the whole sheet was scanned
    sheet["C30003"] = "最后一行"
    book.save(str(path))
    # Measured in a fresh process: reading the merged ranges with lxml's iterparse held the whole sheet
    # (+40 MB for these 30,000 rows, +480 MB for 50,000 wider ones); streamed, the growth is what the text needs.
    script = (
        "import resource, sys, openpyxl, pptx, docx; from pathlib import Path; from ingest.loaders import load; "
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; "
        "lines = load(Path(sys.argv[1])).parts[0].text.split('\\n'); "
        "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024); print(lines[-1])"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    ).stdout.split("\n")
    assert out[1] == "单位：末尾单位，地址：最后一行。"
    assert int(out[0]) < 20, f"reading grew the process by {out[0]} MB"


def test_bad_xlsx_files(tmp_path: Path) -> None:
    import openpyxl

    corrupt = tmp_path / "损坏.xlsx"
    corrupt.write_bytes(b"PK\x03\x04 broken")
    assert load_error(corrupt).startswith("not a valid .xlsx (bad zip")
    assert "save it again as .xlsx" in load_error(corrupt)
    protected = tmp_path / "加密.xlsx"
    protected.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    assert load_error(protected).startswith("the workbook is password-protected or an old Excel 97–2003 .xls")
    wrong = tmp_path / "其实是文档.xlsx"
    shutil.copy(notice_docx(tmp_path / "n.docx"), wrong)
    assert load_error(wrong).startswith("not a valid .xlsx: no Excel workbook inside the zip")
    empty = tmp_path / "空.xlsx"
    book = openpyxl.Workbook()
    book.create_sheet("Sheet2")
    book.save(str(empty))
    assert load_error(empty) == "no text found: the workbook's sheets have no cells with values"


# --------------------------------------------------------------------------- .xls (Excel 97–2003)


def test_xls_reads_as_the_same_workbook_saved_as_xlsx(tmp_path: Path) -> None:
    xls = load(duty_workbook_xls(tmp_path / "值班.xls"))
    assert xls.format == "xls" and xls.title == "2024年春节值班安排"
    assert xls.parts[0].text.split("\n") == [
        "# 值班表",
        "2024年春节值班安排",
        "部门：办公室，姓名：张三，职务：科长，天数：3。",
        "部门：办公室，姓名：李四，职务：副科长，天数：2.5。",  # 办公室 is merged down over both rows
        "部门：财务科，姓名：王五，天数：1。",
        "姓名：合计。",  # the formula was never calculated by an office program: no value to show
        "# 通讯录",
        "单位：市应急管理局，电话：0571-12345678。",
    ]
    assert xls.parts == load(duty_workbook(tmp_path / "值班.xlsx")).parts
    (doc,) = prepare_documents(xls)
    chunks = chunk_document(doc.doc_id, doc.text, size=60, overlap=0)
    assert next(c for c in chunks if "0571" in c.text).section == "通讯录"


@pytest.mark.parametrize("dates_1904", [False, True])
def test_xls_dates_times_booleans_and_chinese_text(tmp_path: Path, dates_1904: bool) -> None:
    import datetime

    import xlwt

    path = tmp_path / "经费.xls"
    book = xlwt.Workbook(encoding="utf-8")
    book.dates_1904 = dates_1904  # Mac Excel's day 0: the same date is stored as another number
    sheet = book.add_sheet("经费")
    for column, name in enumerate(["项目", "金额（万元）", "日期", "已报销", "备注"]):
        sheet.write(0, column, name)
    sheet.write(1, 0, "培训")
    sheet.write(1, 1, 12.5)
    sheet.write(1, 2, datetime.date(2024, 3, 1), xlwt.easyxf(num_format_str="YYYY-MM-DD"))
    sheet.write(1, 3, True)
    sheet.write(1, 4, RARE)
    sheet.write(2, 0, "差旅")
    sheet.write(2, 2, datetime.datetime(2024, 3, 5, 8, 30), xlwt.easyxf(num_format_str="YYYY-MM-DD hh:mm"))
    sheet.write(2, 3, False)
    sheet.write(2, 4, datetime.time(14, 0), xlwt.easyxf(num_format_str="hh:mm"))
    book.save(str(path))
    assert load(path).parts[0].text.split("\n") == [
        "# 经费",
        f"项目：培训，金额（万元）：12.5，日期：2024-03-01，已报销：是，备注：{RARE}",
        "项目：差旅，日期：2024-03-05 08:30:00，已报销：否，备注：14:00:00。",
    ]


def test_bad_xls_files(tmp_path: Path) -> None:
    import xlwt

    real = duty_workbook_xls(tmp_path / "值班.xls").read_bytes()
    truncated = tmp_path / "截断.xls"
    truncated.write_bytes(real[: len(real) // 2])
    assert load_error(truncated).startswith("not a valid .xls (")
    assert load_error(truncated).endswith("open it in Excel/WPS and save it as .xlsx")
    damaged = tmp_path / "损坏.xls"
    damaged.write_bytes(real[:512] + b"\xff" * (len(real) - 512))  # the header survives, the sectors do not
    assert load_error(damaged) == (
        "not a valid .xls: the compound file holds no workbook (damaged?); open it in Excel/WPS and save it as .xlsx"
    )
    garbage = tmp_path / "乱码.xls"
    garbage.write_bytes(b"\x00\x01 not a workbook at all" * 40)
    assert load_error(garbage) == (
        "not a valid .xls: the file is not an Excel workbook (unknown content); open it in Excel/WPS and save it as .xlsx"
    )
    document = tmp_path / "其实是文档.xls"
    shutil.copy(notice_docx(tmp_path / "n.docx"), document)
    assert load_error(document).startswith("not an Excel workbook: the file is a zip archive without a workbook")
    empty = tmp_path / "空.xls"
    book = xlwt.Workbook()
    book.add_sheet("Sheet1")
    book.add_sheet("Sheet2")
    book.save(str(empty))
    assert load_error(empty) == "no text found: the workbook's sheets have no cells with values"


def test_xlsx_or_web_page_saved_as_xls_is_read_as_what_it_is(tmp_path: Path) -> None:
    renamed = tmp_path / "值班.xls"
    shutil.copy(duty_workbook(tmp_path / "值班.xlsx"), renamed)
    raw = load(renamed)
    assert raw.format == "xls" and "部门：办公室，姓名：李四，职务：副科长，天数：2.5。" in raw.parts[0].text.split(
        "\n"
    )
    # What many office systems' "导出Excel" buttons write: an HTML table under a .xls name.
    exported = tmp_path / "导出.xls"
    exported.write_text(
        '<html><head><meta charset="utf-8"></head><body><table><tr><td>姓名</td><td>电话</td></tr>'
        "<tr><td>张三</td><td>13800000000</td></tr></table></body></html>",
        encoding="utf-8",
    )
    raw = load(exported)
    assert raw.format == "xls" and "张三" in raw.parts[0].text and "13800000000" in raw.parts[0].text


@needs_soffice
def test_a_word_file_named_xls_and_a_password_protected_xls_are_refused_with_what_to_do(tmp_path: Path) -> None:
    soffice_convert("doc", tmp_path, notice_docx(tmp_path / "通知.docx"))
    word = tmp_path / "其实是文档.xls"
    shutil.copy(tmp_path / "通知.doc", word)
    assert load_error(word) == "not an Excel workbook: the file is a Word 97–2003 document named .xls; rename it .doc"
    # Saving with a password needs LibreOffice Calc and its Python bridge: skipped without them.
    source = duty_workbook_xls(tmp_path / "值班.xls")
    protected = password_protected_copy(source, tmp_path / "加密.xls", "MS Excel 97")
    assert load_error(protected) == (
        "the workbook is password-protected; open it in Excel/WPS with its password, remove the password and save a copy"
    )


@pytest.mark.e2e
def test_xls_answers_questions_in_a_real_knowledge_base(tmp_path: Path, fresh_kb) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    duty_workbook_xls(folder / "值班.xls")
    kb = fresh_kb
    report = kb.ingest([folder])
    assert report.failed == [] and [Path(s).name for s in report.added] == ["值班.xls"]
    (doc,) = kb.documents()
    assert doc.title == "2024年春节值班安排"
    answer = kb.ask("李四春节值班几天？")
    assert not answer.refused
    assert any("李四" in c.quote and "2.5" in c.quote and c.source.endswith("值班.xls") for c in answer.citations)
    answer = kb.ask("市应急管理局的电话是多少？")
    assert not answer.refused and any("0571-12345678" in c.quote for c in answer.citations)


# --------------------------------------------------------------------------- .pptx


def test_pptx_slides_are_pages_with_titles_tables_and_notes(tmp_path: Path) -> None:
    raw = load(deck(tmp_path / "汇报.pptx"))
    assert raw.format == "pptx" and raw.title == "2024年安全生产工作汇报"
    assert [p.page for p in raw.parts] == [1, 2, 3]  # the empty fourth slide has nothing to index
    assert raw.parts[0].text == "# 2024年安全生产工作汇报\n市应急管理局"
    assert raw.parts[1].text.split("\n") == [
        "# 检查结果",
        "共检查企业312家，发现隐患85处。",
        "已整改78处。",
        "区县：西湖区，隐患数：12。",
        "区县：上城区，隐患数：9。",
        "备注：整改率达到91.8%，剩余隐患限期一个月内完成。",
    ]
    assert raw.parts[2].text == "# 第3页\n谢谢！"


def test_pptx_chunks_keep_slide_numbers_and_titles(tmp_path: Path) -> None:
    (doc,) = prepare_documents(load(deck(tmp_path / "汇报.pptx")))
    chunks = chunk_document(doc.doc_id, doc.text, size=80, overlap=0, page_starts=doc.page_starts)
    notes = next(c for c in chunks if "整改率" in c.text)
    assert (notes.page, notes.section) == (2, "检查结果")
    assert next(c for c in chunks if "谢谢" in c.text).page == 3


def test_bad_pptx_files(tmp_path: Path) -> None:
    from pptx import Presentation

    corrupt = tmp_path / "损坏.pptx"
    corrupt.write_bytes(b"garbage bytes, not a zip")
    assert load_error(corrupt).startswith("not a valid .pptx (bad zip")
    empty = tmp_path / "空.pptx"
    deck = Presentation()
    deck.slides.add_slide(deck.slide_layouts[6])
    deck.save(str(empty))
    assert load_error(empty).startswith("no text found: the presentation's slides have no text")
    with zipfile.ZipFile(empty) as archive:
        assert "ppt/presentation.xml" in archive.namelist()  # a real deck, refused only for having no text


# --------------------------------------------------------------------------- listed everywhere


def test_new_formats_are_discovered_and_uploadable(tmp_path: Path) -> None:
    from assistant.app.ui.uploads import UPLOAD_TYPES  # imports Gradio (seconds): only here

    names = ["a.doc", "b.WPS", "c.rtf", "d.odt", "e.xlsx", "f.pptx", "g.xls", "h.ppt"]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    found, skipped = discover([tmp_path])
    assert [p.name for p in found] == names and skipped == []
    assert {".doc", ".wps", ".rtf", ".odt", ".xls", ".xlsx", ".ppt", ".pptx"} <= set(UPLOAD_TYPES)
