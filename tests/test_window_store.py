"""Sentence-window vectors kept apart from the searched collection: what a knowledge base made now stores where."""

import numpy as np
import pytest

from assistant.errors import StoreError
from assistant.kb.vectors import open_store
from tests.test_vector_reads import _chunk, _unit, write_mixed


@pytest.fixture
def store(tmp_path):
    s = open_store(tmp_path / "chroma", "kb_test", window_vectors="apart")
    s.add(_chunk("a", 4, 1) + _chunk("b", 0, 2) + _chunk("c", 9, 3, doc_id="d2"))
    return s


def test_only_whole_chunks_are_searched_and_the_windows_sit_in_their_own_file(store, tmp_path):
    assert store.windows is not None and (tmp_path / "chroma" / "windows.sqlite3").is_file()
    hits = store.query(_unit(1), 100)
    assert sorted(h.record_id for h in hits) == ["a", "b", "c"]  # no window is searched
    assert store.count() == 3 + 4 + 9
    assert [h.chunk_id for h in store.nearest_chunks(_unit(3), 1, ["d2"])] == ["c"]
    assert store.nearest_chunks(_unit(1), 5, ["nobody"]) == []


def test_a_chunks_vectors_are_the_ones_written_with_or_without_a_bound(store):
    got = store.vectors_of(["a", "b", "c"])
    assert {c: [k for k, _ in v] for c, v in got.items()} == {
        "a": ["chunk"] + ["window"] * 4,
        "b": ["chunk"],
        "c": ["chunk"] + ["window"] * 9,
    }
    assert np.array_equal(got["a"][0][1], _unit(1)) and np.array_equal(got["c"][3][1], _unit(302))
    for bounds in ({"a": 6, "b": 3, "c": 12}, {"a": 1, "b": 1, "c": 2}):  # the bound is only a hint here
        again = store.vectors_of(["a", "b", "c"], bounds)
        assert all(np.array_equal(x[1], y[1]) for c in got for x, y in zip(got[c], again[c]))
    spans = store.spans_of(["a"])["a"]
    assert [(s, e) for s, e, _ in spans] == [(0, 10)] * 5  # the chunk's offsets from its record, then each window's


def test_deleting_a_chunk_deletes_its_windows_and_stray_windows_are_found(store):
    store.delete_chunks(["a"])
    assert set(store.vectors_of(["a", "c"])) == {"c"} and store.count() == 2 + 9
    assert store.windows.spans(["a"]) == {}
    # Windows written by an ingestion killed before its chunk vector: listed, so recovery deletes them.
    store.windows.add([r for r in _chunk("z", 2, 5) if r.kind == "window"])
    assert store.chunk_ids() == {"b", "c", "z"}
    store.delete_chunks(["z"])
    assert store.chunk_ids() == {"b", "c"}


def test_the_layout_survives_reopening_and_every_write(store, tmp_path):
    store.bump_generation()  # Chroma replaces a collection's metadata: the layout mark must be kept
    again = open_store(tmp_path / "chroma", "kb_test")  # the default layout is "searched": the store keeps its own
    assert again.windows is not None and again.count() == 16  # with 16 vectors, only the mark can say "apart"


def test_a_new_knowledge_base_searches_its_windows_unless_told_otherwise(tmp_path):
    searched = open_store(tmp_path / "chroma", "kb_default")
    searched.add(_chunk("a", 2, 1))
    assert searched.windows is None and len(searched.query(_unit(1), 10)) == 3
    assert open_store(tmp_path / "chroma", "kb_default", window_vectors="apart").windows is None  # it has vectors
    with pytest.raises(StoreError, match="use 'searched' or 'apart'"):
        open_store(tmp_path / "chroma", "kb_other", window_vectors="elsewhere")


def test_an_old_knowledge_base_once_emptied_takes_the_layout_asked_for(tmp_path):
    write_mixed(tmp_path / "chroma", "kb_old", _chunk("a", 3, 1))
    old = open_store(tmp_path / "chroma", "kb_old", window_vectors="apart")
    assert old.windows is None and old.count() == 4
    old.delete_chunks(["a"])
    renewed = open_store(tmp_path / "chroma", "kb_old", window_vectors="apart")
    assert renewed.windows is not None
    renewed.add(_chunk("b", 2, 2))
    assert [h.record_id for h in renewed.query(_unit(2), 10)] == ["b"] and renewed.count() == 3


@pytest.mark.e2e  # the real corpus, model and Chroma, once in each layout
def test_the_corpus_kept_apart_holds_the_same_vectors_and_answers(tmp_path, corpus_kb, e5_embedder):
    from assistant.api import Assistant
    from assistant.settings import Settings
    from tests.conftest import CORPUS, models_dir

    kb = Assistant(Settings.load(tmp_path, models=str(models_dir()), window_vectors="apart"), embedder=e5_embedder)
    assert kb.ingest([CORPUS]).failed == []
    ids = sorted(kb.store.chunk_ids())
    assert ids == sorted(corpus_kb.store.chunk_ids()) and kb.store.count() == corpus_kb.store.count()
    assert (kb.stats()["window_vectors"], corpus_kb.stats()["window_vectors"]) == ("apart", "searched")
    apart, searched = kb.store.spans_of(ids), corpus_kb.store.spans_of(ids)
    for cid in ids:  # the same spans with the same vectors, wherever they are kept
        a, s = sorted(apart[cid], key=lambda x: x[:2]), sorted(searched[cid], key=lambda x: x[:2])
        assert [x[:2] for x in a] == [x[:2] for x in s]
        assert all(np.allclose(x[2], y[2], atol=1e-5) for x, y in zip(a, s)), cid
    question = "机关是怎样落实在职党员双报到制度的？"
    vector = e5_embedder.encode_queries([question])[0]
    assert kb.retriever.dense_scores(vector, ids) == pytest.approx(corpus_kb.retriever.dense_scores(vector, ids))
    answer = kb.ask(question)
    assert not answer.refused and "双报到" in "".join(c.quote for c in answer.citations)
    kb.close()
