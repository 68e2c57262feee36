"""Candidate answer sentences: split from the passages, headings left out, scored by words and by meaning."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from assistant.answering.evidence import coverage
from assistant.results import Passage
from assistant.retrieval.query import Concept
from ingest.chunking import split_sentences

SECTION_WEIGHT = 0.3  # how much the heading a sentence sits under counts towards it

# "一、学深悟透做实，推动入脑入心", "三是督查督办上要有新突破。", "（二）加强保密管理": list labels and headings.
_LIST_LABEL = re.compile(
    r"^\s*(?:[一二三四五六七八九十]+[、是]|[（(][一二三四五六七八九十\d]+[)）]|第[一二三四五六七八九十]+[，、是]|\d+[.、])"
)


def is_heading_like(sentence: str, section: str = "") -> bool:
    """True for a sentence that only names a topic: a heading, a section title or a short list label."""
    text = sentence.strip().rstrip("。；;：:")
    if not text:
        return True
    if section and text in section:
        return True
    labelled = _LIST_LABEL.match(text)
    if labelled and len(text) <= 24:
        return True  # "三是督查督办上要有新突破": the label of a list item, its content follows
    return not re.search(r"[。！？!?；;]$", sentence.strip()) and len(text) <= 20


@dataclass(frozen=True)
class Sentence:
    passage: int  # index into the passage list
    start: int  # offsets in the cleaned document
    end: int
    text: str
    score: float


#: Type of the meaning-level signal: (question, passages) -> [(doc_id, start, end, cosine)] of stored spans.
SpanSimilarity = Callable[[str, list[Passage]], list[tuple[str, int, int, float]]]


def meaning_scores(
    sentences: list[Sentence], passages: list[Passage], spans: list[tuple[str, int, int, float]]
) -> list[float]:
    """Each sentence's closeness to the question by meaning, scaled to 0..1 over this answer's sentences.

    A sentence takes the best stored span (sentence window, else its chunk) that overlaps it: "在哪几个
    节点一定要开会" meets "起草前必开审题会…" here, though the two share hardly a word.
    """
    raw = []
    for s in sentences:
        doc = passages[s.passage].doc_id
        near = [
            sim
            for d, a, b, sim in spans
            if d == doc and a < s.end and s.start < b and b - a <= 2 * (s.end - s.start) + 80
        ]
        near = near or [sim for d, a, b, sim in spans if d == doc and a <= s.start and s.end <= b]
        raw.append(max(near, default=None))
    known = [r for r in raw if r is not None]
    if not known:
        return [0.0] * len(sentences)
    low, high = min(known), max(known)
    return [0.0 if r is None or high - low < 1e-9 else (r - low) / (high - low) for r in raw]


def candidate_sentences(concepts: list[Concept], passages: list[Passage]) -> list[Sentence]:
    out = []
    for i, p in enumerate(passages):
        spans = split_sentences(p.text)
        for j, (s, e) in enumerate(spans):
            text = p.text[s:e]
            if len(text) < 6 or is_heading_like(text, p.section):
                continue
            # The heading a sentence sits under is its lead-in: "一是建设…政治型模范机关" makes the
            # sentences below it about that, though they no longer repeat the words. Prefer
            # better-ranked passages, and a passage's opening sentence when nothing lexical
            # distinguishes the sentences: it usually states the point.
            lead_in = SECTION_WEIGHT * coverage(concepts, p.section) if p.section else 0.0
            score = coverage(concepts, text) + lead_in + 0.15 / (1 + i) + (0.05 if j == 0 else 0.0)
            out.append(Sentence(i, p.start + s, p.start + e, text, score))
    return out
