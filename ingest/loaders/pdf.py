"""PDF files: one part per page, read from its text layer or OCR'd when scanned; clear reasons for corrupt or encrypted files."""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

from ingest.loaders.base import LoadError, Part, RawDocument, real_title
from ingest.loaders.ocr import OFF_HINT, RENDER_DPI, THIN_TEXT, FileOcr, OcrOptions, is_blank, page_list

logger = logging.getLogger(__name__)


def has_image(page: Any) -> bool:
    """Whether the page draws an image directly (a scanned page does)."""
    try:
        xobjects = page["/Resources"].get("/XObject") or {}
        return any(x.get_object().get("/Subtype") == "/Image" for x in xobjects.values())
    except Exception:  # noqa: BLE001 - odd resources: treat as no image, the text layer stands
        return False


def load_pdf(path: Path, data: bytes, ocr: OcrOptions | None = None) -> RawDocument:
    """Build the raw document of a PDF from its bytes: one part per page that has text.

    A page without a text layer is rendered and OCR'd when `ocr` allows it (pages with one are read as text).
    """
    ocr = ocr or OcrOptions()
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError) as exc:
        raise LoadError(f"corrupt PDF ({exc}); the file may be truncated or damaged — get a fresh copy") from None
    except Exception as exc:  # noqa: BLE001 - pypdf raises assorted errors on garbage
        raise LoadError(f"corrupt PDF ({type(exc).__name__}: {exc}); get a fresh copy of the file") from None

    if reader.is_encrypted:
        # Many PDFs are "encrypted" only to restrict printing/editing, with an empty user password.
        try:
            decrypted = reader.decrypt("")
        except DependencyError:
            raise LoadError(
                "encrypted PDF: it uses AES, which needs the 'cryptography' package; "
                "install it or decrypt the PDF first"
            ) from None
        except Exception as exc:  # noqa: BLE001
            raise LoadError(f"encrypted PDF: cannot decrypt ({exc}); decrypt it first") from None
        if not decrypted:  # PasswordType.NOT_DECRYPTED == 0
            raise LoadError("encrypted PDF: it needs a password; decrypt it first (save an unprotected copy)")

    try:
        pages = list(reader.pages)
    except Exception as exc:  # noqa: BLE001
        raise LoadError(f"corrupt PDF: cannot read its pages ({exc}); get a fresh copy of the file") from None

    parts: list[Part] = []
    failed: list[int] = []
    scanned: list[int] = []  # pages without a text layer
    thin: dict[int, str] = {}  # scanned pages with a scrap of text layer, kept if OCR finds nothing
    for index, page in enumerate(pages):
        try:
            text = page.extract_text() or ""
        except Exception as exc:  # noqa: BLE001 - one broken page should not lose the others
            logger.warning("%s: cannot extract text of page %d: %s", path, index + 1, exc)
            failed.append(index + 1)
            continue
        if text.strip() and (len("".join(text.split())) >= THIN_TEXT or not has_image(page)):
            parts.append(Part(text, index + 1))
        else:
            scanned.append(index + 1)
            if text.strip():
                thin[index + 1] = text
    try:
        metadata = reader.metadata
        title = real_title(metadata.title if metadata is not None else None, path)
    except Exception:  # noqa: BLE001 - broken /Info should not lose the body text
        title = None
    page_count = len(pages)
    # pypdf keeps a copy of the file and every image stream its text pass resolved: let them go before OCR, which
    # renders from the bytes with pdfium (a long scan's peak memory is several times its size otherwise).
    del pages, reader
    warnings: tuple[str, ...] = ()
    if scanned and ocr.enabled:
        ocr_parts, warnings = ocr_pages(path, data, scanned, ocr)
        read = {p.page for p in ocr_parts}
        ocr_parts += [Part(text, n) for n, text in thin.items() if n not in read]
        parts = sorted(parts + ocr_parts, key=lambda p: p.page or 0)
    elif scanned:
        parts = sorted(parts + [Part(text, n) for n, text in thin.items()], key=lambda p: p.page or 0)
        if parts:
            warnings = (f"{page_list(scanned)}: scanned, not read because OCR is off; {OFF_HINT}",)
    if not parts:
        if failed and len(failed) == page_count:
            raise LoadError("corrupt PDF: text could not be extracted from any page; get a fresh copy of the file")
        if not ocr.enabled:
            raise LoadError(f"PDF has no text layer (scanned?) and OCR is turned off; {OFF_HINT}")
        raise LoadError(
            "PDF has no text layer and OCR found no text on its pages (blank, or a scan too faint or small to read); "
            "scan it again at 200–300 dpi, or use a PDF with selectable text"
        )
    return RawDocument(path, "pdf", title, parts, None, warnings)


def ocr_pages(path: Path, data: bytes, numbers: list[int], options: OcrOptions) -> tuple[list[Part], tuple[str, ...]]:
    """Render the given pages (1-based) with pdfium and OCR them; blank pages are skipped without OCR."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise LoadError(f"cannot render the PDF's scanned pages ({exc}); get a fresh copy of the file") from None
    parts: list[Part] = []
    try:
        file_ocr = FileOcr(path, options, total=len(numbers))
        for number in numbers:
            if file_ocr.over_limit(number):
                continue  # counted in the page-limit warning; not worth rendering
            try:
                page = document[number - 1]
                image = page.render(scale=RENDER_DPI / 72, grayscale=True).to_pil()
                page.close()
            except Exception as exc:  # noqa: BLE001 - one broken page should not lose the others
                logger.warning("%s: cannot render page %d for OCR: %s", path, number, exc)
                continue
            if is_blank(image):
                continue
            text = file_ocr.read_page(number, image)
            if text and text.strip():
                parts.append(Part(text, number))
    finally:
        document.close()
    return parts, file_ocr.warnings()
