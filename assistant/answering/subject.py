"""What of the question the passages hold: the words a partial answer names, and questions that stray from the documents."""

from __future__ import annotations

import functools
import re

import jieba.posseg

from assistant.retrieval.own_term import named_term
from assistant.retrieval.query import Concept, Query
from assistant.text import CJK


def is_stray(concepts: list[Concept], passages_text: str, unseen_idf: float) -> bool:
    """True when the question names something the knowledge base never uses and shares at most one word with
    the passages: "How do I renew my passport?" (更新 found, 护照 nowhere), "唐朝是哪一年建立的？".

    Chosen on the calibration questions of bench/answerability.jsonl and the development set, where no
    answerable or near-domain question has this shape and every far-off one that slipped past the evidence
    floor did. A word unknown to the dictionary too (a name, a typo) does not count as foreign: it may be a gap.
    """
    found = [c.label for c in concepts if any(a in passages_text for a in c.alternatives)]
    foreign = [
        c for c in concepts if c.weight >= unseen_idf - 1e-6 and not any(a in passages_text for a in c.alternatives)
    ]
    return bool(foreign) and len(outermost(found)) <= 1


def widened(word: str, question: str, text: str, longest: int = 10) -> str:
    """The word grown over the question's Chinese characters around it while the documents still hold it:
    "第三" of "…第三党支部的…" is "第三党支部" when the passages say 第三党支部, so "文件提到了“第三党支部”"."""
    at = question.find(word)
    if at < 0:
        return word
    start, end = at, at + len(word)
    grown = True
    while grown and end - start < longest:
        grown = False
        if end < len(question) and CJK.match(question[end]) and question[start : end + 1] in text:
            end, grown = end + 1, True
        elif start > 0 and CJK.match(question[start - 1]) and question[start - 1 : end] in text:
            start, grown = start - 1, True
    return question[start:end]


def own_terms_found(query: Query, concepts: list[Concept], passages_text: str) -> bool:
    """True for an English question with Chinese terms typed in it, all of which the passages' text holds."""
    if query.language != "en":
        return False
    own = [c for c in concepts if CJK.search(c.label)]
    return bool(own) and all(any(a in passages_text for a in c.alternatives) for c in own)


_QUOTED = re.compile(r"[“\"‘「『]([^”\"’」』]{2,20})[”\"’」』]")


_QUOTE_MARKS = re.compile(r"[“”\"‘’「」『』]")


def quoted_terms_found(question: str, passages_text: str) -> bool:
    """True when the question quotes terms (“六地”, ‘三多一高’) and the passages use every one of them."""
    quoted = _QUOTED.findall(question)
    plain = _QUOTE_MARKS.sub("", passages_text)
    return bool(quoted) and all(term in plain for term in quoted)


# The kind of thing a term names, which a question adds and the documents may leave out: 双报到制度 is "双报到".
_KIND_OF_TERM = re.compile(r"(?:制度|机制|模式|工作法|做法|活动|工作|要求|政策|办法|理念|精神)$")


def asked_term_in(question: str, passages_text: str) -> str | None:
    """The Chinese term a question only asks about ("什么是双报到？", "清单化管理是什么意思？"), as the passages write
    it, or None when the question asks more or the passages do not use the term. A kind-of-thing word the question
    adds may be missing from them ("什么是双报到制度？": the documents say 党员“双报到”要求, so the term is 双报到)."""
    term = named_term(question)
    if term is None or not CJK.search(term):
        return None
    plain = _QUOTE_MARKS.sub("", passages_text)
    bare = _KIND_OF_TERM.sub("", term)
    if len(bare) >= 2 and bare in plain:
        return bare  # the core of the term, however the documents go on: “双报到”要求, “双报到”制度
    return term if term in plain else None


def outermost(words: list[str]) -> list[str]:
    """The words that are not part of a longer one in the list (第一议题, not also 一议), in order."""
    return [w for w in words if not any(w != other and w in other for other in words)]


@functools.lru_cache(maxsize=4096)
def names_a_thing(word: str) -> bool:
    """False for a word jieba reads as one verb, adverb or adjective (收到, 慰问); True for nouns, names and the
    compounds it cuts (保密员 = 保密 + 员, 双报到), which is what documents "mention"."""
    pieces = list(jieba.posseg.cut(word))
    return len(pieces) != 1 or pieces[0].flag == "vn" or pieces[0].flag[0] not in "vdauprcmq"


# A standard, a regulation's code or an RFC: "GB/T 9704", "ISO 27001", "RFC 2616", "JGJ 16".
_CODE = re.compile(
    r"\b(?:GB(?:/T|/Z)?|ISO(?:/IEC)?|IEC|RFC|JGJ|DB\d{2}(?:/T)?|HJ|YY|GA)\s*[-/ ]?\s*(\d{2,6}(?:[.-]\d+)?)", re.I
)

_ANY_STANDARD = re.compile(r"国家标准|国标|行业标准|\bnational standards?\b", re.I)
_STANDARD_TEXT = re.compile(r"国家标准|国标|行业标准|GB\s*/?\s*T?\s*\d")


def names_unknown_code(question: str, passages_text: str) -> bool:
    """True when the question names a standard or code ("under GB/T 9704") whose number no passage holds: a question
    about that standard, which the documents do not treat, however close its other words come."""
    if _ANY_STANDARD.search(question) and not _STANDARD_TEXT.search(passages_text):
        return True  # "按国家标准，公文的页码标在哪？": under a standard no passage mentions
    return any(m.group(1) not in passages_text for m in _CODE.finditer(question))
