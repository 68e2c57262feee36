"""Table rows as sentences a reader (and a retriever) understands on their own ("姓名：张三，职务：科长。"), and workbooks of such sheets."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from ingest.loaders.base import WS, LoadError, Part, RawDocument, real_title

Merge = tuple[int, int, int, int]  # min_col, min_row, max_col, max_row (1-based, inclusive)


def cell_text(value: object) -> str:
    """One cell's value as text on one line: whole numbers without ".0", dates without a midnight time."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    isoformat = getattr(value, "isoformat", None)
    if callable(isoformat):
        text = str(isoformat())
        return text.removesuffix("T00:00:00").replace("T", " ")
    return WS.sub(" ", str(value)).strip()


def header_row(cells: list[str]) -> bool:
    """Whether a row can serve as the header of the rows below it: two or more filled cells."""
    return sum(1 for c in cells if c) >= 2


_SENTENCE_END = tuple("。！？!?…")


def row_text(header: list[str] | None, cells: list[str]) -> str:
    """A row with each value labelled by its column's header ("姓名：张三，职务：科长。").

    Without a header, or for a column whose header is empty or equal to the value, the value
    stands alone; empty cells are left out, so a sparse row stays short. Cells are joined with
    "，", not "；": the chunker ends sentences at "；", and an extractive answer quotes whole
    sentences, so with "；" the question "李四春节值班几天？" was answered by a lone "职务：科长；"
    (a cell of 张三's row). The row ends as a sentence: a short unpunctuated line ("姓名：合计") would
    otherwise be taken for a heading by the chunker and file the rows after it under it.
    """
    pieces = []
    for column, value in enumerate(cells):
        if not value:
            continue
        name = header[column] if header is not None and column < len(header) else ""
        pieces.append(f"{name}：{value}" if name and name != value else value)
    text = "，".join(pieces)
    return text if not text or text.endswith(_SENTENCE_END) else text + "。"


def sheet_lines(rows: Iterable[Sequence[object]], merges: list[Merge]) -> tuple[list[str], str | None]:
    """The lines of one sheet (title rows as they are, then labelled rows) and its first title row."""
    starts = {(m[1], m[0]): m for m in merges}  # (row, col) of each range's top-left cell
    fill: dict[tuple[int, int], str] = {}  # cells below a vertical merge's top-left: its value
    header: list[str] | None = None
    lines: list[str] = []
    title: str | None = None
    data_rows = 0
    for row_number, values in enumerate(rows, 1):
        cells = [cell_text(v) for v in values]
        width = max([len(cells)] + [c for (r, c) in fill if r == row_number])
        cells += [""] * (width - len(cells))
        for column in range(1, width + 1):
            value = fill.pop((row_number, column), None)
            if value is not None and not cells[column - 1]:
                cells[column - 1] = value
            merge = starts.get((row_number, column))
            if merge is not None and cells[column - 1]:
                # The merged range's value belongs to every row it spans (a 部门 over three
                # people), but only once per row: its other columns stay empty.
                for below in range(row_number + 1, merge[3] + 1):
                    fill[(below, column)] = cells[column - 1]
        if not any(cells):
            continue
        if header is None:
            if header_row(cells):
                header = cells
                continue
            line = next(c for c in cells if c)
            if title is None:
                title = line
            lines.append(line)
            continue
        lines.append(row_text(header, cells))
        data_rows += 1
    if header is not None and not data_rows:
        lines.append("，".join(c for c in header if c))  # a table with no rows yet: its columns are still text
    return lines, title


class SheetSections:
    """A workbook's text, whichever reader gives its sheets: one `#` section per sheet with text, in order."""

    def __init__(self) -> None:
        self.sections: list[str] = []
        self.first_title: str | None = None

    def add(self, name: str, rows: Iterable[Sequence[object]], merges: list[Merge]) -> None:
        """Add one sheet: its rows of cell values (top to bottom, from column A) and its merged ranges."""
        lines, title = sheet_lines(rows, merges)
        if lines:
            self.first_title = self.first_title or title
            self.sections.append("\n".join([f"# {WS.sub(' ', name).strip()}", *lines]))

    def document(self, path: Path, fmt: str, metadata_title: str | None) -> RawDocument:
        """The raw document of the workbook; refused when no sheet had a value."""
        if not self.sections:
            raise LoadError("no text found: the workbook's sheets have no cells with values")
        # The title row over the first table (a merged "2024年值班安排") names the workbook better than a
        # sheet name; without either, the first sheet's name becomes the title when the text is cleaned.
        title = metadata_title or real_title(self.first_title, path)
        return RawDocument(path, fmt, title, [Part("\n".join(self.sections), None)], None)
