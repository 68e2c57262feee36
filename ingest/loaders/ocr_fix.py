"""Known OCR misreadings of Chinese office text put right: 文号 brackets, and stray marks at line ends."""

from __future__ import annotations

import re

# 文号 (document numbers) are written 机关代字〔年份〕序号号, e.g. 沪府办发〔2023〕12号. The recognisers have
# no 〔〕 in mind and return 【】, [], ［］ or （） instead (observed: 【2023】 from PP-OCRv4).
_DOC_NUMBER = re.compile(
    r"(?P<office>[\u4e00-\u9fff]{1,12})\s*[【\[［(（〔{｛]\s*(?P<year>(?:19|20)\d{2})\s*[】\]］)）〕}｝]"
    r"\s*(?P<serial>\d{1,5})\s*(?P<hao>号)"
)
# Specks at a scanned line's start or end come back as a lone middle dot or underscore (observed on
# noisy pages): nothing in office prose begins or ends a line with them.
_EDGE_SPECK = re.compile(r"^[·•_]+|[·•_]+$")


def fix_doc_numbers(text: str) -> str:
    """沪府办发【2023】12号 → 沪府办发〔2023〕12号 (and the same for [] ［］ （） around a year)."""
    return _DOC_NUMBER.sub(lambda m: f"{m['office']}〔{m['year']}〕{m['serial']}{m['hao']}", text)


def normalise_line(line: str) -> str:
    """One OCR'd line with the known confusions put right."""
    return fix_doc_numbers(_EDGE_SPECK.sub("", line.strip()))
