"""PDF files: one part per page with a text layer, with clear reasons for corrupt, encrypted or scanned files."""

from __future__ import annotations

import io
import logging
from pathlib import Path

from ingest.loaders.base import LoadError, Part, RawDocument, real_title

logger = logging.getLogger(__name__)


def load_pdf(path: Path, data: bytes) -> RawDocument:
    """Build the raw document of a PDF from its bytes: one part per page that has text."""
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
    for index, page in enumerate(pages):
        try:
            text = page.extract_text() or ""
        except Exception as exc:  # noqa: BLE001 - one broken page should not lose the others
            logger.warning("%s: cannot extract text of page %d: %s", path, index + 1, exc)
            failed.append(index + 1)
            continue
        if text.strip():
            parts.append(Part(text, index + 1))
    if not parts:
        if failed and len(failed) == len(pages):
            raise LoadError("corrupt PDF: text could not be extracted from any page; get a fresh copy of the file")
        raise LoadError("PDF has no text layer (scanned?); OCR is not supported — use a PDF with selectable text")

    try:
        metadata = reader.metadata
        title = real_title(metadata.title if metadata is not None else None, path)
    except Exception:  # noqa: BLE001 - broken /Info should not lose the body text
        title = None
    return RawDocument(path, "pdf", title, parts, None)
