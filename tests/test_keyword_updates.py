"""The keyword index updated a file at a time scores exactly as one built from scratch, also after a restart."""

import random

import numpy as np
import pytest

from assistant.kb.bm25 import BM25Index
from assistant.kb.postings import build_segment, merge

WORDS = [f"词{i}" for i in range(80)] + ["双报到", "三会一课"]
QUERIES = [["词1"], ["词2", "词3", "词2"], ["双报到", "党员"], ["三会一课", "词79"], WORDS[:25], ["没有的词"]]


def _file(rng: random.Random, name: str, version: int) -> list[tuple[str, list[str]]]:
    """A file's chunks: ids from content and position, so a new version keeps some and changes others."""
    chunks = []
    for i in range(rng.randint(1, 6)):
        keep = rng.random() < 0.5 and version > 0
        vocabulary = WORDS[: rng.randint(5, len(WORDS))]  # later words are rarer: their idf varies
        tokens = [rng.choice(vocabulary) for _ in range(rng.randint(0, 30))]
        chunks.append((f"{name}-{i}-v{0 if keep else version}", tokens))
    return chunks


def _by_id(index: BM25Index, tokens: list[str], weights: dict[str, float] | None = None) -> dict[str, float]:
    scores = index.scores(tokens, weights)
    return {cid: float(scores[row]) for cid, row in index.rows.items()}


def _holders(index: BM25Index, word: str) -> set[str]:
    chunk_of = {row: cid for cid, row in index.rows.items()}
    return {chunk_of[int(row)] for row in index.rows_with(word)}


def _assert_same(index: BM25Index, files: dict[str, list[tuple[str, list[str]]]], tmp_path) -> None:
    """`index` answers as an index built from scratch over the files' chunks does."""
    items = sorted(c for chunks in files.values() for c in chunks)
    scratch = BM25Index(tmp_path / "scratch")
    scratch.build(items)
    assert sorted(index.ids) == [cid for cid, _ in items] and len(index) == len(items)
    assert index.signature == scratch.signature == BM25Index.signature_of(cid for cid, _ in items)
    for query in QUERIES:
        for weights in (None, {query[0]: 0.5}):
            got, expected = _by_id(index, query, weights), _by_id(scratch, query, weights)
            assert got.keys() == expected.keys()
            assert np.allclose([got[c] for c in expected], list(expected.values()), rtol=1e-5, atol=1e-6), query
        hits = [(h.chunk_id, round(h.score, 4)) for h in index.search(query, 5)]
        assert [round(s, 4) for _, s in hits] == [round(h.score, 4) for h in scratch.search(query, 5)]
    for word in [*WORDS, "没有的词"]:
        assert index.term_idf(word) == pytest.approx(scratch.term_idf(word), rel=1e-6)
        assert index.knows(word) == scratch.knows(word)
        assert _holders(index, word) == _holders(scratch, word)
    assert set(index.terms()) == set(scratch.terms())


def test_adds_replaces_and_deletes_score_as_a_fresh_build_also_after_restarts(tmp_path):
    rng = random.Random(7)
    files: dict[str, list[tuple[str, list[str]]]] = {}
    index = BM25Index(tmp_path / "bm25")
    index.build([])
    versions: dict[str, int] = {}
    for step in range(160):
        name = f"f{rng.randrange(40)}"
        old = [cid for cid, _ in files.get(name, [])]
        if name in files and rng.random() < 0.3:  # delete the file
            del files[name]
            index = index.updated(old, [])
        else:  # add it, or replace it by a new version
            versions[name] = versions.get(name, -1) + 1
            files[name] = _file(rng, name, versions[name])
            index = index.updated(old, files[name])
        if step % 10 == 9:
            _assert_same(index, files, tmp_path)
        if step % 25 == 24:  # a restart: the saved index comes back as it was, and goes on updating
            index.save()
            reloaded = BM25Index(tmp_path / "bm25")
            assert reloaded.load()
            assert reloaded.signature == index.signature and reloaded.ids == index.ids
            for query in QUERIES:
                assert np.array_equal(reloaded.scores(query), index.scores(query))
            index = reloaded
    _assert_same(index, files, tmp_path)
    # everything deleted: an empty index
    index = index.updated([cid for chunks in files.values() for cid, _ in chunks], [])
    assert len(index) == 0 and index.search(["词1"], 5) == [] and not index.knows("词1")
    index.save()
    assert BM25Index(tmp_path / "bm25").load()


def test_an_update_leaves_the_index_it_came_from_as_it_was(tmp_path):
    # A search that started on the old snapshot reads it to the end while the new one is made.
    index = BM25Index(tmp_path / "bm25")
    index.build([("a", ["党员", "报到", "双报到"]), ("b", ["党员", "制度"]), ("c", ["保密", "制度"])])
    before = {tuple(q): index.scores(q).copy() for q in QUERIES + [["党员"], ["制度"]]}
    ids, signature = index.ids, index.signature
    newer = index.updated(["a"], [("d", ["党员", "双报到", "双报到"]), ("b", ["制度"])])
    assert index.ids == ids and index.signature == signature
    for q, scores in before.items():
        assert np.array_equal(index.scores(list(q)), scores)
    assert sorted(newer.ids) == ["b", "c", "d"] and newer.knows("双报到") and not newer.knows("报到")


def test_adding_a_file_writes_only_its_own_segment(tmp_path):
    folder = tmp_path / "bm25"
    index = BM25Index(folder)
    index.build([(f"c{i:04d}", [f"词{i % 50}", f"词{i % 7}", "共同"]) for i in range(2000)])
    index.save()
    base = {p.name: p.stat().st_mtime_ns for p in folder.glob("seg-*.npz")}
    index = index.updated([], [("new-0", ["词1", "新词"]), ("new-1", ["新词"])])
    index.save()
    after = {p.name: p.stat().st_mtime_ns for p in folder.glob("seg-*.npz")}
    assert len(after) == len(base) + 1 and all(after[name] == mtime for name, mtime in base.items())
    assert f"seg-{index.segments[0].name}.npz" in base and index.segments[-1].nnz == 3


def test_merging_in_small_blocks_gives_the_same_segment(tmp_path):
    rng = random.Random(3)
    vocab: dict[str, int] = {}
    first = build_segment([(f"a{i}", rng.choices(WORDS, k=rng.randint(0, 20))) for i in range(50)], vocab, 0)
    second = build_segment([(f"b{i}", rng.choices(WORDS, k=rng.randint(0, 20))) for i in range(30)], vocab, 50)
    alive = np.asarray([rng.random() < 0.8 for _ in range(80)])
    whole = merge([first, second], alive)
    for block in (1, 7, 100):
        sliced = merge([first, second], alive, block=block)
        for a, b in [(whole.cols, sliced.cols), (whole.indptr, sliced.indptr), (whole.rows, sliced.rows)]:
            assert np.array_equal(a, b)
        assert np.array_equal(whole.tf, sliced.tf)
    for col in range(len(vocab)):  # every live posting, and no dead one
        rows = set(whole.postings(col)[0].tolist())
        expected = {r for seg in (first, second) for r in seg.postings(col)[0].tolist() if alive[r]}
        assert rows == expected


def test_a_damaged_segment_makes_the_saved_index_unloadable(tmp_path):
    folder = tmp_path / "bm25"
    index = BM25Index(folder)
    index.build([("a", ["党员"]), ("b", ["制度"])])
    index.save()
    assert BM25Index(folder).load()
    next(folder.glob("seg-*.npz")).write_bytes(b"garbage")
    assert BM25Index(folder).load() is False
