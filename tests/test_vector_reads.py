"""Reading a chunk's vectors by id (fast at scale) gives exactly what the chunk_id filter gives, whatever the bound.

These are knowledge bases made before the windows were kept apart (test_window_store.py has the layout since):
both kinds of vector in the one collection, written as the code of the time wrote them.
"""

import chromadb
import numpy as np
import pytest
from chromadb.config import Settings as ChromaSettings

from assistant.kb.vectors import VectorRecord, open_store


def _unit(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal(8).astype(np.float32)
    return v / np.linalg.norm(v)


def _chunk(chunk_id: str, windows: int, seed: int, doc_id: str = "d1") -> list[VectorRecord]:
    meta = {"doc_id": doc_id, "start": 0, "end": 10}
    records = [VectorRecord(chunk_id, chunk_id, "chunk", chunk_id, _unit(seed), meta)]
    records += [
        VectorRecord(f"{chunk_id}:{j}", chunk_id, "window", f"{chunk_id} {j}", _unit(seed * 100 + j), meta)
        for j in range(windows)
    ]
    return records


def _as_sets(got: dict) -> dict:
    return {cid: sorted((kind, tuple(np.round(v, 6))) for kind, v in items) for cid, items in got.items()}


def write_mixed(folder, name: str, records: list[VectorRecord]) -> None:
    """A collection as the code before 2026-12-06 wrote it: chunks and windows side by side, no layout mark."""
    settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)  # as open_store's, which shares the client
    client = chromadb.PersistentClient(path=str(folder), settings=settings)
    collection = client.get_or_create_collection(
        name=name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
    )
    collection.upsert(
        ids=[r.record_id for r in records],
        embeddings=np.stack([r.vector for r in records]),
        documents=[r.text for r in records],
        metadatas=[{**r.metadata, "chunk_id": r.chunk_id, "kind": r.kind} for r in records],
    )


@pytest.fixture
def store(tmp_path):
    # Another id scheme (a knowledge base written by other code): only the filter finds these.
    meta = {"doc_id": "d2", "start": 0, "end": 10, "chunk_id": "x"}
    write_mixed(
        tmp_path / "chroma",
        "kb_test",
        _chunk("a", 4, 1)
        + _chunk("b", 0, 2)
        + _chunk("c", 9, 3)
        + [VectorRecord("legacy-1", "x", "chunk", "x", _unit(7), meta)]
        + [VectorRecord("legacy-2", "x", "window", "x 0", _unit(8), meta)],
    )
    s = open_store(tmp_path / "chroma", "kb_test")
    assert s.windows is None  # read as it was written
    return s


def test_reading_by_id_returns_what_the_filter_returns(store):
    ids = ["a", "b", "c", "x"]
    by_filter = store.vectors_of(ids)
    assert [len(by_filter[c]) for c in ids] == [5, 1, 10, 2]
    # right bounds, a bound too small for c (settings changed since ingestion), no bound for x
    for bounds in ({"a": 6, "b": 3, "c": 12}, {"a": 6, "b": 3, "c": 4}, {"a": 5, "b": 1, "c": 9, "x": 4}):
        assert _as_sets(store.vectors_of(ids, bounds)) == _as_sets(by_filter)
    spans = store.spans_of(ids, {"a": 2, "b": 3, "c": 12})
    assert {c: len(v) for c, v in spans.items()} == {"a": 5, "b": 1, "c": 10, "x": 2}


def test_a_chunk_that_is_gone_is_simply_absent(store):
    store.delete_chunks(["a"])
    assert set(store.vectors_of(["a", "b"], {"a": 6, "b": 3})) == {"b"}


def test_asking_for_more_neighbours_than_there_are_vectors(store, tmp_path):
    hits = store.query(_unit(1), 100)
    assert len(hits) == 18 and hits[0].chunk_id == "a" and hits[0].similarity == pytest.approx(1.0, abs=1e-5)
    assert {h.chunk_id for h in store.query(_unit(1), 100, ["d2"])} == {"x"}
    assert open_store(tmp_path / "empty", "kb_empty").query(_unit(1), 10) == []
    # The n nearest chunks, each once, however many of its windows are near too.
    assert [h.chunk_id for h in store.nearest_chunks(_unit(1), 2)] == [
        "a",
        store.nearest_chunks(_unit(1), 4)[1].chunk_id,
    ]
    assert len({h.chunk_id for h in store.nearest_chunks(_unit(1), 10)}) == 4


def test_new_writes_to_an_old_knowledge_base_keep_its_layout(store):
    store.add(_chunk("d", 3, 4))
    assert store.windows is None and len(store.vectors_of(["d"], {"d": 9})["d"]) == 4
    assert store.count() == 18 + 4


@pytest.mark.e2e  # the real knowledge base: chunker, windows, e5 vectors, Chroma
def test_the_retrievers_bounds_read_every_vector_of_the_corpus(corpus_kb):
    chunk_ids = sorted(corpus_kb.store.chunk_ids())
    bounds = corpus_kb.retriever.most_windows(chunk_ids)
    assert set(bounds) == set(chunk_ids)
    assert _as_sets(corpus_kb.store.vectors_of(chunk_ids, bounds)) == _as_sets(corpus_kb.store.vectors_of(chunk_ids))
