"""Calibrate the support floor of generated-answer verification on labelled sentences of the development set.

Usage: python -m bench.support [bench/support_set.jsonl] [--kb default]

Each labelled line is {"id": devset question id, "sentence": ..., "supported": true|false}: sentences
the local model wrote for development questions (eval --mode local), labelled by reading the
passages, plus invented sentences. Besides them, every answerable question's gold text from *other*
questions serves as an unsupported claim (real document text, the wrong topic). For each sentence
the script recomputes what the answerer would: retrieval, the passages shown to the model, the best
support over them; then prints each floor's errors.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from assistant.answering.generative import focus
from assistant.answering.grounding import SUPPORT_FLOOR, ground
from assistant.eval.metrics import read_question_set
from bench.corpus_kb import open_corpus_kb


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("labels", nargs="?", default="bench/support_set.jsonl")
    ap.add_argument("--devset", default="bench/devset.jsonl")
    ap.add_argument("--kb", default="default")
    args = ap.parse_args()
    kb = open_corpus_kb(kb=args.kb)
    questions = {q["id"]: q for q in read_question_set(Path(args.devset))}
    labelled = [json.loads(line) for line in Path(args.labels).read_text(encoding="utf-8").splitlines() if line.strip()]
    answerable = [q for q in questions.values() if q["answerable"]]
    cases: list[tuple[str, str, bool, str]] = [
        (x["id"], x["sentence"], bool(x["supported"]), "labelled") for x in labelled
    ]
    for i, q in enumerate(answerable):  # two other questions' gold texts as wrong-topic claims
        for other in (answerable[(i + 7) % len(answerable)], answerable[(i + 19) % len(answerable)]):
            if not set(other["gold"]) & set(q["gold"]):
                cases.append((q["id"], other["gold"][0], False, "other-gold"))
    shown_of: dict[str, list] = {}
    rows = []
    restatements = []
    for qid, sentence, supported, origin in cases:
        query = kb.analyse(questions[qid]["question"])
        if qid not in shown_of:
            passages = kb.retriever.search_query(query, kb.settings.top_k)
            shown_of[qid] = [focus(p, query, 240) for p in passages[:3]]
        if origin == "other-gold" and any(sentence in p.text for p in shown_of[qid]):
            continue  # another question's answer that this question's passages also hold: supported, not a negative
        # Exactly what the answerer computes (assistant/answering/generative.py), with the floor out of the way.
        result = ground(
            sentence,
            shown_of[qid],
            kb.embedder,
            language=query.language,
            question=query.text,
            concepts=lambda text: kb.analyse(text).concepts,
            floor=2.0,
        )
        if not result.statements:
            restatements.append((supported, sentence))
            continue
        best = max(result.matches[0], key=lambda m: m.support)
        rows.append((best.support, supported, origin, best.bigram, best.similarity, sentence))
    rows.sort()
    for support, ok, origin, share, sim, sentence in rows:
        print(f"{support:.3f} {'SUP' if ok else 'no ':<3} {origin:<10} share={share:.2f} sim={sim:.3f} {sentence[:40]}")
    for ok, sentence in restatements:
        print(f"restates the question, neither cited nor flagged ({'SUP' if ok else 'no'}): {sentence[:40]}")
    pos = [r[0] for r in rows if r[1]]
    neg = [r[0] for r in rows if not r[1]]
    print(f"\n{len(pos)} supported, {len(neg)} unsupported sentences; current floor {SUPPORT_FLOOR}")
    print("floor  supported-rejected  unsupported-accepted")
    for floor in [x / 100 for x in range(20, 81, 5)]:
        print(
            f"{floor:.2f}   {sum(s < floor for s in pos):>3}/{len(pos)}   {sum(s >= floor for s in neg):>3}/{len(neg)}"
        )


if __name__ == "__main__":
    main()
