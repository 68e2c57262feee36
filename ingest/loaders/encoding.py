"""Strict encoding detection for text files: BOMs, UTF-8, UTF-16 without BOM, GB18030, binary refusal."""

from __future__ import annotations

import codecs
import re

from ingest.loaders.base import EMPTY_MSG, LoadError

_BINARY_MSG = "binary file, not text: it is probably not a text document; check that the file extension is right"
_UNDECODABLE_MSG = "cannot decode: not UTF-8, UTF-16 or GB18030; re-save the file as UTF-8 text"

# Controls that do occur in real text files: tab, newlines, vertical tab, form feed (page
# breaks in exported text), SUB (DOS end-of-file) and ESC (coloured logs). Everything else in
# C0/C1 (and DEL) is a sign of binary data decoded as text.
_BAD_CONTROL = re.compile("[\x00-\x08\x0e-\x19\x1c-\x1f\x7f-\x9f]")
_BAD_C0_BYTES = re.compile(b"[\x00-\x08\x0e-\x19\x1c-\x1f\x7f]")
_MAX_CONTROL_SHARE = 0.05

# Characters a GB18030-encoded Chinese document plausibly contains: ASCII, Latin/Greek/Cyrillic
# and the symbol blocks that GB2312/GBK carry, CJK ideographs and punctuation, full-width forms.
# GB18030 decodes nearly any byte string, so what it yields outside this set (private-use
# characters from the user-defined areas, rare scripts from four-byte sequences) means the
# bytes were not GB18030 at all.
_IMPLAUSIBLE = re.compile(
    "[^\\s\x20-\x7e"
    "\u00a0-\u024f\u02b0-\u02ff\u0370-\u04ff"
    "\u2000-\u206f\u20a0-\u20cf\u2100-\u23ff\u2460-\u27bf"
    "\u2e80-\u2fdf\u3000-\u33ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uf900-\ufaff\ufe10-\ufe1f\ufe30-\ufe6f\uff00-\uffef]"
)
_MAX_IMPLAUSIBLE_SHARE = 0.02

# Longest BOMs first: the UTF-32 LE BOM starts with the UTF-16 LE one.
_BOMS: tuple[tuple[bytes, str, str], ...] = (
    (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
)


def check_text(text: str) -> None:
    """Raise LoadError when decoded text is empty or looks like binary data."""
    if not text.strip():
        raise LoadError(EMPTY_MSG)
    if "\x00" in text or len(_BAD_CONTROL.findall(text)) > _MAX_CONTROL_SHARE * len(text):
        raise LoadError(_BINARY_MSG)


def _implausible_share(text: str) -> float:
    visible = len("".join(text.split()))
    if visible == 0:
        return 0.0
    return len(_IMPLAUSIBLE.findall(text)) / visible


def _sniff_utf16(data: bytes) -> str | None:
    """Name the UTF-16 byte order when NUL bytes sit almost only at one parity, else None."""
    if len(data) % 2:
        return None
    even_nuls = data[0::2].count(0)
    odd_nuls = data[1::2].count(0)
    # ASCII characters (letters, digits, newlines) encode as "xx 00" in LE and "00 xx" in BE,
    # so text has its NULs on one side; binary data has them on both. The other side is not
    # always clean: ideographs such as 一 (U+4E00) have a zero low byte. The caller still
    # checks that the decoded text is plausible, so this only has to pick the byte order.
    if odd_nuls > 3 * even_nuls:
        return "utf-16-le"
    if even_nuls > 3 * odd_nuls:
        return "utf-16-be"
    return None


def _looks_like_damaged_utf8(data: bytes) -> bool:
    """Tell whether bytes that failed strict UTF-8 are mostly valid UTF-8 with a few bad bytes."""
    replaced = data.decode("utf-8", errors="replace")
    bad = replaced.count("\ufffd")
    good_non_ascii = len(replaced) - len(replaced.encode("ascii", errors="ignore")) - bad
    # GBK text read as UTF-8 is nearly all replacement characters; damaged UTF-8 is the reverse.
    return good_non_ascii >= 10 * bad


def _binary_error(data: bytes) -> LoadError:
    """The error for bytes with NULs that are not UTF-16: binary, or text damaged by NUL bytes.

    A text file padded or spliced with NUL bytes (a crash while saving, a copy cut short) is
    still refused — characters are never silently dropped — but it is named as what it is, so
    the user repairs it instead of looking for the wrong file type.
    """
    try:
        decode_bytes(data.replace(b"\x00", b""))
    except LoadError:
        return LoadError(_BINARY_MSG)
    count, first = data.count(0), data.index(0)
    return LoadError(
        f"damaged text file: {count} NUL byte{'s' if count > 1 else ''} (first at byte {first}) among "
        "otherwise readable text — it was probably cut short or padded while being saved; remove the NUL "
        "bytes (e.g. tr -d '\\000' < old.txt > new.txt) or save it again, then ingest it again"
    )


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode the bytes of a text file, detecting its encoding strictly.

    Tries, in order: a byte-order mark (UTF-8, UTF-32, UTF-16; the BOM is stripped), strict
    UTF-8, UTF-16 without BOM when NUL bytes sit at alternating positions, then strict
    GB18030 (a superset of GBK and GB2312) if the result looks like real text. Characters are
    never replaced: a file that decodes under none of these is refused.

    Args:
        data: The whole content of the file.

    Returns:
        The decoded text and the name of a Python codec that decodes `data` to exactly that
        text ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "gb18030").

    Raises:
        LoadError: the file is empty or whitespace only, looks binary, or cannot be decoded.
    """
    if not data.strip():
        raise LoadError(EMPTY_MSG)

    for bom, body_codec, name in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(body_codec)
            except UnicodeDecodeError as exc:
                raise LoadError(
                    f"cannot decode: the file starts with a {body_codec.upper()} byte-order mark but has "
                    f"invalid bytes at offset {exc.start + len(bom)}; the file may be damaged — re-save it as UTF-8"
                ) from None
            check_text(text)
            return text, name

    if b"\x00" in data:
        # NUL bytes never occur in UTF-8 or GB18030 text: either UTF-16 without a BOM or binary.
        byte_order = _sniff_utf16(data)
        if byte_order is None:
            raise _binary_error(data)
        try:
            text = data.decode(byte_order)
        except UnicodeDecodeError:
            raise _binary_error(data) from None
        check_text(text)
        if _implausible_share(text) > _MAX_IMPLAUSIBLE_SHARE:
            raise _binary_error(data)
        return text, byte_order

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if _looks_like_damaged_utf8(data):
            raise LoadError(
                f"cannot decode: looks like UTF-8 but has invalid bytes (first at offset {exc.start}); "
                "the file may be damaged or truncated — re-save it as UTF-8"
            ) from None
    else:
        check_text(text)
        return text, "utf-8"

    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        # Control bytes are the more useful diagnosis when the data is not text at all. Only
        # C0 controls count here: 0x80-0x9F are ordinary letters in legacy 8-bit encodings.
        if len(_BAD_C0_BYTES.findall(data)) > _MAX_CONTROL_SHARE * len(data):
            raise LoadError(_BINARY_MSG) from None
        raise LoadError(_UNDECODABLE_MSG) from None
    check_text(text)
    if _implausible_share(text) > _MAX_IMPLAUSIBLE_SHARE:
        raise LoadError(_UNDECODABLE_MSG)
    return text, "gb18030"
