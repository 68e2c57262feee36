"""Courtesy turns ("谢谢", "OK, got it. Bye!") and the courtesy or filler words before a question ("好的，那…")."""

from __future__ import annotations

import re

# "Thanks!", "好的": courtesy, not a question about anything said before (nor about anything at all).
_PHRASE = (
    r"(?:thanks?(?: you)?(?: (?:so|very) much)?(?: for (?:that|this|the help|your help))?|thx|cheers|ok(?:ay)?|great|got it"
    r"|cool|perfect|nice|good|bye|goodbye|see you|hi|hello|that'?s (?:(?:very |really )?helpful|all|great|clear|it)"
    r"|that helps|(?:much )?appreciated|appreciate it|i see|understood|noted"
    r"|谢谢(?:你|您|了)?|多谢|感谢|辛苦(?:了|你了|您了)?|好的?|好吧|行|明白了?|了解了?|知道了|收到|没问题|嗯+|再见|拜拜|你好|您好"
    r"|先这样(?:吧)?|就这样(?:吧)?|没事了|没有了|暂时没有了?)"
)
# One courtesy phrase or several ("OK, got it. Bye!", "辛苦了，先这样。"), and nothing else.
_COURTESY = re.compile(rf"^\W*{_PHRASE}(?:\W+{_PHRASE})*\W*$", re.I)
# "好的，那…", "Thanks. And …", "那个，…": courtesy or filler before the question, not part of it.
_LEAD_FILLER = re.compile(
    r"^\W*(?:好的?|好吧|谢谢(?:你|您)?|多谢|明白了?|知道了|嗯+|哦+|那个|ok(?:ay)?|thanks?(?: you)?|great|got it|i see)"
    r"\s*[，,。.!！、;；]\s*",
    re.I,
)


def is_courtesy(question: str) -> bool:
    """True for a turn of courtesy only ("谢谢", "Thanks!", "好的"): it asks nothing and continues no topic."""
    return bool(_COURTESY.match(question.strip()))


def without_lead_filler(question: str) -> str:
    """The question without courtesy or filler before it: "好的，那年轻干部呢？" asks "那年轻干部呢？"."""
    return _LEAD_FILLER.sub("", question) or question
