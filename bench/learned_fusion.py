"""Fusions learned from questions, and a third signal, measured on sets they were not fitted on.

    PYTHONPATH=$PWD ASSISTANT_HOME=$PWD/.home python -m bench.learned_fusion --cache /tmp/fusion-cache [--fit-from 300]

A linear ranker over each candidate's signals is fitted (softmax over each question's candidate pool, L2-regularised)
on CMRC questions after `--fit-from` and judged on CMRC's first `--fit-from` questions, the office development set
and RGB-dev, none of which it saw. The third signal is BM25 over character bigrams (which do not depend on how jieba
cuts the question and the passage), scored on each pool's candidates, mixed in with fixed weights and as a learned
feature. The pools come from `bench.fusion_table` (same cache, all questions: `--limit` unset), so the rows compare
with that table's.
"""

from __future__ import annotations

import argparse
import json
import math
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from assistant import Assistant
from assistant.eval.metrics import beir_kb_name
from bench.fusion_table import QuerySignals, add_set_arguments, load_sets, metrics, zscore_before

_BIGRAM_CHAR = re.compile(r"[\u3400-\u9fff\uf900-\ufaffA-Za-z0-9]")

FEATURES = (
    "z keyword",
    "z whole-chunk dense",
    "z best-window dense",
    "keyword retrieved",
    "dense retrieved",
    "1/keyword rank",
    "1/dense rank",
    "keyword / best keyword",
    "whole-chunk − best in pool",
    "best-window − best in pool",
    "z keyword × keyword lead",
    "z dense × dense lead",
    "z bigram BM25",
)


def _bigrams(text: str) -> list[str]:
    chars = _BIGRAM_CHAR.findall(text.lower())
    return [a + b for a, b in zip(chars, chars[1:])]


def bigram_bm25(home: str | None, kb_name: str, signals: list[QuerySignals], k1: float = 1.2, b: float = 0.75) -> None:
    """Set `s.bigram` of every question: BM25 over character bigrams of each pool candidate, IDF from all chunks."""
    with Assistant.open(home, kb=kb_name) as kb:
        counts = {cid: Counter(_bigrams(kb.chunk_text(cid))) for cid in kb.registry.complete_chunk_ids()}
    df: Counter[str] = Counter()
    for c in counts.values():
        df.update(c.keys())
    n, avg = len(counts), sum(sum(c.values()) for c in counts.values()) / max(len(counts), 1)
    for s in signals:
        grams = set(_bigrams(s.text))
        scores = []
        for cand in s.pool:
            tf, score = counts.get(cand.chunk_id, Counter()), 0.0
            length = sum(tf.values())
            for g in grams & tf.keys():
                idf = math.log(1 + (n - df[g] + 0.5) / (df[g] + 0.5))
                score += idf * tf[g] * (k1 + 1) / (tf[g] + k1 * (1 - b + b * length / avg))
            scores.append(score)
        s.bigram = scores  # type: ignore[attr-defined]


def _z(a: np.ndarray) -> np.ndarray:
    return (a - a.mean()) / a.std() if a.std() > 1e-9 else np.zeros_like(a)


def _lead(z: np.ndarray) -> float:
    top = np.sort(z)[::-1]
    return float(top[0] - top[1:4].mean()) if len(top) > 1 else 0.0


def candidate_features(s: QuerySignals) -> np.ndarray:
    """One row per pool candidate, the columns named in FEATURES."""
    kw = np.asarray([c.keyword for c in s.pool], dtype=np.float64)
    whole = np.asarray([s.parts[c.chunk_id][0] for c in s.pool], dtype=np.float64)
    window = np.asarray([s.parts[c.chunk_id][1] for c in s.pool], dtype=np.float64)
    kw_rank = np.asarray([c.keyword_rank for c in s.pool], dtype=np.float64)
    dense_rank = np.asarray([c.dense_rank for c in s.pool], dtype=np.float64)
    z_kw, z_dense = _z(kw), _z((whole + window) / 2)
    return np.column_stack(
        [
            z_kw,
            _z(whole),
            _z(window),
            kw_rank > 0,
            dense_rank > 0,
            np.where(kw_rank > 0, 1 / np.maximum(kw_rank, 1), 0.0),
            np.where(dense_rank > 0, 1 / np.maximum(dense_rank, 1), 0.0),
            kw / kw.max() if kw.max() > 0 else np.zeros_like(kw),
            whole - whole.max(),
            window - window.max(),
            z_kw * _lead(z_kw),
            z_dense * _lead(z_dense),
            _z(np.asarray(s.bigram, dtype=np.float64)),  # type: ignore[attr-defined]
        ]
    ).astype(np.float64)


def fit(signals: list[QuerySignals], l2: float, columns: list[int]) -> np.ndarray:
    """Weights minimising the mean softmax cross-entropy of the relevant candidates in each pool."""
    data = []
    for s in signals:
        target = np.asarray([c.chunk_id in s.relevant for c in s.pool], dtype=np.float64)
        if s.pool and target.any():
            data.append((candidate_features(s)[:, columns], target / target.sum()))

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = 0.0, np.zeros_like(w)
        for x, t in data:
            z = x @ w
            p = np.exp(z - z.max())
            p /= p.sum()
            total -= float(t @ np.log(p + 1e-12))
            grad += x.T @ (p - t)
        n = len(data)
        return total / n + l2 * float(w @ w), grad / n + 2 * l2 * w

    start = np.zeros(len(columns))
    start[:3] = 0.4, 0.3, 0.3  # the z-score fusion in use
    return minimize(loss, start, jac=True, method="L-BFGS-B").x


def _ranker(score_of: Callable[[QuerySignals], np.ndarray]) -> Callable[[QuerySignals], list[str]]:
    def rank(s: QuerySignals) -> list[str]:
        if not s.pool:
            return []
        score = score_of(s)
        order = sorted(range(len(s.pool)), key=lambda i: (-score[i], -s.pool[i].dense))
        return [s.pool[i].chunk_id for i in order]

    return rank


def learned(weights: np.ndarray, columns: list[int]) -> Callable[[QuerySignals], list[str]]:
    return _ranker(lambda s: candidate_features(s)[:, columns] @ weights)


def with_bigrams(keyword: float, bigram: float) -> Callable[[QuerySignals], list[str]]:
    """The z-score mix in use with z-scored bigram BM25 as a third side."""

    def score(s: QuerySignals) -> np.ndarray:
        f = candidate_features(s)
        z_dense = _z(np.asarray([c.dense for c in s.pool], dtype=np.float64))
        return keyword * f[:, 0] + bigram * f[:, -1] + (1 - keyword - bigram) * z_dense

    return _ranker(score)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_set_arguments(ap)
    ap.add_argument("--cache", help="the folder bench.fusion_table keeps candidate pools in")
    ap.add_argument("--fit-from", type=int, default=300, help="CMRC questions before this index are held out")
    ap.add_argument("--l2", type=float, nargs="*", default=[0.0, 0.001, 0.01, 0.1])
    args = ap.parse_args()
    args.limit = None
    sets = load_sets(args)
    kb_of_set = {Path(f).name: beir_kb_name(Path(f)) for f in args.beir}  # the rest: the development set's --kb
    for name, signals in sets.items():
        bigram_bm25(args.home, kb_of_set.get(name, args.kb), signals)
    cmrc = sets.pop("cmrc2018")
    fit_on, held = cmrc[args.fit_from :], cmrc[: args.fit_from]
    judged = {f"cmrc 1-{args.fit_from}": held, **sets, "cmrc fitted-on": fit_on}
    rankers: dict[str, Callable[[QuerySignals], list[str]]] = {
        "bm25": lambda s: s.bm25_top,
        "dense": lambda s: s.dense_top,
        "zscore w=0.4 (in use)": lambda s: zscore_before(s.pool),
    }
    for keyword, bigram in [(0.3, 0.1), (0.25, 0.15), (0.2, 0.2), (0.0, 0.4)]:
        rankers[f"zscore + bigram BM25 (keyword {keyword}, bigram {bigram})"] = with_bigrams(keyword, bigram)
    signals_only = list(range(len(FEATURES) - 1))
    for columns, label in [(signals_only, "learned"), (list(range(len(FEATURES))), "learned + bigram")]:
        for l2 in args.l2:
            w = fit(fit_on, l2, columns)
            named = dict(zip([FEATURES[c] for c in columns], np.round(w, 3).tolist()))
            print(f"{label} l2={l2}: " + json.dumps(named, ensure_ascii=False))
            rankers[f"{label}, l2={l2}"] = learned(w, columns)
    print("| mode | " + " | ".join(f"{n} h@1 | h@5 | MRR" for n in judged) + " |")
    print("|---|" + "---:|" * (3 * len(judged)))
    for name, ranker in rankers.items():
        cells = [f"{v:.3f}" for sig in judged.values() for v in metrics(sig, ranker)]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print("(" + ", ".join(f"{n} {len(s)} questions" for n, s in judged.items()) + ")")


if __name__ == "__main__":
    main()
