"""What an official document says about itself: its issuing office and its other 公文 fields."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from ingest import gongwen

# "市委办公厅", "**市人民政府办公室党总支部", "省政府办公厅": a level, the body, its general office and,
# where the document is a Party branch's report, the branch. Without the level ("办公厅") the name
# is ambiguous, and a longer prefix would swallow the words before it ("制定市委办公室").
_OFFICE = re.compile(
    r"(?P<level>省|市|县|区|州|旗)(?P<body>委|人民政府|政府|人大常委会|政协)办公(?P<kind>厅|室)"
    r"(?P<branch>机关党委|党总支部?|党支部)?"
)
SCAN_CHARS = 3000  # an issuer names itself early: in the title, the opening, or the first paragraphs
# Bump when extraction changes: the registry then re-extracts every document's fields from its stored text.
METADATA_VERSION = "2"  # 2: doc_title


def _office_names(text: str) -> list[tuple[int, str]]:
    """Each office name in the text with its offset, variants spelled one way (人民政府 -> 政府, 党总支部 -> 党总支)."""
    out = []
    for m in _OFFICE.finditer(text):
        body = "政府" if m.group("body") == "人民政府" else m.group("body")
        branch = "党总支" if (m.group("branch") or "").startswith("党总支") else (m.group("branch") or "")
        out.append((m.start(), f"{m.group('level')}{body}办公{m.group('kind')}{branch}"))
    return out


def named_offices(question: str) -> list[str]:
    """The offices a question names ("市委办公厅第三党支部…" -> ["市委办公厅"]), in order, without repeats."""
    return list(dict.fromkeys(name for _, name in _office_names(question)))


def issuing_office(text: str) -> str | None:
    """The office a document speaks for, as the name it uses most often in its opening (None if none).

    Variants of one name count together ("市人民政府办公室党总支部" and "市政府办公室党总支" are one
    office); on a tie the name with its Party branch wins, since a branch's report names the office
    it belongs to as well.
    """
    counts: Counter[str] = Counter()
    first: dict[str, int] = {}
    for start, name in _office_names(text[:SCAN_CHARS]):
        counts[name] += 1
        first.setdefault(name, start)
    if not counts:
        return None
    # The most frequent name; on a tie the longer one (the branch that reports), then the earlier one.
    return max(counts, key=lambda n: (counts[n], len(n), -first[n]))


# Masks the published samples print in place of names ("**市", "xx市") and what one office is called
# in several ways: a filter for "市人民政府办公室" must find "**市人民政府办公室" and "xx市政府办公室".
_MASK = re.compile(r"[*＊xX×]+")


def office_key(name: str) -> str:
    """An office name as compared by filters: masks and spaces gone, 人民政府 -> 政府, 党总支部 -> 党总支."""
    key = _MASK.sub("", re.sub(r"\s+", "", name))
    return key.replace("人民政府", "政府").replace("党总支部", "党总支")


@dataclass(frozen=True)
class DocumentMetadata:
    """What a document says about itself (each None when it does not say it)."""

    office: str | None = None  # 发文机关
    doc_number: str | None = None  # 文号, brackets as 〔〕
    date: str | None = None  # 成文日期, YYYY-MM-DD
    doc_type: str | None = None  # 文种: 通知, 意见, 讲话, 经验材料, …
    classification: str | None = None  # 密级: 秘密, 机密 or 绝密
    doc_title: str | None = None  # the 公文 title line when the stored title is another line (a "…文件" header)


def extract_metadata(title: str, text: str) -> DocumentMetadata:
    """The 公文 fields of a document from its title and cleaned text; never guessed (None when not printed)."""
    # The title line may have been taken off the text (a header line such as "…办公厅文件"): read both.
    whole = text if text.startswith(title) else f"{title}\n{text}"
    lines = gongwen.lines_of(whole)
    real_title = gongwen.title_line(title, lines)
    office = (
        gongwen.header_office(lines)
        or gongwen.title_office(real_title)
        or gongwen.signature_office(lines)
        or issuing_office(whole)
    )
    doc_type = gongwen.type_of_title(real_title)
    if doc_type is None and gongwen.reads_as_experience(text, office is not None):
        doc_type = "经验材料"
    return DocumentMetadata(
        office=office,
        doc_number=gongwen.doc_number(lines),
        date=gongwen.written_date(lines),
        doc_type=doc_type,
        classification=gongwen.classification(lines),
        doc_title=real_title if real_title != title and doc_type is not None else None,
    )
