"""What a question asks for: the kind of value (number, date, person, place, …), the word it belongs to, and whether a text holds one."""

from __future__ import annotations

import enum
import re

from assistant.retrieval.query import Concept


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
    # "这几年…一共有多少" asks how many, over the last few years
    (AnswerType.DURATION, re.compile(r"多久|多长时间|多长|几天|(?<![这近前])几年|几个月|多少天|多少年|多少个月|期限")),
    # "支部书记叫什么名字" asks for a person; "品牌叫什么名字" does not: the word before it decides.
    (
        AnswerType.PERSON,
        # not 哪些人: "分别让哪些人讲" is answered by groups (党员干部, 青年干部), not names
        re.compile(r"谁|哪位|哪个人|什么人|姓名|(?:书记|主任|长|负责人|同志|委员|员|人)叫(?:什么|啥)(?:名字)?"),
    ),
    (
        AnswerType.PLACE,
        re.compile(
            r"哪里|哪儿|什么地方|(?:哪几?[个条座所]|哪些)(?:城市|村|省|县|区|地方|社区|乡|镇|国家|路|道路|街道|街)|在哪(?![几些一])(?!个?(?:平台|网站|媒体|报纸|刊物|栏目|公众号|系统|单位|部门))"
        ),
    ),
    # (在哪个平台 / 单位 asks for a name, not a place.) 哪几项 / 哪九条 ask for a list, not a count.
    (AnswerType.NUMBER, re.compile(r"多少|(?<!哪)几(?![乎何])|多大|多高|多重|比例|百分之")),
)
_TYPE_PATTERNS_EN = (
    # "When did …", "… and when was it set up?", not the clause of "How is it handled when they leave?"
    (
        AnswerType.DATE,
        re.compile(
            # (not "When drafting major documents, what are …": a clause that sets the scene before the question)
            r"^\W*when\b(?![^,?]*,\s*(?:what|how|which|who|where|why)\b)|(?:,|\band|\bor)\s+when\b"
            r"|\b(?:which|what) (?:year|date|day|month)\b|\bsince when\b",
            re.I,
        ),
    ),
    (
        AnswerType.DURATION,
        re.compile(r"\bhow long\b|\bhow often\b|\bhow many (?:days|years|months|weeks|hours)\b", re.I),
    ),
    # "Under whose guidance…" is answered by a body (the inspection group), not a person
    (
        AnswerType.PERSON,
        re.compile(
            r"\bwho\b|\bwhom\b|\bwhose\b(?! (?:guidance|leadership|direction|supervision|auspices))"
            r"|\bwhich (?:person|leader|official)\b",
            re.I,
        ),
    ),
    (
        AnswerType.PLACE,
        re.compile(
            r"\bwhere\b|\b(?:which|what) (?:city|village|province|county|place|district|town|township|street|community|country)\b",
            re.I,
        ),
    ),
    (AnswerType.NUMBER, re.compile(r"\bhow (?:many|much)\b|\bwhat (?:percentage|proportion|share|amount)\b", re.I)),
)

# Common surnames: a name after its post ("处长王某", "调研员施艳辉") or masked ("王xx") starts with one.
_SURNAME = "[王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵钱严覃武戴莫孔汤温康施牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿兰焦俞左柳甘祝包宁尚符舒阮柯梅童凌毕季裴霍涂苗谷盛曲翁冉骆蓝游辛靳柴蒙鲍喻祁蒲房滕屈饶牟艾尤穆农卓吉缪简项麦褚娄窦戚岑景宫费卜冷晏席卫米柏宗瞿桂佟臧闵苟邬边卞姬师仇栾隋刁沙荣巫寇桑郎甄丛仲虞敖巩佘池查麻苑迟邝]"
NUMERAL = r"(?:\d+(?:\.\d+)?|[一二两三四五六七八九十百千万]+)"
# "每周", "每季度": how often, which answers "多久一次" but not "how long" (asks_length)
_EVERY = re.compile(r"每(?:年|月|周|天|日|季度|半年)")
_VALUE = {
    AnswerType.NUMBER: re.compile(
        rf"\d|{NUMERAL}(?:余|多)?(?:个|名|人|项|次|篇|件|条|类|场|批|家|所|本|支|期|届|处|户|元|"
        r"万|亿|位|种|大|年|天|月|份|起|套|门|台|间|栋|张|%)"
    ),
    AnswerType.DURATION: re.compile(
        rf"{NUMERAL}(?:余|多)?(?:个)?(?:天|日|周|月|年|小时|分钟|季度)|{_EVERY.pattern}"
        r"|半年|全年|当天|当日"
    ),
    AnswerType.DATE: re.compile(
        # not "近年来" or a bare "以来" ("主题教育开展以来"): they say since when, vaguely, not when
        r"\d{4}年|\d{1,2}月|\d{1,2}日|[一二三四五六七八九十]+月|今年|去年|前年|年初|年底|年中|上半年|下半年"
    ),
    # A name: "张某", "王xx" (masked as the documents do), "xx同志", "李明同志" (not 全体同志), or a name
    # after its post, as reports introduce people: "市委常务副秘书长安洪涛在…", "四级调研员施艳辉至今…".
    AnswerType.PERSON: re.compile(
        # A masked name has its surname ("王xx", "张某"): the documents mask figures and places the same way ("第**党支部",
        # "推进xx振兴"), and a masked post ("秘书长xx") withholds the name.
        _SURNAME + r"(?:某|xx|XX|\*\*)(?![个名项次场篇类位级年人])|(?:xx|XX|\*\*)同志"
        # "职工xxx在…": a masked name after what the person is, who then does something
        r"|(?:职工|党员|干部|同事|群众|同志)(?:x{2,3}|X{2,3}|\*{2,3})(?=[在说表讲带])|(?<![体位名些])[\u4e00-\u9fff]{2,3}同志"
        r"|(?:主任|书记|处长|局长|厅长|秘书长|部长|科长|组长|调研员|科员|干事|主席|院长|馆长|队长)"
        + _SURNAME
        # the name ends where the sentence goes on: punctuation, or the verb of what the person did
        + r"[\u4e00-\u9fff]{1,2}(?=[，。、；：“”（）\s]|说|表示|介绍|认为|告诉|指出|谈|坦言|在|至|等|也|就|对|讲|深|带)"
        # a name no surname list holds (昂敏抒, 仁增旺姆), known by what follows it: the person speaks
        r"|(?:主任|书记|处长|局长|厅长|秘书长|部长|科长|组长|调研员|科员|干事|主席|院长|馆长|队长)"
        r"[\u4e00-\u9fff]{2,4}(?=深有感触|介绍|表示|告诉|坦言|说道|说：|指出|谈到)"
    ),
    # A place name of its own: "浙江省", "集宁战役纪念馆", "南河道社区" — not "全省" or "两村", nor an office ("市委") or a
    # stretch of prose that happens to end in 市 ("决策和全省").
    AnswerType.PLACE: re.compile(
        r"[^\W\d和及与的在了是为对从向把被将等全各本该我其这那之到去赴每一二两三四五六七八九十几]{2,6}"
        # "中心工作" (the central task) is prose, not a centre; "文明城市" is a title, not a city
        r"(?:省|(?<!城)市|县|区|镇|乡|村|社区|街道|路|街|馆|基地|中心(?!工作|任务)|公园|园|广场)(?![委政级场民直属内外情长里])"
    ),
}

# A day of the week or a recurring time (周五上街, 每月上旬召开) answers when something usually happens, not when it
# happened: only for questions that ask so (asks_recurring).
_RECURRING = re.compile(
    r"(?:周|星期|礼拜)[一二三四五六日天]|每(?:年|月|周|季度|半年)|[上中下]旬|\b(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day\b"
)
_ASKS_RECURRING = re.compile(
    r"一般|通常|平时|定期|经常|每(?:年|月|周|季度)|星期几|周几|礼拜几|\bday of the week\b|\b(?:usually|normally|regularly|typically)\b",
    re.I,
)


def asks_recurring(question: str) -> bool:
    """True when the question asks when something usually happens ("一般什么时候开", "which day of the week")."""
    return bool(_ASKS_RECURRING.search(question))


# Figures that date or order something: no answer to "how many".
_NOT_A_COUNT = re.compile(r"(?:\d{2}|[xX*]{2})(?:\d{2}|[xX*]{2})年|\d{1,2}月|\d{1,2}日|第\s*" + NUMERAL)

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


# "中心工作在哪里就覆盖到哪里": "wherever … there", a saying, not a question about a place.
_WHEREVER = re.compile(r"哪(?:里|儿)就.{0,12}?哪(?:里|儿)")


def answer_type(question: str) -> AnswerType:
    """The kind of value the question asks for (OTHER for how/what/list/yes-no questions)."""
    question = _WHEREVER.sub("", question)
    for kind, pattern in (*_TYPE_PATTERNS_ZH, *_TYPE_PATTERNS_EN):
        if pattern.search(question):
            return kind
    return AnswerType.OTHER


# "几名", "多少本", "多少个": the measure word the asked number must come with.
_ASKED_UNIT = re.compile(
    r"(?:(?<![这近前])几|多少)(个|名|人|项|次|篇|件|条|类|场|批|家|所|本|支|期|届|处|户|元|位|种|份|起|套|台|间|天|年|月)"
)


def asked_unit(question: str) -> str | None:
    """The measure word of a "几X / 多少X" question (名 in 几名), or None."""
    m = _ASKED_UNIT.search(question)
    return m.group(1) if m else None


# Words that say what kind of figure is asked, not what it is the figure of: the head is another word when there is one.
GENERIC_HEADS = frozenset("标准 数量 数额 金额 额度 规模 上限 下限 限额 总数 总额 数目 数字".split())


def asked_head(question: str, concepts: list[Concept], kind: AnswerType) -> Concept | None:
    """The content word the asked value belongs to: 经费 in "经费是多少", 分值 in "各占多少分值".

    It is the content concept nearest the question word (on a tie, the one after it: "几名工作人员").
    A sentence with some other figure does not answer for it ("党建工作经费" asked, "活动86场次" found).
    """
    if kind is AnswerType.OTHER:
        return None
    spans = question_word_spans(question, kind)
    if not spans:
        return None
    qs, qe = spans[0]
    lowered = question.lower()
    unit = asked_unit(question) if kind is AnswerType.NUMBER else None
    if unit and question.startswith(unit, qe) and not any(lowered.startswith(c.label.lower(), qe) for c in concepts):
        qe += len(unit)  # "建了几项机制": 机制, right after the measure word, is what is counted, as close as 建了
    best: tuple[bool, int, int, Concept] | None = None
    for c in concepts:
        at = lowered.find(c.label.lower())
        if at < 0:
            continue
        end = at + len(c.label)
        if qs <= at < qe:
            continue  # part of the question word itself
        distance, side = (qs - end, 1) if end <= qs else (at - qe, 0)
        # "住宿费每天的标准是多少": 标准 says the figure is a limit, 住宿费 what it is the limit of.
        generic = c.label in GENERIC_HEADS
        # (at the same place the longer word: 主题党日, not 主题)
        if best is None or (generic, distance, side, -len(c.label)) < (best[0], *best[1:3], -len(best[3].label)):
            best = (generic, distance, side, c)
    if best is None:
        return None
    head = best[3]
    start = lowered.find(head.label.lower())
    if best[2] == 0 and question.isascii() and question[start - 1 : start] == "-":
        # "How many in-service Party members…": the hyphenated word describes the noun after it (members, not service).
        end = start + len(head.label)
        head = next((c for c in concepts if end <= lowered.find(c.label.lower()) <= end + 1), head)
    return head


# "由谁带班？" is answered by a post ("由办公室副主任带班"); "书记是谁？" asks for the person holding one.
POST = re.compile(r"副?(?:主任|书记|处长|局长|厅长|秘书长|部长|科长|组长|市长|县长|负责人)")


def person_by_post(question: str, text: str) -> bool:
    """True when `text` names a post and the question asks who does something, not who holds that post."""
    return bool(POST.search(text)) and not POST.search(question)


# "哪一年部署的", "what year": a year ("2023年"), not "今年" or "去年" of an undated report, nor one the documents mask
# ("20xx年": they withhold it).
_ASKS_YEAR = re.compile(r"哪一?年|何年|\b(?:what|which|in what) year\b", re.I)
_YEAR = re.compile(r"\d{4}\s*年|[〇零一二三四五六七八九]{4}年")


def asks_year(question: str) -> bool:
    """True when the question asks in which year something happened, so "今年" does not answer it."""
    return bool(_ASKS_YEAR.search(question))


def has_year(text: str) -> bool:
    """True when `text` names a year ("2023年", "二〇二三年"), the answer to asks_year's questions."""
    return bool(_YEAR.search(text))


# "几月份成立的", "in which month": a month ("3月", "三月"), not "今年" nor one the documents mask ("今年x月").
_ASKS_MONTH = re.compile(r"几月|哪个月|哪一个月|什么月份|\b(?:which|what) month\b", re.I)
_MONTH = re.compile(
    r"(?<![xX*\d])\d{1,2}\s*月(?!份?[xX*])|(?<![一二三四五六七八九十])(?:[一二三四五六七八九]|十[一二]?)月"
)


def asks_month(question: str) -> bool:
    """True when the question asks in which month something happened."""
    return bool(_ASKS_MONTH.search(question))


def has_month(text: str) -> bool:
    """True when `text` names a month ("2023年3月", "三月"), the answer to asks_month's questions."""
    return bool(_MONTH.search(text))


# "How long does each session run?", "培训要多长时间？": the length of something, which "每周" does not give; "多久召开
# 一次", "how often" ask how often, which it does.
_ASKS_LENGTH = re.compile(r"\bhow long\b|多长时间|多久|多少(?:天|小时|分钟)|几(?:天|个小时|小时|分钟)")
_ASKS_FREQUENCY = re.compile(r"一次|频次|频率|每隔|多久开|\bhow often\b|\bhow frequently\b|\bhow many times\b", re.I)


def asks_length(question: str) -> bool:
    """True when a duration question asks how long something lasts, not how often it happens."""
    return bool(_ASKS_LENGTH.search(question)) and not _ASKS_FREQUENCY.search(question)


def question_word_spans(question: str, kind: AnswerType) -> list[tuple[int, int]]:
    """Where the question words of `kind` stand in the question ("哪个社区" of "…到哪个社区报到")."""
    return [
        m.span()
        for k, pattern in (*_TYPE_PATTERNS_ZH, *_TYPE_PATTERNS_EN)
        if k is kind
        for m in pattern.finditer(question)
    ]


def without_question_terms(
    text: str, question: str, concepts: list[Concept], kind: AnswerType, words: bool = True
) -> str:
    """`text` with the question's own words and figures masked: a value the question already states does not
    answer it ("Which village is the 包联帮扶村…" is not answered by "包联帮扶村", nor "那563件…涉及哪些领域" by 563).
    The question word's own noun (社区 of "哪个社区") stays, so "南河道社区" still answers. With `words` False, only
    the figures are masked (a post or a measure word the question names is part of the answer: "处长王某", "54名")."""
    spans = question_word_spans(question, kind)
    for c in sorted(concepts, key=lambda c: -len(c.label)) if words else ():
        # every place the word stands: "到社区“双报到”…和哪个社区" keeps 社区, the question word's noun
        ats = [m.start() for m in re.finditer(re.escape(c.label.lower()), question.lower())]
        if len(c.label) < 2 or not ats or any(s <= at < e for at in ats for s, e in spans):
            continue
        # An English question's words stand in the passages as their Chinese alternatives ("Yangtze River Delta": 长三角).
        for shown in sorted({c.label, *c.alternatives}, key=len, reverse=True) if c.label.isascii() else (c.label,):
            if len(shown) >= 2:
                text = text.replace(shown, "□")
    for figure in re.findall(r"\d+", question):  # "那563件…": the question's own figure
        text = re.sub(rf"(?<!\d){figure}(?!\d)", "□", text)
    return text


# "哪天开的", "几月几日", "what date": a day, not "今年" or "以来".
_ASKS_DAY = re.compile(r"哪一?天|几月几[日号]|几号|\bwhat date\b|\bwhich day\b(?! of the week)|\bon what day\b", re.I)
_DAY = re.compile(r"\d{1,2}\s*[日号]|[一二三四五六七八九十]{1,3}[日号]|\d{1,2}/\d{1,2}|当天|当日|次日|同日")


def asks_day(question: str) -> bool:
    """True when the question asks on which day something happened, so a year or "今年" does not answer it."""
    return bool(_ASKS_DAY.search(question))


def has_day(text: str) -> bool:
    """True when `text` names a day ("3月15日", "当天"), the answer to asks_day's questions."""
    return bool(_DAY.search(text))


def asks_ordinal(question: str) -> bool:
    """True when the question asks which in an order ("排名第几？", "第几次会议"): "第二" answers it."""
    return "第几" in question


def has_value(
    kind: AnswerType,
    text: str,
    unit: str | None = None,
    recurring: bool = False,
    length: bool = False,
    ordinal: bool = False,
) -> bool:
    """True when `text` holds a value of the asked kind (always True for OTHER); with `recurring`, a date may be a
    day of the week or a recurring time; with `length`, a duration must be a length ("两天"), not "每周"; with
    `ordinal`, a place in an order ("第二", "第3层") answers a number question too.

    With `unit`, a number must come with that measure word ("3名", "十余名"), so a sentence
    with some other figure does not pass for the answer to "几名".
    """
    if kind is AnswerType.OTHER:
        return True
    if unit and kind in (AnswerType.NUMBER, AnswerType.DURATION):
        # "九大重点产业链" counts them as well as "9条" does
        return bool(re.search(rf"{NUMERAL}(?:余|多)?(?:个)?{unit}|{NUMERAL}大(?!会|型|学|概|约|力|批|幅|多)", text))
    if kind is AnswerType.DATE and recurring and _RECURRING.search(text):
        return True
    if kind is AnswerType.NUMBER and ordinal and re.search(rf"第\s*{NUMERAL}", text):
        return True
    if kind is AnswerType.NUMBER:
        text = _NOT_A_COUNT.sub("", text)  # "2022年" or "第3" is when or which, not how many
    if kind is AnswerType.DURATION and length:
        text = _EVERY.sub("", text)
    return bool(_VALUE[kind].search(text))
