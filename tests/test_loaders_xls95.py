"""Excel 5/95 workbooks (BIFF5, 8-bit strings in a code page) on files tests/biff5.py writes by hand.

No tool here writes Excel 95 (LibreOffice's "MS Excel 95" export fails, xlwt writes BIFF8); LibreOffice reading
the hand-made file (test_libreoffice_reads_the_hand_made_file_as_the_same_chinese_workbook) shows it is genuine.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from biff5 import book_stream, compound_file, excel95_workbook
from office_files import load_error, needs_soffice, soffice_convert

from ingest.loaders import load

DUTY = {
    "值班表": [
        ["部门", "姓名", "天数"],
        ["办公室", "张三", 3],
        ["办公室", "李四", 2.5],
        ["财务科", "王五", 1],
    ]
}
DUTY_LINES = [
    "# 值班表",
    "部门：办公室，姓名：张三，天数：3。",
    "部门：办公室，姓名：李四，天数：2.5。",
    "部门：财务科，姓名：王五，天数：1。",
]
RESAVE = "open it in Excel/WPS and save it as .xlsx"


def _write(path: Path, sheets: dict, codepage: int | None = 936, encoding: str = "gbk") -> Path:
    path.write_bytes(excel95_workbook(sheets, codepage, encoding))
    return path


def test_gbk_excel95_reads_as_the_same_rows_as_an_excel97_xls(tmp_path: Path) -> None:
    import xlwt

    raw = load(_write(tmp_path / "值班.xls", DUTY))
    assert raw.format == "xls"
    assert raw.parts[0].text.split("\n") == DUTY_LINES
    book = xlwt.Workbook(encoding="utf-8")  # the same cells as Excel 97–2003 (BIFF8, Unicode) writes them
    sheet = book.add_sheet("值班表")
    for r, row in enumerate(DUTY["值班表"]):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    (tmp_path / "97").mkdir()
    book.save(str(tmp_path / "97" / "值班.xls"))
    assert load(tmp_path / "97" / "值班.xls").parts == raw.parts


def test_the_hand_made_file_is_a_real_excel95_compound_file(tmp_path: Path) -> None:
    import olefile
    import xlrd

    data = excel95_workbook(DUTY)
    assert len(data) % 512 == 0 and len(data) >= 512 + 4096
    ole = olefile.OleFileIO(io.BytesIO(data))
    assert ole.listdir() == [["Book"]] and ole.get_size("Book") == 4096  # a regular stream, not in a mini stream
    book = xlrd.open_workbook(file_contents=data, logfile=io.StringIO())
    assert (book.biff_version, book.codepage, book.encoding) == (50, 936, "cp936")


@pytest.mark.parametrize("codepage", [None, 1252])
def test_gbk_text_under_a_western_code_page_is_read_as_gbk(tmp_path: Path, codepage: int | None) -> None:
    import xlrd

    path = _write(tmp_path / "值班.xls", DUTY, codepage)
    # What xlrd (and LibreOffice) make of it alone: the GBK bytes as Latin-1/cp1252 letters.
    book = xlrd.open_workbook(file_contents=path.read_bytes(), logfile=io.StringIO())
    assert book.sheet_names() == ["Öµ°à±í"] and book.sheet_by_index(0).row_values(0) == ["²¿ÃÅ", "ÐÕÃû", "ÌìÊý"]
    assert load(path).parts[0].text.split("\n") == DUTY_LINES


def test_gbk_bytes_cp1252_cannot_decode_are_read_as_gbk(tmp_path: Path) -> None:
    # 垚 is 88 90 in GBK; 0x90 is undefined in cp1252, so xlrd alone fails on the cell.
    path = _write(tmp_path / "名单.xls", {"名单": [["姓名", "科室"], ["刘垚", "办公室"]]}, 1252)
    assert load(path).parts[0].text.split("\n") == ["# 名单", "姓名：刘垚，科室：办公室。"]


@pytest.mark.parametrize("codepage", [None, 1252])
def test_western_text_stays_western(tmp_path: Path, codepage: int | None) -> None:
    sheets = {"Équipe": [["Name", "Stadt"], ["Müller", "Köln"], ["Café Crème", "Straße"]]}
    encoding = "cp1252" if codepage else "latin-1"
    raw = load(_write(tmp_path / "team.xls", sheets, codepage, encoding))
    assert raw.parts[0].text.split("\n") == [
        "# Équipe",
        "Name：Müller，Stadt：Köln。",
        "Name：Café Crème，Stadt：Straße。",
    ]


def test_a_declared_chinese_code_page_is_trusted(tmp_path: Path) -> None:
    # Big5 (950): what a Taiwanese or Hong Kong Excel 95 wrote; the CODEPAGE record is not second-guessed.
    sheets = {"名單": [["單位", "電話"], ["資訊室", "02-12345678"]]}
    raw = load(_write(tmp_path / "名單.xls", sheets, 950, "big5"))
    assert raw.parts[0].text.split("\n") == ["# 名單", "單位：資訊室，電話：02-12345678。"]


def test_damaged_excel95_files_get_a_reason(tmp_path: Path) -> None:
    data = excel95_workbook(DUTY)
    truncated = tmp_path / "截断.xls"
    truncated.write_bytes(data[: len(data) // 2])  # the directory, at the end, is gone
    assert load_error(truncated).startswith("not a valid .xls (")
    assert load_error(truncated).endswith(RESAVE)
    stream = book_stream(DUTY)
    cut = tmp_path / "半截.xls"  # a whole compound file whose Book stream stops inside the sheet's records
    cut.write_bytes(compound_file(stream[: len(stream) - 30]))
    assert load_error(cut).startswith("cannot read the .xls content (")
    assert load_error(cut).endswith(RESAVE)


@needs_soffice
def test_libreoffice_reads_the_hand_made_file_as_the_same_chinese_workbook(tmp_path: Path) -> None:
    import openpyxl

    source = _write(tmp_path / "值班.xls", DUTY)
    soffice_convert("xlsx", tmp_path / "out", source)
    converted = tmp_path / "out" / "值班.xlsx"
    book = openpyxl.load_workbook(converted, read_only=True)
    assert book.sheetnames == ["值班表"]
    assert [list(row) for row in book["值班表"].iter_rows(values_only=True)] == DUTY["值班表"]
    assert load(converted).parts == load(source).parts
