"""Small text rules shared across the package: Chinese characters, the language of a question, file hashes."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

# CJK Unified Ideographs, Extension A and the compatibility block: what "a Chinese character" means here.
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
LATIN_LETTER = re.compile(r"[A-Za-z]")
LATIN_WORD = re.compile(r"[A-Za-z]+")
# Spaces and punctuation, Chinese and Western: what separates a question's words.
PUNCT = re.compile(r"[\s，。！？；：、,.!?;:()（）《》<>\[\]【】“”\"'‘’…—-]+")


def question_language(question: str) -> str:
    """'zh' or 'en': the language the answer's framing text (and the UI's labels) should use.

    English words are weighed against Chinese characters (not letters against characters), so a
    Chinese question with a pasted tag or term in it ("机关如何使用PowerPoint汇报？") stays Chinese.
    """
    return "en" if len(LATIN_WORD.findall(question)) > len(CJK.findall(question)) else "zh"


def is_english(question: str) -> bool:
    """True when the question is asked in English (see `question_language`)."""
    return question_language(question) == "en"


def cjk_share(text: str) -> float:
    """Share of Chinese characters among the text's letters (0 = all English; 1 when it has no letters)."""
    cjk, latin = len(CJK.findall(text)), len(LATIN_LETTER.findall(text))
    return cjk / (cjk + latin) if cjk + latin else 1.0


def sha256_file(path: Path) -> str:
    """Content hash of a file, read in blocks so a large file never sits in memory whole."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def runs_within(texts: list[str], budget: int) -> list[tuple[int, int]]:
    """[start, end) ranges of `texts` in order, each up to `budget` characters (a longer text alone)."""
    ranges: list[tuple[int, int]] = []
    start = size = 0
    for i, text in enumerate(texts):
        if i > start and size + len(text) > budget:
            ranges.append((start, i))
            start, size = i, 0
        size += len(text)
    if start < len(texts):
        ranges.append((start, len(texts)))
    return ranges
