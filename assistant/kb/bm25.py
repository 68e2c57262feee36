"""Okapi BM25 over raw term counts, updated a file at a time, persisted as segments beside the vectors."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.kb import segment_files
from assistant.kb.fingerprint import Fingerprint
from assistant.kb.postings import Segment, TokenSource, build_segment, merge

# A segment is merged into the one before it once it holds at least half as many postings: the
# segments' sizes then grow geometrically (a handful of them), and each posting is rewritten
# O(log N) times however the knowledge base grew. Rows of deleted chunks stay as holes until more
# than a quarter of the rows are holes; then the whole index is compacted.
_MERGE_RATIO = 2
_HOLE_SHARE = 0.25


@dataclass(frozen=True)
class KeywordHit:
    chunk_id: str
    score: float


class BM25Index:
    """Okapi BM25 over pre-tokenised chunks; a snapshot that is never changed once built.

    The index keeps each chunk's raw term counts and applies idf and length normalisation when a
    question is scored, so adding, replacing or deleting a file (`updated`) touches only that file's
    postings plus the corpus counts (chunks, tokens, document frequencies), and returns a new
    snapshot: searches running on the old one are not disturbed, and the caller swaps the new one
    in with one assignment. It is derived data, rebuilt from the registry's stored tokens whenever
    its signature (a fingerprint of the chunk ids, see `Fingerprint`) no longer matches.
    Score vectors from `scores` have one entry per row (`top`, `restrict` and `score_of` read them).
    """

    def __init__(self, folder: Path, k1: float = 1.2, b: float = 0.75):
        self.folder = folder
        self.k1, self.b = k1, b
        self.segments: tuple[Segment, ...] = ()
        self.rows: dict[str, int] = {}  # live chunk id -> row, in row order
        self._ids: list[str] = []  # every row's chunk id, holes of deleted chunks included
        self._lengths = np.zeros(0, dtype=np.int32)
        self._alive = np.zeros(0, dtype=bool)
        self._vocab: dict[str, int] = {}  # term -> term id (a term no live chunk holds any more keeps it)
        self._df = np.zeros(0, dtype=np.int64)  # live chunks holding each term
        self._total = 0  # tokens in the live chunks
        self._print = Fingerprint()
        self._norm: np.ndarray | None = None  # see _row_norm
        self.tag = ""  # the owner's word on how the tokens were made, saved with the index (see KeywordCache)

    # -- building and updating ----------------------------------------------------------------
    def build(self, items: TokenSource) -> None:
        """Index (chunk id, tokens) pairs, replacing whatever was indexed before.

        `items` is read twice when it is a function (see `build_segment`).

        Raises:
            RuntimeError: the second pass did not give the same chunks as the first (build again);
                the index is unchanged then.
        """
        vocab: dict[str, int] = {}
        segment = build_segment(items, vocab, 0)
        self._install([segment] if segment.ids else [], segment.ids, segment.lengths, vocab)

    def updated(self, removed: Iterable[str], added: TokenSource) -> BM25Index:
        """A new index: this one without the chunks `removed`, plus the chunks `added`.

        An added chunk id that is indexed already replaces its old row. This index is not changed.

        Raises:
            RuntimeError: `added` changed between its two reads (see `build_segment`).
        """
        new = BM25Index(self.folder, self.k1, self.b)
        new.tag = self.tag
        vocab = dict(self._vocab)
        segment = build_segment(added, vocab, len(self._ids))
        gone = [self.rows[c] for c in dict.fromkeys([*removed, *segment.ids]) if c in self.rows]
        rows, alive, df = dict(self.rows), self._alive.copy(), self._df.copy()
        for row in gone:
            del rows[self._ids[row]]
        alive[gone] = False
        df = np.concatenate([df, np.zeros(len(vocab) - len(df), dtype=np.int64)])
        for seg in self.segments:  # the removed rows' postings: a pass over the segments that hold them
            dead = [r - seg.row0 for r in gone if seg.row0 <= r < seg.row_end]
            if dead:
                mask = np.zeros(len(seg.ids), dtype=bool)
                mask[dead] = True
                df -= np.bincount(seg.cols_at(np.flatnonzero(mask[seg.rows])), minlength=len(df))
        np.add.at(df, segment.cols, segment.column_counts())
        start = len(self._ids)
        rows.update((cid, start + i) for i, cid in enumerate(segment.ids))
        new.rows, new._vocab, new._df = rows, vocab, df
        new._ids = self._ids + segment.ids
        new._lengths = np.concatenate([self._lengths, segment.lengths])
        new._alive = np.concatenate([alive, np.ones(len(segment.ids), dtype=bool)])
        new._total = self._total - int(self._lengths[gone].sum()) + int(segment.lengths.sum())
        new._print = self._print.minus(self._ids[r] for r in gone).plus(segment.ids)
        segments = [*self.segments, segment] if segment.ids else list(self.segments)
        while len(segments) >= 2 and segments[-2].nnz <= _MERGE_RATIO * segments[-1].nnz:
            segments[-2:] = [merge(segments[-2:], new._alive)]
        new.segments = tuple(segments)
        if len(new._ids) - len(new.rows) > _HOLE_SHARE * len(new._ids):
            new._compact()
        return new

    def _compact(self) -> None:
        """Renumber rows and terms without the holes of deleted chunks and the terms no chunk holds."""
        if not self.rows:
            self._install([], [], np.zeros(0, dtype=np.int32), {})
            return
        row_map = np.cumsum(self._alive) - 1
        live_terms = self._df > 0
        col_map = np.where(live_terms, np.cumsum(live_terms) - 1, -1)
        segment = merge(self.segments, self._alive, row_map, col_map)
        terms = [t for t, col in self._vocab.items() if live_terms[col]]
        segment = Segment(
            0, segment.ids, segment.lengths, segment.cols, segment.indptr, segment.rows, segment.tf, 0, terms
        )
        self._install([segment], segment.ids, segment.lengths, {t: i for i, t in enumerate(terms)})

    def _install(self, segments: list[Segment], ids: list[str], lengths: np.ndarray, vocab: dict[str, int]) -> None:
        """Take these segments (no holes) as the whole index: every count derived afresh."""
        df = np.zeros(len(vocab), dtype=np.int64)
        for seg in segments:
            np.add.at(df, seg.cols, seg.column_counts())
        self.segments = tuple(segments)
        self._norm = None
        self._ids, self._lengths, self._vocab, self._df = list(ids), lengths, vocab, df
        self._alive = np.ones(len(ids), dtype=bool)
        self.rows = {cid: i for i, cid in enumerate(ids)}
        self._total = int(lengths.sum())
        self._print = Fingerprint.of(ids)

    # -- what it holds --------------------------------------------------------------------------
    @property
    def signature(self) -> str:
        """The fingerprint of the indexed chunk ids, as the registry computes it for its complete chunks."""
        return str(self._print)

    @staticmethod
    def signature_of(chunk_ids: Iterable[str]) -> str:
        return str(Fingerprint.of(chunk_ids))

    @property
    def ids(self) -> list[str]:
        """The indexed chunk ids, in row order."""
        return list(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def knows(self, term: str) -> bool:
        """Whether any indexed chunk holds the term."""
        col = self._vocab.get(term)
        return col is not None and self._df[col] > 0

    def terms(self) -> Iterator[str]:
        """Every term some indexed chunk holds."""
        df = self._df
        return (t for t, col in self._vocab.items() if df[col] > 0)

    def rows_with(self, term: str) -> np.ndarray:
        """The rows of the chunks holding the term."""
        col = self._vocab.get(term)
        if col is None:
            return np.zeros(0, dtype=np.int64)
        found = np.concatenate([seg.postings(col)[0] for seg in self.segments] or [np.zeros(0, np.int64)])
        return found[self._alive[found]]

    def term_idf(self, token: str) -> float:
        """idf of a token; an unseen token gets the idf of a term found in no chunk."""
        col = self._vocab.get(token)
        return float(self._idf(int(self._df[col]) if col is not None else 0))

    def _idf(self, df: int) -> np.float32:
        # Lucene's BM25 idf: always positive, so a common term never counts against a chunk.
        n = len(self.rows)
        return np.float32(math.log(1.0 + (n - df + 0.5) / (df + 0.5)))

    # -- scoring --------------------------------------------------------------------------------
    def scores(self, tokens: list[str], weights: dict[str, float] | None = None) -> np.ndarray:
        """BM25 score of every row for these query tokens (repeats count once; `weights` scale tokens)."""
        out = np.zeros(len(self._ids), dtype=np.float32)
        present = [(t, self._vocab[t]) for t in dict.fromkeys(tokens) if self.knows(t)]
        if not present:
            return out
        k1 = np.float32(self.k1)
        norm = self._row_norm()
        all_rows, all_weights = [], []
        for token, col in present:
            factor = self._idf(int(self._df[col])) * (k1 + 1) * np.float32(weights.get(token, 1.0) if weights else 1.0)
            for seg in self.segments:
                rows, counts = seg.postings(col)
                if len(rows):  # the uint16 counts turn float32 in the arithmetic
                    all_rows.append(rows)
                    all_weights.append(factor * counts / (counts + norm[rows]))
        if not all_rows:
            return out
        # one scatter of every posting's weight (a pass in C) instead of one fancy-indexed add per term
        out = np.bincount(np.concatenate(all_rows), np.concatenate(all_weights), len(self._ids)).astype(np.float32)
        if len(self.rows) < len(self._ids):
            out[~self._alive] = 0.0  # a deleted chunk's postings stay in its segment until merged
        return out

    def _row_norm(self) -> np.ndarray:
        """k1 · (1 − b + b · length / average length) of every row: BM25's length normalisation."""
        norm = self._norm
        if norm is None:  # computed on the first search of this snapshot (two threads may both do it: harmless)
            k1, b = np.float32(self.k1), np.float32(self.b)
            avgdl = max(np.float32(self._total / max(1, len(self.rows))), np.float32(1e-6))
            norm = self._norm = k1 * (1 - b + b * self._lengths.astype(np.float32) / avgdl)
        return norm

    def score_of(self, scores: np.ndarray, chunk_id: str) -> float:
        row = self.rows.get(chunk_id)
        return float(scores[row]) if row is not None else 0.0

    def restrict(self, scores: np.ndarray, chunk_ids: Iterable[str]) -> np.ndarray:
        """`scores` with every chunk but these set to zero (so `top` never returns them)."""
        keep = np.fromiter((self.rows[c] for c in chunk_ids if c in self.rows), dtype=np.int64)
        out = np.zeros_like(scores)
        out[keep] = scores[keep]
        return out

    def search(self, tokens: list[str], k: int, weights: dict[str, float] | None = None) -> list[KeywordHit]:
        return self.top(self.scores(tokens, weights), k)

    def top(self, scores: np.ndarray, k: int) -> list[KeywordHit]:
        """The k best chunks of a score vector from `scores`, best first; zero scores are left out."""
        if not len(scores) or k <= 0:
            return []
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [KeywordHit(self._ids[i], float(scores[i])) for i in top if scores[i] > 0]

    # -- persistence ----------------------------------------------------------------------------
    def save(self) -> None:
        """Write the segments not on disk yet, then the list of segments and holes (atomically)."""
        segment_files.save(self.folder, self.segments, self._alive, {"k1": self.k1, "b": self.b, "tag": self.tag})

    def load(self) -> bool:
        """Read a saved index; False when there is none or it cannot be read (then rebuild)."""
        saved = segment_files.load(self.folder)
        if saved is None or saved.meta.get("k1") != self.k1 or saved.meta.get("b") != self.b:
            return False
        segments, alive = saved.segments, saved.alive
        self.tag = str(saved.meta.get("tag", ""))
        ids = [cid for seg in segments for cid in seg.ids]
        vocab: dict[str, int] = {}
        for seg in segments:
            if seg.term_lo != len(vocab) or (len(seg.cols) and seg.cols[-1] >= seg.term_lo + len(seg.terms)):
                return False  # term ids must run on from one segment to the next
            vocab.update((t, seg.term_lo + i) for i, t in enumerate(seg.terms))
        if len(vocab) != sum(len(s.terms) for s in segments) or len(alive) != len(ids):
            return False
        self._install(list(segments), ids, np.concatenate([s.lengths for s in segments] or [self._lengths]), vocab)
        if not alive.all():
            self._alive = alive
            self.rows = {cid: i for i, cid in enumerate(ids) if alive[i]}
            self._total = int(self._lengths[alive].sum())
            self._print = Fingerprint.of(self.rows)
            self._norm = None
            for seg in segments:  # the holes' postings, not yet merged away, do not count
                dead = np.flatnonzero(~alive[seg.rows.astype(np.int64) + seg.row0])
                self._df -= np.bincount(seg.cols_at(dead), minlength=len(vocab))
        return True
