"""Text cleaning: junk markers, whitespace and full-width forms, titles, compilation splitting."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Markers such as ##paidbegin## / ##paidend## come from the site the texts were scraped from.
_JUNK_MARKER = re.compile(r"##[A-Za-z_]{2,20}##")
# Invisible characters that only get in the way of matching (zero-width, BOM, soft hyphen), and
# bidirectional controls (marks, embeddings, overrides, isolates), which Chinese text never needs
# and which would make a quoted passage display in an order other than the one indexed.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")
# C0/C1 controls except tab and newline.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"[ \t\u00a0\u3000\u2002-\u200a\u202f\u205f]+")
# A character after which, or before which, a space is never meaningful in Chinese text:
# CJK ideographs, CJK/full-width punctuation and Chinese quotation marks.
_CJK_CLASS = (
    "\u2e80-\u2fdf\u3000-\u303f\u31c0-\u31ef\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
    "\ufe30-\ufe4f\uff00-\uffef\u2018\u2019\u201c\u201d\u2014\u2026\u00b7"
)
_SPACE_NEAR_CJK = re.compile(rf"(?<=[{_CJK_CLASS}]) (?=\S)|(?<=\S) (?=[{_CJK_CLASS}])")
# Leading markdown syntax whose following space must survive (heading, list item, quote).
_MD_PREFIX = re.compile(r"^(#{1,6} |[-*+] |\d{1,3}\. |> )")
_SENTENCE_END = "。！？!?"


def strip_junk(text: str) -> str:
    """Remove scraping junk markers and invisible characters, keeping everything else.

    Invisible characters go first, and markers until none is left: removing one can join the
    text around it into another ("##a##bc##d##"), and cleaning must give the same text when
    applied twice.
    """
    text = _INVISIBLE.sub("", text)
    while True:
        stripped = _JUNK_MARKER.sub("", text)
        if stripped == text:
            return text
        text = stripped


def _fullwidth_to_halfwidth(text: str) -> str:
    # Only letters and digits: full-width punctuation is the normal form in Chinese text and
    # changing it would alter what a user sees quoted back.
    out = []
    for ch in text:
        code = ord(ch)
        if 0xFF10 <= code <= 0xFF19 or 0xFF21 <= code <= 0xFF3A or 0xFF41 <= code <= 0xFF5A:
            out.append(chr(code - 0xFEE0))
        else:
            out.append(ch)
    return "".join(out)


def clean_line(line: str) -> str:
    """Normalise one line: spaces collapsed, spaces next to Chinese text dropped, ends stripped."""
    line = _SPACES.sub(" ", line).strip()
    prefix_match = _MD_PREFIX.match(line)
    prefix = prefix_match.group(0) if prefix_match else ""
    body = _SPACE_NEAR_CJK.sub("", line[len(prefix) :])
    return prefix + body


def clean_text(text: str) -> str:
    """Clean a whole document; the result is what every offset of the index refers to.

    Lines become paragraphs separated by a single newline; empty lines are dropped.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # Normalise characters before removing markers, so none is left formed by what was removed.
    text = strip_junk(_CONTROL.sub("", _fullwidth_to_halfwidth(text)))
    lines = (clean_line(line) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def clean_title(title: str) -> str:
    """A title on one line; tabs and runs of spaces between its phrases become one space."""
    title = _SPACES.sub(" ", _CONTROL.sub("", _fullwidth_to_halfwidth(strip_junk(title)))).strip()
    return title.lstrip("#").strip()


def looks_like_title(line: str) -> bool:
    """A short line that does not end like a sentence: a title or a heading line."""
    line = line.strip()
    return 0 < len(line) <= 120 and line[-1] not in _SENTENCE_END + "；;，,：:"


# Openers like "近年来，" say nothing about the document and would start every derived title.
_LEADING_TIME = re.compile(r"^(近年来|近年以来|今年以来|近期|当前|目前|新时代以来|多年来)[，,]")


def derive_title(text: str, limit: int = 32) -> str:
    """A readable title for a document that has none: its first sentence, cut at a clause boundary."""
    first = _LEADING_TIME.sub("", text.strip().split("\n", 1)[0])
    match = re.search(f"[{_SENTENCE_END}；;]", first)
    sentence = first[: match.start()] if match else first
    if len(sentence) <= limit:
        return sentence
    cut = max(sentence.rfind(p, 0, limit) for p in "，,、：")
    return (sentence[:cut] if cut >= 12 else sentence[:limit]) + "…"


@dataclass(frozen=True)
class Article:
    """One article of a compilation: its own title and raw body text."""

    title: str
    body: str


_COMPILATION_HEADER = re.compile(r"(汇编|选编|合辑|合集|文集)")
_ARTICLE_BREAK = re.compile(r"\n[ \t\u3000]*\n(?:[ \t\u3000]*\n)+")  # two or more blank lines


def split_compilation(raw: str) -> tuple[str, list[Article]] | None:
    """Split a compilation ("…材料汇编（6篇）") into its articles, or None when it is not one.

    A compilation starts with a header line naming it as such, and its articles are separated
    by two or more blank lines, each opening with a title line.
    """
    text = strip_junk(raw).replace("\r\n", "\n").replace("\r", "\n")
    stripped = text.strip()
    if not stripped:
        return None
    header, _, rest = stripped.partition("\n")
    if not _COMPILATION_HEADER.search(header) or not looks_like_title(header):
        return None
    blocks = [b.strip("\n") for b in _ARTICLE_BREAK.split(rest) if b and b.strip()]
    articles = []
    for block in blocks:
        title, _, body = block.strip().partition("\n")
        if not looks_like_title(title) or not body.strip():
            return None
        articles.append(Article(title=clean_title(title), body=body))
    if len(articles) < 2:
        return None
    return clean_title(header), articles
