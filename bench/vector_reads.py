"""Dense side at scale: sentence windows searched with their chunks (before) against kept apart (now), time and memory.

Usage: python -m bench.vector_reads [--chunks 100000] [--windows 4] [--candidates 60] [--questions 40] [--keep DIR]

Builds two knowledge bases' vector stores of random unit vectors with the product's id scheme (each chunk's own
vector "<chunk>" and its sentence windows "<chunk>:0" …; the model's speed is not what is measured, bench/scale.py
and bench/run.py measure it):

- mixed: one Chroma collection holding both kinds, as every knowledge base made before 2026-12-06 is (written
  here the way that code wrote it; the product still reads such a store as it was written);
- apart: through the product's `VectorStore` as it writes a new knowledge base: the chunks' vectors in the
  collection, the windows' in window_store.py's file beside it.

What one question costs on the dense side is the product's own calls, `nearest_chunks` (30) and `vectors_of` of
the candidates (bounded by `Retriever.most_windows`), the two stores alternated question by question in one process;
both must read the same number of vectors per chunk (checked). The memory of each is measured in a process of its
own that opens only that store and asks the same questions (VmRSS after them). `--keep DIR` keeps both stores
there and reuses them (building 100k chunks takes ~10 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from assistant.kb.vectors import VectorRecord, open_store
from assistant.retrieval.hybrid import window_bound

BOUND = window_bound(300, 80)  # what the retriever computes for a 300-character chunk and 80-character windows


def records_of(first: int, last: int, windows: int, dim: int = 384) -> list[VectorRecord]:
    rng = np.random.default_rng(first)
    out = []
    for c in range(first, last):
        cid = f"doc{c // 20}-{c % 20}"
        vectors = rng.standard_normal((windows + 1, dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        meta = {"doc_id": f"doc{c // 20}", "start": 0, "end": 300}
        out.append(VectorRecord(cid, cid, "chunk", "", vectors[0], meta))
        out += [VectorRecord(f"{cid}:{j}", cid, "window", "", vectors[j + 1], meta) for j in range(windows)]
    return out


def build(folder: Path, layout: str, chunks: int, windows: int, batch: int = 1000) -> None:
    """Both kinds in one collection ("mixed", as written before 2026-12-06) or through today's store ("apart")."""
    name = "bench_vectors"
    if layout == "mixed":
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        client = chromadb.PersistentClient(path=str(folder), settings=ChromaSettings(anonymized_telemetry=False))
        collection = client.get_or_create_collection(
            name=name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
        )
        have = collection.count() // (windows + 1)

        def write(records: list[VectorRecord]) -> None:
            collection.upsert(
                ids=[r.record_id for r in records],
                embeddings=np.stack([r.vector for r in records]),
                metadatas=[{**r.metadata, "chunk_id": r.chunk_id, "kind": r.kind} for r in records],
            )
    else:
        store = open_store(folder, name)
        have = len(store.chunk_ids())
        write = store.add
    for first in range(have, chunks, batch):
        write(records_of(first, min(chunks, first + batch), windows))
        print(f"  {layout}: {min(chunks, first + batch):,} chunks", flush=True)


def questions(n: int, chunks: int, candidates: int) -> list[tuple[np.ndarray, list[str]]]:
    rng = np.random.default_rng(1)
    out = []
    for _ in range(n):
        vector = rng.standard_normal(384).astype(np.float32)
        ids = [f"doc{c // 20}-{c % 20}" for c in rng.choice(chunks, candidates, replace=False)]
        out.append((vector / np.linalg.norm(vector), ids))
    return out


def ask(store, vector: np.ndarray, chunk_ids: list[str]) -> dict[str, int]:
    """The product's dense side of one question: its nearest chunks, then every vector of the candidates."""
    store.nearest_chunks(vector, 30)
    return {cid: len(v) for cid, v in store.vectors_of(chunk_ids, dict.fromkeys(chunk_ids, BOUND)).items()}


def rss_of(folder: Path, args: argparse.Namespace) -> None:
    """Child process: open one store, ask the questions, print VmRSS (MB) as JSON."""
    store = open_store(folder, "bench_vectors")
    for vector, ids in questions(args.questions, args.chunks, args.candidates):
        ask(store, vector, ids)
    rss = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmRSS:"))
    print(json.dumps({"rss_mb": rss / 1024, "windows_apart": store.windows is not None}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--chunks", type=int, default=100_000)
    ap.add_argument("--windows", type=int, default=4, help="sentence windows per chunk (the sample corpus: ~4)")
    ap.add_argument("--candidates", type=int, default=60, help="chunks whose vectors one question reads (30 + 30)")
    ap.add_argument("--questions", type=int, default=40)
    ap.add_argument("--keep", type=Path, help="keep both stores in this folder and reuse them")
    ap.add_argument("--rss-of", type=Path, help=argparse.SUPPRESS)  # the child process of the memory figures
    args = ap.parse_args()
    if args.rss_of:
        return rss_of(args.rss_of, args)
    root = args.keep or Path(tempfile.mkdtemp(prefix="vector-reads-"))
    folders = {layout: root / f"{layout}-{args.chunks}-{args.windows}" for layout in ("mixed", "apart")}
    for layout, folder in folders.items():
        started = time.perf_counter()
        build(folder, layout, args.chunks, args.windows)
        print(f"{layout} ready in {time.perf_counter() - started:.0f} s", flush=True)
    stores = {layout: open_store(folder, "bench_vectors") for layout, folder in folders.items()}
    assert stores["mixed"].windows is None and stores["apart"].windows is not None
    times: dict[str, list[float]] = {"mixed": [], "apart": []}
    for q, (vector, ids) in enumerate(questions(args.questions, args.chunks, args.candidates)):
        got = []
        for layout in ("mixed", "apart") if q % 2 == 0 else ("apart", "mixed"):
            t = time.perf_counter()
            got.append(ask(stores[layout], vector, ids))
            times[layout].append((time.perf_counter() - t) * 1000)
        assert got[0] == got[1], "the two layouts read different numbers of vectors"
    memory = {}
    for layout, folder in folders.items():
        child = [sys.executable, "-m", "bench.vector_reads", "--rss-of", str(folder)]
        child += [
            "--chunks",
            str(args.chunks),
            "--candidates",
            str(args.candidates),
            "--questions",
            str(args.questions),
        ]
        out = subprocess.run(child, capture_output=True, text=True, check=True).stdout
        memory[layout] = json.loads(out.strip().splitlines()[-1])["rss_mb"]
    m, a = statistics.median(times["mixed"]), statistics.median(times["apart"])
    print(
        f"chunks {args.chunks:,} with {args.windows} windows each, {args.candidates} candidates, {args.questions} questions"
    )
    print("| layout | dense side per question, median ms | process RSS after the questions, MB |")
    print("|---|---|---|")
    print(f"| windows searched with their chunks (before) | {m:.1f} | {memory['mixed']:.0f} |")
    print(
        f"| windows apart (now) | {a:.1f} ({a / m:.2f}x) | {memory['apart']:.0f} ({memory['apart'] / memory['mixed']:.2f}x) |"
    )


if __name__ == "__main__":
    main()
