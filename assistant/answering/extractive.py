"""Extractive answers: the retrieved sentences that answer the question, each with a [n] citation."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from assistant.answering.answer_types import AnswerType, asked_unit, has_value
from assistant.answering.context import context_spans
from assistant.answering.evidence import Judgement, Outcome, Thresholds, judge
from assistant.answering.framing import FRAMING
from assistant.answering.sentences import Sentence, SpanSimilarity, candidate_sentences, meaning_scores
from assistant.answering.subject import asked_term_in
from assistant.results import Answer, Citation, Passage, Statement
from assistant.retrieval.courtesy import is_courtesy
from assistant.retrieval.decompose import subjects
from assistant.retrieval.query import Query
from assistant.text import question_language
from ingest.metadata import named_offices, office_key

_MARKER_LIKE = re.compile(r"\[(\d+)\]")
# “双报到”, "three meetings": a term the user quoted is what the question is about.
_QUOTED = re.compile(r"[“\"「『‘]([^”\"」』’]{2,20})[”\"」』’]")


def quoted_terms(question: str) -> list[str]:
    """The terms the question puts in quotation marks (its sure focus), in order."""
    return list(dict.fromkeys(m.group(1).strip() for m in _QUOTED.finditer(question) if m.group(1).strip()))


def shown(text: str) -> str:
    """Document text as written into an answer's text: bracketed numbers get full-width brackets.

    Documents write "见附件[3]" or "沪府办发[2023]12号"; copied as they are, these would read as
    citation markers that point at the wrong source or at none. In the answer text every [n] is
    one of the answer's own markers; `Citation.quote` keeps the document's text verbatim.
    """
    return _MARKER_LIKE.sub("［\\1］", text)


TYPED_BONUS = 0.3  # a sentence with the asked figure or date beats one that only names the subject
REDUNDANCY = 0.5  # how much repeating a chosen sentence costs a candidate
SEED_RATIO = 0.5  # a named subject's (or, across offices, each office's) best sentence needs this share of the best
# "各单位在落实…方面分别有哪些做法？": one question about every office the documents speak for.
_ACROSS = re.compile(r"各单位|各部门|各地|各级|各个单位|各机关|分别|各自|哪些单位|哪些部门|哪些机关")
KEEP_RATIO = 0.6  # below this share of the best sentence: left out (chosen on the answerability set's calib half)
#: A sentence from a passage the answer does not cite yet needs this share of the best sentence, and a
#: sentence's closeness by meaning (0..1 within the answer) weighs this much beside its word coverage.
#: Measured on 2026-12-03 (bench/answer_select.py then): stricter new sources (0.9) and meaning (0.4) looked better on
#: the calibration half and the development set's citation precision, but lost coverage and precision on
#: the report half, so neither is switched on.
NEW_SOURCE_RATIO = KEEP_RATIO
MEANING_WEIGHT = 0.0
#: A sentence that would add a source must also come from a passage retrieved nearly as well as the best
#: one (this share of its fused score): a second document's sentence that shares the question's words is
#: usually about something else (on the calibration questions and the development set, 27 % of such sentences
#: were in a gold passage, against 86 % of first picks). bench/answer_select.py chose it on the calibration questions.
NEW_SOURCE_SCORE = 0.9


class ExtractiveAnswerer:
    """Writes an answer from the retrieved passages' own sentences; needs no language model."""

    def __init__(
        self,
        *,
        thresholds: Thresholds,
        unseen_idf: Callable[[], float] = lambda: 5.0,
        max_sentences: int = 4,
        max_chars: int = 400,
        office_of: Callable[[str], str | None] = lambda doc_id: None,
        keep_ratio: float = KEEP_RATIO,
        new_source_ratio: float = NEW_SOURCE_RATIO,
        span_similarity: SpanSimilarity | None = None,
        meaning_weight: float = MEANING_WEIGHT,
        new_source_score: float = NEW_SOURCE_SCORE,
        background: Callable[[str], float] | None = None,
    ):
        self.thresholds = thresholds
        self.office_of = office_of  # the issuing office of a document (by doc_id), named once per group of lines
        self.unseen_idf = unseen_idf  # the idf of a word found nowhere in the knowledge base (changes as it grows)
        self.max_sentences = max_sentences
        self.max_chars = max_chars
        self.keep_ratio = keep_ratio  # a sentence scoring below this share of the best one is left out
        self.new_source_ratio = new_source_ratio  # the same, for a sentence that would add a source
        self.span_similarity = span_similarity  # closeness by meaning of stored spans, when the index has them
        self.meaning_weight = meaning_weight  # its share in a sentence's score beside the words it shares
        self.new_source_score = new_source_score  # the same, for the retrieval score of a new source's passage
        self.background = background  # a question's similarity to ordinary writing (background.Background)

    def _offices(self, passages: list[Passage]) -> dict[str, str | None]:
        """Each passage's document's issuing office, looked up once (a registry read and a scan of its opening)."""
        return {doc_id: self.office_of(doc_id) for doc_id in dict.fromkeys(p.doc_id for p in passages)}

    def judge(self, query: Query, passages: list[Passage]) -> Judgement:
        """Whether the passages answer the question fully, partly or not at all (see evidence.judge)."""
        background = self.background(query.text) if self.background is not None and passages else None
        named = named_offices(query.text)
        own = own_office_passages(passages, self._offices(passages), named) if named else set()
        return judge(query, passages, self.unseen_idf(), self.thresholds, background=background, own=own)

    def _select(
        self,
        candidates: list[Sentence],
        passages: list[Passage],
        kind: AnswerType,
        unit: str | None,
        offices: dict[str, str | None],
        each: Sequence[str] = (),
        across: bool = False,
        on_quoted: bool = False,
    ) -> list[Sentence]:
        """Sentences that together cover the question: MMR-style, each pick weighed against what is chosen.

        A sentence holding the asked kind of value (a figure for 多少, a date for 哪一年) gets a lead;
        one that mostly repeats a chosen sentence is passed over for one that adds something. For a
        question about each of several subjects (`each`), every subject's best sentence goes in first;
        for one across offices (`across`), every office's. A sentence that adds a source needs a passage
        retrieved nearly as well as the best, unless every candidate carries a term the user quoted
        (`on_quoted`): then a second source is as much on the question as the first.
        """

        def relevance(s: Sentence) -> float:
            typed = kind is not AnswerType.OTHER and has_value(kind, s.text, unit)
            return s.score + (TYPED_BONUS if typed else 0.0)

        pool = sorted(candidates, key=lambda s: -relevance(s))
        best = max((s.score for s in pool), default=0.0)  # the cut-off looks at coverage alone
        top = max((p.score for p in passages), default=0.0)
        chosen: list[Sentence] = []
        # Seeds: each named subject's best sentence ("A和B分别…"), or, for a question across offices
        # ("各单位…分别"), each office's. Their passages sit lower in the merged ranking by construction,
        # so they need only SEED_RATIO of the best score, not keep_ratio.
        seedable = [s for s in pool if s.score >= SEED_RATIO * best]
        for subject in each:
            about = [s for s in seedable if _is_about(s, passages[s.passage], subject, offices)]
            if about and about[0] not in chosen:
                chosen.append(about[0])  # pool is sorted: the first is the best about this subject
        if across and not each:
            seeded: set[str] = set()
            for s in seedable:
                office = offices[passages[s.passage].doc_id] or passages[s.passage].doc_id
                if office not in seeded and len(chosen) < self.max_sentences:
                    seeded.add(office)
                    chosen.append(s)
        pool = [s for s in pool if s not in chosen]
        used_chars = sum(len(s.text) for s in chosen)
        while pool and len(chosen) < self.max_sentences:
            pick = max(
                pool,
                key=lambda s: relevance(s) - REDUNDANCY * max((_overlap(s.text, c.text) for c in chosen), default=0.0),
            )
            pool.remove(pick)
            if pick.score < self.keep_ratio * best:
                continue  # a weak sentence: the bonus or the redundancy order must not bring it in
            if chosen and all(c.passage != pick.passage for c in chosen):
                if pick.score < self.new_source_ratio * best:
                    continue
                # (Fused scores can all be negative when filters leave only weak passages: no ratio then.)
                if not on_quoted and top > 0 and passages[pick.passage].score < self.new_source_score * top:
                    continue
            if any(_same_place(pick, c, passages) for c in chosen):
                continue  # the same sentence reached through two overlapping passages
            if chosen and used_chars + len(pick.text) > self.max_chars:
                continue
            chosen.append(pick)
            used_chars += len(pick.text)
        return chosen

    def answer(self, query: Query, passages: list[Passage], judgement: Judgement | None = None) -> Answer:
        question, lang = query.text, query.language
        words = FRAMING[lang]
        judgement = judgement or self.judge(query, passages)
        evidence = judgement.evidence
        if is_courtesy(question):
            thanks = re.search(r"谢|辛苦|thank|thx|appreciat", question, re.I)
            text = words["courtesy"] if thanks else words["ready"]
            return Answer(question=question, text=text, refused=True, evidence=0.0)
        if judgement.no_subject:
            return Answer(question=question, text=words["unclear"], refused=True, evidence=0.0)
        if judgement.drafting:
            return refusal(question, passages, evidence.score, lang, reason=words["drafting"])
        if not passages or judgement.outcome is Outcome.REFUSE:
            return refusal(question, passages, evidence.score, lang)

        kind, unit = judgement.answer_type, asked_unit(question)
        candidates = candidate_sentences(query.concepts, passages)
        if self.span_similarity is not None and self.meaning_weight > 0 and candidates:
            closeness = meaning_scores(candidates, passages, self.span_similarity(question, passages))
            candidates = [replace(c, score=c.score + self.meaning_weight * m) for c, m in zip(candidates, closeness)]
        quoted = quoted_terms(question)
        # "什么是双报到？" is about 双报到 as surely as if it were quoted: every source using it counts.
        if not quoted and (term := asked_term_in(question, "\n".join(p.text for p in passages))):
            quoted = [term]
        candidates = _on_focus(candidates, passages, quoted)
        on_quoted = bool(quoted) and all(_carries(s, passages, quoted) for s in candidates)
        offices = self._offices(passages)
        each = subjects(question)
        if not each:  # "A和B分别…" is answered per subject below; one office named is the question's own
            candidates = _on_office(candidates, passages, offices, named_offices(question))
        across = bool(_ACROSS.search(question))
        chosen = self._select(candidates, passages, kind, unit, offices, each, across, on_quoted)
        if not chosen:
            return refusal(question, passages, evidence.score, lang)

        # Number sources in order of first use; a sentence holding the asked figure leads; then the
        # sentences go in the order of their source's rank and, within one source, in document
        # order, so the text reads as written.
        def subject_order(s: Sentence) -> int:  # "A和B分别…": A's lines first, as asked
            return next(
                (i for i, name in enumerate(each) if _is_about(s, passages[s.passage], name, offices)), len(each)
            )

        def reading_order(s: Sentence) -> tuple[int, bool, int, int]:
            return (
                subject_order(s),
                kind is not AnswerType.OTHER and not has_value(kind, s.text, unit),
                s.passage,
                s.start,
            )

        chosen.sort(key=reading_order)
        numbers: dict[int, int] = {}
        citations: list[Citation] = []
        statements: list[Statement] = []
        partial = judgement.outcome is Outcome.PARTIAL
        if partial:
            # The closest statements only, those naming the subject first: they show what is there.
            named = judgement.subject[:1]
            chosen = sorted(chosen, key=lambda s: not any(w in s.text for w in named))[:2]
        chosen = sorted(_with_context(chosen, passages, kind, unit), key=reading_order)
        lines = [words["lead"]]
        if partial:
            subject = "、".join(judgement.subject[:1]) or ("相关内容" if lang == "zh" else "the subject")
            unstated = "、".join(judgement.missing[:2]) or ("所问的内容" if lang == "zh" else "what was asked")
            lines = [words["partial"].format(subject=_quoted(subject, lang), missing=unstated)]
        # One paragraph per issuing office (or per document when its office is unknown), named once:
        # "市委办公厅：…[1]…[1]" then "市政府办公室党总支：…[2]", so a cross-document answer reads by office.
        groups: dict[str, list[Sentence]] = {}
        for sentence in chosen:
            p = passages[sentence.passage]
            label = offices[p.doc_id] or (f"《{p.title}》" if p.title else "")
            groups.setdefault(label, []).append(sentence)
        colon = "：" if lang == "zh" else ": "
        for label, members in groups.items():
            parts = []
            for sentence in _join_adjacent(members, passages):
                p = passages[sentence.passage]
                if sentence.passage not in numbers:
                    numbers[sentence.passage] = len(numbers) + 1
                n = numbers[sentence.passage]
                citations.append(Citation.quoting(p, n, sentence.start, sentence.end, sentence.text, 1.0))
                statements.append(Statement(sentence.text, [n], True, 1.0))  # quoted verbatim: supported
                parts.append(f"{shown(sentence.text)}[{n}]")
            lines.append((f"{label}{colon}" if label else "") + "".join(parts))
        missing = list(judgement.missing) if partial else []
        # "A和B分别…" where only A's documents say it: the answer says which subject it could not cover.
        for subject in each:
            if not any(_is_about(c, passages[c.passage], subject, offices) for c in chosen):
                lines.append(words["subject_absent"].format(subject=subject))
                missing.append(subject)
        return Answer(
            question=question,
            text="\n".join(lines),
            refused=False,
            citations=citations,
            evidence=evidence.score,
            statements=statements,
            partial=bool(missing) or partial,
            missing=missing,
        )


def _join_adjacent(sentences: list[Sentence], passages: list[Passage]) -> list[Sentence]:
    """Sentences that follow each other in one passage, as one quotation with one citation.

    "“…九严禁…”" / "省委办公厅的一名工作人员告诉记者。" / "而他口中的这段…" read as one passage of the
    document, so the answer quotes them as one and cites it once, not three times in a row.
    """
    out: list[Sentence] = []
    for s in sentences:
        last = out[-1] if out else None
        if last is not None and last.passage == s.passage and 0 <= s.start - last.end <= 1:
            p = passages[s.passage]
            text = p.text[last.start - p.start : s.end - p.start]
            if text.replace(" ", "") == (last.text + s.text).replace(" ", ""):  # only a space between them
                out[-1] = replace(last, end=s.end, text=text)
                continue
        out.append(s)
    return out


def _is_about(sentence: Sentence, passage: Passage, subject: str, offices: dict[str, str | None]) -> bool:
    """True when the sentence names the subject, or its document is the subject's own (by office or title)."""
    office = offices.get(passage.doc_id) or ""
    return subject in sentence.text or subject in passage.section or subject in passage.title or subject == office


def _quoted(words: str, lang: str) -> str:
    return f"“{words}”" if lang == "zh" else words


def _on_focus(candidates: list[Sentence], passages: list[Passage], focus: list[str]) -> list[Sentence]:
    """The candidates that carry a quoted term of the question (in the sentence or its heading), when any do.

    "各单位在落实“三会一课”方面分别有哪些做法？" is about 三会一课: a sentence about other Party
    routines scores well on 落实 and 做法 but does not answer it.
    """
    if not focus:
        return candidates
    kept = [s for s in candidates if _carries(s, passages, focus)]
    return kept or candidates


def _carries(sentence: Sentence, passages: list[Passage], terms: list[str]) -> bool:
    """True when one of the terms is in the sentence or in the heading it sits under."""
    section = passages[sentence.passage].section
    return any(term in sentence.text or term in section for term in terms)


def _with_context(
    chosen: list[Sentence], passages: list[Passage], kind: AnswerType, unit: str | None
) -> list[Sentence]:
    """The chosen sentences and the neighbours they need to be read (see context.context_spans)."""
    holds = None if kind is AnswerType.OTHER else (lambda text: has_value(kind, text, unit))
    out = list(chosen)
    for s in chosen:
        p = passages[s.passage]
        for a, b in context_spans(p.text, s.start - p.start, s.end - p.start, holds):
            extra = Sentence(s.passage, p.start + a, p.start + b, p.text[a:b], s.score)
            if not any(_same_place(extra, c, passages) for c in out):
                out.append(extra)
    return out


def own_office_passages(passages: list[Passage], offices: dict[str, str | None], named: list[str]) -> set[int]:
    """The indexes of the passages from documents of an office the question names (empty when it names none).
    A branch belongs to its office (市政府办公室 ⊂ 市政府办公室党总支)."""
    keys = [office_key(n) for n in named]
    return {
        i
        for i, p in enumerate(passages)
        if (office := offices.get(p.doc_id)) is not None and any(k in office_key(office) for k in keys)
    }


def _on_office(
    candidates: list[Sentence], passages: list[Passage], offices: dict[str, str | None], named: list[str]
) -> list[Sentence]:
    """The candidates from documents of the office the question names, when any are: "市委办公厅第三党支部的
    书记…" is not answered from 市政府办公室党总支's report."""
    own = own_office_passages(passages, offices, named)
    kept = [s for s in candidates if s.passage in own]
    return kept or candidates


def _overlap(a: str, b: str) -> float:
    """Share of the shorter text's character bigrams that the other text has too (0..1)."""
    ga, gb = _bigrams(a), _bigrams(b)
    return len(ga & gb) / min(len(ga), len(gb)) if ga and gb else 0.0


@functools.lru_cache(maxsize=4096)
def _bigrams(text: str) -> frozenset[str]:
    # The selection compares each candidate with every chosen sentence, many times per answer: cut each once.
    return frozenset(text[i : i + 2] for i in range(len(text) - 1))


def _same_place(a: Sentence, b: Sentence, passages: list[Passage]) -> bool:
    return passages[a.passage].doc_id == passages[b.passage].doc_id and a.start < b.end and b.start < a.end


def refusal(
    question: str, passages: list[Passage], evidence: float, lang: str | None = None, reason: str | None = None
) -> Answer:
    """The answer when the evidence is too weak (or `reason` says why not): say so, and show the nearest passages
    as such."""
    words = FRAMING[lang or question_language(question)]
    lines = [reason or words["refusal"]]
    nearest = passages[:3]
    if nearest:
        lines.append(words["nearest"])
        for p in nearest:
            snippet = p.text if len(p.text) <= 80 else p.text[:80] + "…"
            lines.append(shown(f"- 《{p.title}》{('（' + p.section + '）') if p.section else ''}：{snippet}"))
    return Answer(question=question, text="\n".join(lines), refused=True, nearest=nearest, evidence=evidence)
