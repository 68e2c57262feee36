"""Keyword tokens: jieba in search mode, the knowledge base's domain terms kept whole (BM25 is in bm25.py)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable

# Function words and question words: they match everywhere and say nothing about relevance.
_STOP_ZH = set(
    "的 了 和 与 及 或 是 在 对 为 把 将 被 从 以 于 等 中 上 下 里 也 都 就 而 并 又 其 之 这 那 这些 那些 "
    "一个 一些 有 有些 没有 要 会 能 可以 如何 怎样 怎么 怎么样 什么 哪些 哪个 哪里 哪 谁 多少 几 是否 吗 呢 吧 啊 "
    "为什么 为何 请问 请 介绍 一下 说说 讲讲 具体 主要 方面 情况 问题 有关 关于 通过 进行 开展 工作 做 做了 "
    "采取 采用 措施 举措 做法 做到 哪些方面 怎样才能 我们 你们 他们 它 他 她 我 你".split()
)
_STOP_EN = set(
    "a an the of to in on at by for from with and or is are was were be been do does did how what which who "
    "whom whose why when where that this these those it its as into about their there they them we you i "
    "can could should would will shall may might has have had not no yes any some all more most such than "
    "please tell me describe explain give list".split()
)
_KEEP = re.compile(r"[\u3400-\u9fff\uf900-\ufaffA-Za-z0-9]")
_QUOTED_TERM = re.compile(r"[“\"「『]([\u4e00-\u9fffA-Za-z0-9]{2,8})[”\"」』]")
_BASE_TERMS = [
    "双报到",
    "三会一课",
    "两个维护",
    "两个确立",
    "三服务",
    "主题党日",
    "第一议题",
    "清廉机关",
    "党建联盟",
    "督查督办",
]


def quoted_terms(text: str) -> set[str]:
    """Jargon the documents put in quotation marks (“双报到”, “三会一课”): kept whole by the tokenizer."""
    return {m.group(1) for m in _QUOTED_TERM.finditer(text) if not m.group(1).isdigit()}


class Tokenizer:
    """jieba in search mode with the knowledge base's own terms; lower-cased, stop words dropped."""

    def __init__(self, terms: Iterable[str] = ()):
        import jieba

        jieba.setLogLevel(60)  # jieba prints "Building prefix dict…" to stderr otherwise
        self._jieba = jieba.Tokenizer()
        self._jieba.initialize()
        self.terms: set[str] = set()
        self.add_terms(_BASE_TERMS)
        self.add_terms(terms)
        self._lock = threading.Lock()

    def add_terms(self, terms: Iterable[str]) -> bool:
        """Add words to the dictionary; True when any was new."""
        new = set(terms) - self.terms
        for term in sorted(new):
            self._jieba.add_word(term, freq=max(self._jieba.suggest_freq(term), 20000))
        self.terms |= new
        return bool(new)

    def tokenize(self, text: str) -> list[str]:
        # jieba's Tokenizer mutates its caches while cutting; one thread at a time.
        with self._lock:
            words = list(self._jieba.cut_for_search(text))
        tokens = []
        for word in words:
            word = word.strip().lower()
            if not word or not _KEEP.search(word) or word in _STOP_ZH or word in _STOP_EN:
                continue
            tokens.append(word)
        return tokens
