"""Excel 97–2003 .xls workbooks, read with xlrd into the same sheet sections and labelled rows as a .xlsx."""

from __future__ import annotations

import datetime
import io
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


def _check_compound_file(data: bytes) -> str | None:
    """Refuse what is not an Excel workbook inside the compound file; return its metadata title, if any."""
    with open_compound_file(data, ".xls", _RESAVE, _PASSWORD) as ole:
        if not any(ole.exists(name) for name in _WORKBOOK_STREAMS):
            renamed = renamed_office_file(ole, ".xls")
            if renamed:
                raise LoadError(f"not an Excel workbook: {renamed}")
            raise LoadError(f"not a valid .xls: the compound file holds no workbook (damaged?); {_RESAVE}")
        try:
            metadata = ole.get_metadata()
        except Exception:  # noqa: BLE001 - damaged properties cost the title only, never the text
            return None
    title = metadata.title
    if isinstance(title, bytes):
        # The summary's strings are in its own code page (Excel: the system's, e.g. 936 for GBK; LibreOffice:
        # 65001), stored as a signed 16-bit number.
        codepage = (metadata.codepage or 1252) & 0xFFFF
        encoding = {65001: "utf-8", 1200: "utf-16-le"}.get(codepage, f"cp{codepage}")
        try:
            title = title.decode(encoding).rstrip("\0")
        except (LookupError, UnicodeDecodeError):
            return None
    return title


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
    metadata_title = real_title(_check_compound_file(data), path)
    import xlrd

    try:
        # formatting_info: without it xlrd does not report merged ranges. Its messages go to a buffer,
        # not to stdout, which is the CLI's output.
        book = xlrd.open_workbook(
            file_contents=data, formatting_info=True, on_demand=True, logfile=io.StringIO(), ragged_rows=True
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
