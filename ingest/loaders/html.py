"""HTML pages: charset from BOM or <meta>, then visible text as lines with markdown headings and table rows."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from ingest.loaders.base import LoadError, Part, RawDocument, real_title
from ingest.loaders.encoding import check_text, decode_bytes

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
            check_text(text)
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


def load_html(path: Path, data: bytes) -> RawDocument:
    """Build the raw document of an HTML page from its bytes."""
    from bs4 import BeautifulSoup

    text, encoding = _decode_html(data)
    soup = BeautifulSoup(text, "html.parser")
    # Title first: <title> lives in <head>, which is dropped from the body text below.
    title_tag = soup.find("title")
    title = real_title(_html_inline(title_tag), path) if title_tag is not None else None
    if title is None:
        h1 = soup.find("h1")
        title = real_title(_html_inline(h1), path) if h1 is not None else None
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
