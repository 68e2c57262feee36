"""Hybrid retrieval: dense (e5 via Chroma) and BM25 (jieba) candidates, fused, neighbours merged."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from assistant.embeddings import Embedder
from assistant.keyword import BM25Index, Tokenizer
from assistant.registry import ChunkRecord, Registry
from assistant.results import Passage
from assistant.store import VectorStore


@dataclass(frozen=True)
class Candidate:
    """A chunk with its signals before fusion (ranks are 1-based; 0 = not retrieved by that side)."""

    chunk_id: str
    dense: float
    keyword: float
    dense_rank: int
    keyword_rank: int
    score: float = 0.0


def rrf(dense_rank: int, keyword_rank: int, k: int, dense_weight: float, keyword_weight: float) -> float:
    """Weighted reciprocal-rank fusion; a side that did not retrieve the chunk adds nothing."""
    score = 0.0
    if dense_rank:
        score += dense_weight / (k + dense_rank)
    if keyword_rank:
        score += keyword_weight / (k + keyword_rank)
    return score


def fuse(candidates: list[Candidate], *, k: int = 60, dense_weight: float = 1.0, keyword_weight: float = 1.0) -> list[Candidate]:
    """Order candidates by weighted RRF, ties broken by dense similarity."""
    scored = [
        Candidate(c.chunk_id, c.dense, c.keyword, c.dense_rank, c.keyword_rank,
                  rrf(c.dense_rank, c.keyword_rank, k, dense_weight, keyword_weight))
        for c in candidates
    ]
    scored.sort(key=lambda c: (-c.score, -c.dense))
    return scored


class Retriever:
    """Answers `search(question, k)` from the vector store and the BM25 index of one knowledge base."""

    def __init__(self, *, embedder: Embedder, store: VectorStore, bm25: BM25Index, tokenizer: Tokenizer,
                 registry: Registry, candidates: int = 30, rrf_k: int = 60, dense_weight: float = 1.0,
                 keyword_weight: float = 1.0, max_merged_chars: int = 600):
        self.embedder = embedder
        self.store = store
        self.bm25 = bm25
        self.tokenizer = tokenizer
        self.registry = registry
        self.candidates = candidates
        self.rrf_k = rrf_k
        self.dense_weight = dense_weight
        self.keyword_weight = keyword_weight
        self.max_merged_chars = max_merged_chars

    def candidates_for(self, question: str, tokens: list[str] | None = None) -> list[Candidate]:
        """Dense and keyword candidates of a question, fused and sorted best first."""
        tokens = self.tokenizer.tokenize(question) if tokens is None else tokens
        vector = self.embedder.encode_queries([question])[0]
        dense_hits = self.store.query(vector, self.candidates)
        keyword_hits = self.bm25.search(tokens, self.candidates)
        table: dict[str, dict] = {}
        for rank, hit in enumerate(dense_hits, 1):
            table[hit.chunk_id] = {"dense": hit.similarity, "dense_rank": rank, "keyword": 0.0, "keyword_rank": 0}
        for rank, hit in enumerate(keyword_hits, 1):
            row = table.setdefault(hit.chunk_id, {"dense": 0.0, "dense_rank": 0})
            row.update(keyword=hit.score, keyword_rank=rank)
        candidates = [Candidate(cid, **row) for cid, row in table.items()]
        return fuse(candidates, k=self.rrf_k, dense_weight=self.dense_weight, keyword_weight=self.keyword_weight)

    def search(self, question: str, k: int = 5, tokens: list[str] | None = None) -> list[Passage]:
        """The k best passages for a question, overlapping chunks of one document merged into one passage."""
        fused = self.candidates_for(question, tokens)
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
            text = texts.setdefault(rec.doc_id, self.registry.document_text(rec.doc_id) or "")
            passages.append(Passage(
                text=text[rec.start:rec.end], title=doc.title, source=doc.source, section=rec.section,
                start=rec.start, end=rec.end, score=cand.score, chunk_id=rec.chunk_id, doc_id=rec.doc_id,
                page=rec.page, dense=cand.dense, keyword=cand.keyword,
            ))
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


def dense_only_ranking(retriever: Retriever, question: str, n: int) -> list[str]:
    vector = retriever.embedder.encode_queries([question])[0]
    return [h.chunk_id for h in retriever.store.query(vector, n)]


def keyword_only_ranking(retriever: Retriever, question: str, n: int) -> list[str]:
    return [h.chunk_id for h in retriever.bm25.search(retriever.tokenizer.tokenize(question), n)]


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))
