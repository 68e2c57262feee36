"""Vector store: Chroma, embedded (PersistentClient) under the knowledge base's folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.errors import StoreError

_BATCH = 1000  # Chroma refuses larger batches on some builds


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


class VectorStore:
    """One Chroma collection per knowledge base, holding chunk and sentence-window vectors.

    We always pass our own embeddings: Chroma's default embedding function would download a
    model at run time, which fails offline, so the collection has no embedding function.
    """

    def __init__(self, folder: Path, collection: str):
        try:
            import chromadb
            from chromadb.config import Settings as ChromaSettings

            folder.mkdir(parents=True, exist_ok=True)
            self._client = chromadb.PersistentClient(
                path=str(folder), settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False)
            )
            self._collection = self._client.get_or_create_collection(
                name=collection, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
            )
        except Exception as exc:  # chromadb raises several unrelated types for a bad folder
            raise StoreError(
                f"cannot open the vector store in {folder}: {exc}. If the folder is damaged, delete it and "
                "ingest the documents again."
            ) from exc

    def count(self) -> int:
        """Number of vectors (chunks and windows)."""
        return self._collection.count()

    def add(self, records: list[VectorRecord]) -> None:
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

    def query(self, vector: np.ndarray, k: int) -> list[VectorHit]:
        """The k nearest vectors (chunks or windows), nearest first."""
        n = self.count()
        if n == 0:
            return []
        result = self._collection.query(
            query_embeddings=[vector], n_results=min(k, n), include=["distances", "metadatas"]
        )
        return [
            VectorHit(rid, meta["chunk_id"], 1.0 - float(dist))
            for rid, dist, meta in zip(result["ids"][0], result["distances"][0], result["metadatas"][0])
        ]

    def vectors_of(self, chunk_ids: list[str]) -> dict[str, list[tuple[str, np.ndarray]]]:
        """All vectors of these chunks, as chunk id -> [(kind, vector)]."""
        out: dict[str, list[tuple[str, np.ndarray]]] = {}
        for i in range(0, len(chunk_ids), _BATCH):
            got = self._collection.get(
                where={"chunk_id": {"$in": chunk_ids[i : i + _BATCH]}}, include=["embeddings", "metadatas"]
            )
            for vector, meta in zip(got["embeddings"], got["metadatas"]):
                out.setdefault(meta["chunk_id"], []).append((meta["kind"], np.asarray(vector, dtype=np.float32)))
        return out

    def chunk_ids(self) -> set[str]:
        """Ids of every chunk that has at least one vector."""
        out: set[str] = set()
        offset = 0
        page_size = 5000
        while True:
            page = self._collection.get(include=["metadatas"], limit=page_size, offset=offset)
            out.update(m["chunk_id"] for m in page["metadatas"])
            if len(page["ids"]) < page_size:
                return out
            offset += page_size
