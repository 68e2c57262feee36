"""Table rows as sentences a reader (and a retriever) understands on their own: "姓名：张三，职务：科长。"."""

from __future__ import annotations

from ingest.loaders.base import WS


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
