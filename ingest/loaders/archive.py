"""Zip-based formats (.docx, .ofd, .xlsx, .pptx): refuse broken, encrypted, forged and zip-bomb archives before parsing."""

from __future__ import annotations

import io
import zipfile

from ingest.loaders.base import LoadError, human_size

# A real office file has a few dozen to a few thousand parts; tens of thousands is an attack or not a document.
MAX_ZIP_ENTRIES = 10_000
_ZIP_BLOCK = 1 << 20


def check_zip(data: bytes, max_uncompressed_bytes: int, label: str, required: tuple[str, str], resave: str) -> set[str]:
    """Check a zip-based document and return its member names.

    Args:
        data: the file's bytes.
        max_uncompressed_bytes: refuse archives that would unpack to more (zip bombs).
        label: the format as users know it (".docx"), used in messages.
        required: a member every file of the format has, and what it is to a user
            (("word/document.xml", "Word document")).
        resave: what to do about a bad file ("open it in Word/WPS and save it as .docx").

    Raises:
        LoadError: with the reason and `resave`.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            names = {info.filename for info in infos}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError) as exc:
        raise LoadError(f"not a valid {label} (bad zip: {exc}); {resave}") from None
    if len(infos) > MAX_ZIP_ENTRIES:
        raise LoadError(f"not a valid {label}: {len(infos)} parts in the archive is far too many for a document")
    total = sum(info.file_size for info in infos)
    if total > max_uncompressed_bytes:
        raise LoadError(
            f"refused {label}: it would unpack to {human_size(total)}, above the limit of "
            f"{human_size(max_uncompressed_bytes)} (possible zip bomb); check the file"
        )
    member, what = required
    if member not in names:
        raise LoadError(f"not a valid {label}: no {what} inside the zip ({member} is missing); {resave}")
    _check_members(data, label, resave)
    return names


def _check_members(data: bytes, label: str, resave: str) -> None:
    """Inflate every member in bounded blocks, refusing any that does not match its declared size and CRC.

    The declared sizes checked above are only what the headers claim: a header can understate a
    member, and zipfile's read() of a whole member (what python-docx does) inflates it in one call
    however large it really is, so a small file lying about its size could exhaust memory. Read
    in blocks, zipfile stops at the declared size and then checks the CRC, so a lying member is
    refused here after at most its declared size (already within the limit) has been inflated.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                with archive.open(info) as member:
                    while member.read(_ZIP_BLOCK):
                        pass
    except RuntimeError as exc:  # zipfile: "File ... is encrypted, password required for extraction"
        raise LoadError(f"not a valid {label}: the archive is encrypted ({exc}); save an unprotected copy") from None
    except Exception as exc:  # noqa: BLE001 - BadZipFile (bad CRC), zlib.error, NotImplementedError, EOFError…
        raise LoadError(
            f"not a valid {label} (bad zip: {type(exc).__name__}: {exc}; a part does not unpack to what the archive "
            f"declares — the file is damaged or forged); {resave}"
        ) from None
