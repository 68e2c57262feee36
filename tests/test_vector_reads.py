"""Reading a chunk's vectors by id (fast at scale) gives exactly what the chunk_id filter gives, whatever the bound."""

import numpy as np
import pytest

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


@pytest.fixture
def store(tmp_path):
    s = open_store(tmp_path / "chroma", "kb_test")
    s.add(_chunk("a", 4, 1) + _chunk("b", 0, 2) + _chunk("c", 9, 3))
    # Another id scheme (a knowledge base written by other code): only the filter finds these.
    meta = {"doc_id": "d2", "start": 0, "end": 10, "chunk_id": "x"}
    s.add([VectorRecord("legacy-1", "x", "chunk", "x", _unit(7), meta)])
    s.add([VectorRecord("legacy-2", "x", "window", "x 0", _unit(8), meta)])
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


@pytest.mark.e2e  # the real knowledge base: chunker, windows, e5 vectors, Chroma
def test_the_retrievers_bounds_read_every_vector_of_the_corpus(corpus_kb):
    chunk_ids = sorted(corpus_kb.store.chunk_ids())
    bounds = corpus_kb.retriever.most_windows(chunk_ids)
    assert set(bounds) == set(chunk_ids)
    assert _as_sets(corpus_kb.store.vectors_of(chunk_ids, bounds)) == _as_sets(corpus_kb.store.vectors_of(chunk_ids))
