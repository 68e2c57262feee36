"""Follow-up detection accuracy on bench/followups.jsonl: is a question rewritten exactly when it needs its history?

Usage: python -m bench.followups [--set bench/followups.jsonl] [--verbose]
Uses the rule-based rewrite (what every mode falls back to); no model, no knowledge base.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from assistant.retrieval.followup import rewrite_followup


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--set", default="bench/followups.jsonl")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    items = [json.loads(line) for line in Path(args.set).read_text(encoding="utf-8").splitlines() if line.strip()]
    right = 0
    by_label = {True: [0, 0], False: [0, 0]}
    for item in items:
        searched = rewrite_followup(item["question"], item["history"])
        predicted = searched != item["question"].strip()
        ok = predicted == item["followup"]
        right += ok
        by_label[item["followup"]][0] += ok
        by_label[item["followup"]][1] += 1
        if args.verbose or not ok:
            print(
                f"{'ok ' if ok else 'ERR'} {item['id']} follow-up={item['followup']!s:<5} {item['question']} -> {searched}"
            )
    print(
        f"\naccuracy {right}/{len(items)} = {right / len(items):.3f}; follow-ups recognised "
        f"{by_label[True][0]}/{by_label[True][1]}, complete questions kept {by_label[False][0]}/{by_label[False][1]}"
    )


if __name__ == "__main__":
    main()
