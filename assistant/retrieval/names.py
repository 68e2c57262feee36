"""English names a knowledge base may lack: words written capitalised, and Chinese words made of the knowledge base's own."""

from __future__ import annotations

import re
from collections.abc import Callable


def capitalised_words(text: str) -> frozenset[str]:
    """The words of `text` written capitalised inside a sentence, lower-cased (world, war in "When did World War II end?")."""
    return frozenset(m.group(1).lower() for m in re.finditer(r"(?<![.?!:\n]\s)(?<!^)\b([A-Z][a-z]+)\b", text))


def composed(word: str, known: Callable[[str], bool], together: Callable[[str, str], bool] | None) -> bool:
    """True when `word` is made of words of the knowledge base that share a passage there (领导批示 = 领导 +
    批示, the knowledge base's tokens for it); 世界大战 is not, though 世界 and 大战 each occur somewhere."""
    parts: dict[int, list[str]] = {0: []}  # end position -> the words that reach it
    for end in range(2, len(word) + 1):
        for start in list(parts):
            piece = word[start:end]
            if end - start >= 2 and end not in parts and known(piece):
                if together is None or not parts[start] or together(parts[start][-1], piece):
                    parts[end] = [*parts[start], piece]
    return len(parts.get(len(word), [])) >= 2
