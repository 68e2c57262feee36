"""English follow-ups: whether an English question swaps the topic, points back to the last one, or stands alone."""

from __future__ import annotations

import re

from assistant.text import PUNCT

# "What time is it in London?", "How far is it to …": an "it" that stands for nothing said before.
_EN_EXPLETIVE_IT = re.compile(
    r"\b(?:time|far|cold|hot|warm|late|day|date|weather(?: like)?) is it\b"
    r"|\b(?:is|will) it (?:going to |gonna )?(?:rain|snow|be (?:hot|cold|warm|sunny|windy|cloudy|rainy))\b",
    re.I,
)

# "how many did they set up?": a pronoun as the subject of its own clause points back even when the question names
# a thing ("the five-good branches") as the object.
_EN_SUBJECT_PRONOUN = re.compile(
    r"\b(?:do|does|did|have|has|had|are|were|will|would|can|could|should)\s+(?:they|he|she)\b"
    # "Which one of them…", "translate that answer", "the last one you mentioned": the list or the reply just given
    r"|\b(?:one|some|all|each|any|none|both|either|neither|which|most|many|two|three) of (?:them|these|those)\b"
    r"|\b(?:that|this|your|the last|the previous|the above) (?:answer|reply|response|list|summary)\b|\bthe above\b"
    # "Which one covers logistics?", "Tell me more about the urging step."
    r"|\bwhich ones?\b|^\W*(?:(?:can you |please )?tell me more|say more|more (?:on|about)|elaborate|go on)\b"
    r"|\b(?:sum|summari[sz]e|translate|rephrase|simplify|shorten)\s+(?:that|this|it)\b"
    # "How many members took part in it at the 市政府办公室?": an "it" after a preposition is never the empty "it"
    r"|\b(?:in|of|about|for|with|from|on|into|behind|during|after|before)\s+it\b(?!')",
    re.I,
)
# "And how many young cadres were brought in through 比选?": the same question goes on, of the same office.
_EN_AND_ASKS = re.compile(r"^\s*and\s+(?:how|what|when|where|who|whom|which|why)\b", re.I)

_EN_SWAP = re.compile(r"^\s*(?:and\s+)?(?:what|how)\s+about\s+(.*)$|^\s*and\s+(.*)$|^\s*what\s+of\s+(.*)$", re.I)

# Discourse openers: "that" in "that reminds me" or "by the way" refers to no earlier topic.
_EN_OPENER = re.compile(
    r"^\s*(?:(?:that|this|which) reminds me|by the way|btw|anyway|oh|ok(?:ay)?|well|also|one more thing)\b[\s,.:;!-]*",
    re.I,
)

# "this weekend", "that year": a demonstrative that points at a time, not at what was discussed.
_EN_TIME = r"(?:year|years|week|weekend|month|morning|afternoon|evening|time|days|summer|winter|spring|autumn)"

_EN_PRONOUN_WORD = re.compile(
    rf"\b(?:it|its|they|their|them|he|she|his|her|him)\b|\b(?:this|these|those)\b(?!\s+{_EN_TIME}\b)"
    r"|\bthe (?:former|latter|same)\b|\bthe (?:last|first|second|third|fourth|fifth|next|other) (?:one|item|point)s?\b"
    # "What was carried out there?": the place just discussed, not "is there" or "there are".
    r"|(?<!\bis )(?<!\bare )(?<!\bwas )(?<!\bwere )\bthere\b(?!\s+(?:is|are|was|were|be|been|has|have|will)\b)",
    re.I,
)

_EN_PRONOUN = re.compile(
    rf"^\s*(?:and\s+)?(it|its|it's|they|their|them|this|that|these|those)\b(?!\s+{_EN_TIME}\b)", re.I
)

_EN_OFFICE = (
    r"\b(?:offices?|departments?|agenc(?:y|ies)|committees?|governments?|branch(?:es)?|organs?|organi[sz]ations?"
    r"|alliance|bureau|ministry)\b"
)
# Who acts in an English office question: with one of these (or a Chinese or quoted name) it has a subject of its own.
_EN_ACTOR = re.compile(
    _EN_OFFICE + r"|[\u4e00-\u9fff]|[“\"'‘][^”\"'’]+[”\"'’]"
    # a name (Paris, Outlook) past the first word, or the "it" of "is it true that …", "It is …" (not "how it is
    # applied", which points back)
    r"|(?<=\s)(?-i:(?!Party\b)[A-Z][a-z])|\bis it (?:true|possible|necessary|normal|legal|ok|okay)\b|^\W*it(?:'s| is| was)\b",
    re.I,
)

# "When was that database built?", "Can you explain that in English?": "that"/"this" after a verb or a
# preposition points back (a determiner, or the object itself); after a noun it is relative ("measures that…").
_EN_POINTING = re.compile(
    r"\b(?:is|was|are|were|did|does|do|about|of|in|for|from|on|with|at|to|by|explain|describe|repeat|expand"
    r"|sum|summari[sz]e|translate|rephrase|simplify|shorten|clarify)"
    rf"\s+(?:that|this|these|those)\b(?!\s+(?:the|a|an|it|there|is|was|are|were|{_EN_TIME})\b)",
    re.I,
)


_EN_PERSONAL = re.compile(r"\b(?:he|she|his|her|hers|him)\b", re.I)
_NAME = re.compile(r"[\u4e00-\u9fff]{2,4}|\b[A-Z][a-z]+\s+[A-Z][a-z]+\b")  # 陈昊, An Wei


def _pronoun_points_back(asked: str) -> bool:
    """True for an English question whose subject pronoun, "which one" or opener points at what was discussed —
    not a "he" or "she" for a person the question names first ("Who is An Wei …, and what does he say …?")."""
    m = _EN_SUBJECT_PRONOUN.search(asked)
    if m is None:
        return False
    named_before = re.search(r"\b[A-Z][a-z]+\s+[A-Z][a-z]+\b", asked[: m.start()])
    return not (named_before and re.search(r"\b(?:he|she)\b", m.group(), re.I))


def english_followup(question: str, names_office: bool = False) -> tuple[str | None, bool]:
    """For an English question after another: the new topic of a "what about X?" follow-up (or None), and whether
    the question refers back to the last one ("Why?", "What do they do when…?", "Which one covers logistics?").
    `names_office`: the question names an office in Chinese (市政府办公室), which the English rules cannot tell."""
    new_topic: str | None = None
    refers_back = False
    asked = _EN_OPENER.sub("", question)  # "That reminds me, how long…": the opener points at nothing
    asked = _EN_EXPLETIVE_IT.sub(" ", asked)
    person = _EN_PERSONAL.search(asked)
    if person and _NAME.search(asked[: person.start()]):
        # "Who is 柳晶 and what is her job?": he, she, her after a name the question gives stand for that name.
        asked = _EN_PERSONAL.sub(" ", asked)
    m = _EN_SWAP.match(asked)
    words = re.findall(r"[A-Za-z']+", asked)
    if m and (len(words) <= 8 or not _EN_ACTOR.search(asked)):
        # "And the next item, 以行动践廉?" swaps the topic; "And what are the 'five nots' the 市政府办公室 asks of
        # its staff?" is a whole question of its own.
        new_topic = PUNCT.sub(" ", next(g for g in m.groups() if g is not None)).strip()
        if _EN_PRONOUN.match(new_topic) or not new_topic:
            refers_back, new_topic = True, None
    elif (
        _EN_PRONOUN.match(asked)
        or (len(words) <= 2 and not re.search(r"[\u4e00-\u9fff]", asked))  # "Who is 赵志权?" names its own subject
        or (len(words) <= 8 and (_EN_PRONOUN_WORD.search(asked) or _EN_POINTING.search(asked)))
        # "What do they do when one division is overloaded?": longer, but naming no actor of its own.
        or (
            len(words) <= 14
            and not _EN_ACTOR.search(asked)
            and (_EN_PRONOUN_WORD.search(asked) or _EN_POINTING.search(asked))
        )
        or _pronoun_points_back(asked)
        or (_EN_AND_ASKS.match(asked) and not names_office and not re.search(_EN_OFFICE, asked, re.I))
    ):
        refers_back = True
    return new_topic, refers_back
