"""OFD files (GB/T 33190, China's fixed-layout format for official documents): the text layer, page by page.

An OFD is a zip: OFD.xml names the document root (Doc_0/Document.xml), which lists the pages; each
page's Content.xml places TextObjects (a Boundary "x y w h" in millimetres) holding TextCode runs
(X, Y relative to that boundary). There is no reading-order markup, so the text is laid out again:
runs on one baseline form a line, lines top to bottom form the page, and wrapped lines are joined
back into paragraphs (a 公文 paragraph starts indented by two characters or after a short line).
Page templates (letterheads) are read too, before the page's own content.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ingest.loaders.archive import check_zip
from ingest.loaders.base import LoadError, Part, RawDocument, real_title

_NS = "http://www.ofdspec.org/2016"
_RESAVE = "open it in an OFD reader (数科, 福昕) and export it again, or save it as PDF"
_SENTENCE_END = tuple("。！？；：!?;:")


def _tag(name: str) -> str:
    return f"{{{_NS}}}{name}"


@dataclass(frozen=True)
class _Run:
    x: float  # left edge, mm from the page's left
    y: float  # baseline, mm from the page's top
    size: float  # font size in mm (the line height)
    text: str


def _parse(data: bytes, what: str) -> object:
    from lxml import etree

    # No DTDs, entities or network: an OFD part is plain XML from an untrusted file.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise LoadError(f"not a valid .ofd: {what} is not well-formed XML ({exc}); {_RESAVE}") from None


def _floats(value: str | None, n: int) -> list[float]:
    try:
        numbers = [float(v) for v in (value or "").split()]
    except ValueError:
        return [0.0] * n
    return (numbers + [0.0] * n)[:n]


def _runs(root: object) -> list[_Run]:
    """Every TextCode of a page or template, placed on the page."""
    runs = []
    for obj in root.iter(_tag("TextObject")):  # type: ignore[attr-defined]
        bx, by, _, bh = _floats(obj.get("Boundary"), 4)
        size = _floats(obj.get("Size"), 1)[0] or bh or 3.5
        for code in obj.iter(_tag("TextCode")):
            text = "".join(code.itertext())
            if text.strip():
                x, y = _floats(code.get("X"), 1)[0], _floats(code.get("Y"), 1)[0]
                runs.append(_Run(bx + x, by + y, size, text))
    return runs


def _lines(runs: list[_Run]) -> list[list[_Run]]:
    """Runs grouped into lines: one baseline (within a third of the font size), left to right."""
    lines: list[list[_Run]] = []
    for run in sorted(runs, key=lambda r: (r.y, r.x)):
        if lines and abs(lines[-1][0].y - run.y) <= max(lines[-1][0].size, run.size) / 3:
            lines[-1].append(run)
        else:
            lines.append([run])
    return [sorted(line, key=lambda r: r.x) for line in lines]


def _page_text(runs: list[_Run]) -> str:
    """The page's lines, with lines that only wrap joined back into their paragraph."""
    lines = _lines(runs)
    if not lines:
        return ""
    left = min(line[0].x for line in lines)
    right = max(line[-1].x + line[-1].size * len(line[-1].text) for line in lines)
    paragraphs: list[str] = []
    previous_end = right
    for line in lines:
        text = "".join(r.text for r in line).strip()
        size = line[0].size
        indented = line[0].x > left + 1.5 * size
        short_before = previous_end < right - 2 * size
        if paragraphs and not indented and not short_before and not paragraphs[-1].endswith(_SENTENCE_END):
            paragraphs[-1] += text  # a wrapped line of the same paragraph
        else:
            paragraphs.append(text)
        previous_end = line[-1].x + line[-1].size * len(line[-1].text)
    return "\n".join(paragraphs)


def _resolve(base_dir: str, loc: str) -> str:
    """A part's path inside the zip: BaseLoc is absolute ("/Doc_0/…") or relative to the referring part."""
    return posixpath.normpath(loc.lstrip("/") if loc.startswith("/") else posixpath.join(base_dir, loc))


def load_ofd(path: Path, data: bytes, max_uncompressed_bytes: int) -> RawDocument:
    """Build the raw document of an OFD from its bytes: one part per page that has text."""
    names = check_zip(data, max_uncompressed_bytes, ".ofd", ("OFD.xml", "OFD entry file"), _RESAVE)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:

        def read(name: str, what: str) -> object:
            if name not in names:
                raise LoadError(f"not a valid .ofd: {what} ({name}) is missing from the zip; {_RESAVE}")
            return _parse(archive.read(name), what)

        ofd = read("OFD.xml", "OFD.xml")
        body = ofd.find(_tag("DocBody"))  # type: ignore[attr-defined]
        root_loc = body.findtext(_tag("DocRoot")) if body is not None else None
        if not root_loc:
            raise LoadError(f"not a valid .ofd: OFD.xml names no document root; {_RESAVE}")
        title = real_title(body.findtext(f"{_tag('DocInfo')}/{_tag('Title')}"), path)
        doc_path = _resolve("", root_loc.strip())
        doc_dir = posixpath.dirname(doc_path)
        document = read(doc_path, "the document root")
        templates = {
            t.get("ID"): _resolve(doc_dir, t.get("BaseLoc", ""))
            for t in document.iter(_tag("TemplatePage"))  # type: ignore[attr-defined]
        }
        parts: list[Part] = []
        pages = list(document.iter(_tag("Page")))  # type: ignore[attr-defined]
        if not pages:
            raise LoadError(f"not a valid .ofd: the document lists no pages; {_RESAVE}")
        for number, page in enumerate(pages, 1):
            content = read(_resolve(doc_dir, page.get("BaseLoc", "")), f"page {number}")
            runs = []
            for use in content.iter(_tag("Template")):  # type: ignore[attr-defined]
                loc = templates.get(use.get("TemplateID"))
                if loc and loc in names:
                    runs.extend(_runs(_parse(archive.read(loc), f"the template of page {number}")))
            runs.extend(_runs(content))
            text = _page_text(runs)
            if text.strip():
                parts.append(Part(text, number))
    if not parts:
        raise LoadError(
            "OFD has no text layer (a scanned page stored as an image); OCR is not supported yet — "
            "use an OFD or PDF with selectable text"
        )
    return RawDocument(path, "ofd", title, parts, None)
