"""BM25 build benchmark: time and peak memory of building the keyword index over N chunks.

Usage: python -m bench.keyword_build [--chunks 100000] [--tokens 106]

Chunks are made of real tokens: the sample corpus and the CMRC 2018 passages are cut by the
product's tokenizer, and each synthetic chunk draws `--tokens` tokens (the sample knowledge base
averages 106 per chunk) from runs of consecutive real tokens. They are generated one at a time,
as the registry hands them out (twice: the build reads its source twice), so the process holds no
token lists of its own. The build runs in a fresh child process; the figures are its VmHWM growth
during the build (VmHWM is reset just before it: the peak the build adds on top of an open knowledge
base), the RSS it keeps after the freed heap is handed back (as the assistant does), and the size of
the finished matrix.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CMRC = ROOT.parent / "shared" / "bench" / "cmrc2018"


def token_stream() -> list[str]:
    from assistant.kb.keyword import Tokenizer

    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "data" / "corpus").glob("*.txt"))]
    if (CMRC / "corpus.jsonl").exists():
        texts += [json.loads(line)["text"] for line in (CMRC / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    tokenizer = Tokenizer()
    return [t for text in texts for t in tokenizer.tokenize(text)]


def chunks(stream: list[str], n: int, per_chunk: int):
    rng = random.Random(n)
    for i in range(n):
        tokens: list[str] = []
        while len(tokens) < per_chunk:  # runs of 20 consecutive tokens keep real co-occurrence
            start = rng.randrange(len(stream) - 20)
            tokens += stream[start : start + 20]
        yield f"c{i:08d}", tokens[:per_chunk]


def postings_mb(index) -> float:
    """Size of the index's postings arrays (rows, counts, column pointers and ids)."""
    arrays = [a for seg in index.segments for a in (seg.rows, seg.tf, seg.cols, seg.indptr, seg.lengths)]
    return sum(a.nbytes for a in arrays) / 2**20


def run_one(n: int, per_chunk: int) -> dict:
    import tempfile

    from assistant.kb.bm25 import BM25Index
    from assistant.kb.memory import release_free_memory
    from bench.scale import peak_mb, rss_mb

    stream = token_stream()
    release_free_memory()
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM: the peak from here on is the build's
    before_rss = rss_mb()
    index = BM25Index(Path(tempfile.mkdtemp(prefix="bm25-bench-")))
    started = time.perf_counter()
    index.build(lambda: chunks(stream, n, per_chunk))  # read twice, regenerated each time like registry pages
    seconds = time.perf_counter() - started
    peak = peak_mb()
    release_free_memory()  # as the assistant does after each rebuild
    return {
        "chunks": n,
        "tokens_per_chunk": per_chunk,
        "postings": sum(seg.nnz for seg in index.segments),
        "terms": sum(1 for _ in index.terms()),
        "build_s": round(seconds, 2),
        "matrix_mb": round(postings_mb(index), 1),
        "peak_growth_mb": round(peak - before_rss, 1),
        "rss_growth_mb": round(rss_mb() - before_rss, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--chunks", type=int, default=100_000)
    ap.add_argument("--tokens", type=int, default=106)
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(args.chunks, args.tokens)))
        return
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.keyword_build",
            "--one",
            "--chunks",
            str(args.chunks),
            "--tokens",
            str(args.tokens),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-3000:])
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    print(json.dumps(row))
    print(
        f"{row['chunks']} chunks, {row['postings']:,} postings, {row['terms']:,} terms: built in {row['build_s']} s; "
        f"matrix {row['matrix_mb']} MB; peak RSS growth during the build {row['peak_growth_mb']} MB, "
        f"kept {row['rss_growth_mb']} MB after trimming"
    )


if __name__ == "__main__":
    main()
