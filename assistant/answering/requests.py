"""Requests that are not questions about the documents: "帮我起草一份…", "Draft a … policy", "Translate “…”" ask for new writing."""

from __future__ import annotations

import re

# An imperative to write something new, at the start of the request (not "如何写好调研报告？", not "起草前必开审题会").
_DRAFT = re.compile(
    r"^\W*(?:请|麻烦)?你?(?:帮(?:我|忙)?|给我|替我|为我)?(?:起草|撰写|写|拟写|拟定?|编写|草拟|代写|生成)(?:一|个|份|篇|段|封)"
    r"|^\W*(?:请|麻烦)?你?(?:帮(?:我|忙)|给我|替我|为我)(?:起草|撰写|写|拟|编写|草拟|代写)"
    r"|^\W*(?:please\s+)?(?:draft|write|compose)\b"
    r"|^\W*(?:can|could|would|will) you (?:please )?(?:draft|write|compose)\b"
    r"|^\W*help me (?:draft|write|compose)\b"
    # a translation of the user's own text ("Translate “…” into Chinese", "把“…”翻译成英文"), not of the last answer
    r"|^\W*(?:please\s+)?translate\s*[\"“'‘「]|^\W*(?:请|帮我)?把\s*[\"“'‘「].{2,}[\"”'’」]\s*翻译",
    re.I,
)


def asks_to_draft(question: str) -> bool:
    """True when the question asks for a new document (a draft, minutes, a plan) rather than what the documents say.

    Every sentence of an answer here must rest on a passage, so a draft is not something it can write honestly:
    such requests are declined with a plain word, in every answer mode, instead of a pile of loosely related quotes.
    """
    return bool(_DRAFT.search(question.strip()))


# Ways of asking that put the user in the sentence without being about the user: "我想了解…", "tell me…", "I remember…".
_ASKING_FRAME = re.compile(
    r"我(?:想|要|希望)(?:了解|知道|问|请教|查|看)|(?:告诉|帮|给|替|为|请教|问)我|我(?:记得|听说|看到|看过|读到|注意到)"
    r"|自我|我[国省市区县党]|有我"
    r"|\b(?:tell|show|give|remind|help) me\b|\bI(?:'d| would)? (?:like|want) to (?:know|learn|ask|understand)\b"
    r"|\bI (?:remember|recall|heard|read|saw|think|believe|wonder)\b|\b(?:can|may) I ask\b|\bfor me\b"
    r"|\b(?:should|do|can|could|would) I (?:know|find|read|look up|learn)\b|\bI(?:'m| am) (?:looking for|asking about)\b"
    # "我们机关怎么落实双报到？": the user's office asks what the documents say, as any office would
    r"|我们|咱们",
    re.I,
)
_FIRST_PERSON = re.compile(r"我|\b(?:I|I'm|I've|I'd|my|me|mine|myself)\b", re.I)


def asks_about_self(question: str) -> bool:
    """True when the question is about the user's own life or work ("我该怎么跟领导请假？", "What's a good structure
    for a weekly report to my section chief?"), which the documents cannot know.

    On the 1,091 calibration questions of bench/answerability, 67 far-off questions, one answerable and one
    near-domain one use the first person; this is true of 54 far-off ones and of neither other ("I remember a short
    slogan…", "创城有我" are set aside by _ASKING_FRAME).
    """
    return bool(_FIRST_PERSON.search(_ASKING_FRAME.sub(" ", question)))
