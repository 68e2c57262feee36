"""Verifying a generated answer: each sentence matched to the passages that support it, markers checked."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from assistant.answering.evidence import coverage
from assistant.answering.extractive import shown
from assistant.models.embeddings import Embedder
from assistant.results import Citation, Passage, Statement
from assistant.retrieval.query import Concept
from assistant.text import CJK, LATIN_LETTER
from ingest.chunking import split_sentences

# Support of a sentence by a passage: 0.7 × the share of the sentence's character bigrams found
# in the passage + 0.3 × the best embedding similarity to one of its sentences (mapped from e5's
# narrow band onto 0..1). A sentence is supported at SUPPORT_FLOOR or above. Measured on the
# development set with `python -m bench.support` (README, "Generative answers").
BIGRAM_WEIGHT = 0.7
DENSE_LOW, DENSE_HIGH = 0.80, 0.95
# English sentences share no bigrams with Chinese text: their support is the similarity alone,
# on the lower band e5 gives across languages.
DENSE_LOW_CROSS, DENSE_HIGH_CROSS = 0.74, 0.90
SUPPORT_FLOOR = 0.50
MIN_BIGRAMS = 3  # shorter "sentences" ("是的。", a stray marker) are connective text, not claims
MIN_NEW_BIGRAMS = 2  # a sentence that adds fewer bigrams to the question only restates it

ConceptsOf = Callable[[str], list[Concept]]  # a text's concepts with Chinese alternatives (Assistant.analyse)

# [1], [1][2], [1, 2], ［1］, 【1】: what models write for a citation.
_MARKER = re.compile(r"\s*[\[［【]\s*(\d{1,2}(?:\s*[,，、;；]\s*\d{1,2})*)\s*[\]］】]")
UNVERIFIED = {"zh": "〔未找到依据〕", "en": "[not supported by the documents]"}


def bigrams(text: str) -> set[str]:
    """Character bigrams of the letters, digits and Chinese characters in `text` (case-folded)."""
    chars = [c for c in text.lower() if c.isalnum()]
    return {a + b for a, b in zip(chars, chars[1:])}


_MARKDOWN = re.compile(r"\*\*|__|`+|^\s*#{1,6}\s*|^\s*(?:[-*•]|\d{1,2}[.、)]|[（(]\d{1,2}[）)])\s+", re.M)


def plain_text(reply: str) -> str:
    """A model's reply without Markdown emphasis, headings and list bullets (asked for prose, small models still format)."""
    return _MARKDOWN.sub("", reply)


def split_markers(text: str) -> list[tuple[str, list[int]]]:
    """The sentences of a generated reply, markers removed, each with the marker numbers it carried.

    A marker after the sentence's full stop ("…上报。[1]") belongs to the sentence before it.
    Markdown formatting is dropped and a sentence repeated word for word is kept once.
    """
    text = plain_text(text)
    clean: list[str] = []
    found: list[tuple[int, list[int]]] = []  # (position in the clean text, numbers)
    at = 0
    for m in _MARKER.finditer(text):
        clean.append(text[at : m.start()])
        position = sum(len(c) for c in clean)
        found.append((position, [int(n) for n in re.findall(r"\d+", m.group(1))]))
        at = m.end()
    clean.append(text[at:])
    plain = "".join(clean)
    spans = split_sentences(plain)
    out: list[tuple[str, list[int]]] = [(plain[s:e].strip(), []) for s, e in spans]
    for position, numbers in found:
        index = None
        for i, (s, e) in enumerate(spans):
            if s < position <= e or (position <= s and i == 0):
                index = i
                break
            if position <= s:  # between sentences: it follows the previous one
                index = i - 1
                break
        if index is None:
            index = len(spans) - 1
        if index >= 0:
            out[index][1].extend(n for n in numbers if n not in out[index][1])
    unique: dict[str, list[int]] = {}
    for sentence, numbers in out:
        if sentence:
            unique.setdefault(sentence, []).extend(n for n in numbers if n not in unique.get(sentence, []))
    return list(unique.items())


def is_cross_lingual(sentence: str) -> bool:
    cjk, latin = len(CJK.findall(sentence)), len(LATIN_LETTER.findall(sentence))
    return latin > 2 * cjk


def support_score(share: float, similarity: float, cross_lingual: bool = False) -> float:
    """One support figure (0..1) from the share of the claim found in the passage and the embedding similarity."""
    low, high = (DENSE_LOW_CROSS, DENSE_HIGH_CROSS) if cross_lingual else (DENSE_LOW, DENSE_HIGH)
    dense = float(np.clip((similarity - low) / (high - low), 0.0, 1.0))
    return BIGRAM_WEIGHT * share + (1 - BIGRAM_WEIGHT) * dense


_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _claim(
    sentence: str, question_grams: set[str], question_numbers: set[str], asked: set[str], concepts: ConceptsOf | None
) -> tuple[set[str], list[Concept], set[str]]:
    """What a sentence says beyond the question: its new bigrams, new concepts (for English), new numbers.

    Words taken from the question prove nothing: "经费是12万页" shares 经费 and 党支部 with both
    question and passage, and only "12万页" is the claim to check. `asked` holds the labels of the
    question's own concepts.
    """
    novel = bigrams(sentence) - question_grams
    new_concepts: list[Concept] = []
    if concepts is not None and is_cross_lingual(sentence):
        # A word without a Chinese counterpart in the documents counts as missing: it is part of the claim.
        new_concepts = [c for c in concepts(sentence) if c.label.lower() not in asked]
    numbers = set(_NUMBER.findall(sentence)) - question_numbers
    return novel, new_concepts, numbers


@dataclass
class Match:
    """How one passage supports one answer sentence, and its sentence that does it best."""

    passage: int
    support: float
    bigram: float
    similarity: float
    quote_start: int  # offsets of the best sentence in the passage's text
    quote_end: int


@dataclass
class Grounded:
    """A verified answer: text with corrected markers, its citations and statements."""

    text: str
    citations: list[Citation]
    statements: list[Statement]
    unsupported: list[str]
    matches: list[list[Match]]  # per sentence, every passage's match (for calibration and debugging)


def match_sentences(
    sentences: list[str],
    passages: list[Passage],
    embedder: Embedder | None,
    *,
    question: str = "",
    concepts: ConceptsOf | None = None,
) -> list[list[Match]]:
    """Score every (answer sentence, passage) pair; the embedding part is skipped without an embedder.

    The share is taken over what the sentence adds to the question (see `_claim`); English
    sentences are checked by their concepts' Chinese translations when `concepts` is given. A
    number the passage does not contain halves that passage's support.
    """
    passage_spans = [[(s, e) for s, e in split_sentences(p.text) if p.text[s:e].strip()] for p in passages]
    flat = [p.text[s:e] for p, spans in zip(passages, passage_spans) for s, e in spans]
    if embedder is not None and sentences and flat:
        # Both sides as queries: e5's prefix for symmetric similarity between two statements.
        vectors = embedder.encode_queries(list(sentences) + flat)
        sims_all = vectors[: len(sentences)] @ vectors[len(sentences) :].T
    else:
        sims_all = np.zeros((len(sentences), len(flat)), dtype=np.float32)
    # What does not depend on the answer sentence is computed once.
    passage_grams = [bigrams(p.text) for p in passages]
    span_grams = [[bigrams(p.text[s:e]) for s, e in spans] for p, spans in zip(passages, passage_spans)]
    question_grams, question_numbers = bigrams(question), set(_NUMBER.findall(question))
    asked = {c.label.lower() for c in concepts(question)} if concepts is not None and question else set()
    out: list[list[Match]] = []
    for i, sentence in enumerate(sentences):
        grams, new_concepts, numbers = _claim(sentence, question_grams, question_numbers, asked, concepts)
        cross = is_cross_lingual(sentence)
        row: list[Match] = []
        offset = 0
        for j, (p, spans) in enumerate(zip(passages, passage_spans)):
            if not spans:
                row.append(Match(j, 0.0, 0.0, 0.0, 0, 0))
                continue
            sims = sims_all[i, offset : offset + len(spans)]
            offset += len(spans)
            share = len(grams & passage_grams[j]) / len(grams) if grams else 0.0
            if new_concepts:
                share = coverage(new_concepts, p.text)
            similarity = float(sims.max()) if len(sims) else 0.0
            # The quote: the passage sentence that shares most with the statement, similarity breaking ties.
            per_sentence = [
                (len(grams & span_grams[j][k]) / max(1, len(grams)) + float(sims[k]), s, e)
                for k, (s, e) in enumerate(spans)
            ]
            _, qs, qe = max(per_sentence)
            support = support_score(share, similarity, cross)
            if any(n not in p.text for n in numbers):
                support *= 0.5  # a figure the passage does not give is not supported by it
            row.append(Match(j, support, share, similarity, qs, qe))
        out.append(row)
    return out


def ground(
    reply: str,
    passages: list[Passage],
    embedder: Embedder | None,
    *,
    language: str = "zh",
    floor: float = SUPPORT_FLOOR,
    question: str = "",
    concepts: ConceptsOf | None = None,
) -> Grounded:
    """Attach verified citations to a generated reply.

    Every sentence is matched to the passages that support it (at `floor` or above). A marker the
    model wrote is kept only when its passage supports the sentence; otherwise it is replaced by
    the best supporting passage, or removed. A sentence no passage supports gets no marker and is
    flagged in the text and listed in `unsupported`. Citation numbers are renumbered by first use.

    Args:
        reply: the chat model's text, with or without [n] markers (numbers refer to `passages`, 1-based).
        passages: the passages the model was shown, in the order it was shown them.
        embedder: the embedding model (None: bigram evidence only).
        language: 'zh' or 'en', for the flag written after unsupported sentences.
        floor: the support a passage needs to count as supporting a sentence.
        question: the question answered; what a sentence merely repeats of it is not evidence.
        concepts: how to read English sentences (Assistant.analyse(...).concepts), if any.
    """
    parts = split_markers(reply)
    # Fragments ("好的。") and sentences that only restate the question claim nothing: they are
    # neither cited nor flagged.
    claims = [
        part
        for part in parts
        if len(bigrams(part[0])) >= MIN_BIGRAMS and len(bigrams(part[0]) - bigrams(question)) >= MIN_NEW_BIGRAMS
    ]
    matches = match_sentences([t for t, _ in claims], passages, embedder, question=question, concepts=concepts)
    by_text = {id(part): k for k, part in enumerate(claims)}
    numbers: dict[int, int] = {}  # passage index -> citation number
    citations: list[Citation] = []
    statements: list[Statement] = []
    unsupported: list[str] = []
    lines: list[str] = []
    for part in parts:
        text, marks = part
        k = by_text.get(id(part))
        if k is None:  # connective text: kept, neither cited nor flagged
            lines.append(shown(text))
            continue
        row = matches[k]
        supporting = sorted((m for m in row if m.support >= floor), key=lambda m: -m.support)
        claimed = [m for m in supporting if (m.passage + 1) in marks]
        # Trust a marker only when its passage supports the sentence; else cite the best supporter.
        chosen = claimed or supporting[:1]
        best = max((m.support for m in row), default=0.0)
        if not chosen:
            unsupported.append(text)
            statements.append(Statement(text, [], False, best))
            lines.append(f"{shown(text)}{UNVERIFIED[language]}")
            continue
        cited = []
        for m in chosen:
            p = passages[m.passage]
            if m.passage not in numbers:
                numbers[m.passage] = len(numbers) + 1
            n = numbers[m.passage]
            cited.append(n)
            citations.append(
                Citation.quoting(p, n, p.start + m.quote_start, p.start + m.quote_end, text, round(m.support, 3))
            )
        statements.append(Statement(text, cited, True, best))
        lines.append(shown(text) + "".join(f"[{n}]" for n in cited))
    return Grounded(_join(lines), citations, statements, unsupported, matches)


def _join(lines: list[str]) -> str:
    # Chinese sentences run on without spaces; English ones need one.
    out = ""
    for line in lines:
        if out and (LATIN_LETTER.search(out[-1]) or out[-1] in ".!?]") and LATIN_LETTER.search(line[:1] or ""):
            out += " "
        out += line
    return out
