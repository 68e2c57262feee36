"""Dump the evidence signals of every development question, to calibrate the refusal floor.

Usage: python -m bench.calibrate [bench/devset.jsonl] [--kb default]
Prints one row per question (kind, language, coverage, dense, evidence) sorted by evidence,
and the floors that separate answerable from unanswerable questions best.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from assistant.answering.evidence import assess
from assistant.eval.metrics import read_question_set
from bench.corpus_kb import open_corpus_kb


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("devset", nargs="?", default="bench/devset.jsonl")
    ap.add_argument("--kb", default="default")
    args = ap.parse_args()
    kb = open_corpus_kb(kb=args.kb)
    rows = []
    for item in read_question_set(Path(args.devset)):
        query = kb.analyse(item["question"])
        passages = kb.retriever.search_query(query, kb.settings.top_k)
        ev = assess(query, passages)
        kind = item.get("kind") or ("answerable" if item["answerable"] else "unanswerable")
        rows.append((ev.score, kind, query.language, ev.coverage, ev.dense, item["question"]))
    rows.sort()
    for score, kind, lang, cov, dense, q in rows:
        print(f"{score:.3f} {kind:<10} {lang:<3} cov={cov:.2f} dense={dense:.3f} {q[:50]}")
    answerable = [r[0] for r in rows if r[1] == "answerable"]
    far = [r[0] for r in rows if r[1] == "far"]
    near = [r[0] for r in rows if r[1] == "near"]
    print("\nfloor  false-refusals  far-refused  near-refused")
    for floor in sorted({round(r[0] + 1e-4, 4) for r in rows}):
        fr = sum(s < floor for s in answerable)
        print(
            f"{floor:.4f}  {fr:>3}/{len(answerable)}  {sum(s < floor for s in far)}/{len(far)}"
            f"  {sum(s < floor for s in near)}/{len(near)}"
        )


if __name__ == "__main__":
    main()
