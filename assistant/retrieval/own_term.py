"""A question asking what a term it names itself is ("“三法三化”是什么？", "什么是双报到？", "Who is 安洪涛?")."""

from __future__ import annotations

import re

import jieba.posseg

from assistant.retrieval.subject_words import specific_word

# "<term>是什么？", "<term>是什么平台？", "<term>什么意思", "<term>指什么", "<term>是谁" (a kind of thing of up to four
# characters may follow 什么: 平台, 活动, 工作法).
_ZH = re.compile(
    r"^(?P<term>.+?)(?:到底|究竟)?(?:是(?:个|一个)?(?:什么|啥)[\u4e00-\u9fff]{0,4}|(?:是)?(?:什么|啥)意思|"
    r"指(?:的是)?(?:什么|啥)|是谁|是哪位|是何人)[？?。！!\s]*$"
)
# "什么是<term>？", "什么叫<term>？", "何谓<term>？": the question form first.
_ZH_FORM_FIRST = re.compile(r"^(?:请问)?(?:什么是|什么叫(?:做)?|啥是|啥叫|何为|何谓)(?P<term>.+?)[？?。！!\s]*$")
_EN = re.compile(
    r"^(?:who|what)\s+(?:is|are|was|were)\s+(?P<term>.+?)\s*[?.!]*$|^what\s+does\s+(?P<means>.+?)\s+mean\s*[?.!]*$",
    re.I,
)
_QUOTED_TERM = re.compile(r"^[“\"「『《‘'](?P<inner>[^”\"」』》’']{1,20})[”\"」』》’'][\u4e00-\u9fff]{0,4}$")
# Words that point at what was discussed, or pick one of what was listed: "这个是什么？", "第二条指什么？", "他是谁？".
# "逐条解释下都啥意思": a request to explain each of what was listed.
_ZH_POINTS = re.compile(
    r"[这那它其该此他她]|上述|前者|后者|上面|前面|刚才|第[一二三四五六七八九十\d]|最后一|的|逐|分别|各自|解释|说明|介绍|讲讲|说说|都$"
)
_EN_POINTS = re.compile(
    r"\b(?:it|this|that|these|those|they|them|he|she|him|her|the (?:first|second|third|last|former|latter))\b", re.I
)
# "三必开", "五廉", "四讲": a number and a few characters abbreviate a named set of rules.
_NUMBERED = re.compile(r"^[一二三四五六七八九十两双]{1,2}[\u4e00-\u9fff]{1,4}$")
_PROPER = ("nr", "ns", "nt", "nz")  # jieba's tags for names of people, places, organisations and other proper nouns


def asks_what_it_names(question: str) -> bool:
    """True when the question only asks what a term of its own is or means, and the term names a thing rather than
    pointing back ("这个是什么？") or asking an attribute of what was discussed ("目的是什么？", "主要内容是什么？"):
    such a question needs no history."""
    return named_term(question) is not None


def named_term(question: str) -> str | None:
    """The term a question asks the meaning or identity of, when that is all it asks ("什么是双报到制度？" → 双报到制度,
    "“六地”指什么？" → 六地, "Who is 安洪涛?" → 安洪涛); None for other questions and for pointers ("这个是什么？")."""
    text = question.strip()
    english = _EN.match(text)
    if english:
        term = (english.group("term") or english.group("means") or "").strip()
        if _EN_POINTS.search(term) or len(term.split()) > 6:
            return None
        # A Chinese term, a quoted one, or a name in capitals ("Who is Zhu Zhaorong?"), not "the budget".
        names = re.search(r"[\u4e00-\u9fff]|^[\"“'‘]", term) or re.fullmatch(r"(?:[A-Z][\w'-]*\s*){1,4}", term)
        return term.strip("\"“”'‘’") if names else None
    chinese = _ZH.match(text) or _ZH_FORM_FIRST.match(text)
    if not chinese:
        return None
    term = chinese.group("term").strip()
    quoted = _QUOTED_TERM.match(term)
    if quoted:
        return None if _ZH_POINTS.search(term[len(quoted.group("inner")) + 2 :]) else quoted.group("inner")
    if len(term) > 8 or _ZH_POINTS.search(term):
        return None
    if _NUMBERED.match(term):
        return term
    pieces = list(jieba.posseg.cut(term))
    proper = any(p.flag.startswith(_PROPER) or (len(p.word) == 2 and specific_word(p.word)) for p in pieces)
    return term if proper else None
