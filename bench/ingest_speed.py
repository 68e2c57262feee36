"""Ingestion throughput against one pass of the embedding model over the same text, in one run.

Usage: python -m bench.ingest_speed [--paragraphs 200] [--corpus ../shared/bench/cmrc2018] [--rounds 2]

Writes the first N entries of a BEIR corpus as .txt files (one paragraph each), then alternates, per
round: one pass of the embedding model over those texts cut into chunks as ingestion cuts them
(`encode_passages`, the configured engine and batch size), and `kb.ingest()` of the files into a
fresh knowledge base. Prints characters/s of each and their ratio (ingestion ÷ one pass, medians
over the rounds: the machine is shared, so the two are measured close together). Also prints where
ingestion's time went: the model calls (all texts it embedded) and the rest.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def write_files(corpus: Path, n: int, folder: Path) -> list[str]:
    """The first n non-empty corpus texts, each as a file in `folder`; returns the texts."""
    texts = []
    for line in (corpus / "corpus.jsonl").read_text(encoding="utf-8").splitlines():
        text = json.loads(line).get("text", "").strip()
        if text:
            texts.append(text)
        if len(texts) == n:
            break
    for i, text in enumerate(texts):
        (folder / f"p{i:05d}.txt").write_text(text + "\n", encoding="utf-8")
    return texts


class CountingEmbedder:
    """Wraps an embedder, adding up the time and texts of passage encoding (ingestion's model calls)."""

    def __init__(self, inner):
        self.inner = inner
        self.name = inner.name
        self.seconds = 0.0
        self.texts = 0

    def encode_passages(self, texts):
        started = time.perf_counter()
        out = self.inner.encode_passages(texts)
        self.seconds += time.perf_counter() - started
        self.texts += len(texts)
        return out

    def encode_queries(self, texts):
        return self.inner.encode_queries(texts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "bench" / "cmrc2018"))
    ap.add_argument("--paragraphs", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()

    from assistant import Assistant
    from assistant.models.embeddings import open_embedder
    from assistant.settings import Settings
    from ingest.chunking import chunk_document
    from ingest.clean import clean_text

    work = Path(tempfile.mkdtemp(prefix="ingest-speed-"))
    files = work / "files"
    files.mkdir()
    texts = write_files(Path(args.corpus), args.paragraphs, files)
    chars = sum(len(t) for t in texts)
    settings = Settings.load(work / "home-0")
    embedder = open_embedder(settings)
    embedder.encode_queries(["warm up"])  # load the model before timing anything
    pieces = [
        c.text
        for i, t in enumerate(texts)
        for c in chunk_document(f"d{i}", clean_text(t), size=settings.chunk_size, overlap=settings.chunk_overlap)
    ]
    print(
        f"{len(texts)} paragraphs of {args.corpus}, {chars:,} characters, {len(pieces)} chunks; "
        f"engine {settings.embedding_engine}, {settings.embedding_threads} threads, batch {settings.embedding_batch_size}"
    )
    one_pass, ingest, model_share = [], [], []
    for r in range(args.rounds):
        started = time.perf_counter()
        embedder.encode_passages(pieces)
        one_pass.append(chars / (time.perf_counter() - started))
        counting = CountingEmbedder(embedder)
        with Assistant.open(work / f"home-{r}", embedder=counting) as kb:
            started = time.perf_counter()
            report = kb.ingest([files])
            seconds = time.perf_counter() - started
        assert not report.failed, report.failed
        ingest.append(chars / seconds)
        model_share.append(counting.seconds / seconds)
        print(
            f"round {r + 1}: one pass {one_pass[-1]:.0f} chars/s; ingest {ingest[-1]:.0f} chars/s "
            f"({seconds:.1f} s, {counting.texts} texts embedded, model calls {counting.seconds:.1f} s)"
        )
    ratio = statistics.median(i / o for i, o in zip(ingest, one_pass))
    print(
        f"\none pass of the model: {statistics.median(one_pass):.0f} chars/s | kb.ingest(): "
        f"{statistics.median(ingest):.0f} chars/s | ratio {ratio:.2f} | model calls "
        f"{statistics.median(model_share):.0%} of ingestion time"
    )


if __name__ == "__main__":
    main()
