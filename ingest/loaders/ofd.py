"""OFD files (GB/T 33190, China's fixed-layout format for official documents): text pages laid out again, scanned pages OCR'd."""

from __future__ import annotations

import io
import posixpath
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ingest.loaders.archive import check_zip
from ingest.loaders.base import LoadError, Part, RawDocument, real_title
from ingest.loaders.ocr import OFF_HINT, THIN_TEXT, FileOcr, OcrOptions, is_blank, page_list
from ingest.loaders.ofd_images import (
    Media,
    PageProblem,
    Placement,
    ReadMember,
    draw_page,
    media_in,
    page_box,
    placements,
    resource_locs,
)
from ingest.loaders.ofd_parts import RESAVE, floats, parse_xml, resolve, tag

_SENTENCE_END = tuple("。！？；：!?;:")


@dataclass(frozen=True)
class _Run:
    x: float  # left edge, mm from the page's left
    y: float  # baseline, mm from the page's top
    size: float  # font size in mm (the line height)
    text: str


def _runs(root: object) -> list[_Run]:
    """Every TextCode of a page or template, placed on the page."""
    runs = []
    for obj in root.iter(tag("TextObject")):  # type: ignore[attr-defined]
        bx, by, _, bh = floats(obj.get("Boundary"), 4)
        size = floats(obj.get("Size"), 1)[0] or bh or 3.5
        for code in obj.iter(tag("TextCode")):
            text = "".join(code.itertext())
            if text.strip():
                x, y = floats(code.get("X"), 1)[0], floats(code.get("Y"), 1)[0]
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


def _text_of(layers: list[tuple[object, str]]) -> str:
    return _page_text([run for root, _ in layers for run in _runs(root)])


@dataclass(frozen=True)
class _Scan:
    """A page without a text layer that draws images: OCR'd like a PDF page without one."""

    number: int
    layers: list[tuple[object, str]]  # the parsed parts drawn on the page and their zip paths, in drawing order
    images: list[Placement]
    box: tuple[float, float, float, float] | None
    thin: str  # a scrap of text layer (a stamped page number), kept when OCR finds nothing


def load_ofd(path: Path, data: bytes, max_uncompressed_bytes: int, ocr: OcrOptions | None = None) -> RawDocument:
    """Build the raw document of an OFD from its bytes: one part per page that has text, with its page number.

    The package is walked as the standard lays it out: OFD.xml names the document root (Doc_0/Document.xml),
    which lists the pages and the page templates; each page's Content.xml places TextObjects (a Boundary
    "x y w h" in millimetres) holding TextCode runs. There is no reading-order markup, so the text is laid
    out again: runs on one baseline form a line, lines top to bottom form the page, and wrapped lines are
    joined back into paragraphs (a 公文 paragraph starts indented by two characters or after a short line).
    Page templates (letterheads) are read too, before the page's own content.

    A page is read from its text layer. A page with no text layer (or only a scrap of one, as
    load_pdf decides) that draws ImageObjects is a scan: when `ocr` allows it, its images — found by
    ResourceID in the PublicRes, DocumentRes and page resource files — are drawn into one page picture
    and OCR'd with the page limit, confidence cut-off, reading order and progress of PDF pages.

    Raises:
        LoadError: not a valid OFD; no text and no readable scanned page, saying why (OCR off, image missing …).
    """
    ocr = ocr or OcrOptions()
    names = check_zip(data, max_uncompressed_bytes, ".ofd", ("OFD.xml", "OFD entry file"), RESAVE)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:

        def member(name: str) -> bytes | None:
            return archive.read(name) if name in names else None

        def read(name: str, what: str) -> object:
            found = member(name)
            if found is None:
                raise LoadError(f"not a valid .ofd: {what} ({name}) is missing from the zip; {RESAVE}")
            return parse_xml(found, what)

        ofd = read("OFD.xml", "OFD.xml")
        body = ofd.find(tag("DocBody"))  # type: ignore[attr-defined]
        root_loc = body.findtext(tag("DocRoot")) if body is not None else None
        if not root_loc:
            raise LoadError(f"not a valid .ofd: OFD.xml names no document root; {RESAVE}")
        title = real_title(body.findtext(f"{tag('DocInfo')}/{tag('Title')}"), path)
        doc_path = resolve("", root_loc.strip())
        doc_dir = posixpath.dirname(doc_path)
        document = read(doc_path, "the document root")
        templates = {
            t.get("ID"): resolve(doc_dir, t.get("BaseLoc", ""))
            for t in document.iter(tag("TemplatePage"))  # type: ignore[attr-defined]
        }
        parsed_templates: dict[str, object] = {}
        parts: list[Part] = []
        scans: list[_Scan] = []
        pages = list(document.iter(tag("Page")))  # type: ignore[attr-defined]
        if not pages:
            raise LoadError(f"not a valid .ofd: the document lists no pages; {RESAVE}")
        for number, page in enumerate(pages, 1):
            page_path = resolve(doc_dir, page.get("BaseLoc", ""))
            content = read(page_path, f"page {number}")
            below: list[tuple[object, str]] = []
            above: list[tuple[object, str]] = []
            for use in content.iter(tag("Template")):  # type: ignore[attr-defined]
                loc = templates.get(use.get("TemplateID"))
                if loc and loc in names:
                    if loc not in parsed_templates:
                        parsed_templates[loc] = parse_xml(archive.read(loc), f"the template of page {number}")
                    # Templates are drawn under the page unless marked Foreground (GB/T 33190 ZOrder).
                    (above if use.get("ZOrder") == "Foreground" else below).append((parsed_templates[loc], loc))
            layers = [*below, (content, page_path), *above]
            text = _text_of(layers)
            images = [p for root, _ in layers for p in placements(root)]
            if text.strip() and (len("".join(text.split())) >= THIN_TEXT or not images):
                parts.append(Part(text, number))
            elif images:
                scans.append(_Scan(number, layers, images, page_box(content, document), text))
        warnings: tuple[str, ...] = ()
        unread: list[str] = []  # scanned pages whose images could not be read, and why
        if scans and ocr.enabled:
            read_parts, warnings, unread = _read_scans(path, scans, ocr, document, doc_path, member, names)
            parts = sorted(parts + read_parts, key=lambda p: p.page or 0)
        elif scans:
            parts = sorted(parts + [Part(s.thin, s.number) for s in scans if s.thin.strip()], key=lambda p: p.page or 0)
            numbers = [s.number for s in scans]
            if parts:
                warnings = (f"{page_list(numbers)}: scanned, not read because OCR is off; {OFF_HINT}",)
    if not parts:
        if not scans:
            raise LoadError(
                "OFD has no text layer and no scanned images on its pages (empty, or text drawn as outlines); "
                "export it again with selectable text, or save it as PDF"
            )
        if not ocr.enabled:
            raise LoadError(f"OFD has no text layer (its pages are scanned images) and OCR is turned off; {OFF_HINT}")
        if unread:
            more = f" (and {len(unread) - 1} more)" if len(unread) > 1 else ""
            raise LoadError(
                f"OFD has no text layer and its scanned pages could not be read: {unread[0]}{more}; {RESAVE}"
            )
        raise LoadError(
            "OFD has no text layer and OCR found no text on its scanned pages (blank, or a scan too faint or small "
            "to read); scan it again at 200–300 dpi, or use an OFD or PDF with selectable text"
        )
    return RawDocument(path, "ofd", title, parts, None, warnings)


def _read_scans(
    path: Path,
    scans: list[_Scan],
    options: OcrOptions,
    document: object,
    doc_path: str,
    member: ReadMember,
    names: set[str],
) -> tuple[list[Part], tuple[str, ...], list[str]]:
    """OCR the scanned pages: their parts, the warnings for the file, and why pages (or images) were not read."""
    # Resource IDs are unique within a document; the resource files are read only once a page needs them.
    shared: dict[str, Media] = {}
    shared_problems: list[str] = []
    for kind in ("PublicRes", "DocumentRes"):
        for loc in resource_locs(document, kind, doc_path):
            found, problem = media_in(loc, member(loc), names)
            shared.update(found)
            shared_problems += [problem] if problem else []
    file_ocr = FileOcr(path, options, total=len(scans))
    parts: list[Part] = []
    unread: list[str] = []
    notes: list[str] = []
    for scan in scans:
        if file_ocr.over_limit(scan.number):  # counted in the page-limit warning; its images are never decoded
            if scan.thin.strip():
                parts.append(Part(scan.thin, scan.number))
            continue
        media, problems = dict(shared), list(shared_problems)
        for root, loc in scan.layers:
            for res in resource_locs(root, "PageRes", loc):
                found, problem = media_in(res, member(res), names)
                media.update(found)
                problems += [problem] if problem else []
        try:
            picture, missing = draw_page(scan.images, media, member, scan.box, problems)
        except PageProblem as exc:
            picture, missing = None, [str(exc)]
        for reason in missing:
            (unread if picture is None else notes).append(f"page {scan.number}: {reason}")
        text = file_ocr.read_page(scan.number, picture) if picture is not None and not is_blank(picture) else None
        if text and text.strip():
            parts.append(Part(text, scan.number))
        elif scan.thin.strip():
            parts.append(Part(scan.thin, scan.number))
    warnings = list(file_ocr.warnings())
    warnings += [f"{reason} — the scanned page was not read; {RESAVE}" for reason in unread]
    warnings += [f"{reason} — the rest of the scanned page was read; {RESAVE}" for reason in notes]
    return parts, tuple(warnings), unread
