"""Document registry (SQLite): which sources are indexed, their cleaned text, 公文 fields, chunks and tokens."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from assistant.kb.fields import METADATA_COLUMNS, metadata_values, migrate_metadata
from assistant.kb.fingerprint import Fingerprint
from assistant.kb.records import ChunkRecord, DocumentRecord, SourceRecord, document_record
from ingest.chunking import Chunk
from ingest.documents import Document

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    title TEXT NOT NULL,
    collection TEXT,
    format TEXT NOT NULL,
    text TEXT NOT NULL,
    file_hash TEXT NOT NULL,
    page_starts TEXT,
    n_chunks INTEGER NOT NULL,
    ingested_at TEXT NOT NULL,
    complete INTEGER NOT NULL DEFAULT 0,
    office TEXT,
    doc_number TEXT,
    date TEXT,
    doc_type TEXT,
    classification TEXT, doc_title TEXT
);
CREATE INDEX IF NOT EXISTS documents_source ON documents(source);
CREATE INDEX IF NOT EXISTS documents_hash ON documents(file_hash);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    section TEXT NOT NULL,
    page INTEGER,
    tokens TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id, idx);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_PRINT = "chunk_print"  # meta key: the fingerprint of the complete chunks' ids (see chunk_signature)
_DOCUMENT_COLUMNS = (
    "doc_id, source, title, collection, format, file_hash, n_chunks, ingested_at, complete, "
    + ", ".join(METADATA_COLUMNS)
)


class Registry:
    """SQLite file with the documents, their chunks and the BM25 tokens of each chunk.

    Writes for one source happen in one transaction, so a crash leaves either the old or the
    new version of a document, never a mixture; rebuilding the whole registry (`replace_all`)
    is one transaction too.
    """

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        # One connection shared by threads (the UI answers while an ingestion runs); a lock
        # serialises use because sqlite3 connections are not safe for concurrent calls.
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._lock = threading.RLock()
        with self._lock:
            self._db.executescript(_SCHEMA)
            migrate_metadata(self._db)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- meta -------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    # -- documents --------------------------------------------------------------------------
    def documents(self, source: str | None = None) -> list[DocumentRecord]:
        sql = f"SELECT {_DOCUMENT_COLUMNS} FROM documents"
        args: tuple = ()
        if source is not None:
            sql += " WHERE source=?"
            args = (source,)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY source, doc_id", args).fetchall()
        return [document_record(row) for row in rows]

    def has_documents(self) -> bool:
        with self._lock:  # one row, not the whole table: asked before every answer
            return self._db.execute("SELECT 1 FROM documents LIMIT 1").fetchone() is not None

    def documents_by_id(self, doc_ids: Iterable[str]) -> dict[str, DocumentRecord]:
        ids = list(dict.fromkeys(doc_ids))
        out: dict[str, DocumentRecord] = {}
        with self._lock:
            for i in range(0, len(ids), 500):
                part = ids[i : i + 500]
                rows = self._db.execute(
                    f"SELECT {_DOCUMENT_COLUMNS} FROM documents WHERE doc_id IN ({','.join('?' * len(part))})",
                    part,
                ).fetchall()
                out.update({row[0]: document_record(row) for row in rows})
        return out

    def file_hash(self, source: str) -> str | None:
        """The content hash the source had when it was last ingested completely, if it was."""
        with self._lock:
            rows = self._db.execute("SELECT file_hash, complete FROM documents WHERE source=?", (source,)).fetchall()
        if not rows or not all(complete for _, complete in rows):
            return None
        return rows[0][0]

    def sources(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT DISTINCT source FROM documents ORDER BY source")]

    def sources_with_hash(self, file_hash: str) -> list[str]:
        """Completely ingested sources whose file content has this hash."""
        with self._lock:
            rows = self._db.execute(
                "SELECT source, MIN(complete) FROM documents WHERE file_hash=? GROUP BY source ORDER BY source",
                (file_hash,),
            ).fetchall()
        return [source for source, complete in rows if complete]

    def document_text(self, doc_id: str, limit: int | None = None) -> str | None:
        """A document's cleaned text, or its first `limit` characters (read by SQLite, not copied whole)."""
        with self._lock:
            if limit is None:
                row = self._db.execute("SELECT text FROM documents WHERE doc_id=?", (doc_id,)).fetchone()
            else:
                row = self._db.execute(
                    "SELECT substr(text, 1, ?) FROM documents WHERE doc_id=?", (limit, doc_id)
                ).fetchone()
        return row[0] if row else None

    def put_source(
        self,
        source: str,
        file_hash: str,
        docs: list[Document],
        chunks: dict[str, list[Chunk]],
        tokens: dict[str, list[str]],
        ingested_at: str,
        complete: bool,
    ) -> None:
        """Replace everything known about `source` with these documents and chunks, atomically."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._delete_source(source)
                self._insert_source(SourceRecord(source, file_hash, docs, chunks, tokens, ingested_at, complete))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def replace_all(self, sources: Iterable[SourceRecord], meta: dict[str, str] | None = None) -> None:
        """Forget every document and write these sources (and meta keys) instead, in one transaction.

        Used to rebuild the registry from the vector store: an exception or a crash half-way
        leaves the registry exactly as it was before, never empty or partly rewritten.
        """
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute("DELETE FROM chunks")
                self._db.execute("DELETE FROM documents")
                self._set_print(Fingerprint())
                for record in sources:
                    self._insert_source(record)
                for key, value in (meta or {}).items():
                    self._db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _insert_source(self, record: SourceRecord) -> None:
        if record.complete:
            self._shift_print(added=[c.chunk_id for cs in record.chunks.values() for c in cs])
        for doc in record.docs:
            doc_chunks = record.chunks[doc.doc_id]
            columns = (
                "doc_id, source, title, collection, format, text, file_hash, page_starts, n_chunks, ingested_at, "
                "complete, " + ", ".join(METADATA_COLUMNS)
            )
            self._db.execute(
                f"INSERT INTO documents ({columns}) VALUES ({','.join('?' * (11 + len(METADATA_COLUMNS)))})",
                (
                    doc.doc_id,
                    doc.source,
                    doc.title,
                    doc.collection,
                    doc.format,
                    doc.text,
                    record.file_hash,
                    json.dumps(doc.page_starts) if doc.page_starts else None,
                    len(doc_chunks),
                    record.ingested_at,
                    int(record.complete),
                    *metadata_values(doc.title, doc.text),  # derived here, so every writer (ingest, resync) has them
                ),
            )
            self._db.executemany(
                "INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?)",
                [
                    (
                        c.chunk_id,
                        c.doc_id,
                        c.index,
                        c.start,
                        c.end,
                        c.section,
                        c.page,
                        " ".join(record.tokens[c.chunk_id]),
                    )
                    for c in doc_chunks
                ],
            )

    def mark_complete(self, source: str) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                added = self._db.execute(
                    "SELECT c.chunk_id FROM chunks c JOIN documents d ON c.doc_id=d.doc_id "
                    "WHERE d.source=? AND d.complete=0",
                    (source,),
                ).fetchall()
                self._shift_print(added=[r[0] for r in added])
                self._db.execute("UPDATE documents SET complete=1 WHERE source=?", (source,))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def delete_source(self, source: str) -> list[str]:
        """Forget a source; returns the ids of the chunks it had."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                ids = self._delete_source(source)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return ids

    def _delete_source(self, source: str) -> list[str]:
        docs = self._db.execute("SELECT doc_id, complete FROM documents WHERE source=?", (source,)).fetchall()
        chunk_ids: list[str] = []
        for doc_id, complete in docs:
            ids = [r[0] for r in self._db.execute("SELECT chunk_id FROM chunks WHERE doc_id=?", (doc_id,))]
            if complete:
                self._shift_print(removed=ids)
            chunk_ids += ids
            self._db.execute("DELETE FROM chunks WHERE doc_id=?", (doc_id,))
        self._db.execute("DELETE FROM documents WHERE source=?", (source,))
        return chunk_ids

    # -- the fingerprint of the complete chunks -----------------------------------------------
    def chunk_signature(self, verify: bool = False) -> str:
        """The fingerprint of the ids of every chunk of every complete document (what BM25 must hold).

        Every write keeps it up to date in its own transaction, so reading it is one row; `verify`
        computes it from every chunk id (at opening, after a failure) and repairs the stored one.
        """
        with self._lock:
            stored = Fingerprint.parse(self.get_meta(_PRINT))
            if stored is not None and not verify:
                return str(stored)
            # A read transaction first (one snapshot for both reads): opening takes no write lock when all is well.
            for begin in ("BEGIN", "BEGIN IMMEDIATE"):
                self._db.execute(begin)
                try:
                    actual = Fingerprint.of(self.complete_chunk_ids())
                    right = Fingerprint.parse(self.get_meta(_PRINT)) == actual
                    if not right and begin == "BEGIN IMMEDIATE":
                        self._set_print(actual)
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                if right:
                    break
        return str(actual)

    def _shift_print(self, added: list[str] | None = None, removed: list[str] | None = None) -> None:
        """Update the stored fingerprint inside the caller's transaction (left alone while there is none)."""
        stored = Fingerprint.parse(self.get_meta(_PRINT))
        if stored is not None:
            self._set_print(stored.plus(added or ()).minus(removed or ()))

    def _set_print(self, value: Fingerprint) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (_PRINT, str(value)))

    # -- chunks -----------------------------------------------------------------------------
    def chunk_ids_of_source(self, source: str) -> list[str]:
        with self._lock:
            return [
                r[0]
                for r in self._db.execute(
                    "SELECT c.chunk_id FROM chunks c JOIN documents d ON c.doc_id=d.doc_id WHERE d.source=?",
                    (source,),
                )
            ]

    def chunks(self, chunk_ids: Iterable[str]) -> dict[str, ChunkRecord]:
        ids = list(chunk_ids)
        out: dict[str, ChunkRecord] = {}
        with self._lock:
            for i in range(0, len(ids), 500):
                part = ids[i : i + 500]
                marks = ",".join("?" * len(part))
                for row in self._db.execute(
                    f"SELECT chunk_id, doc_id, idx, start, end, section, page FROM chunks WHERE chunk_id IN ({marks})",
                    part,
                ):
                    out[row[0]] = ChunkRecord(*row)
        return out

    def chunk_ids_of_documents(self, doc_ids: Iterable[str]) -> list[str]:
        ids = list(doc_ids)
        out: list[str] = []
        with self._lock:
            for i in range(0, len(ids), 500):
                part = ids[i : i + 500]
                marks = ",".join("?" * len(part))
                out += [r[0] for r in self._db.execute(f"SELECT chunk_id FROM chunks WHERE doc_id IN ({marks})", part)]
        return out

    def chunks_of_document(self, doc_id: str) -> list[ChunkRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT chunk_id, doc_id, idx, start, end, section, page FROM chunks WHERE doc_id=? ORDER BY idx",
                (doc_id,),
            ).fetchall()
        return [ChunkRecord(*row) for row in rows]

    def complete_chunk_ids(self) -> list[str]:
        """Ids of every chunk of every complete document (what the BM25 index must hold)."""
        with self._lock:
            return [
                r[0]
                for r in self._db.execute(
                    "SELECT c.chunk_id FROM chunks c JOIN documents d ON c.doc_id=d.doc_id WHERE d.complete=1"
                )
            ]

    def iter_tokens(self, page: int = 2000, sources: Iterable[str] | None = None) -> Iterator[tuple[str, list[str]]]:
        """(chunk id, BM25 tokens) of every chunk of every complete document (of `sources`), in a stable order.

        Read a page at a time (keyset on chunk_id), so building the BM25 index never holds every
        token string of the knowledge base at once.
        """
        names = sorted(set(sources)) if sources is not None else []
        for i in range(0, len(names), 500) if sources is not None else [None]:
            group = [] if i is None else names[i : i + 500]
            where = f" AND d.source IN ({','.join('?' * len(group))})" if group else ""
            after = ""
            while True:
                with self._lock:
                    rows = self._db.execute(
                        "SELECT c.chunk_id, c.tokens FROM chunks c JOIN documents d ON c.doc_id=d.doc_id "
                        f"WHERE d.complete=1 AND c.chunk_id > ?{where} ORDER BY c.chunk_id LIMIT ?",
                        (after, *group, page),
                    ).fetchall()
                for chunk_id, tokens in rows:
                    yield chunk_id, tokens.split(" ") if tokens else []
                if len(rows) < page:
                    break
                after = rows[-1][0]

    def count_chunks_of_source(self, source: str) -> int:
        with self._lock:
            return self._db.execute(
                "SELECT COUNT(*) FROM chunks c JOIN documents d ON c.doc_id=d.doc_id WHERE d.source=?", (source,)
            ).fetchone()[0]

    def set_tokens(self, tokens: dict[str, list[str]]) -> None:
        with self._lock:
            self._db.executemany(
                "UPDATE chunks SET tokens=? WHERE chunk_id=?", [(" ".join(t), cid) for cid, t in tokens.items()]
            )

    def clear(self) -> None:
        """Forget every document, in one transaction."""
        self.replace_all([])
