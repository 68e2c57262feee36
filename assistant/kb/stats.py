"""Counts and sizes of a knowledge base, as `assistant stats`, GET /stats and `Assistant.stats()` report them."""

from __future__ import annotations

from assistant.kb.registry import Registry
from assistant.kb.vectors import VectorStore
from assistant.settings import Settings


def knowledge_base_stats(settings: Settings, registry: Registry, store: VectorStore, embedding_model: str) -> dict:
    """Sources, documents (articles of a compilation separately), chunks, vectors and where the windows' are,
    interrupted ingestions, the embedding model and the bytes on disk."""
    docs = registry.documents()
    size = sum(f.stat().st_size for f in settings.kb_dir.rglob("*") if f.is_file())
    return {
        "kb": settings.kb,
        "home": str(settings.home),
        "sources": len({d.source for d in docs}),
        "documents": len(docs),
        "chunks": sum(d.n_chunks for d in docs),
        "vectors": store.count(),
        "window_vectors": "searched" if store.windows is None else "apart",
        "incomplete": sum(not d.complete for d in docs),
        "embedding_model": embedding_model,
        "disk_bytes": size,
    }
