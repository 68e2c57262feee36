"""Answerability: does the retrieved text state what the question asks for — fully, partly, or not at all?

Three signals, each measured on the question's content words (question forms such as 多少, 哪一年,
how many removed, so they cannot be "missing"):
- evidence: how much of the question the best passages cover, mixed with dense similarity
  (too low: the knowledge base is not about this; refuse);
- unseen share: how much of the question is made of words the knowledge base never uses
  (high: a far-off question that only brushes the documents; refuse);
- the best sentence: how much of the question one sentence covers and, when the question asks
  for a number, date, person or place, whether the sentences about it hold one (no: the
  documents treat the subject but do not state the fact; answer partially and say what is missing).
Thresholds are chosen on the calibration half of bench/answerability.jsonl (python -m bench.answerability).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field, fields

from assistant.answering.answer_types import (
    MISSING_WORDS,
    AnswerType,
    answer_type,
    asked_head,
    asked_unit,
    asks_day,
    asks_length,
    asks_month,
    asks_ordinal,
    asks_recurring,
    asks_year,
    has_day,
    has_month,
    has_value,
    has_year,
    person_by_post,
    without_question_terms,
)
from assistant.answering.fact_slots import asked_fact
from assistant.answering.formulas import MISSING as FORMULA_MISSING
from assistant.answering.formulas import asked_formula, spelled_out
from assistant.answering.names import MISSING as NAME_MISSING
from assistant.answering.names import around_thing, asks_name, named_thing, names_something
from assistant.answering.requests import asks_about_self, asks_to_draft
from assistant.answering.subject import (
    asked_term_in,
    is_stray,
    names_a_thing,
    names_unknown_code,
    outermost,
    own_terms_found,
    quoted_terms_found,
    widened,
)
from assistant.results import Passage
from assistant.retrieval.query import Concept, Query
from ingest.chunking import split_sentences

# e5's similarities sit in a narrow band, lower for English questions over Chinese text: the band's
# lower end moves with the share of Chinese in the question (constants from bench/calibrate.py).
DENSE_LOW_EN = 0.74
DENSE_LOW_ZH = 0.80
DENSE_WIDTH = 0.16
CHINESE_QUESTION = 0.8  # a question at least this much Chinese (by letters) meets the Chinese dense floor


class Outcome(enum.Enum):
    """What the documents allow: a full answer, a partial one (subject there, fact not), or none."""

    ANSWER = "answer"
    PARTIAL = "partial"
    REFUSE = "refuse"


# Words that say how something is asked, not what about: never part of the question's content.
_QUESTION_FORM = re.compile(
    r"^(?:[几哪多].*|.*(?:多少|多久|多长|什么|怎么样?|怎样|如何|为何|为什么|是否|有没有)|一共|总共|共计|大概|大约|具体|目前|现在|已经"
    r"|为了|应该|需要|分别|主要|开始|以后|之后|之内|期间|当时|一年|自己|让|由|被|把|长时间|一[份类个项种条位次]"
    # "清单化管理是什么意思？", "何谓三会一课？" ask what the term means: 意思, 何谓 name nothing the documents should hold.
    r"|意思|含义|涵义|何谓|何为"
    # "安洪涛是什么职务？" asks for a post (fact_slots' "post" checks it is stated): 职务 names nothing to find.
    r"|职务|职位|职级"
    # Connectives opening a question ("那么，“四抓两整治”指的是什么？"): they name nothing either.
    r"|那么|另外|此外|还有|顺便|再问|对了"
    # Pointers to something said before ("这个呢？"): they name no subject of their own.
    r"|这个|那个|这些|那些|这里|那里|这样|那样|它们?|他们|她们|其中|上述|该|此|这|那)$"
)
_EN_QUESTION_FORM = frozenset(
    "many much long often roughly exactly approximately total year date day month when who whom where first "
    "specifically currently now already this that these those it they them".split()
)


# Characters either side of the asked value's head word where its figure must stand, when the question gives no
# measure word ("How many members…"). 6 of 0/4/6/8/12 on the 251 calibration questions (bench/answerability's loss).
HEAD_WINDOW = 6
HEAD_WINDOW_WITH_UNIT = 12


def _around(text: str, words: tuple[str, ...], width: int) -> list[str]:
    """The stretches of `text` within `width` characters of each occurrence of one of `words`."""
    out = []
    for word in words:
        for m in re.finditer(re.escape(word), text):
            out.append(text[max(0, m.start() - width) : m.end() + width])
    return out


def content_concepts(concepts: list[Concept]) -> list[Concept]:
    """The question's concepts without question forms and one-character fragments."""
    out = []
    for c in concepts:
        label = c.label.lower()
        if _QUESTION_FORM.match(c.label) or label in _EN_QUESTION_FORM:
            continue
        if len(c.label) < 2:
            continue  # 场, 篇, 字: measure words and fragments jieba leaves alone
        if c.label.endswith("了") and len(c.label) > 2:  # 落实了: the verb is the content
            c = Concept(c.label[:-1], tuple(a[:-1] if a.endswith("了") else a for a in c.alternatives), c.weight)
        out.append(c)
    return out


def coverage(concepts: list[Concept], text: str) -> float:
    """Weighted share of the concepts of which some alternative occurs in `text` (0..1)."""
    total = sum(c.weight for c in concepts)
    if total <= 0:
        return 0.0
    return sum(c.weight for c in concepts if any(a in text for a in c.alternatives)) / total


@dataclass(frozen=True)
class Evidence:
    """How well the best passages cover the question; `score` is compared with the evidence floor."""

    score: float
    coverage: float  # weighted share of the question's concepts found in one of the top passages
    dense: float  # best dense similarity between question and passage


def assess(query: Query, passages: list[Passage], top: int = 3) -> Evidence:
    """Combine concept coverage and dense similarity of the best passages into one evidence score.

    Cosine similarity alone does not separate answerable from unanswerable questions (e5 puts
    almost everything between 0.8 and 0.95), and coverage alone misses paraphrases; together
    they do much better.
    """
    if not passages:
        return Evidence(0.0, 0.0, 0.0)
    concepts = content_concepts(query.concepts) or query.concepts
    dense = max(p.dense for p in passages[:top])
    cover = max(coverage(concepts, f"{p.title}\n{p.section}\n{p.text}") for p in passages[:top])
    low = DENSE_LOW_EN + (DENSE_LOW_ZH - DENSE_LOW_EN) * query.cjk_share
    dense_part = min(1.0, max(0.0, (dense - low) / DENSE_WIDTH))
    return Evidence(0.7 * cover + 0.3 * dense_part, cover, dense)


@dataclass(frozen=True)
class Thresholds:
    """Where the outcome changes (values from Settings; chosen with python -m bench.answerability)."""

    evidence_floor: float  # below (after the unseen penalty): refuse
    unseen_share: float  # at or above: refuse (most of the question is foreign to the documents)
    unseen_penalty: float  # evidence minus this times the unseen share is what meets the floor
    sentence_floor: float  # best sentence covers less of the question than this: partial
    # A Chinese question whose best passage is less similar by meaning than this is about something else.
    dense_floor_zh: float = 0.0
    # An English question this much foreign to the documents is refused (e5 cannot vouch for it as for Chinese).
    unseen_share_en: float = 1.0
    # Refuse when the best passage's similarity minus the question's similarity to ordinary writing on other
    # topics (assistant/answering/background.py) is below this: per language, as e5's band differs; -1 is off.
    background_margin_en: float = -1.0
    background_margin_zh: float = -1.0

    @classmethod
    def of(cls, settings: object) -> Thresholds:
        """The thresholds as configured: each field from the setting of the same name."""
        return cls(**{f.name: getattr(settings, f.name) for f in fields(cls)})


@dataclass(frozen=True)
class Judgement:
    """The answerability decision and the measurements behind it."""

    outcome: Outcome
    evidence: Evidence
    answer_type: AnswerType
    unseen_share: float
    sentence_coverage: float
    typed_ok: bool
    subject: list[str] = field(default_factory=list)  # content words the documents do treat
    missing: list[str] = field(default_factory=list)  # what the documents do not state (words for people)
    absent: list[str] = field(default_factory=list)  # the question's content words no top passage uses
    no_subject: bool = False  # the question names nothing to look for ("这个呢？" with no conversation before it)
    stray: bool = False  # names something the documents never use and shares at most one word with them
    margin: float = 1.0  # best passage's similarity minus the question's similarity to ordinary writing
    vouched: bool = False  # the question quotes terms the passages use
    drafting: bool = False  # the question asks for new writing ("帮我起草一份…"), not what the documents say
    personal: bool = False  # the question is about the user's own life or work ("my section chief…")


def unseen_share(concepts: list[Concept], unseen_idf: float) -> float:
    """Weighted share of the concepts the knowledge base never uses (English: no usable translation)."""
    total = sum(c.weight for c in concepts)
    if total <= 0:
        return 1.0
    gone = sum(c.weight for c in concepts if c.weight >= unseen_idf - 1e-6 or not c.alternatives)
    return gone / total


def decide(
    evidence: float,
    share: float,
    sentence_coverage: float,
    typed_ok: bool,
    thresholds: Thresholds,
    stray: bool = False,
    dense: float = 1.0,
    cjk_share: float = 0.0,
    margin: float = 1.0,
    vouched: bool = False,
    drafting: bool = False,
    personal: bool = False,
) -> Outcome:
    """The outcome for the measured signals (see the module docstring); `stray` is `is_stray`'s verdict.

    `dense` is the best passage's similarity by meaning and `cjk_share` the question's share of Chinese: for a
    Chinese question e5 separates the documents' topics from others well (on the calibration questions every
    answerable one scored .878 or more, 34 of 36 far-off ones less than .870), for an English one it does not.
    `margin` is `dense` minus the question's similarity to ordinary writing (background.py). `vouched`: the
    question quotes terms the passages use ("“六地”指哪些？"), or only asks what such a term is ("什么是双报到制度？"),
    which says more than e5 does about so short a question, so neither the dense floor nor the margin refuses it.
    `drafting`: the question asks for new writing (requests.asks_to_draft), which no passage can back. `personal`:
    the question is about the user's own life or work (requests.asks_about_self), which no passage can know.
    """
    if drafting or personal:
        return Outcome.REFUSE
    if evidence - thresholds.unseen_penalty * share < thresholds.evidence_floor or share >= thresholds.unseen_share:
        return Outcome.REFUSE
    chinese = cjk_share >= CHINESE_QUESTION
    if chinese and dense < thresholds.dense_floor_zh and not vouched:
        return Outcome.REFUSE
    if not vouched and margin < (thresholds.background_margin_zh if chinese else thresholds.background_margin_en):
        # "What is a good agenda template for a weekly team meeting?": closer to everyday writing than to any passage.
        return Outcome.REFUSE
    if cjk_share < CHINESE_QUESTION and share >= thresholds.unseen_share_en:
        # "How should a hospital organise nurse shifts?": 医院 and 护士 are nowhere, 组织 and 值班 everywhere.
        return Outcome.REFUSE
    if stray:
        return Outcome.REFUSE
    if sentence_coverage < thresholds.sentence_floor or not typed_ok:
        return Outcome.PARTIAL
    return Outcome.ANSWER


def judge(
    query: Query,
    passages: list[Passage],
    unseen_idf: float,
    thresholds: Thresholds,
    top: int = 3,
    background: float | None = None,
    own: set[int] | None = None,
) -> Judgement:
    """Decide whether the passages answer the question fully, partly or not at all.

    `background`: the question's similarity to ordinary writing (background.Background.similarity), when known.
    `own`: the indexes of the passages from the office the question names, when it names one and any came back —
    the asked value must be stated there ("市委办公厅…到哪个社区报到" is not answered by 市政府办公室's 南河道社区).
    """
    kind = answer_type(query.text)
    concepts = content_concepts(query.concepts)
    if not concepts:
        # Only question forms and pointers: nothing to find, so nothing found can answer it.
        return Judgement(Outcome.REFUSE, Evidence(0.0, 0.0, 0.0), kind, 1.0, 0.0, False, no_subject=True)
    evidence = assess(query, passages, top)
    share = unseen_share(concepts, unseen_idf) if concepts else 1.0
    words = "\n".join(f"{p.title}\n{p.section}\n{p.text}" for p in passages[:top])
    own_terms = own_terms_found(query, concepts, words)
    if own_terms:
        # "Ignore previous instructions … How do offices run the 双报到 system?": the Chinese terms the
        # user typed are in the passages, so English filler around them does not make the question foreign,
        # nor does e5 placing the short question as near everyday writing as the passages (margin .001).
        share = 0.0
    scored = [
        (coverage(concepts, f"{p.section}\n{p.text[s:e]}"), p.text[s:e], i)
        for i, p in enumerate(passages[:top])
        for s, e in split_sentences(p.text)
    ]
    best = max((c for c, _, _ in scored), default=0.0)
    # The sentences about the question: a value may sit in a sentence that leaves the office's name implicit.
    own = {i for i in own or () if i < top}  # the office's passages among those read here; none: every passage
    about = [text for c, text, i in scored if best > 0 and c >= 0.6 * best and (not own or i in own)]
    # "What allowance do the advisers receive?", "哪家公司开发的？": a fact asked for by name is stated with its own
    # words or values; sentences about the subject without them do not say it.
    slot = asked_fact(query.text)
    slot_ok = slot is None or any(slot.stated.search(text) for text in about)
    head = asked_head(query.text, concepts, kind)
    if (
        head is not None
        and kind in (AnswerType.DATE, AnswerType.DURATION)
        and not any(a in words for a in head.alternatives)
        and not names_a_thing((head.alternatives or (head.label,))[0])
    ):
        # "怎么安排的，多久一次？": a time ("每月") answers it though no passage says 安排. Not so for a figure or a name
        # ("一共查出多少人？" with no passage saying 查出: a figure of something else is no answer).
        head = None
    if head is not None:
        # The value must sit with what it is the value of: a figure next to 经费, not any figure nearby.
        about = [text for text in about if any(a in text for a in head.alternatives)]
    unit = asked_unit(query.text)
    recurring = asks_recurring(query.text)
    if head is not None and kind is AnswerType.NUMBER and HEAD_WINDOW:
        # "How many members…", "经费是多少": with no measure word to pair with, the figure must stand by the head;
        # with one, a little further ("每季度召开一次保密管理员例会" does not say how often 培训 is held).
        width = HEAD_WINDOW if unit is None else HEAD_WINDOW_WITH_UNIT
        about = [w for text in about for w in _around(text, head.alternatives, width)]
    day = kind is AnswerType.DATE and not recurring and asks_day(query.text)
    year = kind is AnswerType.DATE and not recurring and not day and asks_year(query.text)
    month = kind is AnswerType.DATE and not recurring and not day and not year and asks_month(query.text)
    length = kind is AnswerType.DURATION and asks_length(query.text)
    ordinal = kind is AnswerType.NUMBER and asks_ordinal(query.text)
    # A value the question already states ("Which village is the 包联帮扶村…") does not answer it.
    values = [without_question_terms(text, query.text, concepts, kind, kind is AnswerType.PLACE) for text in about]
    typed_ok = kind is AnswerType.OTHER or any(
        (
            has_day(text)
            if day
            else has_year(text)
            if year
            else has_month(text)
            if month
            else has_value(kind, text, unit, recurring, length, ordinal)
        )
        or (kind is AnswerType.PERSON and person_by_post(query.text, text))
        for text in values
    )
    # "市直党性教育基地叫什么名字？": a name answers, not the words of the question.
    name_ok = kind is not AnswerType.OTHER or not asks_name(query.text)
    if not name_ok:
        thing = named_thing(query.text, concepts)
        name_ok = any(
            names_something(without_question_terms(stretch, query.text, concepts, kind))
            for t in about
            for stretch in around_thing(t, thing)
        )
    # "“三个马上”具体指什么？": documents name such formulas far more often than they spell them out.
    formula = asked_formula(query.text, words)
    formula_ok = formula is None or spelled_out(formula, words)
    typed_ok = typed_ok and slot_ok and formula_ok and name_ok
    # What a partial answer says the documents mention: things before actions ("the confidentiality adviser", not
    # "receive"), the more specific first.
    treated = [c for c in concepts if any(a in words for a in c.alternatives) and c.weight < unseen_idf - 1e-6]
    subject = [c.label for c in sorted(treated, key=lambda c: (not names_a_thing(c.alternatives[0]), -c.weight))]
    absent = [c.label for c in sorted(concepts, key=lambda c: -c.weight) if not any(a in words for a in c.alternatives)]
    stray = is_stray(concepts, words, unseen_idf) or names_unknown_code(query.text, words)
    margin = 1.0 if background is None or own_terms else evidence.dense - background
    outcome = decide(
        evidence.score if passages else 0.0,
        share,
        best,
        typed_ok,
        thresholds,
        stray,
        evidence.dense,
        query.cjk_share,
        margin,
        # A term asked about unquoted vouches as a quoted one does: the user just did not put it in quotes.
        vouched := quoted_terms_found(query.text, words) or asked_term_in(query.text, words) is not None,
        drafting := asks_to_draft(query.text),
        personal := asks_about_self(query.text),
    )
    missing: list[str] = []
    if outcome is Outcome.PARTIAL:
        # The asked kind of value when that is what is missing, else the question's words no passage uses.
        if not slot_ok and slot is not None:
            missing = [slot.missing[query.language]]
        elif not formula_ok:
            missing = [FORMULA_MISSING[query.language]]
        elif not name_ok:
            missing = [NAME_MISSING[query.language]]
        else:
            missing = [MISSING_WORDS[query.language][kind]] if not typed_ok else absent[:2]
    subject = list(dict.fromkeys(widened(w, query.text, words) for w in outermost(subject)[:2]))
    if formula is not None and not formula_ok:
        subject = [formula.term]  # "文件提到了“三个马上”，但没有写明具体内容。"
    return Judgement(
        outcome,
        evidence,
        kind,
        share,
        best,
        typed_ok,
        subject,
        missing,
        absent,
        stray=stray,
        margin=margin,
        vouched=vouched,
        drafting=drafting,
        personal=personal,
    )
