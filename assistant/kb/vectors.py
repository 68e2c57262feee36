"""Vector store: Chroma, embedded (PersistentClient) in the knowledge base's folder or on a Chroma server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from assistant.errors import StoreError
from assistant.kb.window_store import ChromaWindows, LocalWindows, WindowStore, chunk_ids_in

_BATCH = 1000  # Chroma refuses larger batches on some builds
#: Collection metadata saying where the sentence windows' vectors are: "searched" in this collection beside their
#: chunks (every knowledge base made before 2026-12-06, which has no mark), or "apart" (window_store.py).
WINDOWS_KEY, SEARCHED, APART = "windows", "searched", "apart"


@dataclass(frozen=True)
class VectorRecord:
    """One vector of a chunk: the whole chunk (kind "chunk") or one of its sentence windows ("window")."""

    record_id: str
    chunk_id: str
    kind: str
    text: str
    vector: np.ndarray
    metadata: dict


@dataclass(frozen=True)
class VectorHit:
    record_id: str
    chunk_id: str
    similarity: float  # cosine similarity, 1 = identical direction


def parse_headers(text: str) -> dict[str, str]:
    """HTTP headers for a Chroma server from "Name: value; Other: value" (e.g. an auth token)."""
    headers = {}
    for item in filter(None, (part.strip() for part in text.split(";"))):
        name, sep, value = item.partition(":")
        if not sep or not name.strip():
            raise StoreError(f"cannot read the header {item!r}: write it as 'Name: value'")
        headers[name.strip()] = value.strip()
    return headers


def open_store(
    folder: Path, collection: str, url: str = "", headers: str = "", window_vectors: str = SEARCHED
) -> VectorStore:
    """The vector store of a knowledge base: embedded under `folder`, or on the Chroma server at `url`.

    `window_vectors` is the layout of a new (or emptied) knowledge base; one with vectors keeps the layout it has.
    """
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if not url:
        where = str(folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            client = chromadb.PersistentClient(path=where, settings=chroma_settings)
        except Exception as exc:  # chromadb raises several unrelated types for a bad folder
            raise StoreError(
                f"cannot open the vector store in {folder}: {exc}. If the folder is damaged, delete it and "
                "ingest the documents again."
            ) from exc
    else:
        parsed = urlparse(url if "://" in url else f"http://{url}")
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise StoreError(f"chroma_url {url!r}: expected http(s)://HOST:PORT, e.g. http://127.0.0.1:8000")
        where = url
        try:
            client = chromadb.HttpClient(
                host=parsed.hostname,
                port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                ssl=parsed.scheme == "https",
                headers=parse_headers(headers),
                settings=chroma_settings,
            )
            client.heartbeat()
        except Exception as exc:
            raise StoreError(
                f"cannot reach the Chroma server at {url}: {exc}. Start it (chroma run --path DIR --host HOST "
                "--port PORT) or unset ASSISTANT_CHROMA_URL to use the embedded store."
            ) from exc
    local = None if url else folder / "windows.sqlite3"
    return VectorStore(client, collection, where, local_windows=local, window_vectors=window_vectors)


class VectorStore:
    """One Chroma collection per knowledge base, holding chunk and sentence-window vectors.

    We always pass our own embeddings: Chroma's default embedding function would download a
    model at run time, which fails offline, so the collection has no embedding function.
    The collection's metadata carries a generation stamp that every write changes, so several
    app instances sharing a Chroma server notice each other's ingestions.

    The sentence windows' vectors are searched with the chunks' in the collection (`windows` is None), or, in a
    knowledge base made with window_vectors = "apart", kept apart (`windows`, see window_store.py): embedded in
    `local_windows`, on a server in the collection "<name>.windows"; then only the chunks' vectors are searched.
    """

    def __init__(
        self,
        client,
        collection: str,
        where: str,
        local_windows: Path | None = None,
        window_vectors: str = SEARCHED,
    ):
        if window_vectors not in (SEARCHED, APART):
            raise StoreError(f"window_vectors {window_vectors!r}: use {SEARCHED!r} or {APART!r}")
        self._client = client
        self._closed = False
        self.where = where
        self._name = collection
        try:
            self._collection = client.get_or_create_collection(
                name=collection, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
            )
            layout = (self._collection.metadata or {}).get(WINDOWS_KEY, SEARCHED)
            if layout != window_vectors and self._collection.count() == 0:
                self._set_metadata(**{WINDOWS_KEY: window_vectors})  # new or emptied: the layout asked for
                layout = window_vectors
            self.windows: WindowStore | None = None
            if layout == APART:
                self.windows = (
                    LocalWindows(local_windows)
                    if local_windows is not None
                    else ChromaWindows(
                        client.get_or_create_collection(
                            name=f"{collection}.windows",
                            embedding_function=None,
                            configuration={"hnsw": {"space": "cosine"}},
                        )
                    )
                )
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(f"cannot open the collection {collection!r} in {where}: {exc}") from exc

    def _set_metadata(self, **values: str) -> None:
        # Chroma replaces a collection's metadata as a whole: keep what is there.
        current = self._client.get_collection(self._name, embedding_function=None).metadata or {}
        self._collection.modify(metadata={**current, **values})

    def generation(self) -> str:
        """The stamp of the collection's last write (as seen by the store, not by this process)."""
        metadata = self._client.get_collection(self._name, embedding_function=None).metadata or {}
        return str(metadata.get("generation", ""))

    def bump_generation(self) -> str:
        stamp = uuid.uuid4().hex
        self._set_metadata(generation=stamp)
        return stamp

    def chunk_records(self) -> Iterator[tuple[str, str, dict]]:
        """(chunk id, chunk text, metadata) of every whole-chunk vector, page by page."""
        offset = 0
        page_size = 2000
        while True:
            page = self._collection.get(
                where={"kind": "chunk"}, include=["documents", "metadatas"], limit=page_size, offset=offset
            )
            yield from zip(page["ids"], page["documents"], page["metadatas"])
            if len(page["ids"]) < page_size:
                return
            offset += page_size

    def records(self, page_size: int = 2000) -> Iterator[list[VectorRecord]]:
        """Every stored vector with its text and metadata, a page at a time: what `add` would write them again from.

        Windows kept apart hold only their offsets and vectors; their text and metadata are rebuilt from their chunk's
        record, as `chunk_vectors.vector_records` made them (`<chunk id>:<n>` in document order, the chunk's metadata
        without the text between chunks, their own offsets).
        """
        offset = 0
        while True:
            page = self._collection.get(
                include=["embeddings", "documents", "metadatas"], limit=page_size, offset=offset
            )
            got = [
                VectorRecord(rid, meta["chunk_id"], meta["kind"], text, np.asarray(vector, np.float32), meta)
                for rid, vector, text, meta in zip(
                    page["ids"], page["embeddings"], page["documents"], page["metadatas"]
                )
            ]
            if self.windows is not None:
                chunks = {r.chunk_id: r for r in got if r.kind == "chunk"}
                for chunk_id, spans in self.windows.spans(chunks).items():
                    chunk = chunks[chunk_id]
                    meta = {k: v for k, v in chunk.metadata.items() if k not in ("gap_before", "gap_after")}
                    at = int(chunk.metadata["start"])
                    got += [
                        VectorRecord(
                            f"{chunk_id}:{n}",
                            chunk_id,
                            "window",
                            chunk.text[start - at : end - at],
                            vector,
                            {**meta, "kind": "window", "start": start, "end": end},
                        )
                        for n, (start, end, vector) in enumerate(spans)
                    ]
            yield got
            if len(page["ids"]) < page_size:
                return
            offset += page_size

    def count(self) -> int:
        """Number of vectors (chunks and windows)."""
        return self._collection.count() + (self.windows.count() if self.windows is not None else 0)

    def add(self, records: list[VectorRecord]) -> None:
        if self.windows is not None:
            self.windows.add([r for r in records if r.kind == "window"])
            records = [r for r in records if r.kind != "window"]
        for i in range(0, len(records), _BATCH):
            part = records[i : i + _BATCH]
            self._collection.upsert(
                ids=[r.record_id for r in part],
                embeddings=np.stack([r.vector for r in part]),
                documents=[r.text for r in part],
                metadatas=[{**r.metadata, "chunk_id": r.chunk_id, "kind": r.kind} for r in part],
            )

    def delete_chunks(self, chunk_ids: list[str]) -> None:
        """Delete every vector (chunk and windows) of these chunks."""
        for i in range(0, len(chunk_ids), _BATCH):
            self._collection.delete(where={"chunk_id": {"$in": chunk_ids[i : i + _BATCH]}})
        if self.windows is not None:
            self.windows.delete_chunks(chunk_ids)

    def nearest_chunks(self, vector: np.ndarray, n: int, doc_ids: list[str] | None = None) -> list[VectorHit]:
        """The n chunks nearest the vector by their best stored vector, nearest first (see `query` for `doc_ids`)."""
        # Windows searched beside their chunks take up to ~4 of the k nearest per chunk.
        best: dict[str, VectorHit] = {}
        for hit in self.query(vector, n if self.windows is not None else n * 4, doc_ids):
            best.setdefault(hit.chunk_id, hit)
        return list(best.values())[:n]

    def close(self) -> None:
        """Close the window vectors' file and release Chroma's client: the last one open on a folder closes its
        database, so the folder can be moved (relayout.py) and opened afresh. Closing twice does nothing."""
        if self._closed:
            return
        self._closed = True
        if self.windows is not None:
            self.windows.close()
        self._client.close()

    def query(self, vector: np.ndarray, k: int, doc_ids: list[str] | None = None) -> list[VectorHit]:
        """The k nearest vectors (chunks or windows), nearest first; only of these documents when `doc_ids` is given.

        The restriction is part of Chroma's search (a metadata filter), so the k are the nearest
        of those documents, not what is left of the k nearest overall.
        """
        if doc_ids is not None and not doc_ids:
            return []
        where = {"doc_id": {"$in": doc_ids}} if doc_ids is not None else None
        # No count() first: Chroma gives what it has when asked for more (none from an empty collection),
        # and counting costs 30 ms at 500k vectors, three times the search itself.
        result = self._collection.query(
            query_embeddings=[vector], n_results=k, where=where, include=["distances", "metadatas"]
        )
        return [
            VectorHit(rid, meta["chunk_id"], 1.0 - float(dist))
            for rid, dist, meta in zip(result["ids"][0], result["distances"][0], result["metadatas"][0])
        ]

    def vectors_of(
        self, chunk_ids: list[str], most_windows: Mapping[str, int] | None = None
    ) -> dict[str, list[tuple[str, np.ndarray]]]:
        """All vectors of these chunks, as chunk id -> [(kind, vector)]; see `_vectors_and_metadata` for `most_windows`."""
        out: dict[str, list[tuple[str, np.ndarray]]] = {}
        if self.windows is not None:
            for cid, spans in self._apart(chunk_ids, most_windows, offsets=False).items():
                out[cid] = [("chunk" if kind else "window", vector) for kind, _, _, vector in spans]
            return out
        for vector, meta in self._vectors_and_metadata(chunk_ids, most_windows, offsets=False):
            out.setdefault(meta["chunk_id"], []).append((meta["kind"], vector))
        return out

    def spans_of(
        self, chunk_ids: list[str], most_windows: Mapping[str, int] | None = None
    ) -> dict[str, list[tuple[int, int, np.ndarray]]]:
        """Every vector of these chunks with the document offsets it covers, as chunk id -> [(start, end, vector)]."""
        out: dict[str, list[tuple[int, int, np.ndarray]]] = {}
        if self.windows is not None:
            for cid, spans in self._apart(chunk_ids, most_windows, offsets=True).items():
                out[cid] = [(start, end, vector) for _, start, end, vector in spans]
            return out
        for vector, meta in self._vectors_and_metadata(chunk_ids, most_windows, offsets=True):
            out.setdefault(meta["chunk_id"], []).append((int(meta["start"]), int(meta["end"]), vector))
        return out

    def _apart(
        self, chunk_ids: list[str], most_windows: Mapping[str, int] | None, offsets: bool
    ) -> dict[str, list[tuple[bool, int, int, np.ndarray]]]:
        """With the windows apart: each chunk's own vector from the collection (by id), then its windows,
        as chunk id -> [(is the whole chunk, start, end, vector)]; offsets are -1 without `offsets`."""
        assert self.windows is not None
        out: dict[str, list[tuple[bool, int, int, np.ndarray]]] = {}
        include = ["embeddings", "metadatas"] if offsets else ["embeddings"]
        for i in range(0, len(chunk_ids), _BATCH):
            got = self._collection.get(ids=chunk_ids[i : i + _BATCH], include=include)
            metas = got["metadatas"] if offsets else [{"start": -1, "end": -1}] * len(got["ids"])
            for cid, vector, meta in zip(got["ids"], got["embeddings"], metas):
                out[cid] = [(True, int(meta["start"]), int(meta["end"]), np.asarray(vector, dtype=np.float32))]
        for cid, spans in self.windows.spans(list(out), most_windows).items():
            out[cid] += [(False, start, end, vector) for start, end, vector in spans]
        return out

    def _vectors_and_metadata(
        self, chunk_ids: list[str], most_windows: Mapping[str, int] | None, offsets: bool
    ) -> list[tuple[np.ndarray, dict]]:
        """Every vector of these chunks with its metadata (chunk_id and kind; the offsets too with `offsets`).

        With `most_windows` (chunk id -> at most how many sentence windows it can have), the vectors are read
        by their ids — the chunk's own and "<chunk>:0" … "<chunk>:<n-1>" — a primary-key lookup; the metadata
        filter on chunk_id scans, and costs ~6× as much at 500k vectors (76 ms against 13). A chunk whose last
        possible window exists (the bound may be wrong: other settings at ingestion) or that has no vector
        under those ids (another id scheme) is read by the filter. Without `offsets` the stored metadata is not
        read at all (half the cost): the id says whose vector it is and of which kind.
        """
        found: list[tuple[np.ndarray, dict]] = []
        by_filter = [cid for cid in chunk_ids if most_windows is None or cid not in most_windows]
        if most_windows is not None:
            wanted = [cid for cid in chunk_ids if cid in most_windows]
            known: dict[str, dict] = {}  # record id -> whose vector it is and of which kind
            for cid in wanted:
                known[cid] = {"chunk_id": cid, "kind": "chunk"}
                known.update({f"{cid}:{j}": {"chunk_id": cid, "kind": "window"} for j in range(most_windows[cid])})
            ids = list(known)
            include = ["embeddings", "metadatas"] if offsets else ["embeddings"]
            seen: set[str] = set()
            for i in range(0, len(ids), _BATCH):
                got = self._collection.get(ids=ids[i : i + _BATCH], include=include)
                seen.update(got["ids"])
                metas = got["metadatas"] if offsets else [known[rid] for rid in got["ids"]]
                found.extend(
                    (np.asarray(vector, dtype=np.float32), meta) for vector, meta in zip(got["embeddings"], metas)
                )
            unsure = {cid for cid in wanted if f"{cid}:{most_windows[cid] - 1}" in seen or cid not in seen}
            found = [(v, m) for v, m in found if m["chunk_id"] not in unsure]
            by_filter += [cid for cid in wanted if cid in unsure]
        for i in range(0, len(by_filter), _BATCH):
            got = self._collection.get(
                where={"chunk_id": {"$in": by_filter[i : i + _BATCH]}}, include=["embeddings", "metadatas"]
            )
            found.extend(
                (np.asarray(vector, dtype=np.float32), meta)
                for vector, meta in zip(got["embeddings"], got["metadatas"])
            )
        return found

    def chunk_ids(self) -> set[str]:
        """Ids of every chunk that has at least one vector."""
        return chunk_ids_in(self._collection) | (self.windows.chunk_ids() if self.windows is not None else set())
