"""Compare the local chat models on the development set, back to back in one process, with the same prompts.

Usage: python -m bench.local_models [--models qwen2.5-coder-0.5b,qwen2.5-coder-1.5b] [--threads 2]
       [--set bench/devset.jsonl] [--limit N] [--every N] [--generated-only] [--json OUT]

For each model and thread count: answer-key coverage, sentences supported, citation precision, false
refusals, near-domain refusals (as `eval --mode local` reports them), first-word and full-answer p50 of the
questions that reached the model, and the process's RSS (the model runs in-process) sampled while it answers.
`--generated-only` keeps the answerable questions the gate lets through to the model: a quicker latency run.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from pathlib import Path

from assistant import Assistant
from assistant.eval.metrics import evaluate_answers, read_question_set
from bench.corpus_kb import open_corpus_kb


def rss_mb() -> float:
    """This process's resident memory in MB (Linux /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class PeakRSS:
    """Samples RSS in a background thread while the block runs."""

    def __enter__(self) -> PeakRSS:
        self.peak = rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, rss_mb())

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="qwen2.5-coder-0.5b,qwen2.5-coder-1.5b")
    ap.add_argument("--threads", default="2", help="comma-separated thread counts, e.g. 1,2")
    ap.add_argument("--set", default="bench/devset.jsonl")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--every", type=int, default=1, help="every Nth question only (a spread-out subset)")
    ap.add_argument("--generated-only", action="store_true")
    ap.add_argument("--evidence", default="sentences", help="comma-separated: sentences, passages (llm_evidence)")
    ap.add_argument("--json", default="")
    args = ap.parse_args()
    items = read_question_set(Path(args.set))
    base = open_corpus_kb()
    if args.generated_only:  # the questions the gate passes to a model: answerable and judged answerable
        items = [
            q
            for q in items
            if q["answerable"] and not (a := base.ask(q["question"], mode="extractive")).refused and not a.partial
        ]
    items = items[:: args.every]
    if args.limit:
        items = items[: args.limit]
    base.ask("机关是怎样落实在职党员“双报到”制度的？", mode="extractive")  # embedder loaded before the baseline
    results = []
    runs = [
        (m, t, e)
        for m in args.models.split(",")
        for e in args.evidence.split(",")
        for t in map(int, args.threads.split(","))
    ]
    for model, threads, evidence in runs:
        kb = Assistant.open(None, embedder=base.embedder, local_model=model, llm_threads=threads, llm_evidence=evidence)
        before = rss_mb()
        started = time.perf_counter()
        with PeakRSS() as peak:
            metrics = evaluate_answers(kb, items, "local")
        kb.close()
        row = {
            "model": model,
            "threads": threads,
            "evidence": evidence,
            "questions": len(items),
            "key_coverage": round(metrics.key_coverage, 3),
            "supported": round(metrics.supported_share, 3),
            "citation_precision": round(metrics.citation_precision, 3),
            "false_refusals": f"{metrics.false_refusals}/{metrics.answerable}",
            "quoted_instead": f"{metrics.fallbacks}/{metrics.answerable}",
            "near_refused": f"{metrics.near_refused[0]}/{metrics.near_refused[1]}",
            "unanswerable_refused": round(metrics.refusal_accuracy, 3),
            "first_word_p50_s": round(metrics.first_token_p50_ms / 1000, 1),
            "answer_p50_s": round(metrics.generated_p50_ms / 1000, 1),
            "all_questions_p50_s": round(metrics.latency_p50_ms / 1000, 1),
            "rss_before_mb": round(before),
            "rss_peak_mb": round(peak.peak),
            "wall_s": round(time.perf_counter() - started),
            "rows": metrics.rows,
        }
        results.append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "rows"}, ensure_ascii=False), flush=True)
        if args.json:
            Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    base.close()


if __name__ == "__main__":
    main()
