"""The printed parts of an official document (公文): its 文号, 成文日期, 文种, 密级, title line and issuer."""

from __future__ import annotations

import re
from datetime import date

HEAD_LINES = 12  # the header (机关标志, 份号, 密级, 文号, 签发人, title) fits in the first lines
TAIL_LINES = 12  # the signature block and 版记 (抄送, 印发) fit in the last lines

# 沪府办发〔2023〕12号; Word and OCR give other brackets for 〔〕. The issuer code is a few CJK
# characters right before the bracket (a longer run would swallow "根据" and the like).
_NUMBER = re.compile(
    r"(?P<code>[\u4e00-\u9fff]{1,10})\s*[〔\[【（(［](?P<year>(?:19|20)\d{2})[〕\]】）)］]\s*(?P<n>第?\d{1,5})\s*号"
)
_CN_DIGIT = {"〇": 0, "零": 0, "○": 0, "O": 0, "Ｏ": 0, "一": 1, "二": 2, "三": 3, "四": 4}
_CN_DIGIT |= {"五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_DATE = re.compile(
    r"(?P<y>(?:19|20)\d{2}|[〇零○OＯ一二三四五六七八九]{4})\s*年\s*"
    r"(?P<m>\d{1,2}|[一二三四五六七八九十]{1,2})\s*月\s*"
    r"(?P<d>\d{1,2}|[一二三四五六七八九十]{1,3})\s*日"
)
# A line that is a date and nothing else (a speech puts it in brackets under the title).
_DATE_LINE = re.compile(rf"^[（(]?\s*{_DATE.pattern}\s*[）)]?$")
# 密级 as printed top left: "机密★1年", "秘密", "绝密★长期", "密级：机密", often with 紧急程度 beside it.
_CLASSIFICATION = re.compile(r"^(?:密级\s*[:：]\s*)?(?P<level>绝密|机密|秘密)(?:\s*★\s*\S{0,6})?(?:\s+\S{1,4})?$")
# 文种 by the last words of a title, longest first ("会议纪要" before "纪要", "复函" before "函").
_TYPES = (
    ("经验交流材料", "经验材料"),
    ("经验材料", "经验材料"),
    ("讲话稿", "讲话"),
    ("讲话", "讲话"),
    ("会议纪要", "纪要"),
    ("纪要", "纪要"),
    ("通知", "通知"),
    ("通报", "通报"),
    ("通告", "通告"),
    ("公告", "公告"),
    ("意见", "意见"),
    ("决定", "决定"),
    ("决议", "决议"),
    ("报告", "报告"),
    ("请示", "请示"),
    ("批复", "批复"),
    ("复函", "函"),
    ("的函", "函"),
    ("实施方案", "方案"),
    ("工作方案", "方案"),
    ("方案", "方案"),
    ("实施细则", "细则"),
    ("办法", "办法"),
    ("规定", "规定"),
    ("条例", "条例"),
    ("工作要点", "要点"),
    ("工作总结", "总结"),
    ("工作计划", "计划"),
    ("命令", "命令"),
    ("议案", "议案"),
)
# An issuer's name ends in the kind of body it is.
_ORG_END = re.compile(r"(办公厅|办公室|人民政府|政府|委员会|党委|党组|党总支部?|党支部|[局厅委部院处办署会])$")
_SENTENCE_END = "。！？!?；;，,：:"
_TRAILING_NOTE = re.compile(r"\s*[（(][^（）()]{1,20}[）)]$")  # "（试行）", "（2023年修订）", "（征求意见稿）"


def lines_of(text: str) -> list[str]:
    return [line.strip() for line in text.split("\n") if line.strip()]


def doc_number(lines: list[str]) -> str | None:
    """The document's own 文号, from a header line that starts with it (a 文号 inside a sentence is a cited one)."""
    for line in lines[:HEAD_LINES]:
        m = _NUMBER.match(line)
        if m:
            return f"{m.group('code')}〔{m.group('year')}〕{m.group('n')}号"
    return None


def _cn_number(text: str) -> int:
    """1-31 written as 五, 十二, 二十三, 三十一 (or as digits)."""
    if text.isdigit():
        return int(text)
    if "十" not in text:
        return _CN_DIGIT.get(text, 0)
    tens, _, units = text.partition("十")
    return (_CN_DIGIT.get(tens, 0) if tens else 1) * 10 + (_CN_DIGIT.get(units, 0) if units else 0)


def parse_date(match: re.Match[str]) -> str | None:
    """A date match as YYYY-MM-DD, None when it is no calendar date (20xx年, 2月30日)."""
    y = match.group("y")
    year = int(y) if y.isdigit() else int("".join(str(_CN_DIGIT.get(c, 0)) for c in y))
    try:
        return date(year, _cn_number(match.group("m")), _cn_number(match.group("d"))).isoformat()
    except ValueError:
        return None


def _date_of_line(line: str) -> str | None:
    """The date of a line that is a date, or an issuer then a date ("某某办公厅 2023年3月5日"); not 印发 lines."""
    m = _DATE_LINE.match(line)
    if m is None:
        m = _DATE.search(line)
        if m is None or line[m.end() :].strip("）) ") or not _ORG_END.search(line[: m.start()].strip()):
            return None
    return parse_date(m)


def written_date(lines: list[str]) -> str | None:
    """成文日期: the date line of the signature block near the end, else one right under the title (a speech).

    A date inside a sentence says when something happened, not when the document was written: never taken.
    """
    for line in reversed(lines[-TAIL_LINES:]):
        if "印发" in line or "抄送" in line:
            continue  # 版记: the printing date, not the date of the document
        found = _date_of_line(line)
        if found:
            return found
    for line in lines[:HEAD_LINES]:
        found = _date_of_line(line)
        if found:
            return found
    return None


def signature_office(lines: list[str]) -> str | None:
    """The issuer signed above the date at the end ("上海市人民政府办公厅\\n2023年3月5日")."""
    tail = lines[-TAIL_LINES:]
    for i in range(len(tail) - 1, -1, -1):
        line = tail[i]
        found = _DATE.search(line)
        if "印发" in line or found is None or _date_of_line(line) is None:
            continue
        before = line[: found.start()].strip()
        name = before if before else (tail[i - 1] if i > 0 else "")
        name = name.strip("（(）) ")
        if 2 < len(name) <= 30 and _ORG_END.search(name) and name[-1] not in _SENTENCE_END:
            return name
        return None
    return None


def header_office(lines: list[str]) -> str | None:
    """The 发文机关标志 on top: "上海市人民政府办公厅文件" (or the name alone on the first line)."""
    for line in lines[:3]:
        name = line[:-2] if line.endswith("文件") else line
        name = name.strip()
        if 2 < len(name) <= 30 and _ORG_END.search(name) and not _NUMBER.search(name):
            return name
    return None


def title_line(title: str, lines: list[str]) -> str:
    """The document's title: the given one, or a header line that ends in a 文种 (a long title may wrap)."""
    if type_of_title(title):
        return title
    head = lines[:HEAD_LINES]
    for i, line in enumerate(head):
        if line[-1] in _SENTENCE_END or len(line) > 80:
            continue
        if type_of_title(line) and ("关于" in line or len(line) <= 40):
            return line
        joined = line + head[i + 1] if i + 1 < len(head) else ""
        if joined and "关于" in line and type_of_title(joined) and len(joined) <= 80:
            return joined
    return title


def type_of_title(title: str) -> str | None:
    """文种 by a title's last words: "关于…的通知" -> 通知, "在…会议上的讲话" -> 讲话; None for other titles."""
    title = _TRAILING_NOTE.sub("", title.strip())  # "…的通知（2023年修订）" keeps its type
    if not title or title[-1] in _SENTENCE_END or title.endswith(("》", "”", "…")):
        return None
    for ending, kind in _TYPES:
        if title.endswith(ending):
            # A bare word is no title ("通知"), and "方案" ending a sentence fragment is not one either.
            return kind if len(title) > len(ending) + 1 else None
    return None


def title_office(title: str) -> str | None:
    """The issuer that opens a title: "上海市人民政府办公厅关于…的通知" -> 上海市人民政府办公厅."""
    before, found, _ = title.partition("关于")
    before = before.strip()
    if found and 2 < len(before) <= 30 and _ORG_END.search(before):
        return before
    return None


def classification(lines: list[str]) -> str | None:
    """密级 when printed as a marking in the header ("机密★1年"); None otherwise."""
    for line in lines[:5]:
        m = _CLASSIFICATION.match(line)
        if m:
            return m.group("level")
    return None


# Experience material (经验材料): an organisation telling what it has done ("近年来…坚持…形成…",
# "一是…二是…"). A speech or a study talk exhorts ("一要…", "必须…") instead.
_PRACTICE = re.compile(r"近年来|以来|坚持|建立|形成|开展|推动|推行|实现|取得|累计|先后|打造|创建|组织")
_EXHORT = re.compile(r"(?:^|[，。；：！\n])(?:[一二三四五六七八九十]要|要|必须|务必|应当)")
_ENUMERATION = re.compile(r"[一二三四五]是|^[一二三四五]、", re.M)


def reads_as_experience(text: str, has_office: bool) -> bool:
    """True for a text that reports an organisation's own practice; conservative (False when unsure)."""
    if not has_office:
        return False  # whose experience? without an issuer it may be anything
    practice = len(_PRACTICE.findall(text))
    exhort = len(_EXHORT.findall(text))
    return len(_ENUMERATION.findall(text)) >= 2 and practice >= 8 and exhort * 3 < practice
