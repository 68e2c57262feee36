"""Understanding a question: its language, keyword tokens (with translations) and the concepts to cover."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.errors import QuestionError
from assistant.kb.bm25 import BM25Index
from assistant.kb.keyword import Tokenizer
from assistant.retrieval.crosslingual import Dictionary, expansion_tokens
from assistant.text import CJK, LATIN_LETTER, cjk_share, question_language

TRANSLATION_WEIGHT = 0.5
#: Keyword search's share in the fusion for a question in English. The embedding model matches English
#: to Chinese text weakly (dense alone finds 5 of 13 English development questions' passages in its top
#: five), while the translated keywords find 11; 0.6 was chosen on bench/english_calib.jsonl
#: (0.4–0.7 tried) and confirmed on bench/english_heldout.jsonl.
ENGLISH_KEYWORD_WEIGHT = 0.6
#: A word in capitals in a Chinese sentence ("SQL里LEFT JOIN和INNER JOIN有什么区别？", "OKR绩效") is a code, a keyword
#: or an acronym, not English to translate: LEFT JOIN read as 左右 + 联合 made a database question match a Party
#: branch's "联合共建" (answerability_fresh14, far-off, answered).
_CAPITALS = re.compile(r"(?<![A-Za-z0-9])[A-Z][A-Z0-9]+(?![A-Za-z0-9])")  # no \b: 里 in "SQL里" is a word character


@dataclass(frozen=True)
class Concept:
    """Something the question asks about, and the Chinese words any of which would show it in a passage."""

    label: str
    alternatives: tuple[str, ...]
    weight: float  # its idf: rare words say more about whether a passage is on the question


@dataclass(frozen=True)
class Query:
    text: str
    language: str
    tokens: list[str]  # keyword-search tokens: the question's own plus Chinese translations of its English words
    concepts: list[Concept]
    weights: dict[str, float] = field(default_factory=dict)  # keyword weight of a token when not 1
    keyword_weight: float | None = None  # keyword search's share in the fusion; None: the setting's

    @property
    def cjk_share(self) -> float:
        """Share of Chinese characters among the question's letters (0 = all English)."""
        return cjk_share(self.text)


class Cooccurrence:
    """Which Chinese words share a chunk of the knowledge base (from the keyword index's postings)."""

    def __init__(self, bm25: BM25Index):
        self.bm25 = bm25
        self.rows: dict[str, frozenset[int]] = {}

    def chunks(self, word: str) -> frozenset[int]:
        if word not in self.rows:
            self.rows[word] = frozenset(int(r) for r in self.bm25.rows_with(word))
        return self.rows[word]

    def share(self, word: str) -> float:
        """The share of chunks that hold the word."""
        return len(self.chunks(word)) / max(1, len(self.bm25))

    def together(self, a: str, b: str) -> bool:
        return not self.chunks(a).isdisjoint(self.chunks(b))


def analyse(question: str, tokenizer: Tokenizer, bm25: BM25Index, dictionary: Dictionary | None) -> Query:
    """Tokenise a question and, when it has English words, translate them with the dictionary."""
    tokens = tokenizer.tokenize(question)
    weights: dict[str, float] = {}
    concepts = [Concept(t, (t,), bm25.term_idf(t)) for t in dict.fromkeys(tokens) if CJK.search(t)]
    unseen = bm25.term_idf("\uffff")  # the idf of a word found nowhere in the knowledge base
    language = question_language(question)
    codes = _CAPITALS.findall(question) if language == "zh" else []
    # Kept as typed: found nowhere in Chinese documents, each says the question is off their topic.
    concepts += [Concept(code, (), bm25.term_idf(code.lower())) for code in dict.fromkeys(codes)]
    to_translate = _CAPITALS.sub(" ", question) if codes else question
    if dictionary is not None and LATIN_LETTER.search(to_translate):
        own = [t for t in tokens if CJK.search(t)]
        corpus = Cooccurrence(bm25)
        english = dictionary.concepts(
            to_translate,
            known=bm25.knows,
            frequency=corpus.share,
            usable=lambda zh: bool(tokenizer.tokenize(zh)),
            together=corpus.together,
            context=own,
            compounds=dictionary.compounds(bm25.signature, bm25.terms()),
        )
        for c in english:
            if c.translations:
                weight = min(bm25.term_idf(zh) for zh in c.translations)
            else:
                # Known to the dictionary but absent from the documents: strong sign of an off-topic
                # question. Unknown to the dictionary: maybe only a gap in it, so it counts for less.
                weight = unseen if c.in_dictionary else unseen / 2
            concepts.append(Concept(c.word, c.translations, weight))
        english_tokens = [t for t in tokens if not CJK.search(t)]
        tokens = own + expansion_tokens(english) + english_tokens
        # A translation is a guess: all the guesses for one English word together weigh half
        # as much as one word the user typed in Chinese (such as 双报到 in a mixed question).
        # Chinese terms the user typed (双报到 in a mixed question) name the topic surely; the guesses
        # for the English words around them weigh half again, so filler cannot outvote them.
        share = TRANSLATION_WEIGHT * (0.5 if own else 1.0)
        for c in english:
            for zh in c.translations:
                if zh not in own:
                    weights[zh] = max(weights.get(zh, 0.0), share / len(c.translations))
    keyword_weight = ENGLISH_KEYWORD_WEIGHT if language == "en" else None
    return Query(question, language, tokens, concepts, weights, keyword_weight)


def checked_question(question: str, max_chars: int) -> str:
    """The question stripped, or a QuestionError that says what to type instead (empty, too long, not text)."""
    if not isinstance(question, str):
        raise QuestionError("the question must be text")
    question = question.strip()
    try:
        question.encode("utf-8")
    except UnicodeEncodeError:
        raise QuestionError(
            "the question contains characters that are not valid text (broken Unicode); type it again"
        ) from None
    if not question:
        raise QuestionError("the question is empty: type a question, e.g. 机关是怎样落实在职党员“双报到”制度的？")
    if len(question) > max_chars:
        raise QuestionError(
            f"the question is {len(question)} characters long; the limit is {max_chars}. "
            "Ask a shorter question (or raise ASSISTANT_MAX_QUESTION_CHARS)."
        )
    return question
