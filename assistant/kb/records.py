"""What the registry hands out and takes in: documents, chunks and whole sources as plain records."""

from __future__ import annotations

from dataclasses import dataclass

from ingest.chunking import Chunk
from ingest.documents import Document


@dataclass(frozen=True)
class DocumentRecord:
    """What the registry knows of one indexed document."""

    doc_id: str
    source: str
    title: str
    collection: str | None
    format: str
    file_hash: str
    n_chunks: int
    ingested_at: str
    complete: bool
    office: str | None = None  # 发文机关
    doc_number: str | None = None  # 文号
    date: str | None = None  # 成文日期, YYYY-MM-DD
    doc_type: str | None = None  # 文种
    classification: str | None = None  # 密级
    doc_title: str | None = None  # the printed 公文 title ("…关于…的通知") when it is not the first line


@dataclass(frozen=True)
class ChunkRecord:
    """A chunk's position in its document; its text is `document text[start:end]`."""

    chunk_id: str
    doc_id: str
    index: int
    start: int
    end: int
    section: str
    page: int | None


@dataclass(frozen=True)
class SourceRecord:
    """Everything the registry stores for one source: its documents, their chunks and BM25 tokens."""

    source: str
    file_hash: str
    docs: list[Document]
    chunks: dict[str, list[Chunk]]  # doc id -> its chunks
    tokens: dict[str, list[str]]  # chunk id -> BM25 tokens
    ingested_at: str
    complete: bool


def document_record(row: tuple) -> DocumentRecord:
    """A DocumentRecord from a row of `_DOCUMENT_COLUMNS`."""
    doc_id, source, title, collection, fmt, file_hash, n_chunks, ingested_at, complete, *fields = row
    return DocumentRecord(
        doc_id, source, title, collection, fmt, file_hash, n_chunks, ingested_at, bool(complete), *fields
    )
