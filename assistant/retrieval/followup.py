"""Follow-up questions: rewritten into standalone questions, by rules (extractive) or by the chat model."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from assistant.answering.subject import names_a_thing
from assistant.retrieval.courtesy import is_courtesy, without_lead_filler
from assistant.retrieval.followup_en import english_followup
from assistant.retrieval.own_term import asks_what_it_names
from assistant.retrieval.subject_words import (
    continues_without_subject,
    only_everyday_words,
    own_subject,
    specific_word,
    strip_question_words,
)
from assistant.text import PUNCT

_QUOTED = re.compile(r"[“\"「『‘']([^”\"」』’']{1,20})[”\"」』’']")
_TOKEN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+|[A-Za-z][A-Za-z0-9'’-]*|\d+")
# Words that frame a question ("how do offices implement …") rather than name its topic: a
# follow-up such as "那保密工作呢？" keeps the frame and swaps the topic.
_ZH_FRAME = tuple(
    (
        "党委办公厅 政府办公厅 党员干部 党组织 办公室 办公厅 党支部 机关 单位 部门 干部 落实 开展 推进 推动 加强 建立 健全 实行 执行 实施 贯彻 做好 抓好 组织 做法 "
        "措施 经验 成效 要求"
    ).split()
)
# An office, a Party organisation or a government: what a follow-up names when it asks the same of another actor.
_ACTORS = (
    "办公室",
    "办公厅",
    "党支部",
    "党总支",
    "党组",
    "党委",
    "政研室",
    "保密办",
    "委员会",
    "政府",
    "市委",
    "省委",
    "县委",
    "office",
    "committee",
    "government",
    "branch",
)
_ZH_PRONOUN = tuple(
    "它们 它的 它 他们 她们 他 她 其中 其 这个 这些 这项 这种 这一 这方面 该 上述 此 那个 那些 这位 那位 这名 这份 这是 那是 "
    "里面 里头 里边 文里 上面 前面 刚才 刚刚".split()
)
# Pointers that refer back wherever they stand ("遇到重大文稿任务时他们会怎么做？"), in a question naming no actor.
_ZH_POINTER_ANYWHERE = (
    "他们",
    "她们",
    "它们",
    "它",
    "这位",
    "那位",
    "上述",
    "其中",
    "这些",
    "那些",
    "刚才",
    "刚刚",
    "上面的",
    "那里",  # "同事们为什么把那里叫作“冷部门”？": the place just discussed
    "那儿",
)
# "负责这块工作的同志", "上岗前那一步": a demonstrative with its measure word points at what was discussed ("这次去云南"
# is the user's own occasion, not one discussed: 次 is left out).
_ZH_DEMONSTRATIVE = re.compile(r"[这那]一?[块步项件条个种类点些份篇位名届批]")
# "文稿服务质量又是怎么提升的？": 又 asks the same again of what was just discussed.
_ZH_AGAIN = re.compile(r"又(?:是|有|如何|怎么|怎样|在|作出|做了|要|该|能|会|采取|写|办|开展|推出|出台|建立|取得)")
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
    r"^(?:第[一二三四五六七八九十\d]+|最后一|前[两二三四五]|后[两二三四五])(?:个|条|项|点|种|类|句|部分|道|要|步|招|批|轮|阶段|方面|层)"
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
# "用中文再说一遍", "再精简一点": asks for the last answer again, in other words.
_ZH_SAY_AGAIN = re.compile(
    r"再(?:说|讲|解释|概括|总结|精简|简单|简短|详细|通俗)|(?:说|讲)一遍|(?:用|换成|翻译成)(?:中文|英文|英语|汉语)"
    r"|(?:简短|精简|简单|通俗|详细)(?:一点|一些|些)"
)
# "为啥大家管它叫冷部门？": pointers that stand for what was discussed even in a question naming an office.
_ZH_STRONG_POINTER = ("它", "上述", "刚才", "刚刚")
# "市委办公厅有没有同样的制度？": the same as what was just discussed (not "和市委一样的", which names it).
_ZH_SAME = re.compile(r"(?:同样|类似)的")
_ZH_SAME_AS_NAMED = re.compile(r"[和跟与像].{0,12}(?:同样|类似)")
# "个人方面呢，有没有人获奖？": "and as for X?" then the question about it.
_ZH_ELLIPSIS_CLAUSE = re.compile(r"^[^，,。？?]{1,8}呢[，,]")


def _content(text: str) -> str:
    """The words of a question without punctuation, question words and particles."""
    return PUNCT.sub("", strip_question_words(text))


def _split_terms(text: str) -> list[tuple[str, bool]]:
    """A question's key terms in order, each flagged True when it frames rather than names the topic."""
    terms: list[tuple[str, bool]] = []
    # Quoted terms (“双报到”) are names: keep them whole before anything cuts them.
    pieces = _QUOTED.split(text)
    for i, piece in enumerate(pieces):
        if i % 2 == 1:
            terms.append((piece.strip(), False))
            continue
        for token in _TOKEN.findall(strip_question_words(piece)):
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


# A quoted saying (“他山之石，可以攻玉”) is a subject of its own; a short quoted term (“微调研”) may be one the last answer used.
_SAYING_CHARS = 6


def _strong_pointer(body: str, question: str) -> bool:
    """True for a Chinese question with 它 / 上述 / 刚才 that no office or quoted name comes before ("为啥大家管它叫
    冷部门？"); after one it stands for that ("市委办公室提出的“三个零”原则是什么，它适用于…"). "同样的制度" compares with
    what was discussed wherever it stands, unless the question names what it compares with ("和…同样的")."""
    if _ZH_SAME.search(body) and not _ZH_SAME_AS_NAMED.search(body):
        return True
    at = min((i for p in _ZH_STRONG_POINTER if (i := body.find(p)) >= 0), default=-1)
    if at < 0:
        return False
    named_before = _ZH_ACTOR.search(body[:at]) or re.search(r"[“《\"]", question[: question.find(body[at])])
    return not named_before


def _says_again(body: str, question: str) -> bool:
    """True for a request to say the last answer again in other words ("用中文再说一遍"), not to translate a phrase the
    question quotes itself ("帮我把“党建引领”翻译成英文")."""
    return bool(_ZH_SAY_AGAIN.search(body)) and not _QUOTED.search(question)


def _names_actor(body: str, question: str, previous: str = "") -> bool:
    """True for a Chinese question with a subject of its own: an office that acts, a titled document
    (《保守国家秘密法》; `body` is the question without punctuation, so the title is looked for in `question`), or a
    quoted phrase the last question did not use ("“他山之石，可以攻玉”出自哪里？")."""
    if _ZH_ACTOR.search(body) or re.search(r"《[^》]+》", question):
        return True
    return any(len(term) >= _SAYING_CHARS and term not in previous for term in _QUOTED.findall(question))


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
    pointers = [(m.start(), m.group()) for m in _ZH_DEMONSTRATIVE.finditer(body)]
    pointers += [(at, p) for p in _ZH_POINTER_ANYWHERE if (at := body.find(p)) >= 0]
    if _ZH_AGAIN.search(body) or any(not body[at + len(p) :].startswith(_ZH_TIME_AFTER_PRONOUN) for at, p in pointers):
        return True
    if any(len(t) >= 2 and t in body and names_a_thing(t) for t in previous_topic):
        return False  # "双报到是什么？" after a question about 双报到 names that topic itself
    if own_subject(body, " ".join(previous_topic)):
        return False  # "数据库索引为什么能加快查询？" after one on 涉密人员管理数据库 shares a word but asks of its own
    pairs = {t[i : i + 2] for t in previous_topic for i in range(len(t) - 1)}
    return any(pair in body for pair in pairs if specific_word(pair))


def _swap_topic_zh(question: str) -> str | None:
    """The new topic of a "那X呢？" follow-up, or None when the question is not of that shape."""
    rest = PUNCT.sub(" ", question).strip()
    lead = ""
    while True:  # "那么，还有…" carries several lead words
        word = next((w for w in _ZH_SWAP_LEAD if rest.startswith(w)), "")
        if not word:
            break
        lead += word
        rest = rest[len(word) :].strip()
    if lead and asks_what_it_names(rest):
        return None  # "那么，“四抓两整治”指的是什么？": the lead word only connects a question about a term of its own
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


def rewrite_followup(
    question: str, history_questions: Sequence[str], judge: Callable[[str, str, bool], bool] | None = None
) -> str:
    """What to search for a question asked after others, until a language model can rewrite it.

    A follow-up that swaps the topic ("那保密工作呢？", "what about confidentiality?") keeps the
    previous question's framing words (机关, 落实 …) and takes the new topic; one that refers back
    ("它有什么要求？", "why?", short questions) is searched together with the previous topic. Any
    other question is returned unchanged.

    Args:
        question: the question as typed.
        history_questions: earlier questions of the conversation, oldest first, as they were
            searched (already rewritten), so a chain of follow-ups keeps its context.
        judge: decides whether the question needs its history, given (question, previous question, what the
            rules say) — `LearnedFollowups.needs_history`; None: the rules decide. The rules word the rewrite.

    Returns:
        The text to search: the question itself, or its key terms joined by spaces.
    """
    typed = question.strip()
    # "谢谢" between two questions continues nothing: the one before it is the last question.
    previous = next((h.strip() for h in reversed(history_questions) if h and h.strip() and not is_courtesy(h)), "")
    if not typed or not previous or is_courtesy(typed):
        return typed
    question = without_lead_filler(typed)
    if is_courtesy(question):  # "好的，谢谢！"
        return typed
    searched = _rewrite(question, previous)
    rules_say = searched != question
    # Asking what a term of its own is ("“清单化管理”是什么意思？", "Who is 安洪涛?") stands alone: the classifier read
    # such short questions as needing their history on three blind sets in a row, the rules had them right.
    settled = not rules_say and asks_what_it_names(question)
    if judge is not None and not settled and judge(question, previous, rules_say) != rules_say:
        searched = _with_previous_topic(question, _split_terms(previous)) if not rules_say else question
    return typed if searched == question else searched


def _topic_kept_for_new_actor(new_topic: str, terms: list[tuple[str, bool]]) -> list[str]:
    """The previous question's topic when the follow-up names only another actor: "那市政府办公室呢？" after
    "市委办公室是怎样落实双报到制度的？" asks the same of another office (双报到制度 stays, 市委 goes); none otherwise."""
    if not new_topic.lower().endswith(_ACTORS):
        return []
    kept = []
    for i, (term, is_frame) in enumerate(terms):
        # 市委 before 办公室 is the previous actor's name, as is a term that is an actor itself.
        before_actor = i + 1 < len(terms) and terms[i + 1][0].lower().endswith(_ACTORS)
        if not is_frame and not before_actor and not term.lower().endswith(_ACTORS) and term not in new_topic:
            kept.append(term)
    return kept


def _with_previous_topic(question: str, terms: list[tuple[str, bool]]) -> str:
    """The question searched together with the previous question's topic (`_split_terms` of it; its frame words when it
    has no topic)."""
    topic = [t for t, is_frame in terms if not is_frame] or [t for t, _ in terms]
    return " ".join([*(t for t in topic if t not in question), question]).strip()


def _rewrite(question: str, previous: str) -> str:
    """rewrite_followup for a question without courtesy or filler before it."""
    terms = _split_terms(previous)
    frame = [t for t, is_frame in terms if is_frame]
    topic = [t for t, is_frame in terms if not is_frame]
    # "what about 保密工作?" is framed in English; "Python里怎么…" in Chinese.
    # By words: a Chinese character is about half a word, so "Python怎么读取Excel文件？" (2 Latin words, 6 characters)
    # is Chinese and "What is 双报到?" (2 words, 3 characters) English; a tie is English ("What about the 市政府办公室?").
    english = (
        bool(re.match(r"\W*[A-Za-z]", question))
        and len(re.findall(r"[A-Za-z]+", question)) >= len(re.findall(r"[\u4e00-\u9fff]", question)) / 2
    )

    new_topic: str | None = None
    refers_back = False
    if english:
        new_topic, refers_back = english_followup(question, names_office=bool(_ZH_ACTOR.search(question)))
    else:
        body = PUNCT.sub("", question)
        # "“他山之石，可以攻玉”出自哪里？": a quotation opening with 他 is no pronoun.
        # "那他们创建了几个…": the pronoun after a connective 那 is still the subject.
        opening = body if body.startswith(_ZH_PRONOUN) else re.sub(r"^那么?", "", body)
        pronoun = (
            "" if question.startswith(("“", '"', "「")) else next((p for p in _ZH_PRONOUN if opening.startswith(p)), "")
        )
        if _ZH_ELLIPSIS_CLAUSE.match(question) or _strong_pointer(body, question) or _says_again(body, question):
            refers_back = True
        elif (
            pronoun
            and not opening.startswith(("此外", "其他", "其实"))
            and not opening[len(pronoun) :].startswith(_ZH_TIME_AFTER_PRONOUN)
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
                elif not _names_actor(body, question, previous) and (
                    _dropped_subject(body)
                    or _points_back(body, topic)
                    or only_everyday_words(body)
                    or continues_without_subject(body, previous)
                ):
                    refers_back = True

    if new_topic and not any(not is_frame for _, is_frame in _split_terms(new_topic)):
        # "此外还有哪些措施？", "and why?": no new topic named, so it is about the previous one.
        refers_back, new_topic = True, None
    if new_topic:
        carried = [t for t in frame if t not in new_topic]
        return " ".join([new_topic, *_topic_kept_for_new_actor(new_topic, terms), *carried]).strip()
    if refers_back:
        return _with_previous_topic(question, terms)
    return question
