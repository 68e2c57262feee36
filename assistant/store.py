"""Vector store: Chroma, embedded (PersistentClient) under the knowledge base's folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.errors import StoreError


@dataclass(frozen=True)
class VectorHit:
    chunk_id: str
    similarity: float  # cosine similarity, 1 = identical direction


class VectorStore:
    """One Chroma collection per knowledge base; we always pass our own embeddings.

    Chroma's default embedding function would download a model at run time, which fails
    offline, so the collection is created with no embedding function at all.
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
        return self._collection.count()

    def add(self, ids: list[str], vectors: np.ndarray, texts: list[str], metadatas: list[dict]) -> None:
        for i in range(0, len(ids), 1000):  # Chroma limits the batch size
            self._collection.upsert(
                ids=ids[i : i + 1000], embeddings=vectors[i : i + 1000], documents=texts[i : i + 1000],
                metadatas=metadatas[i : i + 1000],
            )

    def delete(self, ids: list[str]) -> None:
        for i in range(0, len(ids), 1000):
            self._collection.delete(ids=ids[i : i + 1000])

    def query(self, vector: np.ndarray, k: int) -> list[VectorHit]:
        n = self.count()
        if n == 0:
            return []
        result = self._collection.query(query_embeddings=[vector], n_results=min(k, n), include=["distances"])
        return [VectorHit(cid, 1.0 - float(d)) for cid, d in zip(result["ids"][0], result["distances"][0])]

    def ids(self) -> set[str]:
        out: set[str] = set()
        offset = 0
        while True:
            page = self._collection.get(include=[], limit=5000, offset=offset)
            out.update(page["ids"])
            if len(page["ids"]) < 5000:
                return out
            offset += 5000
