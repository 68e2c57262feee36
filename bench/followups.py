"""Follow-up detection accuracy on bench/followups.jsonl: is a question rewritten exactly when it needs its history?

Usage: python -m bench.followups [--set bench/followups.jsonl] [--verbose] [--rules-only]
Decides as the product does in every mode: the learned classifier nudged by the rules, the rules wording the
rewrite (needs the e5 model, no knowledge base); --rules-only: the rules alone.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from assistant.models.embeddings import open_embedder
from assistant.retrieval.followup import rewrite_followup
from assistant.retrieval.followup_learned import LearnedFollowups
from assistant.settings import Settings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--set", default="bench/followups.jsonl")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--rules-only", action="store_true")
    args = ap.parse_args()
    learned = None if args.rules_only else LearnedFollowups.for_embedder(open_embedder(Settings.load(None)))
    judge = learned.needs_history if learned else None
    items = [json.loads(line) for line in Path(args.set).read_text(encoding="utf-8").splitlines() if line.strip()]
    right = 0
    by_label = {True: [0, 0], False: [0, 0]}
    for item in items:
        searched = rewrite_followup(item["question"], item["history"], judge)
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
