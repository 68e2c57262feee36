"""What is embedded of each chunk: the whole chunk and its sentence windows, with the metadata to rebuild from."""

from __future__ import annotations

import numpy as np

from assistant.kb.consistency import uncovered_text
from assistant.kb.vectors import VectorRecord
from ingest.chunking import Chunk, sentence_windows

_NO_VECTOR = np.zeros(0, dtype=np.float32)


def vector_records(
    source: str, chunks: list[Chunk], doc_meta: dict[str, dict], window_chars: int, texts: dict[str, str] | None = None
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
            VectorRecord(c.chunk_id, c.chunk_id, "chunk", c.text, _NO_VECTOR, {**meta, **gaps.get(c.chunk_id, {})})
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
                        _NO_VECTOR,
                        {**meta, "start": c.start + s, "end": c.start + e},
                    )
                )
    return records
