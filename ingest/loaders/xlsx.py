"""Excel .xlsx workbooks: each sheet a section headed by its name, each row a sentence labelled by its header row.

Read with openpyxl in read-only mode (rows are streamed, so a large sheet does not have to fit
in memory as cell objects) with data_only=True: a formula gives the value Excel/WPS last
calculated and saved, not its source. A workbook written by a program that never calculated
it has no such value, and those cells read as empty. Read-only mode does not report merged
ranges, so they are read from the sheet XML directly (a streamed scan for <mergeCell>).
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from pathlib import Path

from ingest.loaders.archive import check_zip
from ingest.loaders.base import LoadError, RawDocument, real_title
from ingest.loaders.legacy import OLE_MAGIC
from ingest.loaders.tabular import Merge, SheetSections

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_RESAVE = "open it in Excel/WPS and save it again as .xlsx"


def _sheet_paths(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> its XML part in the zip, from workbook.xml and its relationships."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        workbook = etree.fromstring(archive.read("xl/workbook.xml"), parser)
        rels = etree.fromstring(archive.read("xl/_rels/workbook.xml.rels"), parser)
    except (KeyError, etree.XMLSyntaxError):
        return {}  # openpyxl reports a broken workbook itself; merges are then just not resolved
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{{{_PKG_REL}}}Relationship")}
    paths = {}
    for sheet in workbook.iter(f"{{{_MAIN}}}sheet"):
        target = targets.get(sheet.get(f"{{{_REL}}}id"), "")
        if target:
            path = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
            paths[sheet.get("name", "")] = posixpath.normpath(path)
    return paths


# <mergeCell ref="B5:B6"/> (any namespace prefix, either quote). The merged ranges sit after all
# the rows, so they are found by scanning the part's bytes: an XML parser (lxml's iterparse too)
# would build the whole sheet's tree on the way there — measured: +480 MB for 50,000 rows.
_MERGE_CELL = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?mergeCell\b[^>]*?\bref\s*=\s*[\"']([A-Za-z]{1,3}[0-9]{1,7}:[A-Za-z]{1,3}[0-9]{1,7})[\"']"
)
_BLOCK = 1 << 20
_OVERLAP = 256  # longer than any one <mergeCell …/> element a writer produces


def _merges(archive: zipfile.ZipFile, part: str | None) -> list[Merge]:
    """The merged ranges of one sheet, streamed from its XML in blocks so a large sheet is never held in memory."""
    from openpyxl.utils.cell import range_boundaries

    if part is None or part not in archive.namelist():
        return []
    refs: dict[bytes, None] = {}  # ordered and without the repeats found again in a block's overlap
    tail = b""
    with archive.open(part) as stream:
        while block := stream.read(_BLOCK):
            window = tail + block
            for match in _MERGE_CELL.finditer(window):
                refs[match.group(1)] = None
            tail = window[-_OVERLAP:]
    merges: list[Merge] = []
    for ref in refs:
        try:
            bounds = range_boundaries(ref.decode("ascii").upper())
        except (ValueError, TypeError):
            continue
        if None not in bounds:
            merges.append(bounds)  # type: ignore[arg-type]
    return merges


def load_xlsx(path: Path, data: bytes, max_uncompressed_bytes: int) -> RawDocument:
    """Build the raw document of a .xlsx workbook: one section per sheet with text, in workbook order."""
    if data.startswith(OLE_MAGIC):
        raise LoadError(
            "the workbook is password-protected or an old Excel 97–2003 .xls renamed .xlsx; "
            "open it in Excel/WPS with its password, remove the password and save it as .xlsx"
        )
    check_zip(data, max_uncompressed_bytes, ".xlsx", ("xl/workbook.xml", "Excel workbook"), _RESAVE)
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for broken files
        raise LoadError(f"not a valid .xlsx ({type(exc).__name__}: {exc}); {_RESAVE}") from None
    sheets = SheetSections()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            paths = _sheet_paths(archive)
            for sheet in workbook.worksheets:
                merges = _merges(archive, paths.get(sheet.title))
                # The <dimension> a file declares can be wrong (some writers never update it):
                # reset it so every row is read as it really is.
                sheet.reset_dimensions()  # type: ignore[union-attr]
                sheets.add(sheet.title, sheet.iter_rows(values_only=True), merges)
        metadata_title = real_title(workbook.properties.title, path)
    except LoadError:
        raise
    except Exception as exc:  # noqa: BLE001 - malformed sheet XML or cell values
        raise LoadError(f"cannot read the .xlsx content ({type(exc).__name__}: {exc}); {_RESAVE}") from None
    finally:
        workbook.close()
    return sheets.document(path, "xlsx", metadata_title)
