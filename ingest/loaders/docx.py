"""Word .docx files: zip-bomb and integrity checks, then the body as markdown-ish lines with headings and tables."""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable
from pathlib import Path

from ingest.loaders.archive import check_zip
from ingest.loaders.base import WS, LoadError, Part, RawDocument, real_title

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_NS = {"w": _W, "mc": _MC}
_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*([1-9])$", re.IGNORECASE)
_TITLE_STYLES = frozenset({"title", "标题"})


def _q(tag: str) -> str:
    return f"{{{_W}}}{tag}"


def _check_zip(data: bytes, max_uncompressed_bytes: int) -> None:
    """Refuse archives that are not zips, are forged or would inflate beyond the limit (zip bombs)."""
    check_zip(
        data,
        max_uncompressed_bytes,
        ".docx",
        ("word/document.xml", "Word document"),
        "open it in Word/WPS and save it as .docx (an old .doc or a WPS file must be saved as .docx too)",
    )


@functools.cache
def _xpath(expr: str) -> Callable[[object], list[object]]:
    """Compile an XPath over the WordprocessingML namespaces once (lxml comes with python-docx)."""
    from lxml import etree

    return etree.XPath(expr, namespaces=_NS)  # type: ignore[return-value]


def _cell_paragraphs(tc: object) -> list[object]:
    return _xpath(".//w:p[not(ancestor::w:p) and not(ancestor::mc:Fallback)]")(tc)


def _table_rows(tbl: object) -> list[object]:
    return _xpath("./w:tr | ./w:sdt/w:sdtContent/w:tr | ./w:customXml/w:tr")(tbl)


def _row_cells(tr: object) -> list[object]:
    return _xpath("./w:tc | ./w:sdt/w:sdtContent/w:tc | ./w:customXml/w:tc")(tr)


# Inserted (tracked) text is included, deleted/moved-away text is not (it lives in w:delText
# or under w:moveFrom); mc:Fallback repeats text boxes already given in mc:Choice. Nested w:p
# (paragraphs of text boxes) come back as markers so their text starts on a new line.
_PARAGRAPH_TEXT_NODES = (
    ".//w:t[not(ancestor::w:moveFrom) and not(ancestor::mc:Fallback)]"
    " | .//w:tab[not(ancestor::w:tabs) and not(ancestor::mc:Fallback)]"
    " | .//w:br[not(ancestor::mc:Fallback)] | .//w:cr[not(ancestor::mc:Fallback)]"
    " | .//w:noBreakHyphen[not(ancestor::mc:Fallback)]"
    " | .//w:p[not(ancestor::mc:Fallback)]"
)


class _DocxWalker:
    """Turns a python-docx document body into markdown-ish lines in document order."""

    def __init__(self, document: object) -> None:
        from docx.enum.style import WD_STYLE_TYPE

        self._text_nodes = _xpath(_PARAGRAPH_TEXT_NODES)
        self._parent = getattr(document, "_body", None)
        self._style_names: dict[str, str] = {}
        self._style_outline: dict[str, int] = {}
        self._default_style: str | None = None
        for style in document.styles:  # type: ignore[attr-defined]
            try:
                if style.type != WD_STYLE_TYPE.PARAGRAPH:
                    continue
                style_id = style.style_id
                self._style_names[style_id] = style.name or ""
                level = style.element.find(f"{_q('pPr')}/{_q('outlineLvl')}")
                if level is not None:
                    self._style_outline[style_id] = int(level.get(_q("val")))
                if style.element.get(_q("default")) in ("1", "true"):
                    self._default_style = style_id
            except (ValueError, TypeError, AttributeError):
                continue  # one odd style must not make the whole document unreadable
        self.lines: list[str] = []

    def paragraph_text(self, p: object) -> str:
        pieces: list[str] = []
        for node in self._text_nodes(p):
            tag = node.tag  # type: ignore[attr-defined]
            if tag == _q("t"):
                pieces.append(node.text or "")  # type: ignore[attr-defined]
            elif tag == _q("tab"):
                pieces.append("\t")
            elif tag == _q("noBreakHyphen"):
                pieces.append("-")
            elif tag == _q("p"):
                pieces.append("\n")
            else:  # w:br, w:cr
                pieces.append("\n")
        return "".join(pieces)

    def heading_level(self, p: object) -> int | None:
        ppr = p.find(_q("pPr"))  # type: ignore[attr-defined]
        style_id = self._default_style
        direct_outline: int | None = None
        if ppr is not None:
            pstyle = ppr.find(_q("pStyle"))
            if pstyle is not None and pstyle.get(_q("val")):
                style_id = pstyle.get(_q("val"))
            outline = ppr.find(_q("outlineLvl"))
            if outline is not None:
                try:
                    direct_outline = int(outline.get(_q("val")))
                except (TypeError, ValueError):
                    direct_outline = None
        name = self._style_names.get(style_id or "", "").strip()
        if name.casefold() in _TITLE_STYLES:
            return 1
        match = _HEADING_STYLE.match(name)
        if match:
            return min(int(match.group(1)), 6)
        # Outline level 0-8 marks a heading even in custom styles; 9 means body text.
        outline_level = direct_outline if direct_outline is not None else self._style_outline.get(style_id or "")
        if outline_level is not None and 0 <= outline_level <= 8:
            return min(outline_level + 1, 6)
        return None

    def add_paragraph(self, p: object) -> None:
        text = self.paragraph_text(p)
        if not text.strip():
            return
        level = self.heading_level(p)
        if level is not None:
            # A heading must stay on one line to remain a markdown heading.
            self.lines.append("#" * level + " " + WS.sub(" ", text).strip())
        else:
            self.lines.append(text)

    def cell_text(self, tc: object) -> str:
        # Paragraphs of the cell and of tables nested in it, but not those inside text boxes:
        # paragraph_text() already includes those in their host paragraph.
        texts = [self.paragraph_text(p) for p in _cell_paragraphs(tc)]
        return WS.sub(" ", " ".join(t for t in texts if t.strip())).strip()

    def add_table(self, tbl: object) -> None:
        from docx.table import Table

        try:
            table = Table(tbl, self._parent)  # type: ignore[arg-type]
            rows = [[cell._tc for cell in row.cells] for row in table.rows]
        except Exception:  # noqa: BLE001 - malformed table grid: fall back to the raw cells
            rows = [list(_row_cells(tr)) for tr in _table_rows(tbl)]
        for tcs in rows:
            kept: list[object] = []
            cells: list[str] = []
            for tc in tcs:
                # A merged cell is returned once per grid column it spans: keep it once.
                if any(tc is other for other in kept):
                    continue
                kept.append(tc)
                cells.append(self.cell_text(tc))
            if any(cells):
                self.lines.append(" | ".join(cells))

    def walk(self, container: object) -> None:
        for child in container:  # type: ignore[attr-defined]
            tag = child.tag
            if tag == _q("p"):
                self.add_paragraph(child)
            elif tag == _q("tbl"):
                self.add_table(child)
            elif tag == _q("sdt"):
                content = child.find(_q("sdtContent"))
                if content is not None:
                    self.walk(content)
            elif tag in (_q("customXml"), _q("ins")):
                self.walk(child)


def load_docx(path: Path, data: bytes, max_uncompressed_bytes: int) -> RawDocument:
    """Build the raw document of a .docx file from its bytes, refusing zip bombs and damaged archives."""
    _check_zip(data, max_uncompressed_bytes)
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - python-docx raises many types for broken files
        raise LoadError(
            f"not a valid .docx ({type(exc).__name__}: {exc}); open it in Word/WPS and save it again as .docx"
        ) from None
    try:
        walker = _DocxWalker(document)
        walker.walk(document.element.body)
    except LoadError:
        raise
    except Exception as exc:  # noqa: BLE001 - malformed XML content
        raise LoadError(f"cannot read .docx content ({type(exc).__name__}: {exc}); re-save it in Word/WPS") from None
    text = "\n".join(walker.lines)
    if not text.strip():
        raise LoadError("no text found: the .docx has no paragraphs or tables with text")
    try:
        title = real_title(document.core_properties.title, path)
    except Exception:  # noqa: BLE001 - a broken core.xml should not lose the body text
        title = None
    return RawDocument(path, "docx", title, [Part(text, None)], None)
