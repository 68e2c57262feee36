"""Questions that ask what something is called ("叫什么名字", "题目是什么"), and whether a text names something."""

from __future__ import annotations

import re

from assistant.retrieval.query import Concept

MISSING = {"zh": "具体名称", "en": "the name"}  # what a partial answer says the documents do not state

# "市直党性教育基地叫什么名字？", "专题党课的题目是什么？", "what is it called": a name or a title answers it.
_ASKS_NAME = re.compile(
    r"叫什么(?:名字|名称)?|(?:名字|名称|题目|标题|全称|主题)(?:是|叫)什么|什么(?:名字|名称|题目|标题)"
    r"|\bwhat(?:'s| is| was) (?:it|the \w+(?: \w+)?) called\b|\bwhat(?:'s| is| was) the (?:name|title)\b|\b(?:name|title) of\b",
    re.I,
)
# A name as documents write one: quoted (“清廉大同”), a title (《…》), or a place or body with its proper name
# (集宁战役纪念馆, 南河道社区).
_NAME = re.compile(
    # (a title the documents mask, 《**》, names nothing)
    r"“(?![*xX×]+”)[^”]{2,30}”|《(?![*xX×]+》)[^》]{2,40}》|\"[^\"]{2,30}\""
    # (not "帮助两村": a count of villages names none)
    r"|[\u4e00-\u9fff]{2,8}(?<![一二两三四五六七八九十几各全每该本])"
    r"(?:纪念馆|博物馆|展览馆|基地|中心|社区|村|街道|学院|党校|公园|广场|大厦|宾馆|酒店)"
)


def asks_name(question: str) -> bool:
    """True when the question asks what something is called ("叫什么名字", "题目是什么", "what is it called")."""
    return bool(_ASKS_NAME.search(question))


def names_something(text: str) -> bool:
    """True when `text` holds a name or a title (see _NAME); pass it with the question's own words masked."""
    return bool(_NAME.search(text))


# Characters either side of the named thing where its name must stand ("“忠诚铸魂·匠心服务”党建品牌"); a quote or a title
# the window cuts into is taken whole.
NAME_WINDOW = 12
QUOTE_GAP = 4  # at most this many characters from a quote's end to the thing it names ("”党建品牌": 3)


def named_thing(question: str, concepts: list[Concept]) -> Concept | None:
    """The thing whose name is asked: the concept standing nearest before "叫什么名字" (党建品牌 in "…党建品牌叫什么名字")."""
    m = _ASKS_NAME.search(question)
    if m is None:
        return None
    lowered = question.lower()
    # (a word that runs into the question word, 名叫 of "片名叫什么", is not the thing named)
    before = [
        (m.start() - end, c)
        for c in concepts
        if 0 <= (at := lowered.find(c.label.lower())) and (end := at + len(c.label)) <= m.start()
    ]
    return min(before, key=lambda pair: pair[0])[1] if before else None


def around_thing(text: str, thing: Concept | None) -> list[str]:
    """The stretches of `text` within NAME_WINDOW characters of the thing named (none when it is not there: a sentence
    that does not mention the 警示教育片 does not name it); all of `text` when the question names no thing."""
    if thing is None:
        return [text]
    return [
        text[_whole_quote(text, max(0, m.start() - NAME_WINDOW), m.start()) : m.end() + NAME_WINDOW]
        for a in thing.alternatives
        for m in re.finditer(re.escape(a), text)
    ]


def _whole_quote(text: str, start: int, thing: int) -> int:
    """`start` moved back to the opening of a quote or title that the window cuts into and that closes right before the
    thing (“忠诚铸魂·匠心服务”党建品牌); a quote further off (“政治体检”，组织…参观市直党性教育基地) names something else."""
    for opening, closing in (("“", "”"), ("《", "》")):
        before = text.rfind(opening, 0, start)
        end = text.find(closing, start, thing)
        if before >= 0 and text.rfind(closing, before, start) < 0 and end >= 0 and thing - end <= QUOTE_GAP:
            start = min(start, before)
    return start
