"""Plain-text and Markdown files: decoded strictly, titled by their first level-1 heading (Markdown only)."""

from __future__ import annotations

import re
from pathlib import Path

from ingest.loaders.base import Part, RawDocument, real_title
from ingest.loaders.encoding import decode_bytes

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


def load_text(path: Path, data: bytes, fmt: str) -> RawDocument:
    """Build the raw document of a .txt or .md file (fmt "txt" or "md") from its bytes."""
    text, encoding = decode_bytes(data)
    title = real_title(_markdown_title(text), path) if fmt == "md" else None
    return RawDocument(path, fmt, title, [Part(text, None)], encoding)
