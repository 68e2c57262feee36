"""Excel .xls workbooks (97–2003, and 5/95 with its code page), read with xlrd into the same sections and labelled rows as a .xlsx."""

from __future__ import annotations

import datetime
import io
import struct
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from ingest.loaders.base import LoadError, RawDocument, real_title
from ingest.loaders.html import load_html
from ingest.loaders.legacy import (
    OLE_MAGIC,
    ZIP_MAGIC,
    looks_like_html,
    open_compound_file,
    renamed_office_file,
    zip_holds,
)
from ingest.loaders.tabular import Merge, SheetSections
from ingest.loaders.xlsx import load_xlsx

_RESAVE = "open it in Excel/WPS and save it as .xlsx"
_PASSWORD = (
    "the workbook is password-protected; open it in Excel/WPS with its password, remove the password and save a copy"
)
# Excel 97 and later keep the workbook in a "Workbook" stream, Excel 5/95 in "Book".
_WORKBOOK_STREAMS = ("Workbook", "Book")

# BIFF5 records ([MS-XLS] 2.3) whose 8-bit strings are in the workbook's code page: BOUNDSHEET (sheet name,
# 1-byte length at 6), LABEL and RSTRING (cell text, 2-byte length at 6); CODEPAGE names that code page.
_BOF, _CODEPAGE, _BOUNDSHEET, _LABEL, _RSTRING = 0x0809, 0x0042, 0x0085, 0x0204, 0x00D6
_WESTERN = (None, 1252)  # no CODEPAGE record (xlrd then reads Latin-1) or Windows Western


def _excel95_gbk(stream: bytes) -> bool:
    """Whether an Excel 5/95 stream announces a Western code page (or none) but holds GBK (Chinese) strings.

    Some old non-Excel writers did that; xlrd, like LibreOffice, then shows mojibake ("²¿ÃÅ" for 部门) or fails on
    bytes cp1252 lacks. Taken as GBK only when every 8-bit string with a high byte decodes as GBK and most of its
    non-ASCII characters are in GB2312 (both bytes 0xA1-0xFE): Western text with accents (é, ü) practically never is.
    """
    if len(stream) < 6 or struct.unpack_from("<HxxH", stream) != (_BOF, 0x0500):
        return False  # not the BOF of a BIFF5/BIFF7 workbook (BIFF8 strings are Unicode)
    codepage, texts, pos = None, [], 0
    while pos + 4 <= len(stream):
        rid, size = struct.unpack_from("<HH", stream, pos)
        body, pos = stream[pos + 4 : pos + 4 + size], pos + 4 + size
        if rid == _CODEPAGE and size >= 2:
            codepage = struct.unpack_from("<H", body)[0]
        elif rid == _BOUNDSHEET and size >= 7:
            texts.append(body[7 : 7 + body[6]])
        elif rid in (_LABEL, _RSTRING) and size >= 8:
            texts.append(body[8 : 8 + struct.unpack_from("<H", body, 6)[0]])
    if codepage not in _WESTERN:
        return False
    chinese = other = 0
    for raw in texts:
        if raw.isascii():
            continue
        try:
            text = raw.decode("gbk")
        except UnicodeDecodeError:
            return False
        for ch in text:
            if not ch.isascii():
                try:
                    ch.encode("gb2312")
                    chinese += 1
                except UnicodeEncodeError:
                    other += 1
    return chinese > 0 and chinese >= 2 * other


def _check_compound_file(data: bytes) -> tuple[str | None, str | None]:
    """Refuse what is not an Excel workbook inside the compound file.

    Returns:
        The metadata title, if any, and the encoding to read 8-bit strings in when the workbook's own code page
        is wrong ("gbk" for GBK text under a Western code page, see _excel95_gbk), else None.
    """
    with open_compound_file(data, ".xls", _RESAVE, _PASSWORD) as ole:
        if not any(ole.exists(name) for name in _WORKBOOK_STREAMS):
            renamed = renamed_office_file(ole, ".xls")
            if renamed:
                raise LoadError(f"not an Excel workbook: {renamed}")
            raise LoadError(f"not a valid .xls: the compound file holds no workbook (damaged?); {_RESAVE}")
        encoding = None
        if ole.exists("Book") and not ole.exists("Workbook"):
            try:
                encoding = "gbk" if _excel95_gbk(ole.openstream("Book").read()) else None
            except Exception:  # noqa: BLE001 - a damaged stream: xlrd gives the reason below
                pass
        try:
            metadata = ole.get_metadata()
        except Exception:  # noqa: BLE001 - damaged properties cost the title only, never the text
            return None, encoding
    title = metadata.title
    if isinstance(title, bytes):
        # The summary's strings are in its own code page (Excel: the system's, e.g. 936 for GBK; LibreOffice:
        # 65001), stored as a signed 16-bit number.
        codepage = (metadata.codepage or 1252) & 0xFFFF
        title_encoding = {65001: "utf-8", 1200: "utf-16-le"}.get(codepage, f"cp{codepage}")
        try:
            title = title.decode(title_encoding).rstrip("\0")
        except (LookupError, UnicodeDecodeError):
            return None, encoding
    return title, encoding


def _cell_value(kind: int, value: object, datemode: int) -> object:
    """A cell as openpyxl would give it: dates as date-times (or times), booleans as bool, errors as "#DIV/0!"."""
    import xlrd

    if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    if kind == xlrd.XL_CELL_DATE and isinstance(value, float):
        # An .xls stores a date as a day count; its datemode says whether day 0 is in 1900 or 1904.
        try:
            year, month, day, hour, minute, second = xlrd.xldate_as_tuple(value, datemode)
        except xlrd.XLDateError:
            return value  # negative or out of range: the number is all there is
        if year == 0:
            return datetime.time(hour, minute, second)  # a time of day without a date
        return datetime.datetime(year, month, day, hour, minute, second)
    if kind == xlrd.XL_CELL_BOOLEAN:
        return bool(value)
    if kind == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(value, "#ERROR!")  # type: ignore[call-overload]
    return value


def _rows(sheet: object, datemode: int) -> Iterator[list[object]]:
    for r in range(sheet.nrows):  # type: ignore[attr-defined]
        kinds, values = sheet.row_types(r), sheet.row_values(r)  # type: ignore[attr-defined]
        yield [_cell_value(k, v, datemode) for k, v in zip(kinds, values)]


def _merges(sheet: object) -> list[Merge]:
    # xlrd's ranges are 0-based and end-exclusive: (first row, row after, first column, column after).
    return [(clo + 1, rlo + 1, chi, rhi) for rlo, rhi, clo, chi in sheet.merged_cells]  # type: ignore[attr-defined]


def load_xls(path: Path, data: bytes, max_uncompressed_bytes: int) -> RawDocument:
    """Build the raw document of a .xls workbook: one section per sheet with text, in workbook order.

    An .xlsx saved under .xls, or a web page saved as .xls (what many office systems export), is read
    as what it is; the format recorded stays "xls".
    """
    if data.startswith(ZIP_MAGIC):
        if not zip_holds(data, "xl/workbook.xml"):
            raise LoadError(
                "not an Excel workbook: the file is a zip archive without a workbook "
                f"(perhaps a .docx or .pptx renamed .xls); {_RESAVE}"
            )
        return replace(load_xlsx(path, data, max_uncompressed_bytes), format="xls")
    if looks_like_html(data):
        return replace(load_html(path, data), format="xls")
    if not data.startswith(OLE_MAGIC):
        raise LoadError(f"not a valid .xls: the file is not an Excel workbook (unknown content); {_RESAVE}")
    title, encoding = _check_compound_file(data)
    metadata_title = real_title(title, path)
    import xlrd

    try:
        # formatting_info: without it xlrd does not report merged ranges. Its messages go to a buffer,
        # not to stdout, which is the CLI's output. An Excel 5/95 workbook's 8-bit strings are decoded from its
        # CODEPAGE record (936: GBK) unless that is shown wrong.
        book = xlrd.open_workbook(
            file_contents=data,
            formatting_info=True,
            on_demand=True,
            logfile=io.StringIO(),
            ragged_rows=True,
            encoding_override=encoding,
        )
    except xlrd.XLRDError as exc:
        if "encrypted" in str(exc):
            raise LoadError(_PASSWORD) from None
        raise LoadError(f"not a valid .xls ({exc}); {_RESAVE}") from None
    except Exception as exc:  # noqa: BLE001 - xlrd raises many types for damaged files
        raise LoadError(f"not a valid .xls ({type(exc).__name__}: {exc}); {_RESAVE}") from None
    sheets = SheetSections()
    try:
        for index, name in enumerate(book.sheet_names()):
            sheet = book.sheet_by_index(index)
            sheets.add(name, _rows(sheet, book.datemode), _merges(sheet))
            book.unload_sheet(index)  # on_demand: only one sheet's cells are held at a time
    except Exception as exc:  # noqa: BLE001 - a damaged sheet stream
        raise LoadError(f"cannot read the .xls content ({type(exc).__name__}: {exc}); {_RESAVE}") from None
    finally:
        book.release_resources()
    return sheets.document(path, "xls", metadata_title)
