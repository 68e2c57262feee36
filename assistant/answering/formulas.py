"""Numbered formulas (“三必开”, 六地, 八坚持八防止): a question asking what one consists of needs a text that spells it out.

Office documents name such formulas far more often than they explain them ("认真落实“三个马上”要求"); a
passage that only names the formula does not answer "“三个马上”具体指什么？" — the honest answer is partial.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The question asks what a formula is made of: 具体指什么, 分别是哪些, 包括哪些, 是什么意思, consist of, stand for, …
_ASKS_CONTENTS = re.compile(
    r"具体(?:指|是|内容|包括|有|要)|指(?:什么|哪些|的是|哪)|分别(?:是|指|为|代表)(?:什么|哪)|代表(?:什么|哪)"
    r"|包括(?:哪些|什么)|包含(?:哪些|什么)"
    r"|哪些(?:内容|方面)|内容是什么|是什么(?:意思|含义)|什么意思|含义|是哪[几两一二三四五六七八九十\d]+"
    r"|(?:原则|要求|标准|思路|做法|机制|制度)是什么"
    r"|\bconsist of\b|\bstand for\b|\brefer to\b|\bmean\b|\bwhat (?:exactly )?(?:are|were) the\b|\bwhich are the\b"
    # "Which nine industrial chains are in the 九大重点产业链?": the members of a numbered set, by its count
    r"|\bwhich (?:two|three|four|five|six|seven|eight|nine|ten|\d+)\b",
    re.I,
)
_NUMERAL = "一二两三四五六七八九十百"
_NUMERAL_RUN = re.compile(rf"[{_NUMERAL}\d]+")
_QUOTES = re.compile(r"[“”\"‘’'「」『』]")
# After the numerals: a date or time (2023年, 3月, 8点) or a rank or round (二级局, 五届, 一线, 三次), not a formula.
_NOT_A_FORMULA_AFTER = re.compile(r"[年月日号岁点时分级届次期批轮线层]")
# Where a quoted or named formula's words end in a question: the words that ask about it.
_QUESTION_TAIL = re.compile(r"具体|分别|包括|包含|是|指|有哪|都有|的内容|哪|什么|[？?，,。\s(（]")
_SIBLING = re.compile(r"[二两三四五六七八九十\d]")  # a numeral (not 一, which starts ordinary words) in a list item
# A Chinese character bound to a numeral before it, as in a name (秘书八处); 的, 是, 和 … only lead up to a formula.
_BOUND_BEFORE = re.compile(r"(?![的是和与及、在了对把将按照以])[\u4e00-\u9fff]")
_SENTENCE_END = re.compile(r"[。！？；]")
# Items of a list in the quote-free text (_plain turns "”“" between quoted items into "、").
_ENUMERATION = re.compile(r"、")
# Right after the formula (its noun, a closing quote and a comma allowed between): the explanation begins.
_EXPLAINED_AFTER = re.compile(
    r"^[\u4e00-\u9fff]{0,4}[，,]?\s*(?:即|是指|指的是|就是|：|:|包括|分别是|具体是|主要是|——|（|\()"
)
# The next sentence spells it out: "…推动五个现代化。具体来说，就是…", or itemises it: "…以“五廉”建设为抓手…。一是以责任保廉。"
_EXPLAINED_NEXT = re.compile(r"^\s*(?:具体来说|具体而言|即|也就是|就是)")
_ITEMISED_NEXT = re.compile(r"^\s*(?:一是|第一|其一|首先|（一）|\(一\)|1[.．、])")


@dataclass(frozen=True)
class Formula:
    """A numbered formula the question asks the contents of, as the passages write it (quotes removed)."""

    term: str


def _plain(text: str) -> str:
    # ”“ between two quoted items is how documents list them ("“零差错”“零延误”"): keep it as a separator.
    return _QUOTES.sub("", text.replace("”“", "、").replace("’‘", "、"))


def asked_formula(question: str, passages_text: str) -> Formula | None:
    """The numbered formula whose contents the question asks for, when the passages use it; else None.

    A formula is a run of words starting with a numeral ("九大重点产业链", "6个项目", "3659发展思路"), not a date and
    not the question's own "哪九条"; the longest start of it that the passages use is the term (at least 2
    characters). None when the question does not ask for contents, or names no formula the passages use.
    """
    if not _ASKS_CONTENTS.search(question):
        return None
    plain_question, plain_text = _plain(question), _plain(passages_text)
    runs = list(_NUMERAL_RUN.finditer(plain_question))
    # A quoted formula first: "秘书八处落实的“三个马上”…" asks about 三个马上, not 八处.
    for m in sorted(runs, key=lambda m: not _quoted(question, plain_question[m.start() : m.start() + 2])):
        start, end = m.span()
        before = plain_question[start - 1] if start else ""
        if (before and before in "第哪几每") or _NOT_A_FORMULA_AFTER.match(plain_question, end):
            continue
        if not m.group().isdigit() and _BOUND_BEFORE.match(before) and not _quoted(question, m.group()):
            continue  # 秘书八处, 市委五届: a Chinese numeral inside a name (figures stand apart: 市委办公厅13类岗位)
        if m.group() == "一" and not _quoted(question, plain_question[start : start + 2]):
            continue  # 一体化, 一般, 一线: "一" starts ordinary words unless the formula is quoted ("“一站式”")
        tail = _QUESTION_TAIL.search(plain_question, end)
        words = plain_question[start : tail.start() if tail else len(plain_question)]
        quoted = _quoted(question, words[:2])
        for length in range(min(len(words), 10), 1, -1):
            term = words[:length]
            if _NUMERAL_RUN.fullmatch(term) and not quoted:
                continue  # "the 13 categories": a bare figure is no formula unless quoted ("“3659”")
            if term in plain_text:
                return Formula(term)
    return None


def _quoted(question: str, start: str) -> bool:
    """True when `start` (a formula's first characters) follows an opening quote in the question."""
    return bool(re.search(rf"[“\"‘'「『]{re.escape(start)}", question))


def spelled_out(formula: Formula, passages_text: str) -> bool:
    """True when some use of the formula in the passages comes with its contents.

    The contents are listed just before it ("起草前必开审题会、初稿完成后必开推稿会、会议召开后必开总结会的“三必开”原则"),
    explained right after it ("“三多一高”，即…", "…五个现代化。具体来说，就是…"), or itemised from the next sentence
    on ("以“五廉”建设为抓手…。一是以责任保廉。").
    """
    text = _plain(passages_text)
    for m in re.finditer(re.escape(formula.term), text):
        clause = re.split(r"[。！？；，,\n]", text[max(0, m.start() - 120) : m.start()])[-1]
        items = clause.split("、")
        # "落实“三个马上”“五个非常”": the formula is one of a list of formulas' names, not the end of its contents.
        siblings = len(items) > 1 and not items[-1] and _SIBLING.search(items[-2])
        if _ENUMERATION.search(clause) and not siblings:
            return True
        rest = text[m.end() : m.end() + 200]
        if _EXPLAINED_AFTER.match(rest):
            return True
        end = _SENTENCE_END.search(rest)
        if end is not None and _EXPLAINED_NEXT.match(rest[end.end() :]):
            return True
        count = _count(formula.term)
        if end is not None and _ITEMISED_NEXT.match(rest[end.end() :]) and count:
            # The items must run to the formula's number: "五廉" is followed by 一是 … 五是; a report's own "一是"
            # after "助推“3659”发展思路落地见效。" lists its work, not the formula.
            if f"{_CHINESE_DIGITS[count]}是" in text[m.end() : m.end() + 3000]:
                return True
    return False


_CHINESE_DIGITS = " 一二三四五六七八九十"


def _count(term: str) -> int:
    """How many things a formula names (5 for 五廉, 6 for 6个项目), 0 when its numeral is no count (3659, 八坚持八防止)."""
    head = _NUMERAL_RUN.match(term)
    if head is None:
        return 0
    numeral = head.group().replace("两", "二")
    if numeral.isdigit() and 2 <= int(numeral) <= 10:
        return int(numeral)
    return _CHINESE_DIGITS.find(numeral) if len(numeral) == 1 and numeral in _CHINESE_DIGITS[2:] else 0


MISSING = {"zh": "具体内容", "en": "what it consists of"}
