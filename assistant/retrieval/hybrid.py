"""Hybrid retrieval: dense (e5 via Chroma) and BM25 (jieba) candidates, fused, neighbours merged."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from assistant.kb.bm25 import BM25Index
from assistant.kb.keyword import Tokenizer
from assistant.kb.registry import ChunkRecord, Registry
from assistant.kb.supersession import Supersession
from assistant.kb.vectors import VectorStore
from assistant.models.embeddings import Embedder
from assistant.results import Passage
from assistant.retrieval.query import Query


@dataclass(frozen=True)
class Candidate:
    """A chunk with its signals before fusion (ranks are 1-based; 0 = not retrieved by that side)."""

    chunk_id: str
    dense: float
    keyword: float
    dense_rank: int
    keyword_rank: int
    score: float = 0.0


def rrf(dense_rank: int, keyword_rank: int, k: int, keyword_weight: float) -> float:
    """Reciprocal-rank fusion; a side that did not retrieve the chunk adds nothing."""
    score = 0.0
    if dense_rank:
        score += (1.0 - keyword_weight) / (k + dense_rank)
    if keyword_rank:
        score += keyword_weight / (k + keyword_rank)
    return score


def _zscores(values: np.ndarray) -> np.ndarray:
    std = float(values.std())
    return (values - values.mean()) / std if std > 1e-9 else np.zeros_like(values)


def fuse(
    candidates: list[Candidate], *, method: str = "zscore", keyword_weight: float = 0.4, rrf_k: int = 60
) -> list[Candidate]:
    """Order candidates by a fusion of their dense and keyword scores, best first.

    "zscore" (default) standardises each side's scores over the candidate pool and mixes them
    linearly, so a keyword match far ahead of the rest (a rare term like 双报到) keeps its lead;
    plain RRF flattens that margin to one rank. Both, and the variants that did not generalise,
    are measured on three sets in bench/fusion_table.py.
    """
    if not candidates:
        return []
    if method == "rrf":
        scores = [rrf(c.dense_rank, c.keyword_rank, rrf_k, keyword_weight) for c in candidates]
    elif method == "zscore":
        dense = _zscores(np.asarray([c.dense for c in candidates], dtype=np.float64))
        keyword = _zscores(np.asarray([c.keyword for c in candidates], dtype=np.float64))
        scores = list(keyword_weight * keyword + (1.0 - keyword_weight) * dense)
    else:
        raise ValueError(f"unknown fusion method {method!r} (use 'zscore' or 'rrf')")
    fused = [replace(c, score=float(s)) for c, s in zip(candidates, scores)]
    fused.sort(key=lambda c: (-c.score, -c.dense))
    return fused


def window_bound(chars: int, window_chars: int) -> int:
    """At most how many sentence windows a chunk of `chars` characters can have (see `VectorStore.vectors_of`).

    Two neighbouring windows together with the next one's first sentence exceed `window_chars`, so a chunk of
    n characters has at most 2n / window_chars + 1 of them; two more allow for a heading kept with the text.
    """
    return 2 * chars // max(1, window_chars) + 3


class Retriever:
    """Answers `search(question, k)` from the vector store and the BM25 index of one knowledge base."""

    def __init__(
        self,
        *,
        embedder: Embedder,
        store: VectorStore,
        bm25: BM25Index,
        tokenizer: Tokenizer,
        registry: Registry,
        candidates: int = 30,
        fusion: str = "zscore",
        keyword_weight: float = 0.4,
        rrf_k: int = 60,
        max_merged_chars: int = 600,
        supersession: Supersession | None = None,
        window_chars: int = 80,
    ):
        self.embedder = embedder
        self.store = store
        self.bm25 = bm25
        self.tokenizer = tokenizer
        self.registry = registry
        self.supersession = supersession
        self.window_chars = window_chars
        self.candidates = candidates
        self.fusion = fusion
        self.keyword_weight = keyword_weight
        self.rrf_k = rrf_k
        self.max_merged_chars = max_merged_chars

    def dense_parts(self, vector: np.ndarray, chunk_ids: list[str]) -> dict[str, tuple[float, float]]:
        """Each chunk's whole-chunk similarity and its best window's (a missing kind repeats the other)."""
        parts: dict[str, tuple[float, float]] = {}
        for chunk_id, vectors in self.store.vectors_of(chunk_ids, self.most_windows(chunk_ids)).items():
            whole = [float(v @ vector) for kind, v in vectors if kind == "chunk"]
            windows = [float(v @ vector) for kind, v in vectors if kind == "window"]
            best_whole = max(whole) if whole else max(windows)
            parts[chunk_id] = (best_whole, max(windows) if windows else best_whole)
        return parts

    def most_windows(self, chunk_ids: list[str]) -> dict[str, int]:
        """A bound on each chunk's sentence windows (`window_bound`), so that its vectors can be read by id."""
        return {
            cid: window_bound(rec.end - rec.start, self.window_chars)
            for cid, rec in self.registry.chunks(chunk_ids).items()
        }

    def dense_scores(self, vector: np.ndarray, chunk_ids: list[str]) -> dict[str, float]:
        """Exact dense score of each chunk: the mean of its whole-chunk similarity and its best window's."""
        return {cid: (whole + window) / 2 for cid, (whole, window) in self.dense_parts(vector, chunk_ids).items()}

    def candidates_for(
        self,
        question: str,
        tokens: list[str] | None = None,
        weights: dict[str, float] | None = None,
        keyword_weight: float | None = None,
        allowed: Sequence[str] | None = None,
    ) -> list[Candidate]:
        """Dense and keyword candidates of a question, with exact scores from both sides, fused."""
        return fuse(
            self.pool(question, tokens, weights, allowed=allowed),
            method=self.fusion,
            keyword_weight=self.keyword_weight if keyword_weight is None else keyword_weight,
            rrf_k=self.rrf_k,
        )

    def pool(
        self,
        question: str,
        tokens: list[str] | None = None,
        weights: dict[str, float] | None = None,
        vector: np.ndarray | None = None,
        allowed: Sequence[str] | None = None,
    ) -> list[Candidate]:
        """Dense and keyword candidates of a question with exact scores from both sides, not yet fused.

        `vector` is the question's embedding when the caller has it already. With `allowed` (document
        ids, see assistant/retrieval/filters.py) both searches see only those documents: the
        candidates are the best of them, not what a filter would leave of the best overall.
        """
        if allowed is not None and not allowed:
            return []
        tokens = self.tokenizer.tokenize(question) if tokens is None else tokens
        vector = self.embedder.encode_queries([question])[0] if vector is None else vector
        doc_ids = list(allowed) if allowed is not None else None
        dense_order = [h.chunk_id for h in self.store.nearest_chunks(vector, self.candidates, doc_ids)]
        bm25 = self.bm25
        keyword_all = bm25.scores(tokens, weights)
        if doc_ids is not None:
            keyword_all = bm25.restrict(keyword_all, self.registry.chunk_ids_of_documents(doc_ids))
        keyword_order = [h.chunk_id for h in bm25.top(keyword_all, self.candidates)]
        pool = list(dict.fromkeys(dense_order + keyword_order))
        dense = self.dense_scores(vector, pool)
        dense_rank = {cid: i for i, cid in enumerate(sorted(dense, key=lambda c: -dense[c]), 1)}
        keyword_rank = {cid: i for i, cid in enumerate(keyword_order, 1)}
        return [
            Candidate(
                cid,
                dense.get(cid, 0.0),
                bm25.score_of(keyword_all, cid),
                dense_rank.get(cid, 0),
                keyword_rank.get(cid, 0),
            )
            for cid in pool
            if cid in dense  # a chunk with no vectors is being written or deleted right now
        ]

    def span_similarities(self, question: str, passages: list[Passage]) -> list[tuple[str, int, int, float]]:
        """How close each stored span (sentence window or whole chunk) of the passages' chunks is to the
        question, as (doc_id, start, end, cosine): the meaning-level signal for choosing answer sentences."""
        if not passages:
            return []
        vector = self.embedder.encode_queries([question])[0]
        # A passage may be several neighbouring chunks merged: take the spans of all of them.
        doc_of: dict[str, str] = {}
        bounds: dict[str, int] = {}  # from the records in hand: no second registry read
        for doc_id in dict.fromkeys(p.doc_id for p in passages):
            ranges = [(p.start, p.end) for p in passages if p.doc_id == doc_id]
            for rec in self.registry.chunks_of_document(doc_id):
                if any(rec.start < end and start < rec.end for start, end in ranges):
                    doc_of[rec.chunk_id] = doc_id
                    bounds[rec.chunk_id] = window_bound(rec.end - rec.start, self.window_chars)
        return [
            (doc_of[chunk_id], start, end, float(v @ vector))
            for chunk_id, spans in self.store.spans_of(list(doc_of), bounds).items()
            for start, end, v in spans
        ]

    def search_query(self, query: Query, k: int = 5, allowed: Sequence[str] | None = None) -> list[Passage]:
        """The k best passages for an analysed question: its keyword tokens, their weights and its fusion weight.

        `allowed`: only passages of these documents (None: of any).
        """
        return self.search(query.text, k, query.tokens, query.weights, query.keyword_weight, allowed)

    def search(
        self,
        question: str,
        k: int = 5,
        tokens: list[str] | None = None,
        weights: dict[str, float] | None = None,
        keyword_weight: float | None = None,
        allowed: Sequence[str] | None = None,
    ) -> list[Passage]:
        """The k best passages for a question, overlapping chunks of one document merged into one passage."""
        fused = self.candidates_for(question, tokens, weights, keyword_weight, allowed)
        records = self.registry.chunks(c.chunk_id for c in fused)
        passages: list[Passage] = []
        texts: dict[str, str] = {}
        titles = self.registry.documents_by_id(r.doc_id for r in records.values())
        for cand in fused:
            rec = records.get(cand.chunk_id)
            if rec is None or rec.doc_id not in titles:
                continue  # a chunk the registry no longer knows (deleted while we searched)
            if self._merge_into(passages, rec, cand, texts):
                continue
            if len(passages) >= k:
                continue
            doc = titles[rec.doc_id]
            if rec.doc_id not in texts:  # one read of each document's text per question
                texts[rec.doc_id] = self.registry.document_text(rec.doc_id) or ""
            text = texts[rec.doc_id]
            passages.append(
                Passage(
                    text=text[rec.start : rec.end],
                    title=doc.title,
                    source=doc.source,
                    section=rec.section,
                    start=rec.start,
                    end=rec.end,
                    score=cand.score,
                    chunk_id=rec.chunk_id,
                    doc_id=rec.doc_id,
                    page=rec.page,
                    dense=cand.dense,
                    keyword=cand.keyword,
                    office=doc.office,
                    doc_number=doc.doc_number,
                    date=doc.date,
                    doc_type=doc.doc_type,
                    classification=doc.classification,
                )
            )
        if self.supersession is not None:  # a replaced document's passages are labelled and ranked after the rest
            passages = self.supersession.apply(passages, question)
        return passages[:k]

    def _merge_into(self, passages: list[Passage], rec: ChunkRecord, cand: Candidate, texts: dict[str, str]) -> bool:
        """Merge a lower-ranked chunk into an already chosen passage it overlaps or touches."""
        for p in passages:
            if p.doc_id != rec.doc_id or rec.start > p.end + 1 or rec.end < p.start - 1:
                continue
            start, end = min(p.start, rec.start), max(p.end, rec.end)
            if end - start > self.max_merged_chars:
                return False
            p.start, p.end = start, end
            p.text = texts[rec.doc_id][start:end]
            p.dense = max(p.dense, cand.dense)
            p.keyword = max(p.keyword, cand.keyword)
            return True
        return False


def dense_only_ranking(retriever: Retriever, question: str, n: int, vector: np.ndarray | None = None) -> list[str]:
    """Chunk ids by dense score alone, for comparison in evaluations: the dense side of `Retriever.pool` (its
    nearest chunks, at least n) ranked by the score fusion uses."""
    vector = retriever.embedder.encode_queries([question])[0] if vector is None else vector
    pool = [h.chunk_id for h in retriever.store.nearest_chunks(vector, max(n, retriever.candidates))]
    scores = retriever.dense_scores(vector, pool)
    return sorted(scores, key=lambda c: -scores[c])[:n]


def keyword_only_ranking(
    retriever: Retriever, tokens: list[str], n: int, weights: dict[str, float] | None = None
) -> list[str]:
    """Chunk ids by BM25 alone, for comparison in evaluations."""
    return [h.chunk_id for h in retriever.bm25.search(tokens, n, weights)]
