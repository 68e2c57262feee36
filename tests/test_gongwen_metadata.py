"""公文 fields from a document's text: 发文机关, 文号, 成文日期, 文种, 密级 (realistic headers and the bundled corpus)."""

from __future__ import annotations

import pytest

from ingest.documents import prepare_documents
from ingest.loaders import load
from ingest.metadata import DocumentMetadata, extract_metadata, office_key
from tests.conftest import CORPUS

NOTICE = """上海市人民政府办公厅文件
沪府办发〔2023〕12号
上海市人民政府办公厅关于印发《上海市推进数字政府建设实施方案》的通知
各区人民政府，市政府各委、办、局：
经市政府同意，现将《上海市推进数字政府建设实施方案》印发给你们，请认真按照执行。
上海市人民政府办公厅
2023年3月5日
（此件公开发布）
抄送：市委办公厅。
上海市人民政府办公厅 2023年3月6日印发"""

CLASSIFIED = """000123
机密★1年
特急
中共某某市委办公室文件
某委办发【2022】7号
签发人：张三
关于进一步加强保密工作的意见
各县（区）委，市直各单位：
为贯彻落实2021年12月召开的全市保密工作会议精神，根据某委发〔2021〕3号文件要求，现提出如下意见。
一、提高思想认识。
中共某某市委办公室
二〇二二年十一月二十八日"""

SPEECH = """在全市机关党建工作会议上的讲话
（2023年6月30日）
李四
同志们：
今天召开这次会议，主要任务是总结工作、部署任务。一要提高站位。二要压实责任。
"""

REPLY = """某某县人民政府
关于同意设立县数据局的批复
县政务服务办：
你办《关于设立县数据局的请示》（县政服〔2024〕5号）收悉。经研究，批复如下：同意设立。
2024年1月8日"""


def meta(text: str, title: str = "") -> DocumentMetadata:
    """Extract as ingestion does: the first line is the title when it reads as one."""
    if not title:
        first, _, rest = text.partition("\n")
        title, text = first, rest
    return extract_metadata(title, text)


def test_a_notice_gives_every_field_from_its_header_and_signature():
    got = meta(NOTICE)
    assert got == DocumentMetadata(
        office="上海市人民政府办公厅",
        doc_number="沪府办发〔2023〕12号",
        date="2023-03-05",
        doc_type="通知",
        doc_title="上海市人民政府办公厅关于印发《上海市推进数字政府建设实施方案》的通知",  # not the "…文件" header
    )


def test_a_classified_opinion_with_other_brackets_and_a_chinese_date():
    got = meta(CLASSIFIED)
    assert got.classification == "机密"
    assert (
        got.doc_number == "某委办发〔2022〕7号"
    )  # 【】 normalised to 〔〕; the cited 某委发〔2021〕3号 is not its own
    assert got.date == "2022-11-28"  # not 2021年12月, which is a date in a sentence
    assert got.doc_type == "意见"
    assert got.office == "中共某某市委办公室"


def test_a_speech_takes_its_date_under_the_title_and_has_no_office_it_does_not_print():
    got = meta(SPEECH)
    assert got.doc_type == "讲话" and got.date == "2023-06-30"
    assert got.doc_number is None and got.classification is None and got.office is None


def test_a_reply_names_its_issuer_on_the_first_line_and_a_cited_number_is_not_its_own():
    got = meta(REPLY)
    assert got.office == "某某县人民政府" and got.doc_type == "批复" and got.date == "2024-01-08"
    assert got.doc_number is None


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("沪府办发[2023]12号", "沪府办发〔2023〕12号"),
        ("国办函（2019）108号", "国办函〔2019〕108号"),
        ("京政发〔2020〕第3号", "京政发〔2020〕第3号"),
    ],
)
def test_doc_number_brackets_are_normalised(number, expected):
    assert meta(f"关于做好某项工作的通知\n{number}\n正文。").doc_number == expected


@pytest.mark.parametrize(
    "text",
    [
        "关于某事的通知\n今年3月，我们开展了检查。\n2023年2月30日",  # no such day
        "关于某事的通知\n正文。\n20xx年x月x日",  # a masked date
        "关于某事的通知\n2023年3月5日，市委召开会议，研究部署工作。",  # a date in a sentence
    ],
)
def test_no_date_is_invented(text):
    assert meta(text).date is None


def test_classification_only_as_a_marking_near_the_top():
    assert meta("关于保密工作的通知\n各单位要严守秘密。\n机密文件要专柜存放。").classification is None
    assert meta("绝密★长期\n关于某事的请示\n正文。", title="绝密★长期").classification == "绝密"


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        ("关于2023年度工作情况的报告", "报告"),
        ("关于请求拨付专项经费的请示", "请示"),
        ("关于商请支持某项工作的函", "函"),
        ("市长办公会议纪要", "纪要"),
        ("某某市政府信息公开实施办法", "办法"),
        ("关于印发《某某实施方案》的通知", "通知"),  # the last word counts, not the attachment's
        ("在全省办公厅系统工作会议上的讲话", "讲话"),
        ("接受锻造洗礼 淬炼过硬本领", None),
        ("通知", None),
        ("某某市机关公文处理办法（2023年修订）", "办法"),
        ("关于某事的实施意见（征求意见稿）", "意见"),
    ],
)
def test_doc_type_from_the_title_last_words(title, kind):
    assert meta("正文第一段。", title=title).doc_type == kind


def test_office_key_drops_masks_and_spelling_variants():
    assert office_key("**市人民政府办公室") == office_key("xx市政府办公室") == "市政府办公室"
    assert office_key("市政府办公室党总支部") == "市政府办公室党总支"


def _corpus() -> dict[str, DocumentMetadata]:
    out = {}
    for path in sorted(CORPUS.glob("*.txt")):
        for doc in prepare_documents(load(path)):
            out[doc.title] = extract_metadata(doc.title, doc.text)
    return out


def test_bundled_corpus_offices_and_types():
    got = _corpus()
    assert len(got) == 10  # 004 is a compilation of six articles
    by_start = {title[:8]: (m.office, m.doc_type) for title, m in got.items()}
    assert by_start["市委办公厅坚持以"] == ("市委办公厅", "经验材料")
    assert by_start["*市委办公室全面"] == ("市委办公室", "经验材料")
    assert by_start["**市人民政府办"] == ("市政府办公室党总支", "经验材料")
    assert by_start["接受锻造洗礼 淬"] == ("省委办公厅", "经验材料")
    assert by_start["深入开展“四讲”"] == ("省政府办公厅", "经验材料")
    # A talk that exhorts ("一要…二要…") is not experience material; unsure is None, not a guess.
    assert by_start["习近平总书记在学"] == ("市政府办公室", None)
    assert by_start["把思想和行动统一"] == (None, None)
    # The samples print no 文号, no 成文日期 and no 密级: none is invented.
    assert all(m.doc_number is None and m.date is None and m.classification is None for m in got.values())
