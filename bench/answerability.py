"""Calibrate and report answerability: thresholds chosen on calibration questions, reported on held-out ones.

Usage: python -m bench.answerability [--set bench/answerability_fresh17.jsonl] [--verbose]
Needs a knowledge base holding data/corpus (scripts/start.sh builds it). The calibration questions are the
"calib" half of bench/answerability.jsonl, bench/devset.jsonl and bench/answerability_fresh{,2,...,16}.jsonl (read
while rules were written); the held-out set (--set, default bench/answerability_fresh17.jsonl, written blind)
chooses nothing. Prints the thresholds a grid search picks, then the background margins a second grid picks
with the other thresholds as shipped, the outcome counts on both sets, and the held-out set and the old
report half of bench/answerability.jsonl with the thresholds in use (Settings).
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

from assistant.answering.evidence import Thresholds, decide
from assistant.api import Assistant
from bench.corpus_kb import open_corpus_kb


def read(path: str) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def signals(kb: Assistant, items: list[dict]) -> list[dict]:
    """The measured signals of each question (outcomes are then recomputed for any thresholds)."""
    rows = []
    for item in items:
        query = kb.analyse(item["question"])
        passages = kb.retriever.search_query(query, kb.settings.top_k)
        j = kb.answerer.judge(query, passages)
        rows.append(
            {
                **item,
                "evidence": j.evidence.score if passages else 0.0,
                "share": j.unseen_share,
                "best": j.sentence_coverage,
                "typed_ok": j.typed_ok,
                "stray": j.stray,
                "dense": j.evidence.dense,
                "cjk": query.cjk_share,
                "type": j.answer_type.value,
                "outcome": j.outcome.value,
                "absent": j.absent,
                "margin": j.margin,
                "vouched": j.vouched,
                "drafting": j.drafting,
                "personal": j.personal,
            }
        )
    return rows


def outcomes(rows: list[dict], t: Thresholds) -> dict[str, Counter]:
    out: dict[str, Counter] = {}
    for r in rows:
        o = decide(
            r["evidence"],
            r["share"],
            r["best"],
            r["typed_ok"],
            t,
            r["stray"],
            r["dense"],
            r["cjk"],
            r["margin"],
            r["vouched"],
            r["drafting"],
            r["personal"],
        )
        out.setdefault(r["kind"], Counter())[o.value] += 1
    return out


def loss(counts: dict[str, Counter]) -> float:
    """Far-off questions answered and answerable ones refused cost most; near-domain questions answered as if
    stated next; a partial answer to an answerable question costs a little (it still cites the passage)."""
    far, near, ans = counts.get("far", Counter()), counts.get("near", Counter()), counts.get("answerable", Counter())
    return 10 * (far["answer"] + far["partial"]) + 10 * ans["refuse"] + 3 * near["answer"] + ans["partial"]


def table(title: str, counts: dict[str, Counter]) -> str:
    lines = [title, "| kind | n | answered | partial | refused |", "|---|---|---|---|---|"]
    for kind in ("answerable", "near", "far"):
        c = counts.get(kind, Counter())
        lines.append(f"| {kind} | {sum(c.values())} | {c['answer']} | {c['partial']} | {c['refuse']} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--set", default="bench/answerability_fresh17.jsonl", help="the held-out questions")
    ap.add_argument("--kb", default="default")
    ap.add_argument("--verbose", action="store_true", help="print every calibration question's signals")
    args = ap.parse_args()
    calib_items = [
        *(i for i in read("bench/answerability.jsonl") if i["split"] == "calib"),
        *read("bench/devset.jsonl"),
        *read("bench/answerability_fresh.jsonl"),
        *read("bench/answerability_fresh2.jsonl"),
        *read("bench/answerability_fresh3.jsonl"),
        *read("bench/answerability_fresh4.jsonl"),
        *read("bench/answerability_fresh5.jsonl"),
        *read("bench/answerability_fresh6.jsonl"),
        *read("bench/answerability_fresh7.jsonl"),
        *read("bench/answerability_fresh8.jsonl"),
        *read("bench/answerability_fresh9.jsonl"),
        *read("bench/answerability_fresh10.jsonl"),
        *read("bench/answerability_fresh11.jsonl"),
        *read("bench/answerability_fresh12.jsonl"),
        *read("bench/answerability_fresh13.jsonl"),
        *read("bench/answerability_fresh14.jsonl"),
        *read("bench/answerability_fresh15.jsonl"),
        *read("bench/answerability_fresh16.jsonl"),
    ]
    old_report = [i for i in read("bench/answerability.jsonl") if i["split"] == "report"]
    kb = open_corpus_kb(kb=args.kb)
    calib, held_out, read_half = (signals(kb, items) for items in (calib_items, read(args.set), old_report))
    if args.verbose:
        for r in sorted(calib, key=lambda r: (r["kind"], r["outcome"], r["evidence"])):
            print(
                f"{r['kind']:<10} {r['outcome']:<8} ev={r['evidence']:.2f} dense={r['dense']:.3f} unseen={r['share']:.2f} "
                f"best={r['best']:.2f} margin={r['margin']:+.3f} {r['type']:<8} typed_ok={int(r['typed_ok'])} {r['question'][:40]} absent={','.join(r['absent'])}"
            )
    grid = itertools.product(
        [x / 100 for x in range(20, 46, 2)],
        [x / 100 for x in range(50, 101, 5)],
        [0.0, 0.1, 0.2],
        [x / 100 for x in range(0, 50, 5)],
        [0.0, 0.86, 0.865, 0.87, 0.875, 0.88, 0.885],
        [0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 1.0],
    )
    chosen = min(
        (
            Thresholds(
                evidence_floor=e,
                unseen_share=u,
                unseen_penalty=p,
                sentence_floor=s,
                dense_floor_zh=d,
                unseen_share_en=en,
            )
            for e, u, p, s, d, en in grid
        ),
        key=lambda t: (
            loss(outcomes(calib, t)),
            t.unseen_penalty,
            t.sentence_floor,
            -t.evidence_floor,
            t.dense_floor_zh,
            -t.unseen_share_en,
        ),
    )
    off = {"background_margin_en": -1.0, "background_margin_zh": -1.0}
    print(f"chosen on {len(calib)} calibration questions: {chosen}")
    print(table("\ncalibration questions, chosen thresholds", outcomes(calib, chosen)))
    print(table(f"\n{args.set} (held out), chosen thresholds", outcomes(held_out, chosen)))
    shipped = kb.answerer.thresholds
    # The background margins (assistant/answering/background.py), with the other thresholds as shipped; ties go
    # to the lower margins (fewer refusals).
    margins = min(
        (
            replace(shipped, background_margin_en=en, background_margin_zh=zh)
            for en in [-1.0, *(x / 1000 for x in range(-40, 21, 5))]
            for zh in [-1.0, *(x / 1000 for x in range(-20, 31, 5))]
        ),
        key=lambda t: (loss(outcomes(calib, t)), t.background_margin_en, t.background_margin_zh),
    )
    print(
        f"\nbackground margins chosen on the calibration questions: en {margins.background_margin_en}, "
        f"zh {margins.background_margin_zh}"
    )
    print(table("calibration questions, shipped thresholds without margins", outcomes(calib, replace(shipped, **off))))
    print(table("calibration questions, with the chosen margins", outcomes(calib, margins)))
    print(
        table(
            f"\n{args.set} (held out), shipped thresholds without margins", outcomes(held_out, replace(shipped, **off))
        )
    )
    print(table(f"{args.set} (held out), with the chosen margins", outcomes(held_out, margins)))
    print(table(f"\n{args.set} (held out), the settings in use: {shipped}", outcomes(held_out, shipped)))
    print(
        table(
            "\nreport half of bench/answerability.jsonl (read while writing rules), settings in use",
            outcomes(read_half, shipped),
        )
    )
    kb.close()


if __name__ == "__main__":
    main()
