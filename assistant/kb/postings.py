"""Postings of the keyword index: immutable segments of raw term counts, built from tokens and merged."""

from __future__ import annotations

import uuid
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

#: What a build reads: (chunk id, tokens) pairs, or a function giving a fresh iterator of them.
TokenSource = Sequence[tuple[str, list[str]]] | Callable[[], Iterable[tuple[str, list[str]]]]

_TF_MAX = np.iinfo(np.uint16).max  # a count above this in one chunk is clipped (chunks are ~300 characters)
_BLOCK = 1 << 20  # postings handled at once while merging: small temporaries


def _frozen(a: np.ndarray) -> np.ndarray:
    """Read-only: a segment is shared by every index snapshot that holds it, so nothing may write to it."""
    a.flags.writeable = False
    return a


@dataclass(frozen=True)
class Segment:
    """Raw term counts of the consecutive rows row0 .. row0 + len(ids) - 1, column by column.

    Column `cols[i]` (a term id) has its postings at indptr[i]:indptr[i+1]: `rows` (relative to
    row0, ascending) and `tf` (how often the term occurs in that row). Only columns with postings
    are listed, so a segment of one small file costs its own postings, not a slot per known term.
    The segment also brings the ids and token counts of its rows, and the terms it introduced
    (term ids term_lo .. term_lo + len(terms) - 1).
    """

    row0: int
    ids: list[str]
    lengths: np.ndarray  # int32, tokens per row
    cols: np.ndarray  # int32, ascending term ids
    indptr: np.ndarray  # int64, len(cols) + 1
    rows: np.ndarray  # int32
    tf: np.ndarray  # uint16
    term_lo: int
    terms: list[str]
    name: str = field(default_factory=lambda: uuid.uuid4().hex)  # its file name once saved

    def __post_init__(self) -> None:
        for a in (self.lengths, self.cols, self.indptr, self.rows, self.tf):
            _frozen(a)

    def __repr__(self) -> str:
        return f"Segment(rows {self.row0}..{self.row_end - 1}, {self.nnz} postings, {len(self.terms)} new terms)"

    @property
    def nnz(self) -> int:
        return len(self.rows)

    @property
    def row_end(self) -> int:
        return self.row0 + len(self.ids)

    def postings(self, col: int) -> tuple[np.ndarray, np.ndarray]:
        """(global rows, counts) of one term in this segment; empty when it has none."""
        i = int(np.searchsorted(self.cols, col))
        if i == len(self.cols) or self.cols[i] != col:
            return self.rows[:0], self.tf[:0]
        lo, hi = self.indptr[i], self.indptr[i + 1]
        return self.rows[lo:hi] + self.row0, self.tf[lo:hi]

    def column_counts(self) -> np.ndarray:
        """How many rows of this segment hold each of `cols`."""
        return np.diff(self.indptr)

    def posting_cols(self, lo: int, hi: int) -> np.ndarray:
        """The term id of each posting lo .. hi-1."""
        return self.cols_at(np.arange(lo, hi))

    def cols_at(self, positions: np.ndarray) -> np.ndarray:
        """The term id of the postings at these positions."""
        return self.cols[np.searchsorted(self.indptr, positions, side="right") - 1].astype(np.int64)


def _add_counts(df: np.ndarray, pending: list[int], n_terms: int) -> np.ndarray:
    """df plus the columns waiting in `pending` (emptied), grown to `n_terms` entries."""
    counts = (
        np.bincount(np.asarray(pending, dtype=np.int64), minlength=n_terms) if pending else np.zeros(n_terms, np.int64)
    )
    pending.clear()
    grown = np.zeros(n_terms, dtype=np.int64)
    grown[: len(df)] = df
    return grown + counts


def build_segment(items: TokenSource, vocab: dict[str, int], row0: int) -> Segment:
    """A segment of (chunk id, tokens) pairs as rows row0, row0 + 1, …; new terms are added to `vocab`.

    `items` is a sequence of pairs, or a function that returns a fresh iterator over the same
    pairs (the registry's paged reader): the build reads them twice. The first pass counts each
    term's chunks and each chunk's length; the second writes every posting straight into its
    place. Memory is the finished segment (6 bytes per distinct term of a chunk) and little else.
    `vocab` is the caller's to throw away if this raises.

    Raises:
        RuntimeError: the second pass did not give the same chunks as the first (the source
            changed while the index was built; build again).
        ValueError: more than 2^31 postings.
    """
    if callable(items):
        read = items
    else:
        pairs = items if isinstance(items, Sequence) else list(items)  # a one-shot iterator is kept
        read = lambda: pairs  # noqa: E731
    term_lo = len(vocab)
    ids: list[str] = []
    lengths = array("i")
    fingerprints = array("q")  # hash of each chunk's tokens: the second pass must read the same
    df = np.zeros(0, dtype=np.int64)
    pending: list[int] = []  # columns of the last few chunks, counted into df in one bincount
    for chunk_id, tokens in read():
        ids.append(chunk_id)
        lengths.append(len(tokens))
        fingerprints.append(hash(tuple(tokens)))
        pending.extend([vocab.setdefault(token, len(vocab)) for token in dict.fromkeys(tokens)])
        if len(pending) >= _BLOCK:
            df = _add_counts(df, pending, len(vocab))
    df = _add_counts(df, pending, len(vocab))
    cols = np.flatnonzero(df).astype(np.int32)
    counts = df[cols]
    nnz = int(counts.sum())
    if nnz >= 2**31:
        raise ValueError("the keyword index would exceed 2^31 postings; split the knowledge base (--kb)")
    indptr = np.zeros(len(cols) + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    slot_of = np.full(len(vocab), -1, dtype=np.int64)  # term id -> its column's next free slot
    slot_of[cols] = indptr[:-1]
    rows = np.empty(nnz, dtype=np.int32)
    tf = np.empty(nnz, dtype=np.uint16)
    changed = RuntimeError("the chunks changed while the keyword index was being built; build it again")
    try:
        for row, (chunk_id, tokens) in enumerate(read()):
            if row >= len(ids) or chunk_id != ids[row] or hash(tuple(tokens)) != fingerprints[row]:
                raise changed
            counted = Counter(tokens)
            term_ids = np.fromiter((vocab[t] for t in counted), dtype=np.int64, count=len(counted))
            slots = slot_of[term_ids]
            rows[slots] = row
            tf[slots] = np.minimum(np.fromiter(counted.values(), dtype=np.int64, count=len(counted)), _TF_MAX)
            slot_of[term_ids] += 1
    except (KeyError, IndexError):  # a term or a posting the first pass did not see
        raise changed from None
    if len(cols) and not np.array_equal(slot_of[cols], indptr[1:]):
        raise changed
    terms = list(vocab)[term_lo:]  # dicts keep insertion order: the new terms, by id
    return Segment(row0, ids, np.frombuffer(lengths, dtype=np.int32).copy(), cols, indptr, rows, tf, term_lo, terms)


def merge(
    segments: Sequence[Segment],
    alive: np.ndarray,
    row_map: np.ndarray | None = None,
    col_map: np.ndarray | None = None,
    block: int = _BLOCK,
) -> Segment:
    """One segment holding the postings of consecutive `segments` whose rows are `alive`.

    Without maps the rows keep their numbers (a dead row stays as a hole, without postings).
    With `row_map` (old global row -> new) and `col_map` (old term id -> new, -1 for a term no live
    row holds) the result is renumbered: `ids`/`lengths` then keep only the live rows, and `terms`
    is left empty for the caller to fill (every term id may have moved). Reads and writes a block
    of postings at a time.
    """
    first = segments[0]
    n_cols = max((int(s.cols[-1]) + 1 for s in segments if len(s.cols)), default=0)
    counts = np.zeros(n_cols, dtype=np.int64)

    def blocks():
        for seg in segments:
            for lo in range(0, seg.nnz, block):
                hi = min(lo + block, seg.nnz)
                rows = seg.rows[lo:hi].astype(np.int64) + seg.row0
                keep = alive[rows]
                yield seg.posting_cols(lo, hi)[keep], rows[keep], seg.tf[lo:hi][keep]

    for cols, _, _ in blocks():
        counts += np.bincount(cols, minlength=n_cols)
    cols_out = np.flatnonzero(counts)
    indptr = np.zeros(len(cols_out) + 1, dtype=np.int64)
    np.cumsum(counts[cols_out], out=indptr[1:])
    fill = np.zeros(n_cols, dtype=np.int64)
    fill[cols_out] = indptr[:-1]
    rows_out = np.empty(int(indptr[-1]), dtype=np.int32)
    tf_out = np.empty(int(indptr[-1]), dtype=np.uint16)
    new_row0 = 0 if row_map is not None else first.row0
    for cols, rows, tf in blocks():
        # Postings come column by column (each segment is column-major, and later segments hold
        # later rows), so a posting's place is its column's next slot plus its rank in its run.
        rank = np.arange(len(cols)) - np.searchsorted(cols, cols, side="left")
        dest = fill[cols] + rank
        rows_out[dest] = (row_map[rows] if row_map is not None else rows) - new_row0
        tf_out[dest] = tf
        fill += np.bincount(cols, minlength=n_cols)
    ids = [cid for s in segments for cid in s.ids]
    lengths = np.concatenate([s.lengths for s in segments])
    if row_map is None:
        terms = [t for s in segments for t in s.terms]
        return Segment(
            first.row0, ids, lengths, cols_out.astype(np.int32), indptr, rows_out, tf_out, first.term_lo, terms
        )
    assert col_map is not None  # renumbering rows without terms is never asked for
    live = alive[first.row0 : segments[-1].row_end]
    ids = [cid for cid, keep in zip(ids, live) if keep]
    return Segment(0, ids, lengths[live], col_map[cols_out].astype(np.int32), indptr, rows_out, tf_out, 0, [])
