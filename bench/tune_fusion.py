"""Compare fusion formulas offline: exact dense and BM25 scores of every chunk, then rank many ways.

Usage: python -m bench.tune_fusion [--kb default] [--devset bench/devset.jsonl] [--beir DIR --beir-kb cmrc]
Prints hit@1 / hit@5 / MRR@10 per fusion variant; used to choose settings.fusion and its weights.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from assistant import Assistant
from assistant.eval.metrics import read_beir, read_question_set


def all_vectors(kb: Assistant) -> tuple[list[str], np.ndarray]:
    got = kb.store._collection.get(where={"kind": "chunk"}, include=["embeddings"], limit=1_000_000)
    return list(got["ids"]), np.asarray(got["embeddings"], dtype=np.float32)


def signals(kb: Assistant, questions: list[str]):
    ids, vectors = all_vectors(kb)
    row = kb.bm25.rows
    order = np.asarray([row[c] for c in ids])
    q = kb.embedder.encode_queries(questions)
    dense = q @ vectors.T
    bm25 = np.stack([kb.bm25.scores(kb.tokenizer.tokenize(t))[order] for t in questions])
    return ids, dense, bm25


def rank_metrics(scores: np.ndarray, relevant: list[np.ndarray]) -> tuple[float, float, float]:
    h1 = h5 = mrr = 0.0
    for s, rel in zip(scores, relevant):
        order = np.argsort(-s, kind="stable")[:10]
        hits = [i for i, c in enumerate(order, 1) if rel[c]]
        if hits:
            first = hits[0]
            h1 += first == 1
            h5 += first <= 5
            mrr += 1 / first
    n = len(relevant)
    return h1 / n, h5 / n, mrr / n


def variants(dense: np.ndarray, bm25: np.ndarray, n_cand: int = 30):
    def ranks(m):
        order = np.argsort(-m, axis=1, kind="stable")
        r = np.empty_like(order)
        rows = np.arange(m.shape[0])[:, None]
        r[rows, order] = np.arange(1, m.shape[1] + 1)
        return r

    rd, rb = ranks(dense), ranks(bm25)
    has_b = bm25 > 0
    out = {"bm25": bm25, "dense": dense}
    for k in (10, 30, 60):
        in_d = rd <= n_cand
        in_b = (rb <= n_cand) & has_b
        out[f"rrf k={k}"] = in_d / (k + rd) + in_b / (k + rb)
    bmax = bm25.max(axis=1, keepdims=True)
    bnorm = np.where(bmax > 0, bm25 / np.maximum(bmax, 1e-9), 0)
    dmax = dense.max(axis=1, keepdims=True)
    for floor in (0.1, 0.15, 0.2):
        dn = np.clip((dense - (dmax - floor)) / floor, 0, 1)
        for a in (0.3, 0.4, 0.5, 0.6, 0.7):
            out[f"lin dwin={floor} a_bm25={a}"] = a * bnorm + (1 - a) * dn
    # z-score fusion
    dz = (dense - dense.mean(1, keepdims=True)) / (dense.std(1, keepdims=True) + 1e-9)
    bz = (bm25 - bm25.mean(1, keepdims=True)) / (bm25.std(1, keepdims=True) + 1e-9)
    for a in (0.3, 0.4, 0.5, 0.6):
        out[f"z a_bm25={a}"] = a * bz + (1 - a) * dz
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kb", default="default")
    ap.add_argument("--devset", default="bench/devset.jsonl")
    ap.add_argument("--beir")
    ap.add_argument("--beir-kb", default="cmrc")
    args = ap.parse_args()
    tables = {}
    kb = Assistant.open(None, kb=args.kb)
    items = [i for i in read_question_set(Path(args.devset)) if i["answerable"]]
    ids, dense, bm25 = signals(kb, [i["question"] for i in items])
    texts = {cid: kb.document_text(r.doc_id)[r.start : r.end] for cid, r in kb.registry.chunks(ids).items()}
    rel = [np.asarray([any(g in texts[c] for g in i["gold"]) for c in ids]) for i in items]
    en = np.asarray([i.get("lang") != "zh" for i in items])
    tables["devset"] = {name: rank_metrics(s, rel) for name, s in variants(dense, bm25).items()}
    tables["devset-en"] = {
        name: rank_metrics(s[en], [r for r, e in zip(rel, en) if e]) for name, s in variants(dense, bm25).items()
    }
    if args.beir:
        kb2 = Assistant.open(None, kb=args.beir_kb)
        corpus, queries, qrels = read_beir(Path(args.beir))
        qids = [q for q in queries if q in qrels]
        ids2, d2, b2 = signals(kb2, [queries[q]["text"] for q in qids])
        rel2 = [np.asarray([c in qrels[q] for c in ids2]) for q in qids]
        tables["beir"] = {name: rank_metrics(s, rel2) for name, s in variants(d2, b2).items()}
    names = list(next(iter(tables.values())))
    print(f"{'variant':<28}" + "".join(f"{t:>24}" for t in tables))
    for name in names:
        print(f"{name:<28}" + "".join("   {:.3f} {:.3f} {:.3f}".format(*tables[t][name]) for t in tables))


if __name__ == "__main__":
    main()
