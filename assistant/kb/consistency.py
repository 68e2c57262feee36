"""Keeping one knowledge base consistent: one writer at a time, crash recovery, server-mode resync."""

from __future__ import annotations

import bisect
import fcntl
import itertools
import threading
from pathlib import Path
from typing import TextIO

from assistant.errors import AssistantError
from assistant.kb.registry import Registry
from assistant.kb.vectors import VectorStore
from ingest.chunking import Chunk
from ingest.documents import Document

# What the registry needs to re-create one document from the store: the document, its chunks and
# the metadata stored with them.
StoredDocument = tuple[Document, list[Chunk], dict]


class WriterLock:
    """One writer per knowledge base: a thread lock for this process plus an flock for other processes."""

    def __init__(self, path: Path):
        self._thread_lock = threading.Lock()
        self._path = path
        self._fh: TextIO | None = None

    def __enter__(self) -> None:
        self._thread_lock.acquire()
        try:
            fh = self._fh = open(self._path, "a+")
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.close()
                raise AssistantError(
                    f"another process is writing to this knowledge base ({self._path.parent}); "
                    "wait for its ingestion to finish and try again"
                ) from None
        except BaseException:
            self._thread_lock.release()
            raise

    def __exit__(self, *exc) -> None:
        assert self._fh is not None  # set by __enter__
        fcntl.flock(self._fh, fcntl.LOCK_UN)
        self._fh.close()
        self._thread_lock.release()


def remove_stray_vectors(registry: Registry, store: VectorStore) -> None:
    """Make the vector store agree with the registry after an ingestion that may have been killed.

    Vectors no registry row refers to are deleted, and so are the (possibly partial) vectors of
    documents still marked incomplete: those stay listed as incomplete until re-ingested.
    """
    known = set(registry.complete_chunk_ids())
    stray = sorted(store.chunk_ids() - known)
    if stray:
        store.delete_chunks(stray)
    registry.set_meta("dirty", "0")


def uncovered_text(text: str, chunks: list[Chunk]) -> dict[str, dict[str, str]]:
    """For each chunk of one document, the document text no chunk covers right after it.

    Returns chunk id -> {"gap_after": ...}, plus "gap_before" (the text before any chunk starts) for
    the first chunk. Stored in the chunk's vector metadata, these let `documents_from_store`
    rebuild the document exactly. A chunk whose end lies inside another chunk has an empty gap;
    the gap after one that does not runs to the next chunk's start (or the end of the text).
    Cleaning and chunking leave only whitespace uncovered (line breaks, a space between two
    sentences on one line), so the gaps are small.
    """
    if not chunks:
        return {}
    ordered = sorted(chunks, key=lambda c: (c.start, c.end))
    starts = [c.start for c in ordered]
    reach = list(itertools.accumulate((c.end for c in ordered), max))  # furthest end among the first i+1
    gaps: dict[str, dict[str, str]] = {}
    for c in ordered:
        begun = bisect.bisect_right(starts, c.end)  # chunks starting at or before c.end
        if reach[begun - 1] > c.end:
            gap = ""  # another chunk goes on past this one's end
        else:
            following = bisect.bisect_left(starts, c.end)
            nxt = starts[following] if following < len(starts) else len(text)
            gap = text[c.end : max(c.end, nxt)]
        gaps[c.chunk_id] = {"gap_after": gap}
    gaps[ordered[0].chunk_id]["gap_before"] = text[: ordered[0].start]
    return gaps


def documents_from_store(store: VectorStore) -> dict[str, list[StoredDocument]]:
    """Every document the store holds, re-assembled from its chunk texts and metadata, by source.

    Chunks written with their uncovered text (`gap_before` / `gap_after`, see `uncovered_text`)
    give back the document exactly. Stores written before those keys existed still load: a gap
    without them is taken to be line breaks, as the cleaned text mostly has there.
    """
    by_doc: dict[str, list[tuple[str, str, dict]]] = {}
    for chunk_id, text, meta in store.chunk_records():
        by_doc.setdefault(meta["doc_id"], []).append((chunk_id, text, meta))
    by_source: dict[str, list[StoredDocument]] = {}
    for doc_id, rows in by_doc.items():
        rows.sort(key=lambda r: (r[2]["start"], r[2]["end"]))
        meta = rows[0][2]
        length = max(r[2]["end"] + len(r[2].get("gap_after") or "") for r in rows)
        buffer = ["\n"] * length  # a gap nothing describes: a line break of the cleaned text
        for _, _text, m in rows:
            before = m.get("gap_before") or ""
            if before and m["start"] >= len(before):
                buffer[m["start"] - len(before) : m["start"]] = list(before)
            after = m.get("gap_after") or ""
            buffer[m["end"] : m["end"] + len(after)] = list(after)
        for _, text, m in rows:
            buffer[m["start"] : m["end"]] = list(text)
        doc = Document(
            doc_id, meta["source"], meta["title"], "".join(buffer), meta["format"], meta["collection"] or None
        )
        chunks = [
            Chunk(
                cid,
                doc_id,
                m["index"],
                m["start"],
                m["end"],
                text,
                m["section"],
                None if m["page"] < 0 else m["page"],
                "",
            )
            for cid, text, m in rows
        ]
        by_source.setdefault(meta["source"], []).append((doc, chunks, meta))
    return by_source
