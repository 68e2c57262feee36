"""BM25 build benchmark: time and peak memory of building the keyword index over N chunks.

Usage: python -m bench.keyword_build [--chunks 100000] [--tokens 106]
       python -m bench.keyword_build --add-one [--chunks 100000] [--file-chunks 5] [--runs 7]

Chunks are made of real tokens: the sample corpus and the CMRC 2018 passages are cut by the
product's tokenizer, and each synthetic chunk draws `--tokens` tokens (the sample knowledge base
averages 106 per chunk) from runs of consecutive real tokens. They are generated one at a time,
as the registry hands them out (twice: the build reads its source twice), so the process holds no
token lists of its own. The build runs in a fresh child process; the figures are its VmHWM growth
during the build (VmHWM is reset just before it: the peak the build adds on top of an open knowledge
base), the RSS it keeps after the freed heap is handed back (as the assistant does), and the size of
the finished matrix.

`--add-one` measures what an upload costs the keyword index of a knowledge base of `--chunks`
chunks (a real registry in SQLite, filled with the same synthetic chunks): the registry's write of
one file of `--file-chunks` chunks is done first (ingestion writes it whatever the index does), then
the index is brought up to date either by a full rebuild from the registry and a save (`before`:
what every ingestion did) or incrementally (`after`: the file's own postings, the fingerprint check
and the save). Both in one process, medians of `--runs` uploads (new files and replaced files
alternate); also the time to reopen (load the saved index) and BM25 query times on the development
questions, on the freshly built index and after the uploads.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
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


def fill_registry(registry, stream: list[str], n: int, per_chunk: int, per_file: int = 10) -> None:
    """n synthetic chunks in files of `per_file` chunks, written in one transaction."""
    from assistant.kb.registry import SourceRecord
    from ingest.chunking import Chunk
    from ingest.documents import Document

    def records():
        made = chunks(stream, n, per_chunk)
        for f in range((n + per_file - 1) // per_file):
            items = [next(made) for _ in range(min(per_file, n - f * per_file))]
            yield file_record(f"/bench/f{f:07d}.txt", items, SourceRecord, Chunk, Document)

    registry.replace_all(records())


def file_record(source: str, items: list[tuple[str, list[str]]], SourceRecord, Chunk, Document):
    doc_id = f"doc-{source.rsplit('/', 1)[-1]}"
    doc = Document(doc_id, source, doc_id, "正文", "txt")
    cs = [Chunk(cid, doc_id, i, 0, 2, "正文", "", None, "h") for i, (cid, _) in enumerate(items)]
    return SourceRecord(source, "hash", [doc], {doc_id: cs}, dict(items), "now", True)


def query_ms(index, questions: list[list[str]]) -> float:
    """Median time of scoring every chunk for one development question."""
    times = []
    for tokens in questions * 3:
        started = time.perf_counter()
        index.top(index.scores(tokens), 30)
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 2)


def run_add_one(n: int, per_chunk: int, file_chunks: int, runs: int) -> dict:
    import tempfile

    from assistant.kb.keyword import Tokenizer
    from assistant.kb.keyword_cache import KeywordCache
    from assistant.kb.memory import release_free_memory
    from assistant.kb.registry import Registry, SourceRecord
    from bench.scale import peak_mb, rss_mb
    from ingest.chunking import Chunk
    from ingest.documents import Document

    stream = token_stream()
    tokenizer = Tokenizer()
    questions = [
        tokenizer.tokenize(json.loads(line)["question"])
        for line in (ROOT / "bench" / "devset.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    home = Path(tempfile.mkdtemp(prefix="bm25-add-"))
    registry = Registry(home / "registry.sqlite")
    fill_registry(registry, stream, n, per_chunk)
    release_free_memory()
    before_rss = rss_mb()
    cache = KeywordCache(home / "bm25", registry)
    started = time.perf_counter()
    cache.refresh()  # nothing saved yet: the full build
    first_build = time.perf_counter() - started
    built_rss = rss_mb()
    query_fresh = query_ms(cache.index, questions)
    started = time.perf_counter()
    reopened = KeywordCache(home / "bm25", registry)
    reopened.refresh()  # the saved index matches the registry: loaded, not rebuilt
    reopen = time.perf_counter() - started
    del reopened

    rng = random.Random(1)
    full, incremental, writes = [], [], []
    for run in range(runs * 2):
        # every other upload replaces a file uploaded before; the rest are new files
        source = f"/bench/new{run - run % 2:05d}.txt"
        items = [
            (f"n{run:05d}-{i}", list(stream[j : j + per_chunk]))
            for i in range(file_chunks)
            for j in [rng.randrange(len(stream) - per_chunk)]
        ]
        started = time.perf_counter()
        old = registry.chunk_ids_of_source(source)
        record = file_record(source, items, SourceRecord, Chunk, Document)
        registry.put_source(source, "hash", record.docs, record.chunks, record.tokens, "now", complete=False)
        registry.mark_complete(source)
        writes.append(time.perf_counter() - started)
        started = time.perf_counter()
        if run % 2 == 0 and len(full) < max(1, runs // 2):
            cache.refresh(force=True)  # before: the whole index rebuilt from the registry and saved
            full.append(time.perf_counter() - started)
        else:
            cache.forget(old)
            cache.touch(source)
            cache.apply()  # after: the file's own postings
            incremental.append(time.perf_counter() - started)
    assert cache.index.signature == registry.chunk_signature(verify=True)
    index = cache.index
    return {
        "chunks": len(index),
        "file_chunks": file_chunks,
        "postings": sum(seg.nnz for seg in index.segments),
        "segments": len(index.segments),
        "first_build_s": round(first_build, 2),
        "reopen_s": round(reopen, 2),
        "registry_write_ms": round(statistics.median(writes) * 1000, 1),
        "before_full_rebuild_s": round(statistics.median(full), 2),
        "before_runs": len(full),
        "after_incremental_s": round(statistics.median(incremental), 3),
        "after_max_s": round(max(incremental), 3),
        "after_runs": len(incremental),
        "query_ms_fresh": query_fresh,
        "query_ms_after_uploads": query_ms(index, questions),
        "index_rss_mb": round(built_rss - before_rss, 1),
        "peak_rss_mb": round(peak_mb(), 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--chunks", type=int, default=100_000)
    ap.add_argument("--tokens", type=int, default=106)
    ap.add_argument("--add-one", action="store_true", help="time an upload: full rebuild vs incremental update")
    ap.add_argument("--file-chunks", type=int, default=5)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.add_one:
        row = run_add_one(args.chunks, args.tokens, args.file_chunks, args.runs)
        print(json.dumps(row))
        print(
            f"adding a file of {row['file_chunks']} chunks to {row['chunks']:,} chunks: full rebuild "
            f"{row['before_full_rebuild_s']} s (median of {row['before_runs']}), incremental "
            f"{row['after_incremental_s']} s (median of {row['after_runs']}, max {row['after_max_s']} s); "
            f"registry write {row['registry_write_ms']} ms; reopen {row['reopen_s']} s; "
            f"BM25 query {row['query_ms_fresh']} ms fresh, {row['query_ms_after_uploads']} ms after the uploads"
        )
        return
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
