"""Calibrate and report answerability: thresholds chosen on one half of bench/answerability.jsonl, reported on the other.

Usage: python -m bench.answerability [--set bench/answerability.jsonl] [--kb default]
Needs a knowledge base holding data/corpus (scripts/start.sh builds it). Prints the signals of every
calibration question, the thresholds the grid search picks on the calibration half, and the outcome
counts on the held-out report half with those thresholds and with the shipped defaults.
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections import Counter
from pathlib import Path

from assistant import Assistant
from assistant.answering.evidence import Thresholds, decide


def signals(kb: Assistant, items: list[dict]) -> list[dict]:
    rows = []
    for item in items:
        query = kb.analyse(item["question"])
        passages = kb.retriever.search(query.text, kb.settings.top_k, tokens=query.tokens, weights=query.weights)
        j = kb.answerer.judge(query, passages)
        rows.append({**item, "evidence": j.evidence.score if passages else 0.0, "share": j.unseen_share,
                     "best": j.sentence_coverage, "typed_ok": j.typed_ok, "type": j.answer_type.value})
    return rows


def outcomes(rows: list[dict], t: Thresholds) -> dict[str, Counter]:
    out: dict[str, Counter] = {}
    for r in rows:
        o = decide(r["evidence"], r["share"], r["best"], r["typed_ok"], t)
        out.setdefault(r["kind"], Counter())[o.value] += 1
    return out


def loss(counts: dict[str, Counter]) -> float:
    """Far-off answered or partial, and answerable refused, cost most; near answered next; partial answers of
    answerable questions cost a little (they still cite the passage)."""
    far, near, ans = counts.get("far", Counter()), counts.get("near", Counter()), counts.get("answerable", Counter())
    return (10 * (far["answer"] + far["partial"]) + 10 * ans["refuse"] + 3 * near["answer"] + 1 * ans["partial"])


def table(title: str, counts: dict[str, Counter]) -> str:
    lines = [f"{title}", "| kind | n | answered | partial | refused |", "|---|---|---|---|---|"]
    for kind in ("answerable", "near", "far"):
        c = counts.get(kind, Counter())
        n = sum(c.values())
        lines.append(f"| {kind} | {n} | {c['answer']} | {c['partial']} | {c['refuse']} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--set", default="bench/answerability.jsonl")
    ap.add_argument("--kb", default="default")
    ap.add_argument("--verbose", action="store_true", help="print every calibration question's signals")
    args = ap.parse_args()
    items = [json.loads(line) for line in Path(args.set).read_text(encoding="utf-8").splitlines() if line.strip()]
    kb = Assistant.open(None, kb=args.kb)
    rows = signals(kb, items)
    calib = [r for r in rows if r["split"] == "calib"]
    report = [r for r in rows if r["split"] == "report"]
    if args.verbose:
        for r in sorted(calib, key=lambda r: (r["kind"], r["evidence"])):
            print(f"{r['kind']:<10} ev={r['evidence']:.2f} unseen={r['share']:.2f} best={r['best']:.2f} "
                  f"{r['type']:<8} typed_ok={int(r['typed_ok'])} {r['question'][:40]}")
    grid = itertools.product([x / 100 for x in range(20, 52, 2)], [x / 100 for x in range(40, 101, 5)],
                             [x / 100 for x in range(0, 62, 4)], [0.0, 0.1, 0.2, 0.3, 0.4])
    best = min((Thresholds(evidence_floor=e, unseen_share=u, sentence_floor=s, unseen_penalty=p) for e, u, s, p in grid),
               key=lambda t: (loss(outcomes(calib, t)), t.unseen_penalty, -t.evidence_floor))
    print(f"chosen on the calibration half ({len(calib)} questions): {best}")
    print(table("\ncalibration half, chosen thresholds", outcomes(calib, best)))
    print(table("\nreport half (held out), chosen thresholds", outcomes(report, best)))
    shipped = kb.answerer.thresholds
    print(table(f"\nreport half (held out), the settings in use {shipped}", outcomes(report, shipped)))
    kb.close()


if __name__ == "__main__":
    main()
