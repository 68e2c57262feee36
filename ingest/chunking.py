"""Chinese-aware chunking: sentences, heading paths, size-bounded chunks with exact offsets."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

_CN_NUM = "一二三四五六七八九十"
# A sentence ends at a Chinese/English terminator (plus any closing quotes or brackets) or a line break.
_SENTENCE_END = re.compile(r"[。！？；!?;…]+[”’」』）)\]]*|(?<=[A-Za-z\)])\.(?=\s|$)[”’\"']*")
# A clause boundary, used only to split a sentence longer than a chunk.
_CLAUSE_END = re.compile(r"[，、：,:]")

# Heading markers, from the outermost rank to the innermost. A lower rank is a higher level.
_LINE_HEADINGS: list[tuple[int, re.Pattern[str]]] = [
    (10, re.compile(rf"^(第[{_CN_NUM}]+[章部分节篇]|[{_CN_NUM}]+、)")),
    (11, re.compile(rf"^[（(][{_CN_NUM}]+[）)]")),
    (12, re.compile(r"^\d{1,2}[.．、](?!\d)")),
]
# "一是…", "二要…", "第三，…" introduce points inside a paragraph as well as at its start.
_POINT = re.compile(rf"^(?:[{_CN_NUM}]+(?:是|要|则|方面)|第[{_CN_NUM}]+[，,、])")
_POINT_RANK = 13
_LEAD_RANK = 9  # a paragraph's opening sentence that announces numbered points after it
_MARKDOWN = re.compile(r"^(#{1,6}) +")
_HEADING_MAX = 40


@dataclass(frozen=True)
class Chunk:
    """A piece of a cleaned document; `text == document_text[start:end]` always holds."""

    chunk_id: str
    doc_id: str
    index: int
    start: int
    end: int
    text: str
    section: str  # heading path, outermost first, joined with " > "; "" before the first heading
    page: int | None
    content_hash: str


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans (start, end) over `text`; line breaks always end a sentence and are not included."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        line_start, line_end = pos, pos + len(line)
        start = line_start
        for match in _SENTENCE_END.finditer(line):
            end = line_start + match.end()
            if end > start:
                spans.append((start, end))
            start = end
        if line_end > start:
            spans.append((start, line_end))
        pos = line_end + 1
    # Drop spans that are only whitespace (e.g. a space after an English full stop).
    result = []
    for start, end in spans:
        piece = text[start:end]
        lead = len(piece) - len(piece.lstrip())
        trail = len(piece) - len(piece.rstrip())
        if end - trail > start + lead:
            result.append((start + lead, end - trail))
    return result


def _short(heading: str) -> str:
    heading = heading.strip().rstrip("。；;，,：:!！?？")
    if len(heading) <= _HEADING_MAX:
        return heading
    cut = max(heading.rfind(p, 0, _HEADING_MAX) for p in "，,、：")
    return (heading[:cut] if cut >= 8 else heading[:_HEADING_MAX]) + "…"


def _heading(sentence: str, at_line_start: bool, whole_line: bool, next_sentence: str | None) -> int | None:
    """The heading rank of a sentence, or None when it is body text."""
    if at_line_start:
        md = _MARKDOWN.match(sentence)
        if md:
            return len(md.group(1))
        for rank, pattern in _LINE_HEADINGS:
            if pattern.match(sentence):
                return rank
        if whole_line and len(sentence) <= _HEADING_MAX and sentence[-1] not in "。！？!?；;，,：:…":
            return 10
    if _POINT.match(sentence):
        return _POINT_RANK
    if (
        at_line_start
        and next_sentence is not None
        and (_POINT.match(next_sentence) or _LINE_HEADINGS[1][1].match(next_sentence))
    ):
        return _LEAD_RANK
    return None


def section_paths(text: str, sentences: list[tuple[int, int]]) -> tuple[list[str], list[bool]]:
    """For each sentence: the heading path in force at it, and whether the sentence is a heading."""
    paths: list[str] = []
    is_heading: list[bool] = []
    stack: list[tuple[int, str]] = []
    for i, (start, end) in enumerate(sentences):
        sentence = text[start:end]
        at_line_start = start == 0 or text[start - 1] == "\n"
        whole_line = at_line_start and (end == len(text) or text[end] == "\n")
        next_sentence = None
        if i + 1 < len(sentences) and "\n" not in text[end : sentences[i + 1][0]]:
            next_sentence = text[sentences[i + 1][0] : sentences[i + 1][1]]
        rank = _heading(sentence, at_line_start, whole_line, next_sentence)
        if rank is not None:
            while stack and stack[-1][0] >= rank:
                stack.pop()
            stack.append((rank, _short(_MARKDOWN.sub("", sentence))))
        paths.append(" > ".join(h for _, h in stack))
        is_heading.append(rank is not None)
    return paths, is_heading


def _split_long(start: int, end: int, text: str, size: int) -> list[tuple[int, int]]:
    """Split one over-long sentence at clause boundaries, and only as a last resort mid-clause."""
    pieces: list[tuple[int, int]] = []
    piece_start = start
    last_cut = None
    for match in _CLAUSE_END.finditer(text, start, end):
        cut = match.end()
        if cut - piece_start > size and last_cut is not None and last_cut > piece_start:
            pieces.append((piece_start, last_cut))
            piece_start = last_cut
        last_cut = cut
    if end - piece_start > size and last_cut is not None and piece_start < last_cut < end:
        pieces.append((piece_start, last_cut))
        piece_start = last_cut
    pieces.append((piece_start, end))
    hard: list[tuple[int, int]] = []
    for s, e in pieces:
        while e - s > size:
            hard.append((s, s + size))
            s += size
        hard.append((s, e))
    return hard


def chunk_document(
    doc_id: str,
    text: str,
    *,
    size: int = 300,
    overlap: int = 60,
    page_starts: list[tuple[int, int]] | None = None,
) -> list[Chunk]:
    """Cut a cleaned document into chunks of at most `size` characters.

    Chunks end at sentence boundaries (a sentence is only cut when it alone exceeds `size`),
    start afresh at headings so a chunk rarely spans two sections and at page starts so none
    spans two pages, and repeat up to `overlap` characters of whole sentences from the previous
    chunk so an answer split across the boundary is still found whole in one of them.

    Args:
        doc_id: id of the document, part of every chunk id.
        text: the cleaned document text; all offsets refer to it.
        size: maximum chunk length in characters.
        overlap: maximum characters of trailing sentences repeated at the next chunk's start.
        page_starts: (offset, page) pairs, ascending, for paged formats such as PDF.
    """
    sentences = split_sentences(text)
    paths, is_heading = section_paths(text, sentences)
    units: list[tuple[int, int, int]] = []  # (start, end, sentence index)
    for i, (start, end) in enumerate(sentences):
        if end - start > size:
            units.extend((s, e, i) for s, e in _split_long(start, end, text, size))
        else:
            units.append((start, end, i))

    groups: list[tuple[list[tuple[int, int, int]], int]] = []  # (units, how many are carried overlap)
    current: list[tuple[int, int, int]] = []
    fresh = 0  # units in `current` that are not overlap carried over from the previous chunk
    for unit in units:
        start, _, sentence_index = unit
        heading_break = is_heading[sentence_index] and start == sentences[sentence_index][0]
        too_long = current and unit[1] - current[0][0] > size
        substantial = current and current[-1][1] - current[0][0] >= size // 3
        # A new page starts a new chunk, so every chunk (and every citation of it) is on one page.
        page_break = bool(current) and _page_at(page_starts, start) != _page_at(page_starts, current[-1][0])
        if fresh and (too_long or (heading_break and substantial) or page_break):
            groups.append((current, len(current) - fresh))
            carry: list[tuple[int, int, int]] = []
            if not heading_break and not page_break:
                for prev in reversed(current):
                    if unit[1] - prev[0] > size or current[-1][1] - prev[0] > overlap:
                        break
                    carry.insert(0, prev)
            current, fresh = carry, 0
        current.append(unit)
        fresh += 1
    if fresh:
        groups.append((current, len(current) - fresh))

    chunks = []
    for index, (group, carried) in enumerate(groups):
        start, end = group[0][0], group[-1][1]
        body = text[start:end]
        first_fresh = group[carried][2]
        content_hash = hashlib.sha1(body.encode("utf-8")).hexdigest()
        chunk_id = hashlib.sha1(f"{doc_id}:{start}:{content_hash}".encode()).hexdigest()[:20]
        chunks.append(
            Chunk(
                chunk_id=chunk_id,
                doc_id=doc_id,
                index=index,
                start=start,
                end=end,
                text=body,
                section=paths[first_fresh],
                page=_page_at(page_starts, start),
                content_hash=content_hash,
            )
        )
    return chunks


def _page_at(page_starts: list[tuple[int, int]] | None, offset: int) -> int | None:
    if not page_starts:
        return None
    page = page_starts[0][1]
    for start, number in page_starts:
        if start > offset:
            break
        page = number
    return page


def sentence_windows(text: str, width: int) -> list[tuple[int, int]]:
    """Consecutive sentences of `text` grouped into windows of at most `width` characters.

    Dense retrieval embeds these small windows as well as whole chunks: a question usually
    matches one or two sentences, and a 300-character chunk dilutes that match. A single
    sentence longer than `width` is its own window.
    """
    windows: list[tuple[int, int]] = []
    current: tuple[int, int] | None = None
    for start, end in split_sentences(text):
        if current is not None and end - current[0] <= width:
            current = (current[0], end)
            continue
        if current is not None:
            windows.append(current)
        current = (start, end)
    if current is not None:
        windows.append(current)
    return windows
