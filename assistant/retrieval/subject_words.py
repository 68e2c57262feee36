"""Which words of a Chinese question name a subject of its own, judged by jieba's dictionary frequency and part of speech."""

from __future__ import annotations

import re

import jieba
import jieba.posseg

_CJK_PAIR = re.compile(r"[\u4e00-\u9fff]{2}")

# Question words and particles: they say how something is asked, not what about.
QUESTION_WORDS = tuple(
    "是怎样 是如何 怎么样 怎样 怎么说 怎么 如何 是什么 什么 哪些 哪个 哪里 哪家 哪所 哪位 哪一 哪年 哪天 哪种 哪类 是谁 谁 "
    "为什么 是否 多少 多久 多长 请问 请 一下 的 了 吗 呢 吧 啊".split()
)


def strip_question_words(text: str) -> str:
    """`text` with its question words and particles (怎么, 哪些, 的, 吗 …) replaced by spaces."""
    for word in QUESTION_WORDS:
        text = text.replace(word, " ")
    return text


def _words(body: str) -> list[tuple[str, str]]:
    """The question's words of two characters or more with jieba's part of speech, question forms left out."""
    return [
        (w.word, w.flag)
        for w in jieba.posseg.cut(body)
        if len(w.word) >= 2 and not w.word.startswith(("几", "多少", "哪")) and w.word not in QUESTION_WORDS
    ]


def own_subject(body: str, previous: str) -> bool:
    """True when the question names a thing the last question did not, sharing no word with it: a rare noun of
    the dictionary (索引 205, 高铁 350) or a name (呼和浩特, 北京). Everyday words (工作, 地点, 目的) and actions (提速)
    name nothing of their own; 档案室 after a question on 档案 names the same thing more closely."""
    jieba.dt.check_initialized()
    for word, flag in _words(body):
        if flag[0] != "n" or any(word[i : i + 2] in previous for i in range(len(word) - 1)):
            continue
        freq = jieba.dt.FREQ.get(word, 0)
        if flag in ("ns", "nr", "nt", "nz") or freq < _COMMON_WORD_FREQ:
            return True
    return False


# Characters that say nothing about a topic: shared with the last question, they do not tie a question to it.
_FUNCTION_CHARS = set("的了是在有和与及吗呢吧啊么什怎哪谁几多少个一不这那要会能可以为也都就还又对把被从到由给让")


def continues_without_subject(body: str, previous: str) -> bool:
    """True for a question with no subject of its own that opens with a verb, what was done ("办的都是哪些班？",
    "学完回来推进了哪些工作？"), and shares a word's character with the last question: it goes on about that.
    "去哪里玩比较好？" after a question on 培训 shares none, and is a question of its own. (One opening with a
    preposition, "在岗期间由谁负责监督？", is left alone: "在社区开居住证明需要带什么材料？" opens so too.)"""
    words = list(jieba.posseg.cut(body))
    if not words or words[0].flag != "v" or own_subject(body, previous):
        return False
    shared = (set(body) & set(previous)) - _FUNCTION_CHARS
    return any("\u4e00" <= ch <= "\u9fff" for ch in shared)


# A word this common in jieba's dictionary (工作 66k, 学习 13k, 活动 28k) is shared by questions on anything; 调研 (605),
# 保密 (675) and 文稿 (115) carry a topic on. "工作日怎么请假？" after a question on 保密工作 is a new question.
_COMMON_WORD_FREQ = 1500


# A word at least this common (一般, 时间, 每月 1,307, 最近) is one a question on anything uses: a short question made only
# of such words that asks for a figure, a length of time, a date or a person ("一般要多长时间？", "每月几天？", "最近一次是哪年？",
# "每一级分别是谁？")
# names nothing to search and goes on with the last one. One that asks what or how ("明天天气怎么样？", "今天吃什么？")
# is a question of its own on something else.
_EVERYDAY_WORD_FREQ = 1000
_SHORT_QUESTION_CHARS = 8
_ASKS_A_VALUE = re.compile(r"几|多少|多久|多长|哪年|哪一年|哪天|哪一天|何时|什么时候|谁")
# "今天星期几？", "今年是哪一年？": the calendar asked of the day or year the user is in, not of what was discussed.
_CALENDAR = re.compile(
    r"(?:今天|明天|昨天|后天|现在)是?(?:星期|礼拜|周)几|(?:今天|明天|昨天|后天)是?几[号月]|(?:今年|明年|去年)是?(?:哪一?年|几几年)"
)


def only_everyday_words(body: str) -> bool:
    """True for a short Chinese question asking for a value in everyday words and question forms only (see above)."""
    if len(body) > _SHORT_QUESTION_CHARS or re.search(r"[A-Za-z0-9]", body) or not _ASKS_A_VALUE.search(body):
        return False
    if _CALENDAR.search(body):
        return False
    jieba.dt.check_initialized()
    # "有几章几条？": 几章 asks, it names nothing; 几点 and 几号 ask the time and the date of today, an everyday question.
    words = [
        w
        for w in jieba.lcut(strip_question_words(body))
        if len(w.strip()) >= 2 and (not w.startswith(("几", "多少")) or w in ("几点", "几号"))
    ]
    return all(jieba.dt.FREQ.get(w, 0) >= _EVERYDAY_WORD_FREQ for w in words)


def specific_word(pair: str) -> bool:
    """True for a two-character Chinese word of the dictionary that is not an everyday one."""
    jieba.dt.check_initialized()  # the dictionary loads on first use
    freq = jieba.dt.FREQ.get(pair, 0)
    return bool(_CJK_PAIR.fullmatch(pair)) and 0 < freq < _COMMON_WORD_FREQ
