"""The public result types of the Python API: plain dataclasses, no LangChain types."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Stage(StrEnum):
    """Where an answer being streamed has got to (Assistant.stream's `on_stage`)."""

    SEARCHING = "searching"  # understanding the question and retrieving passages
    GENERATING = "generating"  # a chat model is writing the answer


@dataclass
class Passage:
    """A retrieved passage; `text` is the cleaned document's text[start:end]."""

    text: str
    title: str
    source: str
    section: str
    start: int
    end: int
    score: float
    chunk_id: str
    doc_id: str = ""
    page: int | None = None
    dense: float = 0.0  # cosine similarity to the question
    keyword: float = 0.0  # BM25 score
    # The document's 公文 fields (see ingest/metadata.py); None when the document does not print them.
    office: str | None = None  # 发文机关
    doc_number: str | None = None  # 文号, e.g. 沪府办发〔2023〕12号
    date: str | None = None  # 成文日期, YYYY-MM-DD
    doc_type: str | None = None  # 文种: 通知, 意见, 讲话, 经验材料, …
    classification: str | None = None  # 密级: 秘密, 机密, 绝密
    superseded: str | None = None  # "已被《…》（2024-03-01）替代" when a newer document replaces this one


@dataclass
class Citation:
    """A numbered source of an answer: the passage and the sentence in it that supports the statement.

    `start`/`end` are the offsets of `quote` in the cleaned document (so `quote == text of document[start:end]`).
    """

    n: int
    title: str
    source: str
    section: str
    text: str
    quote: str
    start: int
    end: int
    page: int | None = None
    doc_id: str = ""
    passage_start: int = 0
    passage_end: int = 0
    statement: str = ""  # the answer's sentence this citation supports
    support: float = 0.0  # how well `quote`'s passage supports it (1.0 = quoted verbatim)
    office: str | None = None  # the cited document's 公文 fields, as on Passage
    doc_number: str | None = None
    date: str | None = None
    doc_type: str | None = None
    classification: str | None = None
    superseded: str | None = None  # as on Passage

    @classmethod
    def quoting(cls, passage: Passage, n: int, start: int, end: int, statement: str, support: float) -> Citation:
        """Citation [n] of the passage's text between document offsets `start` and `end`."""
        return cls(
            n=n,
            title=passage.title,
            source=passage.source,
            section=passage.section,
            text=passage.text,
            quote=passage.text[start - passage.start : end - passage.start],
            start=start,
            end=end,
            page=passage.page,
            doc_id=passage.doc_id,
            passage_start=passage.start,
            passage_end=passage.end,
            statement=statement,
            support=support,
            office=passage.office,
            doc_number=passage.doc_number,
            date=passage.date,
            doc_type=passage.doc_type,
            classification=passage.classification,
            superseded=passage.superseded,
        )


@dataclass
class Statement:
    """One sentence of an answer, the citation numbers it carries, and whether a passage supports it."""

    text: str
    citations: list[int] = field(default_factory=list)
    supported: bool = True
    support: float = 0.0  # best support score over the passages (see assistant/answering/grounding.py)


@dataclass
class Answer:
    """An answer whose every statement carries [n] markers that resolve to `citations`.

    When `refused` is true the knowledge base does not hold the answer; `nearest` then lists
    the closest passages, which do not answer the question. When `partial` is true the documents
    treat the subject but do not state the asked fact: `missing` says what is not stated, and the
    citations show what is.
    """

    question: str
    text: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    nearest: list[Passage] = field(default_factory=list)
    evidence: float = 0.0  # strength of the best evidence, compared with settings.evidence_floor
    searched: str = ""  # what was actually searched (after any follow-up rewriting)
    seconds: float = 0.0
    mode: str = "extractive"  # which answerer wrote it: extractive, openai, ollama or local
    statements: list[Statement] = field(default_factory=list)  # the answer sentence by sentence
    unsupported: list[str] = field(default_factory=list)  # sentences no passage supports (flagged in `text`)
    generated: str = ""  # the chat model's raw reply, before citations were verified
    partial: bool = False  # the documents treat the subject but do not state what was asked
    missing: list[str] = field(default_factory=list)  # when partial: what the documents do not state
    fallback: str = ""  # "extractive": the chat model's reply could not be verified; `text` quotes the documents


@dataclass
class IngestReport:
    """What an ingestion did, source by source."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # unsupported formats, hidden files
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (source, the source already holding that content)
    removed: list[str] = field(default_factory=list)  # sources deleted because they left an ingested folder (prune)
    warnings: list[tuple[str, str]] = field(default_factory=list)  # read, but not wholly (OCR page limit, OCR off …)
    chunks_added: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed


def to_jsonable(value: Any) -> Any:
    """A dataclass (or list of them) as plain JSON-able data."""
    if isinstance(value, list):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return asdict(value)
    return value
