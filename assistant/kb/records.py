"""What documents become in the stores: keyword text, vector records, and prepared files awaiting their vectors."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from assistant.kb.consistency import uncovered_text
from assistant.kb.vectors import VectorRecord
from ingest.chunking import Chunk, sentence_windows
from ingest.documents import Document

NO_VECTOR = np.zeros(0, dtype=np.float32)
# Texts gathered from several files before one model call. The engine's cost per call barely
# depends on how many texts it gets (on 2 busy cores, 100 one-paragraph files took 290 s in 100
# calls, the same text in 4 calls of 32 took 51 s), so small files must not each pay it.
ENCODE_BATCH_TEXTS = 512


@dataclass
class Prepared:
    """One source's documents chunked and tokenised, with the records to embed; not yet written anywhere."""

    source: str
    file_hash: str
    docs: list[Document]
    chunks: dict[str, list[Chunk]]
    tokens: dict[str, list[str]]
    now: str
    records: list[VectorRecord]
    outcome: str = ""  # for a file: "added" or "updated"
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))


def keyword_text(section: str, text: str) -> str:
    """What the keyword index sees of a chunk: its section heading, then its text.

    A chunk in the middle of "保密工作" should match the word even when its own sentences no
    longer repeat it.
    """
    return f"{section}\n{text}" if section else text


def vector_records(
    source: str,
    chunks: list[Chunk],
    doc_meta: dict[str, dict],
    window_chars: int,
    texts: dict[str, str] | None = None,
) -> list[VectorRecord]:
    """The vectors of each chunk to embed: the whole chunk, plus its sentence windows when it has several.

    Their metadata holds everything another app instance needs to rebuild its registry from
    the store (see `Indexer.sync_from_store`). With `texts` (doc id -> cleaned text), each chunk record
    also carries the text no chunk covers after it (`gap_after`; the first chunk also
    `gap_before`), so the document is rebuilt from the store exactly, not with guessed line breaks.
    """
    gaps: dict[str, dict[str, str]] = {}
    if texts is not None:
        by_doc: dict[str, list[Chunk]] = {}
        for c in chunks:
            by_doc.setdefault(c.doc_id, []).append(c)
        for doc_id, doc_chunks in by_doc.items():
            gaps.update(uncovered_text(texts[doc_id], doc_chunks))
    records = []
    for c in chunks:
        meta = {
            **doc_meta[c.doc_id],
            "doc_id": c.doc_id,
            "source": source,
            "section": c.section,
            "index": c.index,
            "start": c.start,
            "end": c.end,
            "page": c.page if c.page is not None else -1,
        }
        records.append(
            VectorRecord(c.chunk_id, c.chunk_id, "chunk", c.text, NO_VECTOR, {**meta, **gaps.get(c.chunk_id, {})})
        )
        windows = sentence_windows(c.text, window_chars)
        if len(windows) > 1:
            for j, (s, e) in enumerate(windows):
                records.append(
                    VectorRecord(
                        f"{c.chunk_id}:{j}",
                        c.chunk_id,
                        "window",
                        c.text[s:e],
                        NO_VECTOR,
                        {**meta, "start": c.start + s, "end": c.start + e},
                    )
                )
    return records


def embed_all(embedder, pending: list[Prepared]) -> None:
    """Give every pending source its vectors, from as few model calls as their texts allow."""
    texts = [r.text for p in pending for r in p.records]
    vectors = embedder.encode_passages(texts) if texts else np.zeros((0, 0), dtype=np.float32)
    at = 0
    for p in pending:
        p.vectors = vectors[at : at + len(p.records)]
        at += len(p.records)
