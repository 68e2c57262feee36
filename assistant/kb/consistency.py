"""Keeping one knowledge base consistent: one writer at a time, crash recovery, server-mode resync."""

from __future__ import annotations

import fcntl
import threading
from pathlib import Path

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
        self._fh = None

    def __enter__(self) -> None:
        self._thread_lock.acquire()
        try:
            self._fh = open(self._path, "a+")
            try:
                fcntl.flock(self._fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self._fh.close()
                raise AssistantError(
                    f"another process is writing to this knowledge base ({self._path.parent}); "
                    "wait for its ingestion to finish and try again"
                ) from None
        except BaseException:
            self._thread_lock.release()
            raise

    def __exit__(self, *exc) -> None:
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


def documents_from_store(store: VectorStore) -> dict[str, list[StoredDocument]]:
    """Every document the store holds, re-assembled from its chunk texts and metadata, by source."""
    by_doc: dict[str, list[tuple[str, str, dict]]] = {}
    for chunk_id, text, meta in store.chunk_records():
        by_doc.setdefault(meta["doc_id"], []).append((chunk_id, text, meta))
    by_source: dict[str, list[StoredDocument]] = {}
    for doc_id, rows in by_doc.items():
        rows.sort(key=lambda r: r[2]["start"])
        meta = rows[0][2]
        length = max(r[2]["end"] for r in rows)
        buffer = ["\n"] * length  # gaps between chunks are line breaks of the cleaned text
        for _, text, m in rows:
            buffer[m["start"] : m["end"]] = list(text)
        doc = Document(doc_id, meta["source"], meta["title"], "".join(buffer), meta["format"],
                       meta["collection"] or None)
        chunks = [Chunk(cid, doc_id, m["index"], m["start"], m["end"], text, m["section"],
                        None if m["page"] < 0 else m["page"], "") for cid, text, m in rows]
        by_source.setdefault(meta["source"], []).append((doc, chunks, meta))
    return by_source
