"""Requests that are not questions about the documents: "帮我起草一份…", "Draft a … policy" ask for new writing."""

from __future__ import annotations

import re

# An imperative to write something new, at the start of the request (not "如何写好调研报告？", not "起草前必开审题会").
_DRAFT = re.compile(
    r"^\W*(?:请|麻烦)?你?(?:帮(?:我|忙)?|给我|替我|为我)?(?:起草|撰写|写|拟写|拟定?|编写|草拟|代写|生成)(?:一|个|份|篇|段|封)"
    r"|^\W*(?:请|麻烦)?你?(?:帮(?:我|忙)|给我|替我|为我)(?:起草|撰写|写|拟|编写|草拟|代写)"
    r"|^\W*(?:please\s+)?(?:draft|write|compose)\b"
    r"|^\W*(?:can|could|would|will) you (?:please )?(?:draft|write|compose)\b"
    r"|^\W*help me (?:draft|write|compose)\b",
    re.I,
)


def asks_to_draft(question: str) -> bool:
    """True when the question asks for a new document (a draft, minutes, a plan) rather than what the documents say.

    Every sentence of an answer here must rest on a passage, so a draft is not something it can write honestly:
    such requests are declined with a plain word, in every answer mode, instead of a pile of loosely related quotes.
    """
    return bool(_DRAFT.search(question.strip()))
