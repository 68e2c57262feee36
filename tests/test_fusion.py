"""Fusion of dense and keyword candidates: orders both rankers agree on, and decisive leads of either side."""

import random

import pytest

from assistant.retrieval.hybrid import Candidate, fuse


def ranked(pool: list[tuple[str, float, float]]) -> list[Candidate]:
    """Candidates from (id, dense, keyword), with each side's rank as the retriever gives it."""
    by_dense = {cid: r for r, (cid, _, _) in enumerate(sorted(pool, key=lambda p: -p[1]), 1)}
    by_keyword = {cid: r for r, (cid, _, k) in enumerate(sorted(pool, key=lambda p: -p[2]), 1) if k > 0}
    return [Candidate(cid, d, k, by_dense[cid], by_keyword.get(cid, 0)) for cid, d, k in pool]


def order(pool: list[Candidate], **kwargs) -> list[str]:
    return [c.chunk_id for c in fuse(pool, **kwargs)]


@pytest.mark.parametrize("method", ["zscore", "rrf"])
@pytest.mark.parametrize("keyword_weight", [0.1, 0.4, 0.9])
def test_a_chunk_both_rankers_place_first_is_fused_first_and_one_both_place_last_is_last(method, keyword_weight):
    rng = random.Random(13)
    for _ in range(200):
        n = rng.randint(2, 40)
        pool = [(f"c{i}", rng.uniform(0.70, 0.90), rng.choice([0.0, rng.uniform(0.5, 12.0)])) for i in range(n)]
        pool[0] = ("best", 0.95, 30.0)  # above every other chunk on both sides
        pool[-1] = ("worst", 0.60, 0.0)  # below every other chunk on both sides
        rng.shuffle(pool)
        fused = order(ranked(pool), method=method, keyword_weight=keyword_weight)
        assert fused[0] == "best" and fused[-1] == "worst", (method, keyword_weight, pool)


def test_fused_scores_are_sorted_best_first_and_one_candidate_is_kept():
    assert order(ranked([("a", 0.8, 1.0)])) == ["a"]
    fused = fuse(ranked([("a", 0.80, 1.0), ("b", 0.85, 0.0), ("c", 0.90, 3.0)]))
    assert fused[0].chunk_id == "c" and {c.chunk_id for c in fused} == {"a", "b", "c"}
    assert all(x.score >= y.score for x, y in zip(fused, fused[1:]))
    assert fuse([]) == []


def test_a_decisive_keyword_lead_is_kept_over_a_flat_dense_side():
    # "x" holds the question's rare term (双报到): far ahead on BM25, a middling dense score among
    # many near-equal ones; "y" is dense's first by a hair and matches common words only.
    pool = [("x", 0.861, 18.0), ("y", 0.868, 3.0)] + [(f"n{i}", 0.866 - 0.001 * i, 4.0 - 0.2 * i) for i in range(12)]
    assert order(ranked(pool))[0] == "x"


@pytest.mark.parametrize("keyword_weight", [0.3, 0.4])
def test_a_decisive_dense_lead_is_kept_over_keyword_near_ties(keyword_weight):
    # News: many passages share the question's words, so BM25's scores are near-ties and its first
    # ("x") leads by a hair; dense puts "y" clearly ahead of the rest.
    pool = [("x", 0.805, 10.3), ("y", 0.84, 8.0)] + [(f"n{i}", 0.81 - 0.001 * i, 10.2 - 0.05 * i) for i in range(12)]
    assert order(ranked(pool), keyword_weight=keyword_weight)[0] == "y"


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="unknown fusion method"):
        fuse(ranked([("a", 0.8, 1.0)]), method="magic")
