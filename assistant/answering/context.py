"""The neighbouring sentence an answer sentence needs to be understood: what its "这段" points back to, who spoke."""

from __future__ import annotations

import re
from collections.abc import Callable

from ingest.chunking import split_sentences

# "而他口中的这段“顺口溜”，指的是…", "这些做法…", "对此，…": the sentence leans on the one before it.
_POINTS_BACK = re.compile(r"^(?:而|但|对此[，,]?|同时[，,]?|其中[，,]?)?(?:这|此|该|上述|他|她|其)")
# "“党建工作是机关工作的纲…。”" alone: a quotation whose speaker the next sentence names.
_WHOLE_QUOTE = re.compile(r"^[“\"「].*[”\"」]$", re.S)
_SPEAKER = re.compile(r"说|表示|介绍|认为|告诉|指出|谈到|坦言|感慨")
#: The longest neighbour worth adding: a longer one is a new point of its own, not context.
MAX_CONTEXT_CHARS = 160
MAX_LIST_CLAUSES = 3  # clauses after a "；" brought along; a longer list is several points, not one


def neighbours(text: str, start: int, end: int) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
    """The spans of the sentences just before and after `text[start:end]` on the same line, if any."""
    spans = split_sentences(text)
    for j, (s, e) in enumerate(spans):
        if s == start and e == end:
            before = spans[j - 1] if j > 0 and "\n" not in text[spans[j - 1][1] : s] else None
            after = spans[j + 1] if j + 1 < len(spans) and "\n" not in text[e : spans[j + 1][0]] else None
            return before, after
    return None, None


def context_spans(
    text: str, start: int, end: int, holds_answer: Callable[[str], bool] | None = None
) -> list[tuple[int, int]]:
    """The neighbours of the sentence `text[start:end]` that a reader needs with it.

    The sentence before, when this one points back to it ("而他口中的这段“顺口溜”…" names no rule
    itself); the sentence after, when this one is a bare quotation and the next says who said it;
    and, with `holds_answer`, a neighbour that holds the asked value when this sentence does not
    (the name beside "…在接受采访时说").
    """
    sentence = text[start:end].strip()
    before, after = neighbours(text, start, end)
    out: list[tuple[int, int]] = []
    if before and _POINTS_BACK.match(sentence):
        out.append(before)
        # "“…十不准…”" / "一名工作人员告诉记者。" / "而他口中的这段…": the words pointed at are the
        # quotation before the speaker's line.
        said = text[before[0] : before[1]]
        if len(said) <= 30 and _SPEAKER.search(said):
            earlier, _ = neighbours(text, *before)
            if earlier and _WHOLE_QUOTE.match(text[earlier[0] : earlier[1]].strip()):
                out.append(earlier)
    if after and _WHOLE_QUOTE.match(sentence) and _SPEAKER.search(text[after[0] : after[1]][:40]):
        out.append(after)
    # "上岗前…；在岗时…；离岗时…。" is one sentence listing steps, cut at "；": a clause of it brings
    # the rest of the list, up to the full stop (a few clauses at most).
    clause, following = sentence, after
    for _ in range(MAX_LIST_CLAUSES):
        if not following or not clause.endswith(("；", ";")):
            break
        if following not in out:
            out.append(following)
        clause = text[following[0] : following[1]].strip()
        _, following = neighbours(text, *following)
    if holds_answer is not None and not holds_answer(sentence):
        for span in (before, after):
            if span and span not in out and holds_answer(text[span[0] : span[1]]):
                out.append(span)
                break
    return [(s, e) for s, e in out if e - s <= MAX_CONTEXT_CHARS]
