"""Follow-up questions: rewritten into standalone questions, by rules (extractive) or by the chat model."""

from __future__ import annotations

import re
from collections.abc import Sequence

import jieba

_QUOTED = re.compile(r"[“\"「『‘']([^”\"」』’']{1,20})[”\"」』’']")
_TOKEN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+|[A-Za-z][A-Za-z0-9'’-]*|\d+")
_CJK_PAIR = re.compile(r"[\u4e00-\u9fff]{2}")
_PUNCT = re.compile(r"[\s，。！？；：、,.!?;:()（）《》<>\[\]【】“”\"'‘’…—-]+")
# Question words and particles: they say how something is asked, not what about.
_ZH_STOP = tuple(
    "是怎样 是如何 怎么样 怎样 怎么说 怎么 如何 是什么 什么 哪些 哪个 哪里 哪家 哪所 哪位 哪一 哪年 哪天 哪种 哪类 是谁 谁 "
    "为什么 是否 多少 多久 多长 请问 请 一下 的 了 吗 呢 吧 啊".split()
)
# Words that frame a question ("how do offices implement …") rather than name its topic: a
# follow-up such as "那保密工作呢？" keeps the frame and swaps the topic.
_ZH_FRAME = tuple(
    (
        "党委办公厅 政府办公厅 党员干部 党组织 办公室 办公厅 党支部 机关 单位 部门 干部 落实 开展 推进 推动 加强 建立 健全 实行 执行 实施 贯彻 做好 抓好 组织 做法 "
        "措施 经验 成效 要求"
    ).split()
)
_ZH_PRONOUN = tuple(
    "它们 它的 它 他们 她们 他 她 其中 其 这个 这些 这项 这种 这一 这方面 该 上述 此 那个 那些 这位 那位 这名 这份 这是 那是".split()
)
# Pointers that refer back wherever they stand ("遇到重大文稿任务时他们会怎么做？"), in a question naming no actor.
_ZH_POINTER_ANYWHERE = ("他们", "她们", "它们", "它", "这位", "那位", "上述", "其中")
# "文稿服务质量又是怎么提升的？": 又 asks the same again of what was just discussed.
_ZH_AGAIN = re.compile(r"又(?:是|有|如何|怎么|怎样|在|作出|做了|要|该|能|会|采取)")
# "这个周末", "这几年": a demonstrative that points at a time, not at what was discussed.
_ZH_TIME_AFTER_PRONOUN = ("周末", "星期", "礼拜", "月", "年", "几年", "几天", "时候", "阵子", "学期")
# A question that opens with one of these, or with a bare verb in the past ("派出了…"), has dropped its subject:
# "一共派出了多少人？", "具体开展了哪些活动？", "为什么要编成顺口溜？" are about whoever was just discussed.
# (One-character adverbs such as 都 are left out: 都江堰 begins with one; "都去了…" is a bare past verb anyway.)
_ZH_CONTINUING = (
    "一共",
    "总共",
    "共计",
    "具体",
    "后来",
    "当时",
    "最后",
    "之后",
    "然后",
    "为什么要",
    "为何要",
    # "会上是谁带头…": the meeting, or the document, just discussed.
    "会上",
    "会后",
    "会中",
    "文中",
    "文件中",
)
# "第三个具体是什么意思？", "最后一条呢？": the n-th of what was just listed.
_ZH_ORDINAL = re.compile(
    r"^(?:第[一二三四五六七八九十\d]+|最后一|前[两二三四五]|后[两二三四五])(?:个|条|项|点|种|类|句|部分)"
)
_ZH_VERB_PAST = re.compile(r"^(?!为了|除了|到了)[\u4e00-\u9fff]{1,2}了")
# Who acts in office questions: with one of these named, the question has a subject of its own.
_ZH_ACTOR = re.compile(
    r"办公厅|办公室|党总支|党支部|党组|机关|部门|单位|[省市县区]委|政府|政研室|(?<=[\u4e00-\u9fff])(?<![某各每全本])[处科局厅](?!室)|联盟|工作队|(?<!自)我|你"
)
_ZH_SWAP_LEAD = ("那么", "那", "还有", "另外", "此外", "至于", "关于", "以及", "再说说", "说说")
_ZH_SWAP_TAIL = ("又是怎样的", "是怎样的", "又如何", "情况如何", "怎么样", "如何", "怎样", "方面", "的情况", "呢", "吗")
# Questions that only make sense about what was just discussed.
_ZH_GENERIC = frozenset(
    "具体做法 具体措施 做法 措施 要求 成效 效果 原因 目的 意义 怎么做 具体怎么做 为什么 有哪些 例子 举例 详细 详细说说 展开说说 具体 还有吗 还有呢 "
    "代表性 典型".split()
)
_EN_STOP = frozenset(
    (
        "how what why when where which who whom do does did is are was were the a an of to in on "
        "for and or about with by can could should would will their its it they them this that "
        "these those be been have has had tell me please there any so then also"
    ).split()
)
_EN_FRAME = frozenset(
    (
        "office offices agency agencies department departments unit units organ organs organisation "
        "organisations organization organizations run runs implement implements carry carries out "
        "organise organize handle handles manage manages promote strengthen establish measures "
        "practice practices experience requirements"
    ).split()
)
# "Thanks!", "好的": courtesy, not a question about anything said before (nor about anything at all).
_COURTESY = re.compile(
    r"^\W*(?:thanks?(?: you)?(?: (?:so|very) much)?|thx|ok(?:ay)?|great|got it|cool|perfect|nice|good|bye|goodbye|hi|hello"
    r"|谢谢(?:你|您)?|多谢|感谢|好的?|好吧|明白了?|知道了|收到|嗯+|再见|你好|您好)\W*$",
    re.I,
)
# "What time is it in London?", "How far is it to …": an "it" that stands for nothing said before.
_EN_EXPLETIVE_IT = re.compile(r"\b(?:time|far|cold|hot|warm|late|day|date|weather(?: like)?) is it\b", re.I)
_EN_SWAP = re.compile(r"^\s*(?:and\s+)?(?:what|how)\s+about\s+(.*)$|^\s*and\s+(.*)$|^\s*what\s+of\s+(.*)$", re.I)
# Discourse openers: "that" in "that reminds me" or "by the way" refers to no earlier topic.
_EN_OPENER = re.compile(
    r"^\s*(?:(?:that|this|which) reminds me|by the way|btw|anyway|oh|ok(?:ay)?|well|also|one more thing)\b[\s,.:;!-]*",
    re.I,
)
# "this weekend", "that year": a demonstrative that points at a time, not at what was discussed.
_EN_TIME = r"(?:year|years|week|weekend|month|morning|afternoon|evening|time|days|summer|winter|spring|autumn)"
_EN_PRONOUN_WORD = re.compile(
    rf"\b(?:it|its|they|their|them|he|she|his|her|him)\b|\b(?:this|these|those)\b(?!\s+{_EN_TIME}\b)"
    r"|\bthe (?:former|latter|same)\b|\bthe (?:last|first|second|third|fourth|fifth|next|other) (?:one|item|point)s?\b"
    # "What was carried out there?": the place just discussed, not "is there" or "there are".
    r"|(?<!\bis )(?<!\bare )(?<!\bwas )(?<!\bwere )\bthere\b(?!\s+(?:is|are|was|were|be|been|has|have|will)\b)",
    re.I,
)
_EN_PRONOUN = re.compile(
    rf"^\s*(?:and\s+)?(it|its|it's|they|their|them|this|that|these|those)\b(?!\s+{_EN_TIME}\b)", re.I
)
# Who acts in an English office question: with one of these (or a Chinese or quoted name) it has a subject of its own.
_EN_ACTOR = re.compile(
    r"\b(?:offices?|departments?|agenc(?:y|ies)|committees?|governments?|branch(?:es)?|organs?|organi[sz]ations?"
    r"|alliance|bureau|ministry)\b|[\u4e00-\u9fff]|[“\"'‘][^”\"'’]+[”\"'’]"
    # a name (Paris, Outlook) past the first word, or the "it" of "is it true that …", "It is …" (not "how it is
    # applied", which points back)
    r"|(?<=\s)(?-i:(?!Party\b)[A-Z][a-z])|\bis it (?:true|possible|necessary|normal|legal|ok|okay)\b|^\W*it(?:'s| is| was)\b",
    re.I,
)
# "When was that database built?", "Can you explain that in English?": "that"/"this" after a verb or a
# preposition points back (a determiner, or the object itself); after a noun it is relative ("measures that…").
_EN_POINTING = re.compile(
    r"\b(?:is|was|are|were|did|does|do|about|of|in|for|from|on|with|at|to|by|explain|describe|repeat|expand)"
    rf"\s+(?:that|this|these|those)\b(?!\s+(?:the|a|an|it|there|is|was|are|were|{_EN_TIME})\b)",
    re.I,
)


def is_courtesy(question: str) -> bool:
    """True for a turn of courtesy only ("谢谢", "Thanks!", "好的"): it asks nothing and continues no topic."""
    return bool(_COURTESY.match(question.strip()))


def _strip_zh_stop(text: str) -> str:
    for word in _ZH_STOP:
        text = text.replace(word, " ")
    return text


def _content(text: str) -> str:
    """The words of a question without punctuation, question words and particles."""
    return _PUNCT.sub("", _strip_zh_stop(text))


def _split_terms(text: str) -> list[tuple[str, bool]]:
    """A question's key terms in order, each flagged True when it frames rather than names the topic."""
    terms: list[tuple[str, bool]] = []
    # Quoted terms (“双报到”) are names: keep them whole before anything cuts them.
    pieces = _QUOTED.split(text)
    for i, piece in enumerate(pieces):
        if i % 2 == 1:
            terms.append((piece.strip(), False))
            continue
        for token in _TOKEN.findall(_strip_zh_stop(piece)):
            if token[0].isascii():
                low = token.lower()
                if low not in _EN_STOP:
                    terms.append((token, low in _EN_FRAME))
                continue
            terms.extend(_cut_frame(token))
    seen: set[str] = set()
    out = []
    for term, frame in terms:
        if len(term) >= 2 and term not in seen:  # one character alone (是, 在) carries no meaning
            seen.add(term)
            out.append((term, frame))
    return out


def _cut_frame(run: str) -> list[tuple[str, bool]]:
    """Split a run of Chinese characters into frame words and the topic fragments between them."""
    for word in _ZH_FRAME:  # longest first within each family, so 党组织 wins over 组织
        at = run.find(word)
        if at >= 0:
            return _cut_frame(run[:at]) + [(word, True)] + _cut_frame(run[at + len(word) :])
    return [(run, False)] if run else []


def _names_actor(body: str, question: str) -> bool:
    """True for a Chinese question with a subject of its own: an office that acts, or a titled document
    (《保守国家秘密法》; `body` is the question without punctuation, so the title is looked for in `question`)."""
    return bool(_ZH_ACTOR.search(body) or re.search(r"《[^》]+》", question))


def _dropped_subject(body: str) -> bool:
    """True for a Chinese question that opens as the continuation of the last one ("一共派出了多少人"), or with the
    copula its subject should stand before ("是第几届？", "是哪一年成立的？")."""
    return (
        body.startswith(_ZH_CONTINUING)
        or bool(_ZH_VERB_PAST.match(body) or _ZH_ORDINAL.match(body))
        or body.startswith("是")
    )


def _points_back(body: str, previous_topic: list[str]) -> bool:
    """True for a Chinese question that points back (他们, 又是…) or goes on with the last topic: "调研地点一般选在
    什么样的地方？" after a question about 调研. A far-off question shares no specific word with it."""
    if any(p in body for p in _ZH_POINTER_ANYWHERE) or _ZH_AGAIN.search(body):
        return True
    if any(len(t) >= 2 and t in body for t in previous_topic):
        return False  # "双报到是什么？" after a question about 双报到 names that topic itself
    pairs = {t[i : i + 2] for t in previous_topic for i in range(len(t) - 1)}
    return any(pair in body for pair in pairs if _specific_word(pair))


# A word this common in jieba's dictionary (工作 66k, 学习 13k, 活动 28k) is shared by questions on anything; 调研 (605),
# 保密 (675) and 文稿 (115) carry a topic on. "工作日怎么请假？" after a question on 保密工作 is a new question.
_COMMON_WORD_FREQ = 1500


# A word at least this common (一般, 时间, 每月 1,307, 最近) is one a question on anything uses: a short question made only
# of such words that asks for a figure, a length of time or a date ("一般要多长时间？", "每月几天？", "最近一次是哪年？")
# names nothing to search and goes on with the last one. One that asks what or how ("明天天气怎么样？", "今天吃什么？")
# is a question of its own on something else.
_EVERYDAY_WORD_FREQ = 1000
_SHORT_QUESTION_CHARS = 8
_ASKS_A_VALUE = re.compile(r"几|多少|多久|多长|哪年|哪一年|哪天|哪一天|何时|什么时候")


def _only_everyday_words(body: str) -> bool:
    """True for a short Chinese question asking for a value in everyday words and question forms only (see above)."""
    if len(body) > _SHORT_QUESTION_CHARS or re.search(r"[A-Za-z0-9]", body) or not _ASKS_A_VALUE.search(body):
        return False
    jieba.dt.check_initialized()
    words = [w for w in jieba.lcut(_strip_zh_stop(body)) if len(w.strip()) >= 2]
    return all(jieba.dt.FREQ.get(w, 0) >= _EVERYDAY_WORD_FREQ for w in words)


def _specific_word(pair: str) -> bool:
    """True for a two-character Chinese word of the dictionary that is not an everyday one."""
    jieba.dt.check_initialized()  # the dictionary loads on first use
    freq = jieba.dt.FREQ.get(pair, 0)
    return bool(_CJK_PAIR.fullmatch(pair)) and 0 < freq < _COMMON_WORD_FREQ


def _swap_topic_zh(question: str) -> str | None:
    """The new topic of a "那X呢？" follow-up, or None when the question is not of that shape."""
    rest = _PUNCT.sub(" ", question).strip()
    lead = ""
    while True:  # "那么，还有…" carries several lead words
        word = next((w for w in _ZH_SWAP_LEAD if rest.startswith(w)), "")
        if not word:
            break
        lead += word
        rest = rest[len(word) :].strip()
    tail = ""
    for w in _ZH_SWAP_TAIL:
        if rest.endswith(w):
            tail, rest = w, rest[: -len(w)].strip()
            break
    if not lead and tail != "呢":
        return None  # "明天北京天气怎么样？" names its own topic: only an ellipsis ("…呢？") swaps one in
    # A quoted name counts as one word: "那“民族团结一家亲”活动呢？" swaps in a topic as short as "那保密工作呢？".
    names = sum(len(m.group(1)) - 1 for m in _QUOTED.finditer(question))
    if len(_content(rest)) - names > (8 if lead else 10):
        return None  # "那么，市政府办公室派了多少名党员下沉社区？" is a whole question of its own
    return rest


def rewrite_followup(question: str, history_questions: Sequence[str]) -> str:
    """What to search for a question asked after others, until a language model can rewrite it.

    A follow-up that swaps the topic ("那保密工作呢？", "what about confidentiality?") keeps the
    previous question's framing words (机关, 落实 …) and takes the new topic; one that refers back
    ("它有什么要求？", "why?", short questions) is searched together with the previous topic. Any
    other question is returned unchanged.

    Args:
        question: the question as typed.
        history_questions: earlier questions of the conversation, oldest first, as they were
            searched (already rewritten), so a chain of follow-ups keeps its context.

    Returns:
        The text to search: the question itself, or its key terms joined by spaces.
    """
    question = question.strip()
    previous = next((h.strip() for h in reversed(history_questions) if h and h.strip()), "")
    if not question or not previous or is_courtesy(question):
        return question
    terms = _split_terms(previous)
    frame = [t for t, is_frame in terms if is_frame]
    topic = [t for t, is_frame in terms if not is_frame]
    # "what about 保密工作?" is framed in English; "Python里怎么…" in Chinese.
    # By words: a Chinese character is about half a word, so "Python怎么读取Excel文件？" (2 Latin words, 6 characters)
    # is Chinese and "What is 双报到?" (2 words, 3 characters) English.
    english = (
        bool(re.match(r"\W*[A-Za-z]", question))
        and len(re.findall(r"[A-Za-z]+", question)) > len(re.findall(r"[\u4e00-\u9fff]", question)) / 2
    )

    new_topic: str | None = None
    refers_back = False
    if english:
        asked = _EN_OPENER.sub("", question)  # "That reminds me, how long…": the opener points at nothing
        asked = _EN_EXPLETIVE_IT.sub(" ", asked)
        m = _EN_SWAP.match(asked)
        words = re.findall(r"[A-Za-z']+", asked)
        if m and (len(words) <= 8 or not _EN_ACTOR.search(asked)):
            # "And the next item, 以行动践廉?" swaps the topic; "And what are the 'five nots' the 市政府办公室 asks of
            # its staff?" is a whole question of its own.
            new_topic = _PUNCT.sub(" ", next(g for g in m.groups() if g is not None)).strip()
            if _EN_PRONOUN.match(new_topic) or not new_topic:
                refers_back, new_topic = True, None
        elif (
            _EN_PRONOUN.match(asked)
            or (len(words) <= 2 and not re.search(r"[\u4e00-\u9fff]", asked))  # "Who is 赵志权?" names its own subject
            or (len(words) <= 8 and (_EN_PRONOUN_WORD.search(asked) or _EN_POINTING.search(asked)))
            # "What do they do when one division is overloaded?": longer, but naming no actor of its own.
            or (len(words) <= 14 and not _EN_ACTOR.search(asked) and _EN_PRONOUN_WORD.search(asked))
        ):
            refers_back = True
    else:
        body = _PUNCT.sub("", question)
        pronoun = next((p for p in _ZH_PRONOUN if body.startswith(p)), "")
        if (
            pronoun
            and not body.startswith(("此外", "其他", "其实"))
            and not body[len(pronoun) :].startswith(_ZH_TIME_AFTER_PRONOUN)
        ):
            refers_back = True
        else:
            new_topic = _swap_topic_zh(question)
            if new_topic is not None and (not new_topic or any(new_topic.startswith(p) for p in _ZH_PRONOUN)):
                refers_back, new_topic = True, None
            elif new_topic is None:
                content = _content(question)
                for word in sorted(_ZH_GENERIC, key=len, reverse=True):
                    content = content.replace(word, "")
                if len(content) <= 2:  # "具体怎么做的？", "有哪些成效？": nothing of its own to search
                    refers_back = True
                elif not _names_actor(body, question) and (
                    _dropped_subject(body) or _points_back(body, topic) or _only_everyday_words(body)
                ):
                    refers_back = True

    if new_topic and not any(not is_frame for _, is_frame in _split_terms(new_topic)):
        # "此外还有哪些措施？", "and why?": no new topic named, so it is about the previous one.
        refers_back, new_topic = True, None
    if new_topic:
        carried = [t for t in frame if t not in new_topic]
        return " ".join([new_topic, *carried]).strip()
    if refers_back:
        carried = [t for t in (topic or [t for t, _ in terms]) if t not in question]
        return " ".join([*carried, question]).strip()
    return question
