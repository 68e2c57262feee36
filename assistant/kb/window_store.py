"""Sentence-window vectors kept beside the searched index: read by chunk id, never searched by nearest neighbour.

Each chunk has about four windows, so in Chroma's in-process HNSW they were four fifths of the memory
(~2 KB a vector: 1.6 GB of app RSS at 100k chunks). The search only needs each chunk's own vector; the windows
score the candidates it and BM25 found. Embedded, they live in a SQLite file beside Chroma's (the process reads
the few pages a question needs); on a Chroma server, in a second collection that is only read by id, so every
app instance sharing the server sees them.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Protocol

import numpy as np

from assistant.errors import StoreError

_BATCH = 500  # ids per SQL statement / Chroma call

Span = tuple[int, int, np.ndarray]  # document offsets a window covers, and its vector


class WindowRecord(Protocol):
    """A window's vector as vectors.VectorRecord carries it (its metadata has the document offsets)."""

    @property
    def record_id(self) -> str: ...

    @property
    def chunk_id(self) -> str: ...

    @property
    def vector(self) -> np.ndarray: ...

    @property
    def metadata(self) -> dict: ...


class WindowStore(Protocol):
    """Where the sentence windows' vectors are: written and deleted with their chunks, read by chunk id."""

    def add(self, records: list[WindowRecord]) -> None: ...

    def delete_chunks(self, chunk_ids: list[str]) -> None: ...

    def spans(self, chunk_ids: Iterable[str], most_windows: Mapping[str, int] | None = None) -> dict[str, list[Span]]:
        """Each chunk's windows in document order; `most_windows` bounds how many a chunk can have (a hint)."""
        ...

    def chunk_ids(self) -> set[str]: ...

    def count(self) -> int: ...

    def close(self) -> None: ...


class LocalWindows:
    """Window vectors in one SQLite file (float32, so scores are the ones Chroma gave), clustered by chunk id."""

    def __init__(self, path: Path):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # One connection for the store, serialised by a lock: handlers on several threads share it.
            self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS windows (chunk_id TEXT NOT NULL, record_id TEXT NOT NULL, "
                "start INTEGER NOT NULL, end INTEGER NOT NULL, vector BLOB NOT NULL, "
                "PRIMARY KEY (chunk_id, record_id)) WITHOUT ROWID"
            )
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(
                f"cannot open the window vectors {path} ({exc}); check that the folder is writable. If the file is "
                "damaged, delete the knowledge base's chroma folder and ingest the documents again."
            ) from exc
        self.path = path
        self._lock = threading.RLock()

    def add(self, records: list[WindowRecord]) -> None:
        rows = [
            (
                r.chunk_id,
                r.record_id,
                int(r.metadata["start"]),
                int(r.metadata["end"]),
                np.asarray(r.vector, dtype=np.float32).tobytes(),
            )
            for r in records
        ]
        with self._lock, self._db:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO windows VALUES (?, ?, ?, ?, ?)", rows)

    def delete_chunks(self, chunk_ids: list[str]) -> None:
        with self._lock, self._db:
            self._db.execute("BEGIN")
            for i in range(0, len(chunk_ids), _BATCH):
                part = chunk_ids[i : i + _BATCH]
                self._db.execute(f"DELETE FROM windows WHERE chunk_id IN ({','.join('?' * len(part))})", part)

    def spans(self, chunk_ids: Iterable[str], most_windows: Mapping[str, int] | None = None) -> dict[str, list[Span]]:
        ids = list(dict.fromkeys(chunk_ids))  # clustered by chunk id: the bound is not needed
        out: dict[str, list[Span]] = {}
        with self._lock:
            for i in range(0, len(ids), _BATCH):
                part = ids[i : i + _BATCH]
                rows = self._db.execute(
                    f"SELECT chunk_id, start, end, vector FROM windows WHERE chunk_id IN ({','.join('?' * len(part))}) "
                    "ORDER BY chunk_id, start",
                    part,
                ).fetchall()
                for chunk_id, start, end, blob in rows:
                    out.setdefault(chunk_id, []).append((start, end, np.frombuffer(blob, dtype=np.float32)))
        return out

    def chunk_ids(self) -> set[str]:
        with self._lock:
            return {row[0] for row in self._db.execute("SELECT DISTINCT chunk_id FROM windows")}

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM windows").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()


class ChromaWindows:
    """Window vectors in a second collection of a Chroma server: only read by id, so none of its search is used."""

    def __init__(self, collection):
        self._collection = collection

    def add(self, records: list[WindowRecord]) -> None:
        for i in range(0, len(records), _BATCH):
            part = records[i : i + _BATCH]
            self._collection.upsert(
                ids=[r.record_id for r in part],
                embeddings=np.stack([r.vector for r in part]),
                metadatas=[
                    {"chunk_id": r.chunk_id, "start": int(r.metadata["start"]), "end": int(r.metadata["end"])}
                    for r in part
                ],
            )

    def delete_chunks(self, chunk_ids: list[str]) -> None:
        for i in range(0, len(chunk_ids), _BATCH):
            self._collection.delete(where={"chunk_id": {"$in": chunk_ids[i : i + _BATCH]}})

    def spans(self, chunk_ids: Iterable[str], most_windows: Mapping[str, int] | None = None) -> dict[str, list[Span]]:
        """Read by id ("<chunk>:0" … below the bound) where a bound is known: the filter on chunk_id scans the
        collection (6x the cost at 500k vectors); a chunk whose last possible window exists is read by the filter."""
        ids = list(dict.fromkeys(chunk_ids))
        bounds = most_windows or {}
        out: dict[str, list[Span]] = {}

        def keep(got) -> None:
            for vector, meta in zip(got["embeddings"], got["metadatas"]):
                out.setdefault(meta["chunk_id"], []).append(
                    (int(meta["start"]), int(meta["end"]), np.asarray(vector, dtype=np.float32))
                )

        by_id = [f"{cid}:{j}" for cid in ids if cid in bounds for j in range(bounds[cid])]
        for i in range(0, len(by_id), _BATCH):
            keep(self._collection.get(ids=by_id[i : i + _BATCH], include=["embeddings", "metadatas"]))
        unsure = [cid for cid in ids if cid not in bounds or len(out.get(cid, ())) >= bounds[cid]]
        for cid in unsure:
            out.pop(cid, None)
        for i in range(0, len(unsure), _BATCH):
            keep(
                self._collection.get(
                    where={"chunk_id": {"$in": unsure[i : i + _BATCH]}}, include=["embeddings", "metadatas"]
                )
            )
        for spans in out.values():
            spans.sort(key=lambda s: s[0])
        return out

    def chunk_ids(self) -> set[str]:
        return chunk_ids_in(self._collection)

    def count(self) -> int:
        return self._collection.count()

    def close(self) -> None:
        pass


def chunk_ids_in(collection) -> set[str]:
    """The chunk ids named in the metadata of every vector of a Chroma collection, read page by page."""
    out: set[str] = set()
    offset, page_size = 0, 5000
    while True:
        page = collection.get(include=["metadatas"], limit=page_size, offset=offset)
        out.update(m["chunk_id"] for m in page["metadatas"])
        if len(page["ids"]) < page_size:
            return out
        offset += page_size
