"""PowerPoint 97–2003 .ppt decks: checked here, converted to .pptx by LibreOffice Impress, read as .pptx (a part per slide).

Going through .pptx keeps what the .pptx reader gives: each slide a page with its title as heading,
text in reading order, tables as labelled rows, speaker notes. The bytes are checked first, as for
.doc, because LibreOffice opens almost anything and says only "could not be loaded" of a file it
cannot read, password-protected or not.
"""

from __future__ import annotations

import struct
from dataclasses import replace
from pathlib import Path

from ingest.loaders.base import LoadError, RawDocument
from ingest.loaders.batch import convert_file
from ingest.loaders.legacy import OLE_MAGIC, ZIP_MAGIC, open_compound_file, renamed_office_file, zip_holds
from ingest.loaders.pptx import load_pptx
from ingest.loaders.soffice import find_soffice, impress_installed

LABEL = "PowerPoint 97–2003 .ppt"
_RESAVE = "open it in PowerPoint/WPS and save it as .pptx"
_PASSWORD = (
    "the presentation is password-protected; open it in PowerPoint/WPS with its password, "
    "remove the password and save a copy"
)
# The "Current User" stream holds one CurrentUserAtom ([MS-PPT] 2.3.2): an 8-byte record header
# of type 0x0FF6, its size, then headerToken, which PowerPoint sets to 0xF3D1C4DF when the deck is
# encrypted (RC4 CryptoAPI) and to 0xE391C05F when not.
_CURRENT_USER_TYPE = 0x0FF6
_ENCRYPTED_TOKEN = 0xF3D1C4DF


def _check_compound_file(data: bytes) -> None:
    """Refuse a compound file that is not a readable, unprotected PowerPoint deck."""
    with open_compound_file(data, LABEL, _RESAVE, _PASSWORD) as ole:
        if not ole.exists("PowerPoint Document"):
            renamed = renamed_office_file(ole, ".ppt")
            if renamed:
                raise LoadError(f"not a PowerPoint deck: {renamed}")
            raise LoadError(f"not a valid {LABEL}: the compound file holds no slides (damaged?); {_RESAVE}")
        try:
            current = ole.openstream("Current User").read(16) if ole.exists("Current User") else b""
            ole.openstream("PowerPoint Document").read(8)
        except Exception as exc:  # noqa: BLE001 - a stream whose sectors point outside the file
            raise LoadError(f"not a valid {LABEL} (damaged stream: {exc}); {_RESAVE}") from None
    # PowerPoint 97 and later always write the atom; a deck without it is left to LibreOffice.
    if len(current) == 16 and struct.unpack_from("<H", current, 2)[0] == _CURRENT_USER_TYPE:
        if struct.unpack_from("<I", current, 12)[0] == _ENCRYPTED_TOKEN:
            raise LoadError(_PASSWORD)


def _precheck(path: Path, data: bytes, fmt: str, max_uncompressed_bytes: int) -> RawDocument | None:
    """Refuse what LibreOffice must not be given; read directly a .pptx saved under .ppt.

    Returns None when the file is to be converted by LibreOffice.
    """
    if data.startswith(ZIP_MAGIC):
        if zip_holds(data, "ppt/presentation.xml"):
            return replace(load_pptx(path, data, max_uncompressed_bytes), format=fmt)
        raise LoadError(
            "not a PowerPoint deck: the file is a zip archive without a presentation "
            f"(perhaps a .docx or .xlsx renamed .ppt); {_RESAVE}"
        )
    if not data.startswith(OLE_MAGIC):
        raise LoadError(f"not a valid {LABEL}: the file is not a PowerPoint deck (unknown content); {_RESAVE}")
    _check_compound_file(data)
    return None


def _could_not_open(reason: str) -> str:
    soffice = find_soffice()
    if soffice is not None and impress_installed(soffice) is None:
        # A LibreOffice laid out as this module cannot check may lack Impress: say so too.
        return f"{reason} (damaged or password-protected, or LibreOffice has no Impress to read it)"
    return f"{reason} (damaged or password-protected)"


def load_ppt(path: Path, data: bytes, max_uncompressed_bytes: int) -> RawDocument:
    """Build the raw document of a .ppt deck from its bytes: one part per slide that has text, numbered as in the deck.

    A .pptx saved under .ppt is read as what it is; the format recorded stays "ppt".
    """
    raw = _precheck(path, data, "ppt", max_uncompressed_bytes)
    if raw is not None:
        return raw
    converted = convert_file(path, data, "ppt", _precheck)
    if isinstance(converted, str):
        raise LoadError(f"cannot read this {LABEL}: {_could_not_open(converted)}; {_RESAVE}")
    try:
        raw = load_pptx(path, converted, max_uncompressed_bytes)
    except LoadError as exc:
        if str(exc).startswith("no text found"):
            raise  # the .pptx reader's own words: no slide has text
        raise LoadError(f"cannot read this {LABEL} after conversion ({exc})") from None
    return replace(raw, format="ppt")
