"""Extractive answers: the retrieved sentences that answer the question, each with a [n] citation."""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.retrieval.query import Concept, Query
from assistant.text import question_language
from assistant.results import Answer, Citation, Passage, Statement
from ingest.chunking import split_sentences

# Calibrated on bench/devset.jsonl with bench/calibrate.py (see README, "Refusal").
DENSE_LOW_EN = 0.74
DENSE_LOW_ZH = 0.80
DENSE_WIDTH = 0.16


@dataclass(frozen=True)
class Evidence:
    """How well the best passages cover the question; compared with settings.evidence_floor."""

    score: float
    coverage: float  # weighted share of the question's concepts found in one of the top passages
    dense: float  # best dense similarity between question and passage


def coverage(concepts: list[Concept], text: str) -> float:
    """Weighted share of the concepts of which some alternative occurs in `text` (0..1)."""
    total = sum(c.weight for c in concepts)
    if total <= 0:
        return 0.0
    return sum(c.weight for c in concepts if any(a in text for a in c.alternatives)) / total


def assess(query: Query, passages: list[Passage], top: int = 3) -> Evidence:
    """Combine concept coverage and dense similarity of the best passages into one evidence score.

    Cosine similarity alone does not separate answerable from unanswerable questions (e5 puts
    almost everything between 0.8 and 0.95), and coverage alone misses paraphrases; together,
    calibrated with bench/calibrate.py on bench/devset.jsonl, they do much better.
    """
    if not passages:
        return Evidence(0.0, 0.0, 0.0)
    dense = max(p.dense for p in passages[:top])
    cover = max(coverage(query.concepts, f"{p.title}\n{p.section}\n{p.text}") for p in passages[:top])
    # e5's similarities sit in a narrow band, lower for English questions over Chinese text:
    # map that band onto 0..1 before mixing it with coverage. The band's lower end moves with
    # the share of Chinese in the question (constants from bench/calibrate.py).
    low = DENSE_LOW_EN + (DENSE_LOW_ZH - DENSE_LOW_EN) * query.cjk_share
    dense_part = min(1.0, max(0.0, (dense - low) / DENSE_WIDTH))
    return Evidence(0.7 * cover + 0.3 * dense_part, cover, dense)


_MARKER_LIKE = re.compile(r"\[(\d+)\]")


def shown(text: str) -> str:
    """Document text as written into an answer's text: bracketed numbers get full-width brackets.

    Documents write "见附件[3]" or "沪府办发[2023]12号"; copied as they are, these would read as
    citation markers that point at the wrong source or at none. In the answer text every [n] is
    one of the answer's own markers; `Citation.quote` keeps the document's text verbatim.
    """
    return _MARKER_LIKE.sub("［\\1］", text)


@dataclass(frozen=True)
class _Sentence:
    passage: int  # index into the passage list
    start: int  # offsets in the cleaned document
    end: int
    text: str
    score: float


def _candidate_sentences(concepts: list[Concept], passages: list[Passage]) -> list[_Sentence]:
    out = []
    for i, p in enumerate(passages):
        spans = split_sentences(p.text)
        for j, (s, e) in enumerate(spans):
            text = p.text[s:e]
            if len(text) < 6:
                continue
            # Prefer better-ranked passages, and a passage's opening sentence when nothing
            # lexical distinguishes the sentences: it usually states the point.
            score = coverage(concepts, text) + 0.15 / (1 + i) + (0.05 if j == 0 else 0.0)
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

    def answer(self, query: Query, passages: list[Passage]) -> Answer:
        question, lang = query.text, query.language
        words = FRAMING[lang]
        evidence = assess(query, passages)
        if not passages or evidence.score < self.evidence_floor:
            return refusal(question, passages, evidence.score, lang)

        ranked = sorted(_candidate_sentences(query.concepts, passages), key=lambda s: -s.score)
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
        statements: list[Statement] = []
        lines = [words["lead"]]
        for sentence in chosen:
            p = passages[sentence.passage]
            if sentence.passage not in numbers:
                numbers[sentence.passage] = len(numbers) + 1
            n = numbers[sentence.passage]
            citations.append(Citation(
                n=n, title=p.title, source=p.source, section=p.section, text=p.text, quote=sentence.text,
                start=sentence.start, end=sentence.end, page=p.page, doc_id=p.doc_id,
                passage_start=p.start, passage_end=p.end, statement=sentence.text, support=1.0,
            ))
            statements.append(Statement(sentence.text, [n], True, 1.0))  # quoted verbatim: supported by construction
            lines.append(f"{shown(sentence.text)}[{n}]")
        return Answer(question=question, text="\n".join(lines), refused=False, citations=citations,
                      evidence=evidence.score, statements=statements)


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
            lines.append(shown(f"- 《{p.title}》{('（' + p.section + '）') if p.section else ''}：{snippet}"))
    return Answer(question=question, text="\n".join(lines), refused=True, nearest=nearest, evidence=evidence)
