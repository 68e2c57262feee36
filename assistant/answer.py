"""Extractive answers: the retrieved sentences that answer the question, each with a [n] citation."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from assistant.results import Answer, Citation, Passage
from ingest.chunking import split_sentences

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")


def question_language(question: str) -> str:
    """'zh' or 'en': the language the answer's framing text should use."""
    return "en" if len(_LATIN.findall(question)) > len(_CJK.findall(question)) else "zh"


@dataclass(frozen=True)
class Evidence:
    """How well the best passages cover the question; compared with settings.evidence_floor."""

    score: float
    coverage: float  # idf-weighted share of the question's Chinese content words found in a top passage
    dense: float  # best cosine similarity between question and passage
    has_terms: bool  # whether the question had Chinese content words to cover at all


def _content_terms(tokens: list[str]) -> list[str]:
    # Chinese (or digit) content words only: English words can never occur in the Chinese texts,
    # so for them coverage says nothing and the dense similarity has to decide.
    return [t for t in dict.fromkeys(tokens) if _CJK.search(t)]


def term_coverage(terms: list[str], idf: Callable[[str], float], text: str) -> float:
    """idf-weighted share of `terms` that occur in `text` (0..1)."""
    total = sum(idf(t) for t in terms)
    if total <= 0:
        return 0.0
    return sum(idf(t) for t in terms if t in text) / total


def assess(tokens: list[str], passages: list[Passage], idf: Callable[[str], float], top: int = 3) -> Evidence:
    """Combine lexical coverage and dense similarity of the best passages into one evidence score.

    Cosine similarity alone does not separate answerable from unanswerable questions (e5 puts
    almost everything between 0.8 and 0.95), and lexical coverage is blind to English questions;
    each covers the other's blind spot. Calibrated with bench/calibrate.py on bench/devset.jsonl.
    """
    if not passages:
        return Evidence(0.0, 0.0, 0.0, False)
    terms = _content_terms(tokens)
    dense = max(p.dense for p in passages[:top])
    coverage = max(
        (term_coverage(terms, idf, f"{p.title}\n{p.section}\n{p.text}") for p in passages[:top]), default=0.0
    )
    if terms:
        # Map e5's crowded cosine range (≈0.75–0.95) onto 0..1 before mixing it with coverage.
        dense_part = min(1.0, max(0.0, (dense - 0.75) / 0.2))
        score = 0.7 * coverage + 0.3 * dense_part
    else:
        score = min(1.0, max(0.0, (dense - 0.75) / 0.2))
    return Evidence(score, coverage, dense, bool(terms))


@dataclass(frozen=True)
class _Sentence:
    passage: int  # index into the passage list
    start: int  # offsets in the cleaned document
    end: int
    text: str
    score: float


def _candidate_sentences(question_terms: list[str], idf: Callable[[str], float], passages: list[Passage]) -> list[_Sentence]:
    out = []
    for i, p in enumerate(passages):
        spans = split_sentences(p.text)
        for j, (s, e) in enumerate(spans):
            text = p.text[s:e]
            if len(text) < 6:
                continue
            coverage = term_coverage(question_terms, idf, text)
            # Prefer better-ranked passages, and a passage's opening sentences when nothing
            # lexical distinguishes them (English questions): they usually state the point.
            score = coverage + 0.15 / (1 + i) + (0.05 if j == 0 else 0.0)
            out.append(_Sentence(i, p.start + s, p.start + e, text, score))
    return out


FRAMING = {
    "zh": {
        "lead": "根据知识库中的文件：",
        "refusal": "知识库中没有找到能回答这个问题的内容。",
        "nearest": "以下是最接近的段落，仅供参考，它们并不回答这个问题：",
    },
    "en": {
        "lead": "According to the documents (quoted in the original Chinese):",
        "refusal": "The knowledge base does not contain an answer to this question.",
        "nearest": "The nearest passages, for reference only — they do not answer the question:",
    },
}


class ExtractiveAnswerer:
    """Writes an answer from the retrieved passages' own sentences; needs no language model."""

    def __init__(self, *, evidence_floor: float, max_sentences: int = 4, max_chars: int = 400):
        self.evidence_floor = evidence_floor
        self.max_sentences = max_sentences
        self.max_chars = max_chars

    def answer(self, question: str, tokens: list[str], passages: list[Passage], idf: Callable[[str], float]) -> Answer:
        lang = question_language(question)
        words = FRAMING[lang]
        evidence = assess(tokens, passages, idf)
        if not passages or evidence.score < self.evidence_floor:
            return refusal(question, passages, evidence.score, lang)

        terms = _content_terms(tokens)
        ranked = sorted(_candidate_sentences(terms, idf, passages), key=lambda s: -s.score)
        chosen: list[_Sentence] = []
        used_chars = 0
        best = ranked[0].score if ranked else 0.0
        for sentence in ranked:
            if len(chosen) >= self.max_sentences or sentence.score < 0.5 * best:
                break
            if any(_same_place(sentence, c, passages) for c in chosen):
                continue  # the same sentence reached through two overlapping passages
            if chosen and used_chars + len(sentence.text) > self.max_chars:
                continue
            chosen.append(sentence)
            used_chars += len(sentence.text)
        if not chosen:
            return refusal(question, passages, evidence.score, lang)

        # Number sources in order of first use; keep the answer's sentences in the order of their
        # source's rank and, within one source, in document order, so the text reads as written.
        chosen.sort(key=lambda s: (s.passage, s.start))
        numbers: dict[int, int] = {}
        citations: list[Citation] = []
        lines = [words["lead"]]
        for sentence in chosen:
            p = passages[sentence.passage]
            if sentence.passage not in numbers:
                numbers[sentence.passage] = len(numbers) + 1
            n = numbers[sentence.passage]
            citations.append(Citation(
                n=n, title=p.title, source=p.source, section=p.section, text=p.text, quote=sentence.text,
                start=sentence.start, end=sentence.end, page=p.page, doc_id=p.doc_id,
                passage_start=p.start, passage_end=p.end,
            ))
            lines.append(f"{sentence.text}[{n}]")
        return Answer(question=question, text="\n".join(lines), refused=False, citations=citations,
                      evidence=evidence.score)


def _same_place(a: _Sentence, b: _Sentence, passages: list[Passage]) -> bool:
    return passages[a.passage].doc_id == passages[b.passage].doc_id and a.start < b.end and b.start < a.end


def refusal(question: str, passages: list[Passage], evidence: float, lang: str | None = None) -> Answer:
    """The answer when the evidence is too weak: say so, and show the nearest passages as such."""
    words = FRAMING[lang or question_language(question)]
    lines = [words["refusal"]]
    nearest = passages[:3]
    if nearest:
        lines.append(words["nearest"])
        for p in nearest:
            snippet = p.text if len(p.text) <= 80 else p.text[:80] + "…"
            lines.append(f"- 《{p.title}》{('（' + p.section + '）') if p.section else ''}：{snippet}")
    return Answer(question=question, text="\n".join(lines), refused=True, nearest=nearest, evidence=evidence)
