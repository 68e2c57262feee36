"""Choose the extractive answer's sentence cut-offs: answer-key coverage and citation precision per setting.

The grid runs on the calibration half of bench/answerability.jsonl (answerable questions); the chosen
setting is then reported on its report half and on bench/devset.jsonl, which choose nothing.

    python -m bench.answer_select
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from assistant.api import Assistant

KEEP = (0.6,)
NEW_SOURCE = (0.6, 0.8, 0.9)
MEANING = (0.0, 0.2, 0.4, 0.6)


def load(path: Path, split: str | None = None) -> list[dict]:
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [i for i in items if i["answerable"] and i.get("answer_key") and (split is None or i.get("split") == split)]


def measure(kb: Assistant, items: list[dict]) -> tuple[float, float, int]:
    """Answer-key coverage, citation precision and refusals of the extractive answers to `items`."""
    coverages, cited, cited_ok, refused = [], 0, 0, 0
    for item in items:
        answer = kb.ask(item["question"], mode="extractive")
        key = item["answer_key"]
        refused += answer.refused
        coverages.append(0.0 if answer.refused else sum(k in answer.text for k in key) / len(key))
        cited += len(answer.citations)
        cited_ok += sum(any(g in c.text for g in item["gold"]) for c in answer.citations)
    return sum(coverages) / len(coverages), cited_ok / max(1, cited), refused


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="bench/answerability.jsonl")
    parser.add_argument("--devset", default="bench/devset.jsonl")
    args = parser.parse_args()
    kb = Assistant.open()
    calib, report = load(Path(args.set), "calib"), load(Path(args.set), "report")
    devset = load(Path(args.devset))
    grid = []
    print(
        f"calibration half ({len(calib)} answerable): keep_ratio new_source_ratio meaning_weight"
        " -> coverage precision refused"
    )
    for keep in KEEP:
        for new in NEW_SOURCE:
            for meaning in MEANING:
                set_cutoffs(kb, (keep, new, meaning))
                cov, prec, refused = measure(kb, calib)
                grid.append((cov + prec, keep, new, meaning))
                print(f"  {keep:.1f} {new:.1f} {meaning:.1f} -> {cov:.3f} {prec:.3f} {refused}", flush=True)
    _, *best = max(grid, key=lambda g: (round(g[0], 6), -g[1], -g[2], -g[3]))
    chosen = (best[0], best[1], best[2])
    print(f"chosen (best coverage + precision; ties to the lower values): {chosen}")
    for name, items in ((f"report half ({len(report)})", report), (f"devset ({len(devset)})", devset)):
        for label, setting in (("chosen", chosen), ("before", (0.6, 0.6, 0.0))):
            set_cutoffs(kb, setting)
            cov, prec, refused = measure(kb, items)
            print(f"{name} {label} {setting}: coverage {cov:.3f} precision {prec:.3f} refused {refused}", flush=True)


def set_cutoffs(kb: Assistant, setting: tuple[float, float, float]) -> None:
    kb.answerer.keep_ratio, kb.answerer.new_source_ratio, kb.answerer.meaning_weight = setting


if __name__ == "__main__":
    main()
