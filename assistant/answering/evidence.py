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
from dataclasses import dataclass, field

from assistant.answering.subject import is_stray, outermost, own_terms_found, widened
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


class AnswerType(enum.Enum):
    """What kind of value the question asks for; typed questions need a sentence that holds one."""

    NUMBER = "number"
    DURATION = "duration"
    DATE = "date"
    PERSON = "person"
    PLACE = "place"
    OTHER = "other"  # how / what measures / lists / yes-no: no single value to look for


# Order matters: the first match wins (哪一年 is a date, not a number; 多长时间 a duration).
_TYPE_PATTERNS_ZH = (
    (AnswerType.DATE, re.compile(r"何时|什么时候|哪一年|哪年|哪一天|哪天|几月|几号|哪个月|什么时间|何年")),
    (AnswerType.DURATION, re.compile(r"多久|多长时间|多长|几天|几年|几个月|多少天|多少年|多少个月|期限")),
    # "支部书记叫什么名字" asks for a person; "品牌叫什么名字" does not: the word before it decides.
    (
        AnswerType.PERSON,
        re.compile(r"谁|哪位|哪个人|哪些人|什么人|姓名|(?:书记|主任|长|负责人|同志|委员|员|人)叫(?:什么|啥)(?:名字)?"),
    ),
    (
        AnswerType.PLACE,
        re.compile(r"哪里|哪儿|什么地方|哪个(?:城市|村|省|县|区|地方|社区|乡|镇|国家)|在哪(?![几些一])"),
    ),
    # 哪几项 / 哪九条 ask for a list, not a count.
    (AnswerType.NUMBER, re.compile(r"多少|(?<!哪)几(?![乎何])|多大|多高|多重|比例|百分之")),
)
_TYPE_PATTERNS_EN = (
    (AnswerType.DATE, re.compile(r"\bwhen\b|\b(?:which|what) (?:year|date|day|month)\b|\bsince when\b", re.I)),
    (
        AnswerType.DURATION,
        re.compile(r"\bhow long\b|\bhow often\b|\bhow many (?:days|years|months|weeks|hours)\b", re.I),
    ),
    (AnswerType.PERSON, re.compile(r"\bwho\b|\bwhom\b|\bwhose\b|\bwhich (?:person|leader|official)\b", re.I)),
    (AnswerType.PLACE, re.compile(r"\bwhere\b|\b(?:which|what) (?:city|village|province|county|place)\b", re.I)),
    (AnswerType.NUMBER, re.compile(r"\bhow (?:many|much)\b|\bwhat (?:percentage|proportion|share|amount)\b", re.I)),
)

_NUMERAL = r"(?:\d+(?:\.\d+)?|[一二两三四五六七八九十百千万]+)"
_VALUE = {
    AnswerType.NUMBER: re.compile(
        rf"\d|{_NUMERAL}(?:余|多)?(?:个|名|人|项|次|篇|件|条|类|场|批|家|所|本|支|期|届|处|户|元|"
        r"万|亿|位|种|大|年|天|月|份|起|套|门|台|间|栋|张|%)"
    ),
    AnswerType.DURATION: re.compile(
        rf"{_NUMERAL}(?:余|多)?(?:个)?(?:天|日|周|月|年|小时|分钟|季度)|每(?:年|月|周|天|日|季度|半年)"
        r"|半年|全年|当天|当日"
    ),
    AnswerType.DATE: re.compile(
        r"\d{4}年|\d{1,2}月|\d{1,2}日|[一二三四五六七八九十]+月|今年|去年|前年|年初|年底|年中|上半年|下半年"
        r"|近年来|以来"
    ),
    # A name: "张某", "王xx" (masked as the documents do), "xx同志", "李明同志" (not 全体同志), or a name
    # after its post, as reports introduce people: "市委常务副秘书长安洪涛在…", "四级调研员施艳辉至今…".
    AnswerType.PERSON: re.compile(
        r"[\u4e00-\u9fff](?:某|xx|XX|\*\*)|(?:xx|XX|\*\*)同志|(?<![体位名些])[\u4e00-\u9fff]{2,3}同志"
        r"|(?:主任|书记|处长|局长|厅长|秘书长|部长|科长|组长|调研员|科员|干事|主席|院长|馆长|队长)"
        r"[王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚"
        r"卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵钱严覃武戴莫孔汤温康施"
        r"牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿兰焦俞左柳甘祝包宁尚符舒阮柯梅童凌毕季裴霍涂苗谷盛曲翁"
        r"冉骆蓝游辛靳柴蒙鲍喻祁蒲房滕屈饶牟艾尤穆农卓吉缪简项麦褚娄窦戚岑景宫费卜冷晏席卫米柏宗瞿桂佟臧闵苟邬"
        r"边卞姬师仇栾隋刁沙荣巫寇桑郎甄丛仲虞敖巩佘池查麻苑迟邝]"
        # the name ends where the sentence goes on: punctuation, or the verb of what the person did
        r"[\u4e00-\u9fff]{1,2}(?=[，。、；：“”（）\s]|说|表示|介绍|认为|告诉|指出|谈|坦言|在|至|等|也|就|对|讲|深|带)"
    ),
    AnswerType.PLACE: re.compile(r"[\u4e00-\u9fff]{2,}(?:省|市|县|区|镇|乡|村|社区|街道|路|馆|基地|中心|园|广场)"),
}

# Figures that date or order something: no answer to "how many".
_NOT_A_COUNT = re.compile(r"(?:\d{2}|[xX*]{2})(?:\d{2}|[xX*]{2})年|\d{1,2}月|\d{1,2}日|第\s*" + _NUMERAL)

MISSING_WORDS = {
    "zh": {
        AnswerType.NUMBER: "具体数字",
        AnswerType.DURATION: "具体时长或频次",
        AnswerType.DATE: "具体时间",
        AnswerType.PERSON: "具体人员",
        AnswerType.PLACE: "具体地点",
    },
    "en": {
        AnswerType.NUMBER: "the number",
        AnswerType.DURATION: "the duration or frequency",
        AnswerType.DATE: "the date",
        AnswerType.PERSON: "the person",
        AnswerType.PLACE: "the place",
    },
}

# Words that say how something is asked, not what about: never part of the question's content.
_QUESTION_FORM = re.compile(
    r"^(?:[几哪多].*|.*(?:多少|多久|多长|什么|怎么样?|怎样|如何|为何|为什么|是否|有没有)|一共|总共|共计|大概|大约|具体|目前|现在|已经"
    r"|为了|应该|需要|分别|主要|开始|以后|之后|之内|期间|当时|一年|自己|让|由|被|把|长时间|一[份类个项种条位次]"
    # Pointers to something said before ("这个呢？"): they name no subject of their own.
    r"|这个|那个|这些|那些|这里|那里|这样|那样|它们?|他们|她们|其中|上述|该|此|这|那)$"
)
_EN_QUESTION_FORM = frozenset(
    "many much long often roughly exactly approximately total year date day month when who whom where first "
    "specifically currently now already this that these those it they them".split()
)


def answer_type(question: str) -> AnswerType:
    """The kind of value the question asks for (OTHER for how/what/list/yes-no questions)."""
    for kind, pattern in (*_TYPE_PATTERNS_ZH, *_TYPE_PATTERNS_EN):
        if pattern.search(question):
            return kind
    return AnswerType.OTHER


# "几名", "多少本", "多少个": the measure word the asked number must come with.
_ASKED_UNIT = re.compile(
    r"(?:几|多少)(个|名|人|项|次|篇|件|条|类|场|批|家|所|本|支|期|届|处|户|元|位|种|份|起|套|台|间|天|年|月)"
)


def asked_unit(question: str) -> str | None:
    """The measure word of a "几X / 多少X" question (名 in 几名), or None."""
    m = _ASKED_UNIT.search(question)
    return m.group(1) if m else None


def asked_head(question: str, concepts: list[Concept], kind: AnswerType) -> Concept | None:
    """The content word the asked value belongs to: 经费 in "经费是多少", 分值 in "各占多少分值".

    It is the content concept nearest the question word (on a tie, the one after it: "几名工作人员").
    A sentence with some other figure does not answer for it ("党建工作经费" asked, "活动86场次" found).
    """
    if kind is AnswerType.OTHER:
        return None
    spans = [
        m.span()
        for k, pattern in (*_TYPE_PATTERNS_ZH, *_TYPE_PATTERNS_EN)
        if k is kind
        for m in pattern.finditer(question)
    ]
    if not spans:
        return None
    qs, qe = spans[0]
    lowered = question.lower()
    best: tuple[int, int, Concept] | None = None
    for c in concepts:
        at = lowered.find(c.label.lower())
        if at < 0:
            continue
        end = at + len(c.label)
        if qs <= at < qe:
            continue  # part of the question word itself
        distance, side = (qs - end, 1) if end <= qs else (at - qe, 0)
        if best is None or (distance, side) < best[:2]:
            best = (distance, side, c)
    return best[2] if best else None


# "由谁带班？" is answered by a post ("由办公室副主任带班"); "书记是谁？" asks for the person holding one.
_POST = re.compile(r"副?(?:主任|书记|处长|局长|厅长|秘书长|部长|科长|组长|市长|县长|负责人)")


def person_by_post(question: str, text: str) -> bool:
    """True when `text` names a post and the question asks who does something, not who holds that post."""
    return bool(_POST.search(text)) and not _POST.search(question)


def has_value(kind: AnswerType, text: str, unit: str | None = None) -> bool:
    """True when `text` holds a value of the asked kind (always True for OTHER).

    With `unit`, a number must come with that measure word ("3名", "十余名"), so a sentence
    with some other figure does not pass for the answer to "几名".
    """
    if kind is AnswerType.OTHER:
        return True
    if unit and kind in (AnswerType.NUMBER, AnswerType.DURATION):
        return bool(re.search(rf"{_NUMERAL}(?:余|多)?(?:个)?{unit}", text))
    if kind is AnswerType.NUMBER:
        text = _NOT_A_COUNT.sub("", text)  # "2022年" or "第3" is when or which, not how many
    return bool(_VALUE[kind].search(text))


# Characters either side of the asked value's head word where its figure must stand, when the question gives no
# measure word ("How many members…"). 6 of 0/4/6/8/12 on the 251 calibration questions (bench/answerability's loss).
HEAD_WINDOW = 6


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
) -> Outcome:
    """The outcome for the measured signals (see the module docstring); `stray` is `is_stray`'s verdict.

    `dense` is the best passage's similarity by meaning and `cjk_share` the question's share of Chinese: for a
    Chinese question e5 separates the documents' topics from others well (on the calibration questions every
    answerable one scored .878 or more, 34 of 36 far-off ones less than .870), for an English one it does not.
    """
    if evidence - thresholds.unseen_penalty * share < thresholds.evidence_floor or share >= thresholds.unseen_share:
        return Outcome.REFUSE
    if cjk_share >= CHINESE_QUESTION and dense < thresholds.dense_floor_zh:
        return Outcome.REFUSE
    if stray:
        return Outcome.REFUSE
    if sentence_coverage < thresholds.sentence_floor or not typed_ok:
        return Outcome.PARTIAL
    return Outcome.ANSWER


def judge(query: Query, passages: list[Passage], unseen_idf: float, thresholds: Thresholds, top: int = 3) -> Judgement:
    """Decide whether the passages answer the question fully, partly or not at all."""
    kind = answer_type(query.text)
    concepts = content_concepts(query.concepts)
    if not concepts:
        # Only question forms and pointers: nothing to find, so nothing found can answer it.
        return Judgement(Outcome.REFUSE, Evidence(0.0, 0.0, 0.0), kind, 1.0, 0.0, False, no_subject=True)
    evidence = assess(query, passages, top)
    share = unseen_share(concepts, unseen_idf) if concepts else 1.0
    words = "\n".join(f"{p.title}\n{p.section}\n{p.text}" for p in passages[:top])
    if own_terms_found(query, concepts, words):
        # "Ignore previous instructions … How do offices run the 双报到 system?": the Chinese terms the
        # user typed are in the passages, so English filler around them does not make the question foreign.
        share = 0.0
    scored = [
        (coverage(concepts, f"{p.section}\n{p.text[s:e]}"), p.text[s:e])
        for p in passages[:top]
        for s, e in split_sentences(p.text)
    ]
    best = max((c for c, _ in scored), default=0.0)
    # The sentences about the question: a value may sit in a sentence that leaves the office's name implicit.
    about = [text for c, text in scored if best > 0 and c >= 0.6 * best]
    head = asked_head(query.text, concepts, kind)
    if head is not None:
        # The value must sit with what it is the value of: a figure next to 经费, not any figure nearby.
        about = [text for text in about if any(a in text for a in head.alternatives)]
    unit = asked_unit(query.text)
    if head is not None and kind is AnswerType.NUMBER and unit is None and HEAD_WINDOW:
        # "How many members…", "经费是多少": with no measure word to pair with, the figure must stand by the head.
        about = [w for text in about for w in _around(text, head.alternatives, HEAD_WINDOW)]
    typed_ok = kind is AnswerType.OTHER or any(
        has_value(kind, text, unit) or (kind is AnswerType.PERSON and person_by_post(query.text, text))
        for text in about
    )
    subject = [
        c.label
        for c in sorted(concepts, key=lambda c: -c.weight)
        if any(a in words for a in c.alternatives) and c.weight < unseen_idf - 1e-6
    ]
    absent = [c.label for c in sorted(concepts, key=lambda c: -c.weight) if not any(a in words for a in c.alternatives)]
    stray = is_stray(concepts, words, unseen_idf)
    outcome = decide(
        evidence.score if passages else 0.0, share, best, typed_ok, thresholds, stray, evidence.dense, query.cjk_share
    )
    missing: list[str] = []
    if outcome is Outcome.PARTIAL:
        # The asked kind of value when that is what is missing, else the question's words no passage uses.
        missing = [MISSING_WORDS[query.language][kind]] if not typed_ok else absent[:2]
    subject = list(dict.fromkeys(widened(w, query.text, words) for w in outermost(subject)[:2]))
    return Judgement(outcome, evidence, kind, share, best, typed_ok, subject, missing, absent, stray=stray)
