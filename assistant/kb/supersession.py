"""Supersession: a newer document of the same office with the same 文号 or title replaces the older one."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable

from assistant.kb.records import DocumentRecord
from assistant.results import Passage
from ingest.metadata import office_key

# "旧版", "修订前", "the previous version": the question asks about the older text on purpose.
_ASKS_OLDER = re.compile(
    r"旧版|老版|原版|原来的|原先的?|此前的?|以前的?|之前的?|上一版|前一版|修订前|修改前|废止|被替代|作废"
    r"|\b(?:old(?:er)?|previous|earlier|former|superseded|original) (?:version|edition|text|rules?|notice)\b",
    re.I,
)
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_TITLE_NOISE = re.compile(r"[\s《》〈〉“”\"'（）()【】\[\]]+|[\*xX]{2,}")


def successors(documents: Iterable[DocumentRecord]) -> dict[str, DocumentRecord]:
    """Each superseded document's id -> the newest document of its office with its 文号 or title.

    Only documents that print an office and a date take part: without them "newer" and "the same
    office" cannot be told, and a wrong label on a valid rule is worse than none.
    """
    groups: dict[tuple[str, str], list[DocumentRecord]] = {}
    for doc in documents:
        if not (doc.office and doc.date):
            continue
        office = office_key(doc.office)
        if doc.doc_number:
            groups.setdefault((office, "文号:" + doc.doc_number), []).append(doc)
        # The printed 公文 title, not a "…办公厅文件" header line every document of the office shares.
        title = _TITLE_NOISE.sub("", doc.doc_title or doc.title)
        if len(title) >= 4 and not title.endswith("文件"):
            groups.setdefault((office, "标题:" + title), []).append(doc)
    newest: dict[str, DocumentRecord] = {}
    for group in groups.values():
        latest = max(group, key=lambda d: (d.date or "", d.ingested_at))
        for doc in group:
            if (doc.date or "") < (latest.date or "") and doc.doc_id != latest.doc_id:
                current = newest.get(doc.doc_id)
                if current is None or (latest.date or "") > (current.date or ""):
                    newest[doc.doc_id] = latest
    return newest


def label(newer: DocumentRecord) -> str:
    """How a citation of the older document says so: 已被《…》（2024-03-01）替代."""
    return f"已被《{newer.doc_title or newer.title}》（{newer.date}）替代"


def asks_about_older(question: str, newer: DocumentRecord) -> bool:
    """True when the question wants the older version: it says so, or names a year before the newer one's."""
    if _ASKS_OLDER.search(question):
        return True
    year = int((newer.date or "0")[:4] or 0)
    return any(int(y) < year for y in _YEAR.findall(question))


class Supersession:
    """Which documents of a knowledge base are superseded; recomputed when the registry's contents change."""

    def __init__(self, documents: Callable[[], list[DocumentRecord]], signature: Callable[[], str]):
        self._documents = documents
        self._signature = signature
        self._lock = threading.Lock()
        self._cached: tuple[str, dict[str, DocumentRecord]] | None = None

    def successors(self) -> dict[str, DocumentRecord]:
        key = self._signature()
        with self._lock:
            if self._cached is None or self._cached[0] != key:
                self._cached = (key, successors(self._documents()))
            return self._cached[1]

    def apply(self, passages: list[Passage], question: str) -> list[Passage]:
        """Label the passages of superseded documents and rank them after the others, unless the question
        asks about the older version; the order among the rest is kept."""
        newer = self.successors()
        if not newer or not any(p.doc_id in newer for p in passages):
            return passages
        demoted: set[int] = set()
        for i, p in enumerate(passages):
            successor = newer.get(p.doc_id)
            if successor is None:
                continue
            p.superseded = label(successor)
            if not asks_about_older(question, successor):
                demoted.add(i)
        return [p for i, p in enumerate(passages) if i not in demoted] + [
            p for i, p in enumerate(passages) if i in demoted
        ]
