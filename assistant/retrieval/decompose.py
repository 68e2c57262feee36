"""Questions about two or more subjects ("A和B分别怎样…"): one search per subject, so each gets its passages."""

from __future__ import annotations

import re

from assistant.results import Passage

# An organisation the documents speak for or about: "市委办公厅", "市政府办公室党总支", "秘书八处".
_ORG = (
    r"[\u4e00-\u9fff*xX]{1,10}?(?:办公厅|办公室|党总支部?|党支部|机关党委|委员会|人民政府|政府|局|处|科|厅|室|部|委|办)"
)
_JOINER = r"(?:和|与|及|以及|、|同)"
# "市委办公厅和市政府办公室党总支分别…", "A、B和C各自…": the subjects, then a word that asks about each.
_SUBJECTS = re.compile(rf"(?P<list>{_ORG}(?:{_JOINER}{_ORG})+)(?P<each>分别|各自|各)")
_EN_COMPARE = re.compile(
    r"^\s*compare\s+(?P<a>.+?)\s+(?:and|with)\s+(?P<b>.+?)\s+(?:on|in)\s+(?P<rest>.+?)[?.]?\s*$", re.I
)


_ARTICLE = re.compile(r"^(?:the|a|an)\s+", re.I)
# "请问市委办公厅和…": the words before the first name are the user's, not part of the name.
_LEAD_IN = re.compile(r"^(?:请问|请你|请|问一下|我想知道|我想了解|想知道|想了解|了解一下|关于|对于|那么|那|在)+")


def subjects(question: str) -> list[str]:
    """The subjects a question asks about each of ("A和B分别…" gives [A, B]; "compare A and B on …" too), else []."""
    m = _SUBJECTS.search(question)
    if m:
        names = [s for s in re.split(_JOINER, m.group("list")) if s]
        names[0] = _LEAD_IN.sub("", names[0]) or names[0]
        return names if len(names) >= 2 else []
    m = _EN_COMPARE.match(question)
    return [_ARTICLE.sub("", m.group(name)) for name in ("a", "b")] if m else []


def subquestions(question: str) -> list[str]:
    """The question once per subject when it asks about each of several, else [] (one search does).

    "市委办公厅和市政府办公室党总支分别怎样落实“双报到”？" gives "市委办公厅怎样落实“双报到”？" and
    "市政府办公室党总支怎样落实“双报到”？": searched together, the better-covered subject would take
    every place in the ranking.
    """
    m = _SUBJECTS.search(question)
    if m and len(names := subjects(question)) >= 2:
        before, after = question[: m.start()], question[m.end() :]
        return [f"{before}{name}{after}" for name in names]
    m = _EN_COMPARE.match(question)
    if m:
        return [f"{m.group('rest')} of {name}?" for name in subjects(question)]
    return []


def interleave(rankings: list[list[Passage]], k: int) -> list[Passage]:
    """The rankings' passages taken in turn (first of each, then second of each, …), each once, k at most."""
    out: list[Passage] = []
    seen: set[str] = set()
    for depth in range(max((len(r) for r in rankings), default=0)):
        for ranking in rankings:
            if depth < len(ranking) and ranking[depth].chunk_id not in seen:
                seen.add(ranking[depth].chunk_id)
                out.append(ranking[depth])
    return out[:k]
