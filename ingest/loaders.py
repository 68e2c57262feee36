"""Read .txt/.md/.docx/.pdf/.html files into raw text parts, with clear reasons when a file cannot be read."""

from __future__ import annotations

import codecs
import functools
import io
import logging
import os
import re
import stat
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".docx", ".pdf", ".html", ".htm"})

MB = 1024 * 1024
DEFAULT_MAX_BYTES = 50 * MB
DEFAULT_MAX_UNCOMPRESSED_BYTES = 200 * MB
# A real .docx has a few dozen parts; tens of thousands of entries is an attack or not a document.
_MAX_ZIP_ENTRIES = 10_000

_FORMAT_BY_SUFFIX = {
    ".txt": "txt",
    ".md": "md",
    ".markdown": "md",
    ".docx": "docx",
    ".pdf": "pdf",
    ".html": "html",
    ".htm": "html",
}
_SUPPORTED_LIST = ", ".join(sorted(SUPPORTED_SUFFIXES))


class LoadError(Exception):
    """A file cannot be loaded; the message is a user-facing reason and what to do about it."""


@dataclass(frozen=True)
class Part:
    """A piece of a document's text in reading order (a PDF page, or the whole text)."""

    text: str  # raw extracted text of this part (uncleaned)
    page: int | None  # 1-based page number for PDF parts, else None


@dataclass(frozen=True)
class RawDocument:
    """What a loader extracted from one file, before any cleaning."""

    source: Path  # absolute resolved path
    format: str  # "txt" | "md" | "docx" | "pdf" | "html"
    title: str | None  # from the file's own metadata or headings, never the file name
    parts: list[Part]  # text in reading order; pdf: one Part per page; others: one Part
    encoding: str | None  # detected encoding for txt/md/html, else None


# --------------------------------------------------------------------------- text decoding

_EMPTY_MSG = "empty file: it contains no text to index"
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


def _check_text(text: str) -> None:
    """Raise LoadError when decoded text is empty or looks like binary data."""
    if not text.strip():
        raise LoadError(_EMPTY_MSG)
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
        raise LoadError(_EMPTY_MSG)

    for bom, body_codec, name in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom):].decode(body_codec)
            except UnicodeDecodeError as exc:
                raise LoadError(
                    f"cannot decode: the file starts with a {body_codec.upper()} byte-order mark but has "
                    f"invalid bytes at offset {exc.start + len(bom)}; the file may be damaged — re-save it as UTF-8"
                ) from None
            _check_text(text)
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
        _check_text(text)
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
        _check_text(text)
        return text, "utf-8"

    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        # Control bytes are the more useful diagnosis when the data is not text at all. Only
        # C0 controls count here: 0x80-0x9F are ordinary letters in legacy 8-bit encodings.
        if len(_BAD_C0_BYTES.findall(data)) > _MAX_CONTROL_SHARE * len(data):
            raise LoadError(_BINARY_MSG) from None
        raise LoadError(_UNDECODABLE_MSG) from None
    _check_text(text)
    if _implausible_share(text) > _MAX_IMPLAUSIBLE_SHARE:
        raise LoadError(_UNDECODABLE_MSG)
    return text, "gb18030"


# --------------------------------------------------------------------------- helpers


def _human_size(n: int) -> str:
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
            f"file too large: {_human_size(st.st_size)} > limit {_human_size(max_bytes)}; "
            "split the file or raise ASSISTANT_MAX_FILE_MB"
        )
    return st


def _read_file(path: Path, max_bytes: int) -> bytes:
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
            f"file too large: more than {_human_size(max_bytes)} (it grew while being read); "
            "split the file or raise ASSISTANT_MAX_FILE_MB"
        )
    if not data:
        raise LoadError(_EMPTY_MSG)
    return data


_WS = re.compile(r"\s+")
# Titles that tools write by default: they name no document.
_PLACEHOLDER_TITLES = frozenset(
    {"untitled", "untitled document", "document", "title", "no title", "无标题", "无标题文档", "新建文档", "文档"}
)
_FILENAME_LIKE = re.compile(r"\.(docx?|wps|pdf|txt|html?|md|rtf|xlsx?|pptx?)$", re.IGNORECASE)


def _real_title(raw: object, path: Path) -> str | None:
    """Return a metadata title when it is a real one, None for blanks, placeholders and file names."""
    if raw is None:
        return None
    title = _WS.sub(" ", str(raw)).strip()
    if not title or title.casefold() in _PLACEHOLDER_TITLES:
        return None
    # "Microsoft Word - 通知.docx" and bare file names are what printers-to-PDF put there.
    if title.startswith("Microsoft Word - ") or _FILENAME_LIKE.search(title):
        return None
    if title in (path.name, path.stem):
        return None
    return title


# --------------------------------------------------------------------------- txt / md

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_MD_H1 = re.compile(r"^ {0,3}#[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")


def _markdown_title(text: str) -> str | None:
    fence: str | None = None
    for line in text.splitlines():
        match = _FENCE.match(line)
        if match:
            marker = match.group(1)
            if fence is None:
                fence = marker[0]
            elif marker[0] == fence:
                fence = None
            continue
        # A "# comment" inside a fenced code block is not a heading.
        if fence is None:
            heading = _MD_H1.match(line)
            if heading:
                return heading.group(1).strip() or None
    return None


def _load_text(path: Path, data: bytes, fmt: str) -> RawDocument:
    text, encoding = decode_bytes(data)
    title = _real_title(_markdown_title(text), path) if fmt == "md" else None
    return RawDocument(path, fmt, title, [Part(text, None)], encoding)


# --------------------------------------------------------------------------- docx

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_NS = {"w": _W, "mc": _MC}
_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*([1-9])$", re.IGNORECASE)
_TITLE_STYLES = frozenset({"title", "标题"})


def _q(tag: str) -> str:
    return f"{{{_W}}}{tag}"


def _check_zip(data: bytes, max_uncompressed_bytes: int) -> None:
    """Refuse archives that are not zips or would inflate beyond the limit (zip bombs)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            names = {info.filename for info in infos}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError) as exc:
        raise LoadError(
            f"not a valid .docx (bad zip: {exc}); if it is an old .doc or a WPS file, "
            "open it in Word/WPS and save it as .docx"
        ) from None
    if len(infos) > _MAX_ZIP_ENTRIES:
        raise LoadError(f"not a valid .docx: {len(infos)} parts in the archive is far too many for a document")
    total = sum(info.file_size for info in infos)
    if total > max_uncompressed_bytes:
        raise LoadError(
            f"refused .docx: it would unpack to {_human_size(total)}, above the limit of "
            f"{_human_size(max_uncompressed_bytes)} (possible zip bomb); check the file"
        )
    if "word/document.xml" not in names:
        raise LoadError("not a valid .docx: no Word document inside the zip; save the file from Word/WPS as .docx")
    _check_zip_members(data)


_ZIP_BLOCK = 1 << 20


def _check_zip_members(data: bytes) -> None:
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
        raise LoadError(f"not a valid .docx: the archive is encrypted ({exc}); save an unprotected copy") from None
    except Exception as exc:  # noqa: BLE001 - BadZipFile (bad CRC), zlib.error, NotImplementedError, EOFError…
        raise LoadError(
            f"not a valid .docx (bad zip: {type(exc).__name__}: {exc}; a part does not unpack to what the archive "
            "declares — the file is damaged or forged); open it in Word/WPS and save it again as .docx"
        ) from None


@functools.cache
def _xpath(expr: str) -> Callable[[object], list[object]]:
    """Compile an XPath over the WordprocessingML namespaces once (lxml comes with python-docx)."""
    from lxml import etree

    return etree.XPath(expr, namespaces=_NS)  # type: ignore[return-value]


def _cell_paragraphs(tc: object) -> list[object]:
    return _xpath(".//w:p[not(ancestor::w:p) and not(ancestor::mc:Fallback)]")(tc)


def _table_rows(tbl: object) -> list[object]:
    return _xpath("./w:tr | ./w:sdt/w:sdtContent/w:tr | ./w:customXml/w:tr")(tbl)


def _row_cells(tr: object) -> list[object]:
    return _xpath("./w:tc | ./w:sdt/w:sdtContent/w:tc | ./w:customXml/w:tc")(tr)


# Inserted (tracked) text is included, deleted/moved-away text is not (it lives in w:delText
# or under w:moveFrom); mc:Fallback repeats text boxes already given in mc:Choice. Nested w:p
# (paragraphs of text boxes) come back as markers so their text starts on a new line.
_PARAGRAPH_TEXT_NODES = (
    ".//w:t[not(ancestor::w:moveFrom) and not(ancestor::mc:Fallback)]"
    " | .//w:tab[not(ancestor::w:tabs) and not(ancestor::mc:Fallback)]"
    " | .//w:br[not(ancestor::mc:Fallback)] | .//w:cr[not(ancestor::mc:Fallback)]"
    " | .//w:noBreakHyphen[not(ancestor::mc:Fallback)]"
    " | .//w:p[not(ancestor::mc:Fallback)]"
)


class _DocxWalker:
    """Turns a python-docx document body into markdown-ish lines in document order."""

    def __init__(self, document: object) -> None:
        from docx.enum.style import WD_STYLE_TYPE

        self._text_nodes = _xpath(_PARAGRAPH_TEXT_NODES)
        self._parent = getattr(document, "_body", None)
        self._style_names: dict[str, str] = {}
        self._style_outline: dict[str, int] = {}
        self._default_style: str | None = None
        for style in document.styles:  # type: ignore[attr-defined]
            try:
                if style.type != WD_STYLE_TYPE.PARAGRAPH:
                    continue
                style_id = style.style_id
                self._style_names[style_id] = style.name or ""
                level = style.element.find(f"{_q('pPr')}/{_q('outlineLvl')}")
                if level is not None:
                    self._style_outline[style_id] = int(level.get(_q("val")))
                if style.element.get(_q("default")) in ("1", "true"):
                    self._default_style = style_id
            except (ValueError, TypeError, AttributeError):
                continue  # one odd style must not make the whole document unreadable
        self.lines: list[str] = []

    def paragraph_text(self, p: object) -> str:
        pieces: list[str] = []
        for node in self._text_nodes(p):
            tag = node.tag  # type: ignore[attr-defined]
            if tag == _q("t"):
                pieces.append(node.text or "")  # type: ignore[attr-defined]
            elif tag == _q("tab"):
                pieces.append("\t")
            elif tag == _q("noBreakHyphen"):
                pieces.append("-")
            elif tag == _q("p"):
                pieces.append("\n")
            else:  # w:br, w:cr
                pieces.append("\n")
        return "".join(pieces)

    def heading_level(self, p: object) -> int | None:
        ppr = p.find(_q("pPr"))  # type: ignore[attr-defined]
        style_id = self._default_style
        direct_outline: int | None = None
        if ppr is not None:
            pstyle = ppr.find(_q("pStyle"))
            if pstyle is not None and pstyle.get(_q("val")):
                style_id = pstyle.get(_q("val"))
            outline = ppr.find(_q("outlineLvl"))
            if outline is not None:
                try:
                    direct_outline = int(outline.get(_q("val")))
                except (TypeError, ValueError):
                    direct_outline = None
        name = self._style_names.get(style_id or "", "").strip()
        if name.casefold() in _TITLE_STYLES:
            return 1
        match = _HEADING_STYLE.match(name)
        if match:
            return min(int(match.group(1)), 6)
        # Outline level 0-8 marks a heading even in custom styles; 9 means body text.
        outline_level = direct_outline if direct_outline is not None else self._style_outline.get(style_id or "")
        if outline_level is not None and 0 <= outline_level <= 8:
            return min(outline_level + 1, 6)
        return None

    def add_paragraph(self, p: object) -> None:
        text = self.paragraph_text(p)
        if not text.strip():
            return
        level = self.heading_level(p)
        if level is not None:
            # A heading must stay on one line to remain a markdown heading.
            self.lines.append("#" * level + " " + _WS.sub(" ", text).strip())
        else:
            self.lines.append(text)

    def cell_text(self, tc: object) -> str:
        # Paragraphs of the cell and of tables nested in it, but not those inside text boxes:
        # paragraph_text() already includes those in their host paragraph.
        texts = [self.paragraph_text(p) for p in _cell_paragraphs(tc)]
        return _WS.sub(" ", " ".join(t for t in texts if t.strip())).strip()

    def add_table(self, tbl: object) -> None:
        from docx.table import Table

        try:
            table = Table(tbl, self._parent)  # type: ignore[arg-type]
            rows = [[cell._tc for cell in row.cells] for row in table.rows]
        except Exception:  # noqa: BLE001 - malformed table grid: fall back to the raw cells
            rows = [list(_row_cells(tr)) for tr in _table_rows(tbl)]
        for tcs in rows:
            kept: list[object] = []
            cells: list[str] = []
            for tc in tcs:
                # A merged cell is returned once per grid column it spans: keep it once.
                if any(tc is other for other in kept):
                    continue
                kept.append(tc)
                cells.append(self.cell_text(tc))
            if any(cells):
                self.lines.append(" | ".join(cells))

    def walk(self, container: object) -> None:
        for child in container:  # type: ignore[attr-defined]
            tag = child.tag
            if tag == _q("p"):
                self.add_paragraph(child)
            elif tag == _q("tbl"):
                self.add_table(child)
            elif tag == _q("sdt"):
                content = child.find(_q("sdtContent"))
                if content is not None:
                    self.walk(content)
            elif tag in (_q("customXml"), _q("ins")):
                self.walk(child)


def _load_docx(path: Path, data: bytes, max_uncompressed_bytes: int) -> RawDocument:
    _check_zip(data, max_uncompressed_bytes)
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - python-docx raises many types for broken files
        raise LoadError(
            f"not a valid .docx ({type(exc).__name__}: {exc}); open it in Word/WPS and save it again as .docx"
        ) from None
    try:
        walker = _DocxWalker(document)
        walker.walk(document.element.body)
    except LoadError:
        raise
    except Exception as exc:  # noqa: BLE001 - malformed XML content
        raise LoadError(f"cannot read .docx content ({type(exc).__name__}: {exc}); re-save it in Word/WPS") from None
    text = "\n".join(walker.lines)
    if not text.strip():
        raise LoadError("no text found: the .docx has no paragraphs or tables with text")
    try:
        title = _real_title(document.core_properties.title, path)
    except Exception:  # noqa: BLE001 - a broken core.xml should not lose the body text
        title = None
    return RawDocument(path, "docx", title, [Part(text, None)], None)


# --------------------------------------------------------------------------- pdf


def _load_pdf(path: Path, data: bytes) -> RawDocument:
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
        title = _real_title(metadata.title if metadata is not None else None, path)
    except Exception:  # noqa: BLE001 - broken /Info should not lose the body text
        title = None
    return RawDocument(path, "pdf", title, parts, None)


# --------------------------------------------------------------------------- html

_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.IGNORECASE)
# Elements whose text is never shown; the rest of <head> (title, meta, link, base) carries none either.
_HTML_DROP = ("script", "style", "noscript", "template", "title", "meta", "link", "base")
_HTML_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details",
        "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "header",
        "hgroup", "hr", "html", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table",
        "tbody", "tfoot", "thead", "ul", "td", "th", "option", "legend", "menu",
    }
)  # fmt: skip
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")
_HEADING_TAGS = {f"h{n}": n for n in range(1, 7)}


def _html_declared_encoding(data: bytes) -> str | None:
    match = _META_CHARSET.search(data[:4096])
    if not match:
        return None
    try:
        name = codecs.lookup(match.group(1).decode("ascii")).name
    except (LookupError, UnicodeDecodeError):
        return None
    # GB2312/GBK pages routinely use GB18030-only characters, and the HTML standard reads
    # Latin-1 as windows-1252 and a declared UTF-16 (in ASCII bytes) as UTF-8.
    if name.startswith("utf-16"):
        return "utf-8"
    return {"gb2312": "gb18030", "gbk": "gb18030", "iso8859-1": "cp1252", "ascii": "cp1252"}.get(name, name)


def _decode_html(data: bytes) -> tuple[str, str]:
    # A byte-order mark outranks <meta charset>, as in browsers; decode_bytes handles it.
    has_bom = data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    declared = None if has_bom else _html_declared_encoding(data)
    if declared is not None:
        try:
            text = data.decode(declared)
        except UnicodeDecodeError:
            pass  # pages often lie about their charset; detect it instead
        else:
            _check_text(text)
            return text, declared
    return decode_bytes(data)


def _html_inline(tag: object) -> str:
    return _HTML_SPACE.sub(" ", tag.get_text(" ")).strip()  # type: ignore[attr-defined]


def _html_lines(root: object) -> list[str]:
    from bs4 import NavigableString, Tag
    from bs4.element import CData

    lines: list[str] = []
    current: list[str] = []

    def flush() -> None:
        line = "".join(current).strip()
        if line:
            lines.append(line)
        current.clear()

    # Iterative walk: deeply nested markup must not hit Python's recursion limit.
    stack: list[tuple[object, bool]] = [(root, False)]
    pre_depth = 0
    while stack:
        node, leaving = stack.pop()
        if leaving:
            assert isinstance(node, Tag)
            if node.name == "pre":
                pre_depth -= 1
            flush()
            continue
        if isinstance(node, NavigableString):
            # Comments, doctypes and processing instructions are NavigableString subclasses.
            if type(node) is NavigableString or isinstance(node, CData):
                current.append(str(node) if pre_depth else _HTML_SPACE.sub(" ", str(node)))
            continue
        if not isinstance(node, Tag):
            continue
        name = node.name
        if name in _HEADING_TAGS:
            flush()
            text = _html_inline(node)
            if text:
                lines.append("#" * _HEADING_TAGS[name] + " " + text)
            continue
        if name == "tr":
            flush()
            cells = [_html_inline(cell) for cell in node.find_all(["td", "th"], recursive=False)]
            if any(cells):
                lines.append(" | ".join(cells))
            continue
        if name == "br":
            if pre_depth:
                current.append("\n")
            else:
                flush()
            continue
        if name in _HTML_BLOCKS:  # includes pre
            flush()
            stack.append((node, True))
        if name == "pre":
            pre_depth += 1  # whitespace inside <pre> is content, not layout
        stack.extend((child, False) for child in reversed(node.contents))
    flush()
    return lines


def _load_html(path: Path, data: bytes) -> RawDocument:
    from bs4 import BeautifulSoup

    text, encoding = _decode_html(data)
    soup = BeautifulSoup(text, "html.parser")
    # Title first: <title> lives in <head>, which is dropped from the body text below.
    title_tag = soup.find("title")
    title = _real_title(_html_inline(title_tag), path) if title_tag is not None else None
    if title is None:
        h1 = soup.find("h1")
        title = _real_title(_html_inline(h1), path) if h1 is not None else None
    for tag in soup.find_all(list(_HTML_DROP)):
        tag.decompose()
    # A page that never closes <head> gets its body parsed inside it by html.parser, so the
    # head is unwrapped (its children kept) once its own elements have been dropped above.
    for head in soup.find_all("head"):
        head.unwrap()
    body = "\n".join(_html_lines(soup))
    if not body.strip():
        raise LoadError("no text found: the web page has no visible text")
    return RawDocument(path, "html", title, [Part(body, None)], encoding)


# --------------------------------------------------------------------------- public API


def _unsupported_reason(path: Path) -> str:
    suffix = path.suffix
    what = f"unsupported format {suffix.lower()}" if suffix else "unsupported format: no file extension"
    return f"{what} (supported: {_SUPPORTED_LIST})"


def load(
    path: Path,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED_BYTES,
) -> RawDocument:
    """Load one file into raw text parts, choosing the reader by its suffix (case-insensitive).

    Args:
        path: The file to load.
        max_bytes: Refuse files larger than this, before reading them.
        max_uncompressed_bytes: Refuse .docx archives that would unpack to more than this.

    Returns:
        The extracted text with its source, format, title and detected encoding.

    Raises:
        LoadError: the file is missing, unreadable, too large, unsupported, empty, binary,
            undecodable, corrupt, encrypted, or a PDF without a text layer.
    """
    path = Path(path)
    fmt = _FORMAT_BY_SUFFIX.get(path.suffix.lower())
    if fmt is None:
        raise LoadError(_unsupported_reason(path))
    data = _read_file(path, max_bytes)
    try:
        source = path.resolve()
    except OSError:
        source = path.absolute()
    if fmt in ("txt", "md"):
        return _load_text(source, data, fmt)
    if fmt == "docx":
        return _load_docx(source, data, max_uncompressed_bytes)
    if fmt == "pdf":
        return _load_pdf(source, data)
    return _load_html(source, data)


def _is_hidden(name: str, st: os.stat_result | None) -> bool:
    # "~$name.docx" are Word's lock files: hidden on Windows, junk everywhere else.
    if name.startswith((".", "~$")):
        return True
    attributes = getattr(st, "st_file_attributes", 0) if st is not None else 0
    return bool(attributes & stat.FILE_ATTRIBUTE_HIDDEN)


def discover(paths: Iterable[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Find the loadable files among files and folders, walking folders recursively.

    Folders are walked in sorted name order, so the result is deterministic. Hidden files and
    folders (names starting with ".", Windows hidden ones, Word "~$" lock files) are ignored
    silently. Symlinked folders are followed once: a folder reached again (a symlink loop or a
    second link to it) is not walked again, and a file reached twice is listed once.

    Args:
        paths: Files and folders, as the user gave them.

    Returns:
        The supported files, in walk order, and the skipped paths with a user-facing reason
        ("unsupported format .xlsx (supported: …)", "no such file or folder", …).
    """
    found: list[Path] = []
    skipped: list[tuple[Path, str]] = []
    seen_files: set[tuple[int, int]] = set()
    seen_dirs: set[tuple[int, int]] = set()

    def add_file(path: Path, st: os.stat_result) -> None:
        if not stat.S_ISREG(st.st_mode):
            skipped.append((path, "not a regular file (device, pipe or socket)"))
            return
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            skipped.append((path, _unsupported_reason(path)))
            return
        key = (st.st_dev, st.st_ino)
        if key not in seen_files:
            seen_files.add(key)
            found.append(path)

    def walk(root: Path, root_st: os.stat_result) -> None:
        # Explicit stack instead of recursion so deep trees cannot hit the recursion limit.
        # Entries are pushed in reverse sorted order, so they pop in sorted order, depth first:
        # the same order as sorting all paths.
        stack: list[tuple[Path, os.stat_result]] = [(root, root_st)]
        while stack:
            path, st = stack.pop()
            if not stat.S_ISDIR(st.st_mode):
                add_file(path, st)
                continue
            key = (st.st_dev, st.st_ino)
            if key in seen_dirs:
                continue  # a symlink back to a folder already walked (or a loop)
            seen_dirs.add(key)
            try:
                with os.scandir(path) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except PermissionError:
                skipped.append((path, "cannot read folder: permission denied; check its permissions"))
                continue
            except OSError as exc:
                skipped.append((path, f"cannot read folder: {exc.strerror or exc}"))
                continue
            children: list[tuple[Path, os.stat_result]] = []
            for entry in entries:
                child = path / entry.name
                if entry.name.startswith((".", "~$")):
                    continue
                try:
                    # os.stat, not entry.stat: on Windows the latter leaves st_dev/st_ino at zero.
                    child_st = os.stat(child)  # follows symlinks
                except FileNotFoundError:
                    skipped.append((child, "broken link: its target does not exist"))
                    continue
                except OSError as exc:
                    skipped.append((child, f"cannot read: {exc.strerror or exc}"))
                    continue
                if not _is_hidden(entry.name, child_st):
                    children.append((child, child_st))
            stack.extend(reversed(children))

    for given in paths:
        path = Path(given)
        try:
            st = path.stat()
        except FileNotFoundError:
            skipped.append((path, "no such file or folder"))
            continue
        except PermissionError:
            skipped.append((path, "cannot read: permission denied; check its permissions"))
            continue
        except OSError as exc:
            skipped.append((path, f"cannot read: {exc.strerror or exc}"))
            continue
        if stat.S_ISDIR(st.st_mode):
            walk(path, st)
        else:
            add_file(path, st)
    return found, skipped
