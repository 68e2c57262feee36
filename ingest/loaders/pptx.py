"""PowerPoint .pptx decks: one part per slide (its page number), the slide title as heading, then text, tables and notes."""

from __future__ import annotations

import io
from pathlib import Path

from ingest.loaders.archive import check_zip
from ingest.loaders.base import WS, LoadError, Part, RawDocument, real_title
from ingest.loaders.legacy import OLE_MAGIC, open_compound_file, renamed_office_file
from ingest.loaders.tabular import cell_text, header_row, row_text

_RESAVE = "open it in PowerPoint/WPS and save it again as .pptx"
_PASSWORD = (
    "the presentation is password-protected; open it in PowerPoint/WPS with its password, "
    "remove the password and save a copy"
)
NOTES_LABEL = "备注："  # speaker notes often hold the spoken detail a slide only lists


def _position(shape: object) -> tuple[int, int]:
    # Top to bottom, then left to right: the order people read a slide in. The XML order is the
    # order shapes were added (z-order), which often puts a late text box first.
    top = getattr(shape, "top", None)
    left = getattr(shape, "left", None)
    return (top if isinstance(top, int) else 0, left if isinstance(left, int) else 0)


def _table_lines(table: object) -> list[str]:
    rows = [[WS.sub(" ", cell_text(cell.text)).strip() for cell in row.cells] for row in table.rows]  # type: ignore[attr-defined]
    rows = [r for r in rows if any(r)]
    if not rows:
        return []
    if len(rows) >= 2 and header_row(rows[0]):
        return [row_text(rows[0], r) for r in rows[1:]]
    return [row_text(None, r) for r in rows]


def _shape_lines(shape: object, title_id: int | None) -> list[str]:
    """The text of one shape (group shapes recursively), leaving out the slide's title placeholder."""
    if getattr(shape, "shape_id", None) == title_id and title_id is not None:
        return []
    from pptx.shapes.group import GroupShape

    if isinstance(shape, GroupShape):
        lines: list[str] = []
        for child in sorted(shape.shapes, key=_position):
            lines.extend(_shape_lines(child, title_id))
        return lines
    if getattr(shape, "has_table", False):
        return _table_lines(shape.table)  # type: ignore[attr-defined]
    if getattr(shape, "has_text_frame", False):
        paragraphs = ["".join(run.text for run in p.runs) for p in shape.text_frame.paragraphs]  # type: ignore[attr-defined]
        return [p.strip() for p in paragraphs if p.strip()]
    return []


def _slide_text(slide: object, number: int) -> str:
    title_shape = slide.shapes.title  # type: ignore[attr-defined]
    title = WS.sub(" ", title_shape.text_frame.text).strip() if title_shape is not None else ""
    title_id = title_shape.shape_id if title_shape is not None else None
    body: list[str] = []
    for shape in sorted(slide.shapes, key=_position):  # type: ignore[attr-defined]
        body.extend(_shape_lines(shape, title_id))
    if slide.has_notes_slide:  # type: ignore[attr-defined]
        frame = slide.notes_slide.notes_text_frame  # type: ignore[attr-defined]
        notes = [line.strip() for line in (frame.text if frame is not None else "").splitlines() if line.strip()]
        if notes:
            body.append(NOTES_LABEL + notes[0])
            body.extend(notes[1:])
    if not title and not body:
        return ""
    # Every slide gets a heading, so an untitled slide's text is not filed under the previous slide's title.
    return "\n".join([f"# {title or f'第{number}页'}", *body])


def load_pptx(path: Path, data: bytes, max_uncompressed_bytes: int) -> RawDocument:
    """Build the raw document of a .pptx deck: one part per slide that has text, numbered as in the deck."""
    if data.startswith(OLE_MAGIC):
        # PowerPoint keeps a password-protected .pptx in a compound file; an old .ppt renamed .pptx is one too.
        with open_compound_file(data, ".pptx", _RESAVE, _PASSWORD) as ole:
            renamed = renamed_office_file(ole, ".pptx")
        if renamed:
            raise LoadError(f"not a .pptx: {renamed}")
        raise LoadError(f"not a valid .pptx: the file is an Office compound file without a presentation; {_RESAVE}")
    check_zip(data, max_uncompressed_bytes, ".pptx", ("ppt/presentation.xml", "PowerPoint presentation"), _RESAVE)
    import pptx

    try:
        deck = pptx.Presentation(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - python-pptx raises many types for broken files
        raise LoadError(f"not a valid .pptx ({type(exc).__name__}: {exc}); {_RESAVE}") from None
    parts: list[Part] = []
    try:
        for number, slide in enumerate(deck.slides, 1):
            text = _slide_text(slide, number)
            if text:
                parts.append(Part(text, number))
        title = real_title(deck.core_properties.title, path)
    except Exception as exc:  # noqa: BLE001 - malformed slide XML
        raise LoadError(f"cannot read the .pptx content ({type(exc).__name__}: {exc}); {_RESAVE}") from None
    if not parts:
        raise LoadError("no text found: the presentation's slides have no text (pictures only?)")
    return RawDocument(path, "pptx", title, parts, None)
