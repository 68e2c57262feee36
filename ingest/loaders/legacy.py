"""Word 97–2003 .doc, Kingsoft .wps, .rtf and .odt: checked here, converted to .docx by LibreOffice, read as .docx.

Going through .docx keeps heading styles (标题 1, outline levels) and tables, so these files get
the same sections and chunks as a .docx. The bytes are checked first because LibreOffice opens
almost anything: garbage named .doc would come back as a "document" of garbage, and an
encrypted one only as "could not be loaded".
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import io
import struct
import zipfile
from collections import OrderedDict, deque
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from ingest.loaders.archive import check_zip
from ingest.loaders.base import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_UNCOMPRESSED_BYTES,
    FORMAT_BY_SUFFIX,
    LoadError,
    RawDocument,
    read_file,
)
from ingest.loaders.docx import load_docx
from ingest.loaders.html import load_html
from ingest.loaders.soffice import convert_to_docx

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
# Files per LibreOffice start inside `preconverted`: one start (~2.5 s) then ~0.1 s a file, while
# the converted .docx files wait in memory until loaded.
BATCH_SIZE = 20
BATCH_BYTES = 64 * 1024 * 1024
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


def _ole_word_document(data: bytes, label: str) -> bool:
    """Check an OLE (compound file) document: refuse password-protected ones; True if it holds a Word body."""
    with open_compound_file(data, label, _RESAVE, _PASSWORD) as ole:
        if not ole.exists("WordDocument"):
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


def _zip_is_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False


def _precheck(path: Path, data: bytes, fmt: str, max_uncompressed_bytes: int) -> RawDocument | None:
    """Refuse what LibreOffice must not be given; read directly what is really a .docx or a web page.

    Returns None when the file is to be converted by LibreOffice.
    """
    label = _LABELS[fmt]
    if fmt in ("doc", "wps"):
        if data.startswith(ZIP_MAGIC) and _zip_is_docx(data):
            return replace(load_docx(path, data, max_uncompressed_bytes), format=fmt)
        if looks_like_html(data):
            return replace(load_html(path, data), format=fmt)
        if data.startswith(OLE_MAGIC):
            # A .wps without a Word body may be an older WPS or Microsoft Works file: let LibreOffice try.
            if not _ole_word_document(data, label) and fmt == "doc":
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


class _Batch:
    """Files queued for conversion: the first one loaded converts itself and the next queued ones in one start."""

    def __init__(self, paths: Iterable[Path], max_bytes: int, max_uncompressed_bytes: int) -> None:
        self.queue = deque(_resolved(p) for p in paths if FORMAT_BY_SUFFIX.get(p.suffix.lower()) in _LABELS)
        self.queued = set(self.queue)  # membership without walking the queue (folders of thousands)
        self.max_bytes = max_bytes
        self.max_uncompressed_bytes = max_uncompressed_bytes
        self.done: OrderedDict[str, bytes | str] = OrderedDict()  # content sha256 -> .docx or reason
        self.starts = 0  # LibreOffice starts, for tests and logs

    def _pop(self) -> Path:
        path = self.queue.popleft()
        self.queued.discard(path)
        return path

    def _next_inputs(self, room: int, taken: set[str], used: int) -> list[tuple[str, str, bytes]]:
        """Up to `room` queued files that LibreOffice must convert, read and checked as load() would.

        Stops before the batch's bytes (`used` so far) would pass BATCH_BYTES: they are all in memory at once.
        """
        inputs: list[tuple[str, str, bytes]] = []
        while self.queue and len(inputs) < room:
            try:
                size = self.queue[0].stat().st_size
            except OSError:
                size = 0  # read_file below reports nothing; load() will
            if used + size > BATCH_BYTES:
                break
            path = self._pop()
            fmt = FORMAT_BY_SUFFIX[path.suffix.lower()]
            try:
                data = read_file(path, self.max_bytes)
                if _precheck(path, data, fmt, self.max_uncompressed_bytes) is not None:
                    continue
            except (LoadError, OSError):
                continue  # load() reports it when its turn comes
            key = hashlib.sha256(data).hexdigest()
            if key not in taken and key not in self.done:
                taken.add(key)
                inputs.append((key, path.suffix, data))
                used += len(data)
        return inputs

    def convert(self, path: Path, data: bytes) -> bytes | str:
        key = hashlib.sha256(data).hexdigest()
        if path in self.queued:
            # The files queued before it were skipped by the caller (already indexed): never convert them.
            while self._pop() != path:
                pass
        if key in self.done:
            return self.done[key]
        suffix = path.suffix or ".doc"
        inputs = [(key, suffix, data), *self._next_inputs(BATCH_SIZE - 1, {key}, len(data))]
        self.starts += 1
        try:
            results = convert_to_docx([(s, d) for _, s, d in inputs])
        except LoadError:
            if len(inputs) == 1:
                raise
            # One file may have hung or crashed LibreOffice: this file alone decides its own fate.
            self.starts += 1
            return convert_to_docx([(suffix, data)])[0]
        for (k, _, _), result in zip(inputs, results):
            self.done[k] = result  # kept after use too: a copy of the same file may come later
        while len(self.done) > 2 * BATCH_SIZE:  # converted files the caller skipped (unchanged) must not pile up
            self.done.popitem(last=False)
        return results[0]


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


_BATCH: contextvars.ContextVar[_Batch | None] = contextvars.ContextVar("assistant_soffice_batch", default=None)


@contextlib.contextmanager
def preconverted(
    paths: Iterable[Path],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED_BYTES,
) -> Iterator[_Batch]:
    """Within this block, load() converts the .doc/.wps/.rtf/.odt among `paths` BATCH_SIZE per LibreOffice start.

    Loading them one by one otherwise starts LibreOffice for each (~2.5 s). Files are converted
    when the first of a batch is loaded, in the order given, so a caller that skips some (already
    indexed) wastes only their share of a start. Only this thread (context) sees the batch.
    """
    token = _BATCH.set(_Batch(paths, max_bytes, max_uncompressed_bytes))
    try:
        yield _BATCH.get()  # type: ignore[misc]
    finally:
        _BATCH.reset(token)


def load_legacy(path: Path, data: bytes, fmt: str, max_uncompressed_bytes: int) -> RawDocument:
    """Build the raw document of a .doc, .wps, .rtf or .odt file from its bytes.

    A .doc or .wps that is really a .docx, or a web page saved as .doc (what many office systems
    export), is read as what it is; the format recorded stays the file's own.
    """
    label = _LABELS[fmt]
    raw = _precheck(path, data, fmt, max_uncompressed_bytes)
    if raw is not None:
        return raw
    batch = _BATCH.get()
    if batch is not None:
        converted = batch.convert(_resolved(path), data)
    else:
        converted = convert_to_docx([(path.suffix or f".{fmt}", data)])[0]
    if isinstance(converted, str):
        raise LoadError(f"cannot read this {label}: {converted} (damaged or password-protected); {_RESAVE}")
    try:
        raw = load_docx(path, converted, max_uncompressed_bytes)
    except LoadError as exc:
        if str(exc).startswith("no text found"):
            raise LoadError(f"no text found: the {label} has no paragraphs or tables with text") from None
        raise LoadError(f"cannot read this {label} after conversion ({exc})") from None
    return replace(raw, format=fmt)
