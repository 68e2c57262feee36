"""Filters on which documents a search may draw from: issuing office, 文种 and a range of 成文日期."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from assistant.errors import QuestionError
from assistant.kb.registry import DocumentRecord
from ingest.metadata import office_key

FILTER_KEYS = ("office", "doc_type", "since", "until")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date(key: str, value: str) -> str:
    try:
        if _ISO_DATE.match(value):
            return date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    raise QuestionError(f"filter {key!r}: {value!r} is not a date; write it as YYYY-MM-DD, e.g. 2023-03-05")


@dataclass(frozen=True)
class Filters:
    """Which documents may answer: all given conditions hold (an absent one admits every document).

    `office` matches by containment after normalisation (masks such as "**" or "xx" dropped,
    人民政府 = 政府), so "市人民政府办公室" finds "**市人民政府办公室". `since`/`until` are inclusive
    and admit only documents whose 成文日期 is known.
    """

    office: str | None = None
    doc_type: str | None = None
    since: str | None = None
    until: str | None = None

    @classmethod
    def parse(cls, filters: Mapping[str, Any] | Filters | None) -> Filters | None:
        """Filters from a dict such as {"office": "市委办公厅", "since": "2023-01-01"}; None when there are none.

        Raises:
            QuestionError: an unknown key, a value that is not text, or a date not written YYYY-MM-DD.
        """
        if filters is None or isinstance(filters, Filters):
            return filters
        if not isinstance(filters, Mapping):
            raise QuestionError('filters must be a mapping such as {"office": "市委办公厅", "since": "2023-01-01"}')
        values: dict[str, str] = {}
        for key, value in filters.items():
            if key not in FILTER_KEYS:
                raise QuestionError(f"unknown filter {key!r}; the filters are {', '.join(FILTER_KEYS)}")
            if value is None:
                continue
            if not isinstance(value, str):
                raise QuestionError(f"filter {key!r} must be text, not {type(value).__name__}")
            if value.strip():  # an empty field of a form means "no condition"
                values[key] = value.strip()
        for key in ("since", "until"):
            if key in values:
                values[key] = _iso_date(key, values[key])
        if "since" in values and "until" in values and values["since"] > values["until"]:
            raise QuestionError(f"filter 'since' ({values['since']}) is after 'until' ({values['until']}); swap them")
        if "office" in values and not office_key(values["office"]):
            raise QuestionError(f"filter 'office' {values['office']!r} names no office; write a name, e.g. 市委办公厅")
        return cls(**values) if values else None

    def admits(self, doc: DocumentRecord) -> bool:
        if self.office and not (doc.office and office_key(self.office) in office_key(doc.office)):
            return False
        if self.doc_type and doc.doc_type != self.doc_type:
            return False
        if (self.since or self.until) and not doc.date:
            return False  # an undated document cannot be said to fall in the range
        if self.since and doc.date and doc.date < self.since:
            return False
        return not (self.until and doc.date and doc.date > self.until)

    def describe(self) -> str:
        """The conditions in words, for a message that nothing matched."""
        parts = [f"office={self.office}"] if self.office else []
        parts += [f"doc_type={self.doc_type}"] if self.doc_type else []
        parts += [f"since={self.since}"] if self.since else []
        parts += [f"until={self.until}"] if self.until else []
        return ", ".join(parts)


def allowed_documents(filters: Filters | None, documents: Iterable[DocumentRecord]) -> list[str] | None:
    """Ids of the documents the filters admit; None when every document is admitted (no restriction needed)."""
    if filters is None:
        return None
    docs = list(documents)
    allowed = [d.doc_id for d in docs if filters.admits(d)]
    return None if len(allowed) == len(docs) else allowed


def nothing_matched(filters: Filters, english: bool) -> str:
    """The refusal of a question whose filters admit no document: it says so, and what to change."""
    if english:
        return f"No document matches the filters ({filters.describe()}); widen or remove them and ask again."
    return f"没有文件符合筛选条件（{filters.describe()}），请放宽或去掉筛选条件后再问。"
