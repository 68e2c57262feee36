"""Choose how the extractive answer admits a second source: answer-key coverage and citation precision per setting.

The grid runs on the calibration questions (the answerable calibration half of bench/answerability.jsonl
and bench/english_calib.jsonl); the chosen setting is then reported on sets that choose nothing
(bench/devset.jsonl, the report half, bench/answerability_fresh.jsonl, bench/english_heldout.jsonl, and any
--report file).

    python -m bench.answer_select [--report FILE.jsonl]

Measured before (2026-12-03): a stricter share of the best sentence for a new source (0.9) and closeness by
meaning (0.4) looked better on the calibration half but lost on the report half; neither is switched on.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from assistant.answering.extractive import NEW_SOURCE_SCORE
from assistant.api import Assistant
from bench.corpus_kb import open_corpus_kb

#: Share of the best passage's retrieval score a new source's passage needs; 0 admits any (the old rule).
GRID = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01)


def load(path: Path, split: str | None = None) -> list[dict]:
    """The answerable questions with gold text (and, where given, an answer key) of a question file."""
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [i for i in items if i["answerable"] and i.get("gold") and (split is None or i.get("split") == split)]


def measure(kb: Assistant, items: list[dict]) -> tuple[float, float, int]:
    """Answer-key coverage (nan when no question has a key), citation precision and refusals."""
    coverages, cited, cited_ok, refused = [], 0, 0, 0
    for item in items:
        answer = kb.ask(item["question"], mode="extractive")
        refused += answer.refused
        if key := item.get("answer_key"):
            coverages.append(0.0 if answer.refused else sum(k in answer.text for k in key) / len(key))
        cited += len(answer.citations)
        cited_ok += sum(any(g in c.text for g in item["gold"]) for c in answer.citations)
    coverage = sum(coverages) / len(coverages) if coverages else math.nan
    return coverage, cited_ok / max(1, cited), refused


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", action="append", default=[], help="another held-out question file to report on")
    args = parser.parse_args()
    kb = open_corpus_kb()
    bench = Path("bench")
    calib = {
        "calibration half": load(bench / "answerability.jsonl", "calib"),
        "english_calib": load(bench / "english_calib.jsonl"),
    }
    report = {
        "devset": load(bench / "devset.jsonl"),
        "report half": load(bench / "answerability.jsonl", "report"),
        "answerability_fresh": load(bench / "answerability_fresh.jsonl"),
        "english_heldout": load(bench / "english_heldout.jsonl"),
        **{Path(f).stem: load(Path(f)) for f in args.report},
    }
    print("calibration: new_source_score -> coverage / precision / refused per set")
    scores = {}
    for share in GRID:
        kb.answerer.new_source_score = share
        rows = {name: measure(kb, items) for name, items in calib.items()}
        # Coverage where the set has answer keys, precision everywhere: one number per setting.
        scores[share] = sum(v for cov, prec, _ in rows.values() for v in (cov, prec) if not math.isnan(v))
        print(f"  {share:.2f}: " + " | ".join(f"{n} {c:.3f}/{p:.3f}/{r}" for n, (c, p, r) in rows.items()), flush=True)
    chosen = max(GRID, key=lambda s: (round(scores[s], 6), -s))
    print(f"chosen (highest coverage + precision, ties to the lower share): {chosen} (in use: {NEW_SOURCE_SCORE})")
    for share, label in ((0.0, "before"), (chosen, "chosen")):
        kb.answerer.new_source_score = share
        rows = {name: measure(kb, items) for name, items in report.items()}
        print(f"report {label} {share:.2f}: " + " | ".join(f"{n} {c:.3f}/{p:.3f}/{r}" for n, (c, p, r) in rows.items()))


if __name__ == "__main__":
    main()
