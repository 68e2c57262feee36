"""Reading order of OCR boxes: lines top to bottom, boxes left to right, and two columns read one after the other."""

from __future__ import annotations

import re
from statistics import median

from ingest.loaders.ocr_engine import Box

# Boxes sharing at least this share of the shorter one's height are on the same line.
SAME_LINE_OVERLAP = 0.5
# A column gap must be at least this many median line heights wide (a wide space inside a line is not one).
MIN_GAP_HEIGHTS = 1.5
# ...and at least this share of the lines must sit wholly on each side of it.
MIN_COLUMN_SHARE = 0.2
# Lines shorter than this never wrap: a column of prose holds 12 or more characters, a form's rows fewer.
MIN_WRAP_CHARS = 10
_ASCII_END = re.compile(r"[A-Za-z0-9]$")
_ASCII_START = re.compile(r"^[A-Za-z0-9]")
_SENTENCE_END = re.compile(r"[。！？；：!?;:」』]$")


def group_lines(boxes: list[Box]) -> list[list[Box]]:
    """Boxes grouped into lines, top to bottom; each line's boxes left to right."""
    lines: list[list[Box]] = []
    for box in sorted(boxes, key=lambda b: (b.cy, b.x0)):
        if lines:
            last = lines[-1]
            top = min(b.y0 for b in last)
            bottom = max(b.y1 for b in last)
            overlap = min(bottom, box.y1) - max(top, box.y0)
            if overlap >= SAME_LINE_OVERLAP * min(box.height, bottom - top):
                last.append(box)
                continue
        lines.append([box])
    return [sorted(line, key=lambda b: b.x0) for line in lines]


def join_line(line: list[Box]) -> str:
    """A line's text: Chinese boxes joined directly, a space only between two Latin words or numbers."""
    text = ""
    for box in line:
        piece = box.text.strip()
        if text and piece and _ASCII_END.search(text) and _ASCII_START.search(piece):
            text += " "
        text += piece
    return text


def column_gap(boxes: list[Box]) -> tuple[float, float] | None:
    """The x-range of an empty vertical band splitting the page into two columns, or None for one column.

    A band counts when no box other than a few full-width ones (titles spanning both columns) crosses it,
    it is wide enough, and enough lines sit on each side.
    """
    if len(boxes) < 6:
        return None
    left = min(b.x0 for b in boxes)
    right = max(b.x1 for b in boxes)
    unit = median(b.height for b in boxes)
    width = right - left
    if width <= 0 or unit <= 0:
        return None
    # Count the boxes covering each x, in steps of a quarter line height.
    step = max(unit / 4, 1.0)
    n = int(width / step) + 1
    cover = [0] * n
    for b in boxes:
        for i in range(int((b.x0 - left) / step), min(n, int((b.x1 - left) / step) + 1)):
            cover[i] += 1
    allowed = max(1, len(boxes) // 10)  # spanning titles
    best: tuple[int, int] | None = None
    start = None
    # Only look at the middle of the text block: margins and indents are not column gaps.
    lo, hi = int(n * 0.25), int(n * 0.75)
    for i in range(lo, hi + 1):
        empty = i < hi and cover[i] <= allowed
        if empty and start is None:
            start = i
        elif not empty and start is not None:
            if best is None or i - start > best[1] - best[0]:
                best = (start, i)
            start = None
    if best is None or (best[1] - best[0]) * step < MIN_GAP_HEIGHTS * unit:
        return None
    gap = (left + best[0] * step, left + best[1] * step)
    mid = (gap[0] + gap[1]) / 2
    lefts = [b for b in boxes if b.x1 <= mid]
    rights = [b for b in boxes if b.x0 >= mid]
    if min(len(lefts), len(rights)) < MIN_COLUMN_SHARE * len(boxes):
        return None
    # Columns of prose are much wider than the gutter between them; a form's labels and values
    # (姓名：        张三) are not.
    if min(gap[0] - left, right - gap[1]) < 2 * (gap[1] - gap[0]):
        return None
    return gap


def paragraphs(lines: list[list[Box]]) -> list[str]:
    """The lines of one column as text, a wrapped line joined to the next (as the OFD loader does).

    A line wraps when it reaches the column's right edge without ending a sentence and the next line
    is not indented; line breaks end sentences for the chunker, so a wrapped sentence must be whole.
    """
    if not lines:
        return []
    left = min(line[0].x0 for line in lines)
    right = max(line[-1].x1 for line in lines)
    out: list[str] = []
    wraps = False
    for line in lines:
        text = join_line(line)
        unit = median(b.height for b in line)
        if wraps and out and line[0].x0 < left + unit:
            out[-1] += text
        else:
            out.append(text)
        wraps = len(text) >= MIN_WRAP_CHARS and line[-1].x1 >= right - 1.5 * unit and not _SENTENCE_END.search(text)
    return out


def reading_order(boxes: list[Box]) -> list[str]:
    """The page's text in reading order, one paragraph a line.

    One column: lines top to bottom. Two columns: each band between full-width lines (a title across
    both columns) is read left column first, then right column.
    """
    gap = column_gap(boxes)
    if gap is None:
        return paragraphs(group_lines(boxes))
    mid = (gap[0] + gap[1]) / 2
    spanning = sorted((b for b in boxes if b.x0 < mid < b.x1), key=lambda b: b.y0)
    columnar = [b for b in boxes if not b.x0 < mid < b.x1]
    out: list[str] = []
    top = float("-inf")
    for bar in [*spanning, None]:
        bottom = bar.cy if bar is not None else float("inf")
        band = [b for b in columnar if top <= b.cy < bottom]
        for side in ([b for b in band if b.x1 <= mid], [b for b in band if b.x1 > mid]):
            out.extend(paragraphs(group_lines(side)))
        if bar is not None:
            out.append(join_line([bar]))
            top = bar.cy
    return out
