"""The sample file of every supported format for bench/formats.py, made by the builders the tests use, from Chinese office text."""

from __future__ import annotations

import io
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the tests' file builders (tests/ is not a package)

import conftest  # noqa: E402
import office_files  # noqa: E402
import test_loaders  # noqa: E402
import test_ofd  # noqa: E402

from bench.ocr_bench import corpus_pages  # noqa: E402
from bench.ocr_pages import image_pdf, multipage_tiff, render_page, scanned_ofd  # noqa: E402

Make = Callable[[Path, int], Path]  # (folder, copy number) -> the sample file


@dataclass(frozen=True)
class Sample:
    """One format: how to make copy `i` of its file, what the loader reads, which loader, whether it is OCR'd."""

    name: str  # the table's format column
    make: Make
    reads: str
    loader: str
    ocr: bool = False


def notice_docx(folder: Path, i: int) -> Path:
    """office_files.notice_docx plus a numbered line: LibreOffice batches convert identical files only once."""
    import docx

    path = office_files.notice_docx(folder / f"通知{i}.docx")
    document = docx.Document(str(path))
    document.add_paragraph(f"（本通知共印发{i + 1}份。）")
    document.save(str(path))
    return path


def deck(folder: Path, i: int) -> Path:
    """office_files.deck with a numbered text on its empty last slide (distinct copies, as above)."""
    from pptx import Presentation
    from pptx.util import Inches

    path = office_files.deck(folder / f"汇报{i}.pptx")
    slides = Presentation(str(path))
    slides.slides[3].shapes.add_textbox(Inches(1), Inches(1), Inches(8), Inches(1)).text_frame.text = f"第{i + 1}稿"
    slides.save(str(path))
    return path


# Formats LibreOffice writes during setup, all copies in one start per target: (target, source builder).
CONVERSIONS: dict[str, tuple[str, Make]] = {
    "doc": ("doc", notice_docx),
    "wps": ("doc", notice_docx),
    "odt": ("odt", notice_docx),
    "pdf (text layer)": ("pdf", notice_docx),
    "ppt": ("ppt", deck),
}


def converted(stem: str, suffix: str, rename: str | None = None) -> Make:
    """The file LibreOffice wrote from copy i of a source; `rename` copies it under another suffix (.doc → .wps)."""

    def make(folder: Path, i: int) -> Path:
        path = folder / f"{stem}{i}{suffix}"
        return Path(shutil.copy(path, path.with_suffix(rename))) if rename else path

    return make


def written(name: str, data: Callable[[int], bytes]) -> Make:
    def make(folder: Path, i: int) -> Path:
        path = folder / f"{i}{name}"
        path.write_bytes(data(i))
        return path

    return make


def scans(pages: int) -> list[Image.Image]:
    """Full A4 pages of corpus text at 150 dpi, every other one tilted, blurred and speckled like a scan."""
    return [render_page(lines, noise=n % 2 == 1, seed=n) for n, lines in enumerate(corpus_pages(pages))]


def image_file(fmt: str) -> Callable[[int], bytes]:
    def data(i: int) -> bytes:
        buf = io.BytesIO()
        scans(1)[0].save(buf, format=fmt)
        return buf.getvalue()

    return data


def ofd_notice(folder: Path, i: int) -> Path:
    (folder / f"ofd{i}").mkdir(exist_ok=True)
    return test_ofd.notice(folder / f"ofd{i}")


def rtf(i: int) -> bytes:
    return office_files.gbk_rtf(f"{office_files.TITLE}\\par {office_files.LEADER}（第{i + 1}份）")


CORPUS_FILES = sorted((ROOT / "data" / "corpus").glob("*.txt"))
AS_DOCX = "as .docx, after conversion"
LIBREOFFICE_DOCX = "legacy.load_legacy (LibreOffice → .docx)"
OCR = "rapidocr PP-OCRv4"

SAMPLES = [
    Sample(
        "txt",
        lambda folder, i: CORPUS_FILES[i % len(CORPUS_FILES)],
        "whole text; encoding detected (UTF-8/16, GB18030)",
        "text.load_text",
    ),
    Sample(
        "md", written("report.md", lambda i: conftest.REPORT.encode()), "whole text, `#` headings", "text.load_text"
    ),
    Sample(
        "html",
        written("page.html", lambda i: test_loaders.PAGE.encode("gb18030")),
        "body text, headings, lists, tables (scripts, styles dropped); declared charset",
        "html.load_html",
    ),
    Sample("docx", notice_docx, "paragraphs, heading styles, tables in order, title", "docx.load_docx (python-docx)"),
    Sample("doc", converted("通知", ".doc"), AS_DOCX, LIBREOFFICE_DOCX),
    Sample("wps", converted("通知", ".doc", rename=".wps"), f"{AS_DOCX} (Word content WPS saved)", LIBREOFFICE_DOCX),
    Sample("rtf", written("通知.rtf", rtf), f"{AS_DOCX} (GBK RTF, as Chinese Word writes it)", LIBREOFFICE_DOCX),
    Sample("odt", converted("通知", ".odt"), AS_DOCX, LIBREOFFICE_DOCX),
    Sample(
        "pdf (text layer)",
        converted("通知", ".pdf"),
        "text layer, one part per page, title",
        "pdf.load_pdf (pypdf)",
    ),
    Sample(
        "pdf (scanned)",
        written("scan.pdf", lambda i: image_pdf(scans(2))),
        "pages rendered at 150 dpi and OCR'd (first 50 a file)",
        f"pdf.load_pdf (pypdfium2, {OCR})",
        ocr=True,
    ),
    Sample("png", written("scan.png", image_file("PNG")), "OCR of the page", f"image.load_image ({OCR})", ocr=True),
    Sample("jpg", written("scan.jpg", image_file("JPEG")), "OCR of the page", f"image.load_image ({OCR})", ocr=True),
    Sample(
        "tif",
        written("scan.tif", lambda i: multipage_tiff(scans(2))),
        "OCR, one part per page of a multi-page TIFF",
        f"image.load_image ({OCR})",
        ocr=True,
    ),
    Sample("ofd (text)", ofd_notice, "text laid out by page, letterhead template, title", "ofd.load_ofd (lxml)"),
    Sample(
        "ofd (scanned)",
        written("scan.ofd", lambda i: scanned_ofd(scans(1))),
        "page images drawn at 150 dpi and OCR'd",
        f"ofd.load_ofd (lxml, {OCR})",
        ocr=True,
    ),
    Sample(
        "xlsx",
        lambda folder, i: office_files.duty_workbook(folder / f"值班表{i}.xlsx"),
        "a section per sheet, rows labelled by the header, merged cells filled",
        "xlsx.load_xlsx (openpyxl)",
    ),
    Sample(
        "xls",
        lambda folder, i: office_files.duty_workbook_xls(folder / f"值班表{i}.xls"),
        "as .xlsx; dates by the workbook's datemode",
        "xls.load_xls (xlrd)",
    ),
    Sample("pptx", deck, "a part per slide: title, text, tables, notes", "pptx.load_pptx (python-pptx)"),
    Sample(
        "ppt", converted("汇报", ".ppt"), "as .pptx, after conversion", "ppt.load_ppt (LibreOffice Impress → .pptx)"
    ),
]


def build(samples: list[Sample], folder: Path, copies: int) -> dict[str, list[Path]]:
    """Each sample's files: `copies` of them, one for the OCR formats (a page costs seconds)."""
    targets = {CONVERSIONS[s.name] for s in samples if s.name in CONVERSIONS}
    sources: dict[Make, list[Path]] = {}
    for target, source in sorted(targets, key=lambda t: t[0]):
        if source not in sources:
            sources[source] = [source(folder, i) for i in range(copies)]
        office_files.soffice_convert(target, folder, *sources[source])
    return {s.name: [s.make(folder, i) for i in range(1 if s.ocr else copies)] for s in samples}
