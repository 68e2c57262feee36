"""Word 97–2003 .doc, Kingsoft .wps, .rtf and .odt: checked here, converted to .docx by LibreOffice, read as .docx.

Going through .docx keeps heading styles (标题 1, outline levels) and tables, so these files get
the same sections and chunks as a .docx. The bytes are checked first because LibreOffice opens
almost anything: garbage named .doc would come back as a "document" of garbage, and an
encrypted one only as "could not be loaded".
"""

from __future__ import annotations

import io
import struct
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from ingest.loaders.archive import check_zip
from ingest.loaders.base import LoadError, RawDocument
from ingest.loaders.batch import convert_file
from ingest.loaders.docx import load_docx
from ingest.loaders.html import load_html

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
RTF_MAGIC = b"{\\rtf"
_ODT_MIME = b"application/vnd.oasis.opendocument.text"
# FIB (the header of the WordDocument stream): wIdent 0xA5EC is Word 97 and later, 0xA5DC Word 6/95;
# in the flags word at offset 0x0A, fEncrypted (0x0100) and fObfuscated (0x8000) mean a password.
_WORD_IDENTS = (0xA5EC, 0xA5DC)
_F_ENCRYPTED = 0x0100
_F_OBFUSCATED = 0x8000

_LABELS = {"doc": "Word 97–2003 .doc", "wps": "WPS .wps", "rtf": ".rtf", "odt": ".odt"}
_RESAVE = "open it in Word/WPS and save it as .docx"
_PASSWORD = (
    "the document is password-protected; open it in Word/WPS with its password, remove the password and save a copy"
)


def open_compound_file(data: bytes, label: str, resave: str, password: str) -> Any:
    """The OLE compound file (an olefile.OleFileIO, to close) in `data`.

    Raises:
        LoadError: the file is damaged (`resave` says what to do), or it is how Office stores a password-protected
            .docx/.xlsx, an OLE wrapper around the encrypted zip (the message is `password`).
    """
    import olefile

    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - olefile raises OSError and others for damaged files
        raise LoadError(f"not a valid {label} (damaged compound file: {exc}); {resave}") from None
    if ole.exists("EncryptionInfo") and ole.exists("EncryptedPackage"):
        ole.close()
        raise LoadError(password)
    return ole


# The stream that holds each Office 97–2003 body: what a file holding it is, and the suffix that reads it.
OFFICE_BODIES = {
    "WordDocument": ("a Word 97–2003 document", ".doc"),
    "Workbook": ("an Excel 97–2003 workbook", ".xls"),
    "Book": ("an Excel 5/95 workbook", ".xls"),
    "PowerPoint Document": ("a PowerPoint 97–2003 deck", ".ppt"),
}


def renamed_office_file(ole: Any, named: str) -> str | None:
    """What to tell of a compound file named `named` (".xls") that holds another Office body, else None.

    E.g. "the file is a Word 97–2003 document named .xls; rename it .doc".
    """
    for stream, (what, suffix) in OFFICE_BODIES.items():
        if suffix != named and ole.exists(stream):
            return f"the file is {what} named {named}; rename it {suffix}"
    return None


def _ole_word_document(data: bytes, fmt: str) -> bool:
    """Check an OLE (compound file) document: refuse password-protected ones, and an Excel or PowerPoint
    file named .doc; True if it holds a Word body."""
    label = _LABELS[fmt]
    with open_compound_file(data, label, _RESAVE, _PASSWORD) as ole:
        if not ole.exists("WordDocument"):
            renamed = renamed_office_file(ole, ".doc") if fmt == "doc" else None
            if renamed:
                raise LoadError(f"not a Word document: {renamed}")
            return False
        try:
            fib = ole.openstream("WordDocument").read(12)
        except Exception as exc:  # noqa: BLE001 - a stream whose sectors point outside the file
            raise LoadError(f"not a valid {label} (damaged Word stream: {exc}); {_RESAVE}") from None
    if len(fib) < 12:
        raise LoadError(f"not a valid {label}: its Word stream is truncated; {_RESAVE}")
    ident, flags = struct.unpack_from("<H", fib, 0)[0], struct.unpack_from("<H", fib, 10)[0]
    if ident in _WORD_IDENTS and flags & (_F_ENCRYPTED | _F_OBFUSCATED):
        raise LoadError(_PASSWORD)
    return True


def looks_like_html(data: bytes) -> bool:
    """Whether the bytes are a web page: what many office systems export under a .doc or .xls name."""
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html", b"<?xml")) and b"<html" in data[:4096].lower()


def zip_holds(data: bytes, member: str) -> bool:
    """Whether the bytes are a readable zip holding `member`: a .docx (word/document.xml), .xlsx or .pptx saved
    under an Office 97–2003 name."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return member in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False


def _precheck(path: Path, data: bytes, fmt: str, max_uncompressed_bytes: int) -> RawDocument | None:
    """Refuse what LibreOffice must not be given; read directly what is really a .docx or a web page.

    Returns None when the file is to be converted by LibreOffice.
    """
    label = _LABELS[fmt]
    if fmt in ("doc", "wps"):
        if data.startswith(ZIP_MAGIC) and zip_holds(data, "word/document.xml"):
            return replace(load_docx(path, data, max_uncompressed_bytes), format=fmt)
        if looks_like_html(data):
            return replace(load_html(path, data), format=fmt)
        if data.startswith(OLE_MAGIC):
            # A .wps without a Word body may be an older WPS or Microsoft Works file: let LibreOffice try.
            if not _ole_word_document(data, fmt) and fmt == "doc":
                raise LoadError(
                    f"not a Word document: the file is an Office compound file without a Word body "
                    f"(perhaps an Excel or PowerPoint file renamed .doc); {_RESAVE}"
                )
        elif not data.startswith(RTF_MAGIC):  # Word and WPS also save RTF under .doc
            raise LoadError(f"not a valid {label}: the file is not a Word/WPS document (unknown content); {_RESAVE}")
    elif fmt == "rtf":
        if not data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(RTF_MAGIC):
            raise LoadError(f"not a valid .rtf: the file does not start with {{\\rtf; {_RESAVE}")
    else:  # odt
        if data.startswith(OLE_MAGIC):
            raise LoadError(_PASSWORD)
        check_zip(data, max_uncompressed_bytes, ".odt", ("content.xml", "OpenDocument text"), _RESAVE)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if "mimetype" in archive.namelist() and archive.read("mimetype").strip() != _ODT_MIME:
                raise LoadError(f"not an .odt text document (it is another OpenDocument type); {_RESAVE}")
            manifest = archive.read("META-INF/manifest.xml") if "META-INF/manifest.xml" in archive.namelist() else b""
            if b"encryption-data" in manifest:
                raise LoadError(_PASSWORD)
    return None


def load_legacy(path: Path, data: bytes, fmt: str, max_uncompressed_bytes: int) -> RawDocument:
    """Build the raw document of a .doc, .wps, .rtf or .odt file from its bytes.

    A .doc or .wps that is really a .docx, or a web page saved as .doc (what many office systems
    export), is read as what it is; the format recorded stays the file's own.
    """
    label = _LABELS[fmt]
    raw = _precheck(path, data, fmt, max_uncompressed_bytes)
    if raw is not None:
        return raw
    converted = convert_file(path, data, fmt, _precheck)
    if isinstance(converted, str):
        raise LoadError(f"cannot read this {label}: {converted} (damaged or password-protected); {_RESAVE}")
    try:
        raw = load_docx(path, converted, max_uncompressed_bytes)
    except LoadError as exc:
        if str(exc).startswith("no text found"):
            raise LoadError(f"no text found: the {label} has no paragraphs or tables with text") from None
        raise LoadError(f"cannot read this {label} after conversion ({exc})") from None
    return replace(raw, format=fmt)
