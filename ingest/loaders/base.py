"""Shared loader pieces: errors, result types, size limits, safe file reading and title checks."""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

SUPPORTED_SUFFIXES = frozenset(
    {".txt", ".md", ".markdown", ".docx", ".pdf", ".ofd", ".html", ".htm"}
    | {".doc", ".wps", ".rtf", ".odt", ".xls", ".xlsx", ".ppt", ".pptx"}  # office formats (issue 14 §2)
)
# Scanned pages as image files, read by OCR (ingest/loaders/image.py).
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff"})
SUPPORTED_SUFFIXES |= IMAGE_SUFFIXES
SCANNABLE_SUFFIXES = IMAGE_SUFFIXES | {".pdf", ".ofd"}  # what OCR settings change the reading of

MB = 1024 * 1024
DEFAULT_MAX_BYTES = 50 * MB
DEFAULT_MAX_UNCOMPRESSED_BYTES = 200 * MB

FORMAT_BY_SUFFIX = {
    ".txt": "txt",
    ".md": "md",
    ".markdown": "md",
    ".docx": "docx",
    ".pdf": "pdf",
    ".ofd": "ofd",
    ".html": "html",
    ".htm": "html",
    # Office formats (issue 14 §2): .doc/.wps/.rtf/.odt through LibreOffice (Writer), .xls xlrd, .xlsx openpyxl,
    # .pptx python-pptx, .ppt through LibreOffice Impress to .pptx.
    ".doc": "doc",
    ".wps": "wps",
    ".rtf": "rtf",
    ".odt": "odt",
    ".xls": "xls",
    ".xlsx": "xlsx",
    ".ppt": "ppt",
    ".pptx": "pptx",
    **dict.fromkeys(IMAGE_SUFFIXES, "image"),
}


class LoadError(Exception):
    """A file cannot be loaded; the message is a user-facing reason and what to do about it."""


@dataclass(frozen=True)
class Part:
    """A piece of a document's text in reading order (a PDF page, or the whole text)."""

    text: str  # raw extracted text of this part (uncleaned)
    page: int | None  # 1-based page number for PDF, OFD and image parts (slide number for .ppt/.pptx), else None


@dataclass(frozen=True)
class RawDocument:
    """What a loader extracted from one file, before any cleaning."""

    source: Path  # absolute resolved path
    format: str  # "txt" | "md" | "docx" | "pdf" | "ofd" | "html" | "image" | "doc" | "wps" | "rtf" | "odt" | "xls" | "xlsx" | "ppt" | "pptx"
    title: str | None  # from the file's own metadata or headings, never the file name
    parts: list[Part]  # text in reading order; pdf, ofd: one Part per page; ppt, pptx: per slide; others: one Part
    encoding: str | None  # detected encoding for txt/md/html, else None
    warnings: tuple[str, ...] = ()  # read, but not all of it (e.g. OCR page limit, unreadable lines dropped)


EMPTY_MSG = "empty file: it contains no text to index"


def human_size(n: int) -> str:
    """Format a byte count for messages: "512 bytes", "3.2 KB", "1.5 MB"."""
    if n >= MB // 10:
        return f"{n / MB:.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n} bytes"


def check_file(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> os.stat_result:
    """Refuse, before reading a byte, what cannot be loaded: missing, unreadable, not a regular file, too large.

    Raises:
        LoadError: with the reason and what to do.
    """
    try:
        st = path.stat()
    except FileNotFoundError:
        raise LoadError("no such file: it was moved or deleted; check the path") from None
    except PermissionError:
        raise LoadError("cannot read file: permission denied; check the file's permissions") from None
    except OSError as exc:
        raise LoadError(f"cannot read file: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise LoadError("is a folder, not a file; add the folder to index every file in it")
    if not stat.S_ISREG(st.st_mode):
        # Reading a FIFO or device could block forever or never end.
        raise LoadError("not a regular file (device, pipe or socket); only ordinary files can be loaded")
    if st.st_size > max_bytes:
        raise LoadError(
            f"file too large: {human_size(st.st_size)} > limit {human_size(max_bytes)}; "
            "split the file or raise ASSISTANT_MAX_FILE_MB"
        )
    return st


def read_file(path: Path, max_bytes: int) -> bytes:
    """Read a regular file of at most `max_bytes`, refusing larger ones before reading them."""
    check_file(path, max_bytes)
    try:
        with path.open("rb") as fh:
            # Read one byte past the limit: the file may have grown since stat().
            data = fh.read(max_bytes + 1)
    except PermissionError:
        raise LoadError("cannot read file: permission denied; check the file's permissions") from None
    except OSError as exc:
        raise LoadError(f"cannot read file: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise LoadError(
            f"file too large: more than {human_size(max_bytes)} (it grew while being read); "
            "split the file or raise ASSISTANT_MAX_FILE_MB"
        )
    if not data:
        raise LoadError(EMPTY_MSG)
    return data


WS = re.compile(r"\s+")
# Titles that tools write by default: they name no document.
_PLACEHOLDER_TITLES = frozenset(
    {"untitled", "untitled document", "document", "title", "no title", "无标题", "无标题文档", "新建文档", "文档"}
)
_FILENAME_LIKE = re.compile(r"\.(docx?|wps|pdf|ofd|txt|html?|md|rtf|xlsx?|pptx?)$", re.IGNORECASE)


def real_title(raw: object, path: Path) -> str | None:
    """Return a metadata title when it is a real one, None for blanks, placeholders and file names."""
    if raw is None:
        return None
    title = WS.sub(" ", str(raw)).strip()
    if not title or title.casefold() in _PLACEHOLDER_TITLES:
        return None
    # "Microsoft Word - 通知.docx" and bare file names are what printers-to-PDF put there.
    if title.startswith("Microsoft Word - ") or _FILENAME_LIKE.search(title):
        return None
    if title in (path.name, path.stem):
        return None
    return title
