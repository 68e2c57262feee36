"""Keyword retrieval: jieba tokens (domain terms kept whole) and a persisted BM25 index."""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import threading
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse

# Function words and question words: they match everywhere and say nothing about relevance.
_STOP_ZH = set(
    "的 了 和 与 及 或 是 在 对 为 把 将 被 从 以 于 等 中 上 下 里 也 都 就 而 并 又 其 之 这 那 这些 那些 "
    "一个 一些 有 有些 没有 要 会 能 可以 如何 怎样 怎么 怎么样 什么 哪些 哪个 哪里 哪 谁 多少 几 是否 吗 呢 吧 啊 "
    "为什么 为何 请问 请 介绍 一下 说说 讲讲 具体 主要 方面 情况 问题 有关 关于 通过 进行 开展 工作 做 做了 "
    "采取 采用 措施 举措 做法 做到 哪些方面 怎样才能 我们 你们 他们 它 他 她 我 你".split()
)
_STOP_EN = set(
    "a an the of to in on at by for from with and or is are was were be been do does did how what which who "
    "whom whose why when where that this these those it its as into about their there they them we you i "
    "can could should would will shall may might has have had not no yes any some all more most such than "
    "please tell me describe explain give list".split()
)
_KEEP = re.compile(r"[\u3400-\u9fff\uf900-\ufaffA-Za-z0-9]")
_QUOTED_TERM = re.compile(r"[“\"「『]([\u4e00-\u9fffA-Za-z0-9]{2,8})[”\"」』]")
_BASE_TERMS = [
    "双报到",
    "三会一课",
    "两个维护",
    "两个确立",
    "三服务",
    "主题党日",
    "第一议题",
    "清廉机关",
    "党建联盟",
    "督查督办",
]


def quoted_terms(text: str) -> set[str]:
    """Jargon the documents put in quotation marks (“双报到”, “三会一课”): kept whole by the tokenizer."""
    return {m.group(1) for m in _QUOTED_TERM.finditer(text) if not m.group(1).isdigit()}


class Tokenizer:
    """jieba in search mode with the knowledge base's own terms; lower-cased, stop words dropped."""

    def __init__(self, terms: Iterable[str] = ()):
        import jieba

        jieba.setLogLevel(60)  # jieba prints "Building prefix dict…" to stderr otherwise
        self._jieba = jieba.Tokenizer()
        self._jieba.initialize()
        self.terms: set[str] = set()
        self.add_terms(_BASE_TERMS)
        self.add_terms(terms)
        self._lock = threading.Lock()

    def add_terms(self, terms: Iterable[str]) -> bool:
        """Add words to the dictionary; True when any was new."""
        new = set(terms) - self.terms
        for term in sorted(new):
            self._jieba.add_word(term, freq=max(self._jieba.suggest_freq(term), 20000))
        self.terms |= new
        return bool(new)

    def tokenize(self, text: str) -> list[str]:
        # jieba's Tokenizer mutates its caches while cutting; one thread at a time.
        with self._lock:
            words = list(self._jieba.cut_for_search(text))
        tokens = []
        for word in words:
            word = word.strip().lower()
            if not word or not _KEEP.search(word) or word in _STOP_ZH or word in _STOP_EN:
                continue
            tokens.append(word)
        return tokens


#: What `BM25Index.build` reads: (chunk id, tokens) pairs, or a function giving a fresh iterator of them.
TokenSource = Sequence[tuple[str, list[str]]] | Callable[[], Iterable[tuple[str, list[str]]]]


def _add_counts(df: np.ndarray, pending: list[int], n_terms: int) -> np.ndarray:
    """df plus the columns waiting in `pending` (emptied), grown to `n_terms` entries."""
    counts = (
        np.bincount(np.asarray(pending, dtype=np.int64), minlength=n_terms) if pending else np.zeros(n_terms, np.int64)
    )
    pending.clear()
    grown = np.zeros(n_terms, dtype=np.int64)
    grown[: len(df)] = df
    return grown + counts


@dataclass(frozen=True)
class KeywordHit:
    chunk_id: str
    score: float


class BM25Index:
    """Okapi BM25 over pre-tokenised chunks, as a sparse matrix of per-term weights.

    The index is derived data: it is rebuilt from the registry's stored tokens whenever its
    signature (a hash of the chunk ids) no longer matches, and saved beside the vectors.
    """

    def __init__(self, folder: Path, k1: float = 1.2, b: float = 0.75, build_block: int = 1 << 20):
        self.folder = folder
        self.k1, self.b = k1, b
        self.build_block = build_block  # postings whose weights are computed at once while building
        self.ids: list[str] = []
        self.rows: dict[str, int] = {}
        self.vocab: dict[str, int] = {}
        self.idf = np.zeros(0, dtype=np.float32)
        self.matrix = sparse.csc_matrix((0, 0), dtype=np.float32)
        self.signature = ""

    @staticmethod
    def signature_of(chunk_ids: Iterable[str]) -> str:
        digest = hashlib.sha1()
        for chunk_id in sorted(chunk_ids):
            digest.update(chunk_id.encode())
        return digest.hexdigest()

    def build(self, items: TokenSource) -> None:
        """Index (chunk id, tokens) pairs, replacing whatever was indexed before.

        `items` is a sequence of pairs, or a function that returns a fresh iterator over the same
        pairs (the registry's paged reader): the build reads them twice. The first pass counts each
        term's chunks and each chunk's length; the second writes every posting straight into its
        place in the column-major matrix queries read. Memory is the finished matrix (8 bytes per
        distinct term of a chunk) and little else: no Python list of postings (~5x more at 100k
        chunks) and no row-major copy to convert.

        Raises:
            RuntimeError: the second pass did not give the same chunks as the first (the source
                changed while the index was built; build again).
        """
        if callable(items):
            read = items
        else:
            pairs = items if isinstance(items, Sequence) else list(items)  # a one-shot iterator is kept
            read = lambda: pairs  # noqa: E731
        ids: list[str] = []
        vocab: dict[str, int] = {}
        lengths = array("i")
        fingerprints = array("q")  # hash of each chunk's tokens: the second pass must read the same
        df = np.zeros(0, dtype=np.int64)
        pending: list[int] = []  # columns of the last few chunks, counted into df in one bincount
        for chunk_id, tokens in read():
            ids.append(chunk_id)
            lengths.append(len(tokens))
            fingerprints.append(hash(tuple(tokens)))
            pending.extend([vocab.setdefault(token, len(vocab)) for token in dict.fromkeys(tokens)])
            if len(pending) >= 1 << 20:
                df = _add_counts(df, pending, len(vocab))
        df = _add_counts(df, pending, len(vocab))
        nnz = int(df.sum())
        if nnz >= 2**31:
            raise ValueError("the keyword index would exceed 2^31 postings; split the knowledge base (--kb)")
        n_docs = len(ids)
        indptr = np.zeros(len(vocab) + 1, dtype=np.int32)
        np.cumsum(df, out=indptr[1:])
        rows = np.empty(nnz, dtype=np.int32)
        weights = np.empty(nnz, dtype=np.float32)  # term frequencies first, BM25 weights once filled
        fill = indptr[:-1].copy()  # next free slot of each column
        changed = RuntimeError("the chunks changed while the keyword index was being built; build it again")
        try:
            for row, (chunk_id, tokens) in enumerate(read()):
                if row >= n_docs or chunk_id != ids[row] or hash(tuple(tokens)) != fingerprints[row]:
                    raise changed
                counts = Counter(tokens)
                cols = np.fromiter((vocab[t] for t in counts), dtype=np.int32, count=len(counts))
                slots = fill[cols]
                rows[slots] = row
                weights[slots] = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
                fill[cols] += 1
        except (KeyError, IndexError):  # a term or a posting the first pass did not see
            raise changed from None
        if not np.array_equal(fill, indptr[1:]):
            raise changed
        # Lucene's BM25 idf: always positive, so a common term never counts against a chunk.
        dff = df.astype(np.float32)
        idf = np.log(1.0 + (n_docs - dff + 0.5) / (dff + 0.5)).astype(np.float32)
        doc_len = np.frombuffer(lengths, dtype=np.int32).astype(np.float32)
        avgdl = float(doc_len.mean()) if n_docs else 1.0
        row_norm = (self.k1 * (1.0 - self.b + self.b * doc_len / max(avgdl, 1e-6))).astype(np.float32)
        step = max(1, self.build_block)
        for lo in range(0, nnz, step):  # in place, a block of postings at a time: small temporaries
            hi = min(lo + step, nnz)
            postings_cols = np.searchsorted(indptr, np.arange(lo, hi), side="right") - 1
            tf = weights[lo:hi]
            tf[:] = idf[postings_cols] * tf * (self.k1 + 1.0) / (tf + row_norm[rows[lo:hi]])
        self.matrix = sparse.csc_matrix((weights, rows, indptr), shape=(n_docs, len(vocab)), copy=False)
        self.ids, self.vocab, self.idf = ids, vocab, idf
        self.rows = {cid: i for i, cid in enumerate(ids)}
        self.signature = self.signature_of(ids)

    def score_of(self, scores: np.ndarray, chunk_id: str) -> float:
        row = self.rows.get(chunk_id)
        return float(scores[row]) if row is not None else 0.0

    def term_idf(self, token: str) -> float:
        """idf of a token; an unseen token gets the idf of a term found in no chunk."""
        col = self.vocab.get(token)
        if col is not None:
            return float(self.idf[col])
        return math.log(1.0 + (len(self.ids) + 0.5) / 0.5)

    def scores(self, tokens: list[str], weights: dict[str, float] | None = None) -> np.ndarray:
        """BM25 score of every chunk for these query tokens (repeats count once; `weights` scale tokens)."""
        present = [t for t in dict.fromkeys(tokens) if t in self.vocab]
        if not present or not self.ids:
            return np.zeros(len(self.ids), dtype=np.float32)
        columns = self.matrix[:, [self.vocab[t] for t in present]]
        if weights:
            scale = np.asarray([weights.get(t, 1.0) for t in present], dtype=np.float32)
            return np.asarray(columns @ scale).ravel()
        return np.asarray(columns.sum(axis=1)).ravel()

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
        if not len(scores):
            return []
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [KeywordHit(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]

    # -- persistence ------------------------------------------------------------------------
    def save(self) -> None:
        """Write the index as one file, atomically (temp file, then rename): never half of it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        matrix = self.matrix.tocsc()
        meta = {"ids": self.ids, "vocab": self.vocab, "signature": self.signature, "k1": self.k1, "b": self.b}
        tmp = self.folder / "bm25.tmp.npz"
        with open(tmp, "wb") as fh:
            np.savez(
                fh,
                data=matrix.data,
                indices=matrix.indices,
                indptr=matrix.indptr,
                shape=np.asarray(matrix.shape),
                idf=self.idf,
                meta=np.frombuffer(json.dumps(meta, ensure_ascii=False).encode("utf-8"), dtype=np.uint8),
            )
        os.replace(tmp, self.folder / "bm25.npz")

    def load(self) -> bool:
        """Read a saved index; False when there is none or it cannot be read (then rebuild)."""
        try:
            with np.load(self.folder / "bm25.npz") as saved:
                meta = json.loads(saved["meta"].tobytes().decode("utf-8"))
                matrix = sparse.csc_matrix(
                    (saved["data"], saved["indices"], saved["indptr"]), shape=tuple(saved["shape"])
                )
                idf = saved["idf"].astype(np.float32)
        except (OSError, ValueError, KeyError):
            return False
        if matrix.shape != (len(meta["ids"]), len(meta["vocab"])):
            return False
        self.ids, self.vocab, self.signature = meta["ids"], meta["vocab"], meta["signature"]
        self.rows = {cid: i for i, cid in enumerate(self.ids)}
        self.idf, self.matrix = idf, matrix
        return True
