"""Read .txt/.md/.docx/.pdf/.ofd/.html, office (.doc/.wps/.rtf/.odt/.xls/.xlsx/.ppt/.pptx) and scanned image files into raw text parts, with clear reasons when a file cannot be read."""

from __future__ import annotations

from pathlib import Path

from ingest.loaders.base import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_UNCOMPRESSED_BYTES,
    FORMAT_BY_SUFFIX,
    MB,
    SCANNABLE_SUFFIXES,
    SUPPORTED_SUFFIXES,
    LoadError,
    Part,
    RawDocument,
    check_file,
    read_file,
)
from ingest.loaders.batch import preconverted
from ingest.loaders.discover import discover, unsupported_reason
from ingest.loaders.docx import load_docx
from ingest.loaders.encoding import decode_bytes
from ingest.loaders.html import load_html
from ingest.loaders.image import load_image
from ingest.loaders.legacy import load_legacy
from ingest.loaders.ocr import OcrOptions
from ingest.loaders.ofd import load_ofd
from ingest.loaders.pdf import load_pdf
from ingest.loaders.ppt import load_ppt
from ingest.loaders.pptx import load_pptx
from ingest.loaders.text import load_text
from ingest.loaders.xls import load_xls
from ingest.loaders.xlsx import load_xlsx

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_UNCOMPRESSED_BYTES",
    "MB",
    "SCANNABLE_SUFFIXES",
    "SUPPORTED_SUFFIXES",
    "LoadError",
    "OcrOptions",
    "Part",
    "RawDocument",
    "check_file",
    "decode_bytes",
    "discover",
    "load",
    "preconverted",
]


def load(
    path: Path,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED_BYTES,
    ocr: OcrOptions | None = None,
) -> RawDocument:
    """Load one file into raw text parts, choosing the reader by its suffix (case-insensitive).

    Args:
        path: The file to load.
        max_bytes: Refuse files larger than this, before reading them.
        max_uncompressed_bytes: Refuse zip-based files (.docx, .ofd, .xlsx, .pptx, .odt) that would unpack to more than this.
        ocr: Whether and how far scanned PDF and OFD pages and image files are OCR'd (default: on, 50 pages a file).

    Returns:
        The extracted text with its source, format, title and detected encoding.

    Raises:
        LoadError: the file is missing, unreadable, too large, unsupported, empty, binary,
            undecodable, corrupt, encrypted, or scanned with OCR turned off.
    """
    path = Path(path)
    fmt = FORMAT_BY_SUFFIX.get(path.suffix.lower())
    if fmt is None:
        raise LoadError(unsupported_reason(path))
    data = read_file(path, max_bytes)
    try:
        source = path.resolve()
    except OSError:
        source = path.absolute()
    if fmt in ("txt", "md"):
        return load_text(source, data, fmt)
    if fmt == "docx":
        return load_docx(source, data, max_uncompressed_bytes)
    if fmt == "pdf":
        return load_pdf(source, data, ocr)
    if fmt == "ofd":
        return load_ofd(source, data, max_uncompressed_bytes, ocr)
    if fmt in ("doc", "wps", "rtf", "odt"):
        return load_legacy(source, data, fmt, max_uncompressed_bytes)
    if fmt == "xls":
        return load_xls(source, data, max_uncompressed_bytes)
    if fmt == "xlsx":
        return load_xlsx(source, data, max_uncompressed_bytes)
    if fmt == "pptx":
        return load_pptx(source, data, max_uncompressed_bytes)
    if fmt == "ppt":
        return load_ppt(source, data, max_uncompressed_bytes)
    if fmt == "image":
        return load_image(source, data, ocr or OcrOptions())
    return load_html(source, data)
