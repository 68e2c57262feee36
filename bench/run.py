"""The benchmark behind the README's figures: quality, refusal, speed and memory, in one process.

Usage: python -m bench.run [--home DIR] [--skip-beir] [--beir ../shared/bench/cmrc2018]
Builds a fresh knowledge base of data/corpus (unless --home points at one), then prints markdown
tables. Timings are medians; the ingestion figure is a ratio to the model's raw encoding speed
measured in the same run, so it means something on a busy machine too.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

from bench.scale import rss_mb

ROOT = Path(__file__).resolve().parent.parent


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--home", help="knowledge-base home to use (default: a fresh temporary one)")
    ap.add_argument("--beir", default=str(ROOT.parent / "shared" / "bench" / "cmrc2018"))
    ap.add_argument("--skip-beir", action="store_true")
    ap.add_argument("--repeat", type=int, default=3, help="ask() latency: passes over the development set")
    args = ap.parse_args()

    from assistant import Assistant
    from assistant.eval.metrics import evaluate_beir, evaluate_questions, format_report, read_question_set
    from assistant.settings import Settings

    models = Settings.load(None).models_dir
    home = Path(args.home) if args.home else Path(tempfile.mkdtemp(prefix="bench-home-"))
    print(f"home: {home}  models: {models}  threads: {os.cpu_count()} cores\n")

    kb = Assistant.open(home, models=str(models))
    started = time.perf_counter()
    kb.embedder.encode_queries(["warm up"])  # load the model before timing anything
    kb.analyse("warm up the English dictionary")
    load_s = time.perf_counter() - started

    # Ingestion throughput against the raw encoder on exactly the texts ingestion embeds.
    from assistant.kb.chunk_vectors import vector_records
    from ingest.chunking import chunk_document
    from ingest.documents import prepare_documents
    from ingest.loaders import discover, load

    files, _ = discover([ROOT / "data" / "corpus"])
    texts: list[str] = []
    n_chunks = 0
    for f in files:
        for doc in prepare_documents(load(f)):
            chunks = chunk_document(
                doc.doc_id, doc.text, size=kb.settings.chunk_size, overlap=kb.settings.chunk_overlap
            )
            n_chunks += len(chunks)
            records = vector_records(str(f), chunks, {doc.doc_id: {"title": doc.title}}, kb.settings.window_chars)
            texts += [r.text for r in records]
    started = time.perf_counter()
    kb.embedder.encode_passages(texts)
    raw_s = time.perf_counter() - started
    fresh = not kb.documents()
    started = time.perf_counter()
    report = kb.ingest([ROOT / "data" / "corpus"])
    ingest_s = time.perf_counter() - started
    print("## Ingestion (data/corpus)\n")
    print("| figure | value |\n|---|---|")
    print(f"| files / chunks / vectors embedded | {len(files)} / {n_chunks} / {len(texts)} |")
    print(f"| raw encoding of those texts | {raw_s:.1f} s ({len(texts) / raw_s:.1f} texts/s) |")
    if fresh:
        print(
            f"| full ingestion (load, clean, chunk, embed, Chroma, BM25) | {ingest_s:.1f} s "
            f"({n_chunks / ingest_s:.1f} chunks/s) |"
        )
        print(f"| ingestion speed / raw encoding speed | {raw_s / ingest_s:.2f} |")
    again_started = time.perf_counter()
    again = kb.ingest([ROOT / "data" / "corpus"])
    print(
        f"| re-ingest, nothing changed | {time.perf_counter() - again_started:.2f} s "
        f"({len(again.unchanged)} unchanged) |"
    )
    print(f"| model load | {load_s:.1f} s |")
    assert not report.failed, report.failed

    print("\n## Development set (bench/devset.jsonl)\n")
    devset = ROOT / "bench" / "devset.jsonl"
    dev = evaluate_questions(kb, devset)
    print("```\n" + format_report(dev) + "\n```")

    questions = [i["question"] for i in read_question_set(devset)]
    # Each question timed as if asked for the first time (the query-vector cache emptied before it), and, in
    # the same passes, with the cache off: the question encoded for retrieval and again for the background check.
    cache = kb.embedder.query_cache
    latencies, uncached = [], []
    for _ in range(args.repeat):
        for q in questions:
            for size, out in ((64, latencies), (0, uncached)):
                cache.clear()
                cache.size = size
                started = time.perf_counter()
                kb.ask(q)
                out.append((time.perf_counter() - started) * 1000)
    cache.size = 64
    retrieve_ms = []
    for q in questions:
        started = time.perf_counter()
        kb.retrieve(q)
        retrieve_ms.append((time.perf_counter() - started) * 1000)
    print(
        f"\nask() warm: p50 {statistics.median(latencies):.0f} ms, "
        f"p95 {statistics.quantiles(latencies, n=20)[-1]:.0f} ms over {len(latencies)} calls "
        f"(without the query-vector cache, alternated: p50 {statistics.median(uncached):.0f} ms); "
        f"retrieve() p50 {statistics.median(retrieve_ms):.0f} ms"
    )

    if not args.skip_beir and Path(args.beir).is_dir():
        print(f"\n## {Path(args.beir).name} (BEIR layout, one chunk per corpus entry)\n")
        beir_kb = Assistant(kb.settings.replace(kb="beir"), embedder=kb.embedder)
        started = time.perf_counter()
        result = evaluate_beir(beir_kb, Path(args.beir))
        print("```\n" + format_report(result) + f"\n(indexing + evaluation {time.perf_counter() - started:.0f} s)\n```")

    print(f"\nprocess RSS now {rss_mb():.0f} MB, peak {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
