"""Dense-side cost per question at scale: reading candidates' vectors by id against the chunk_id filter, in one process.

Usage: python -m bench.vector_reads [--chunks 100000] [--windows 4] [--candidates 60] [--questions 40] [--keep DIR]

Builds a Chroma collection through the product's `VectorStore` with the product's id scheme (each chunk's own
vector "<chunk>" and its sentence windows "<chunk>:0" …) and random unit vectors (the model's speed is not what is
measured: bench/scale.py and bench/run.py measure it), then times what one question costs on the dense side,
the two ways alternated question by question:

- before (main until 2026-12-06): `count()`, the nearest-neighbour query, and the candidates' vectors read with a
  metadata filter `chunk_id $in [...]`;
- after: the query alone (Chroma returns what it has when asked for more) and the vectors read by id, the ids
  bounded by `Retriever.most_windows`.

Both read the same vectors (checked on every question). Prints medians in ms and their ratio. `--keep DIR` keeps the
collection there and reuses it on the next run (building 100k chunks takes ~10 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from assistant.kb.vectors import VectorRecord, open_store
from assistant.retrieval.hybrid import window_bound


def build(store, chunks: int, windows: int, dim: int = 384, batch: int = 5000) -> None:
    rng = np.random.default_rng(0)
    have = store.count()
    per = windows + 1
    for first in range(have // per, chunks, batch // per):
        records = []
        for c in range(first, min(chunks, first + batch // per)):
            cid = f"doc{c // 20}-{c % 20}"
            meta = {"doc_id": f"doc{c // 20}", "start": 0, "end": 300}
            vectors = rng.standard_normal((per, dim)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            records.append(VectorRecord(cid, cid, "chunk", "", vectors[0], meta))
            records += [VectorRecord(f"{cid}:{j}", cid, "window", "", vectors[j + 1], meta) for j in range(windows)]
        store.add(records)
        print(f"  {store.count():,} vectors", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--chunks", type=int, default=100_000)
    ap.add_argument("--windows", type=int, default=4, help="sentence windows per chunk (the sample corpus: ~4)")
    ap.add_argument("--candidates", type=int, default=60, help="chunks whose vectors one question reads (30 + 30)")
    ap.add_argument("--questions", type=int, default=40)
    ap.add_argument("--keep", type=Path, help="keep the collection in this folder and reuse it")
    args = ap.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="vector-reads-"))
    store = open_store(folder, f"bench_{args.chunks}_{args.windows}")
    started = time.perf_counter()
    build(store, args.chunks, args.windows)
    print(f"{store.count():,} vectors ready in {time.perf_counter() - started:.0f} s")
    rng = np.random.default_rng(1)
    bound = window_bound(300, 80)  # what the retriever computes for a 300-character chunk and 80-character windows
    before, after = [], []
    for q in range(args.questions):
        vector = rng.standard_normal(384).astype(np.float32)
        vector /= np.linalg.norm(vector)
        chunk_ids = [f"doc{c // 20}-{c % 20}" for c in rng.choice(args.chunks, args.candidates, replace=False)]
        runs = []
        for way in ("before", "after") if q % 2 == 0 else ("after", "before"):
            t = time.perf_counter()
            if way == "before":
                n = store.count()
                store.query(vector, min(120, n))
                got = store.vectors_of(chunk_ids)
            else:
                store.query(vector, 120)
                got = store.vectors_of(chunk_ids, dict.fromkeys(chunk_ids, bound))
            (before if way == "before" else after).append((time.perf_counter() - t) * 1000)
            runs.append({cid: len(v) for cid, v in got.items()})
        assert runs[0] == runs[1], "the two ways read different vectors"
    b, a = statistics.median(before), statistics.median(after)
    print(
        f"chunks {args.chunks:,}, vectors {store.count():,}, {args.candidates} candidates, {args.questions} questions"
    )
    print(f"dense side per question, median ms: before {b:.1f}, after {a:.1f}, after / before {a / b:.2f}")


if __name__ == "__main__":
    main()
