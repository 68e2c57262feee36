"""Cleaning: junk markers, whitespace near Chinese text, full-width forms, compilations, titles."""

from pathlib import Path

from ingest.clean import clean_text, derive_title, split_compilation

CORPUS = Path(__file__).resolve().parent.parent / "data" / "corpus"


def test_junk_markers_and_stray_spaces_are_removed():
    raw = "##paidbegin##按照省委要求， 在省委主题教育第一巡回指导组指导下，“秘书工作大家谈” “青年学堂”\n\n##paidend##"
    assert clean_text(raw) == "按照省委要求，在省委主题教育第一巡回指导组指导下，“秘书工作大家谈”“青年学堂”"


def test_spaces_between_latin_words_survive_and_fullwidth_letters_become_ascii():
    assert clean_text("Ｐａｒｔｙ building ＡＢＣ１２３ 与 GDP 增长") == "Party building ABC123与GDP增长"


def test_crlf_blank_lines_and_controls_are_normalised():
    assert clean_text("第一行\r\n\r\n\r\n  第二行\x07\t尾  \n") == "第一行\n第二行尾"


def test_markdown_heading_keeps_its_space():
    assert clean_text("# 标题 一\n- 条目 二") == "# 标题一\n- 条目二"


def test_sample_compilation_splits_into_six_titled_articles():
    raw = (CORPUS / "004_a27570de015ca1d1.txt").read_text(encoding="utf-8")
    header, articles = split_compilation(raw)
    assert header == "在2023年办公室工作经验交流、研讨发言材料汇编（6篇）"
    assert [a.title for a in articles] == [
        "接受锻造洗礼 淬炼过硬本领",
        "深入开展“四讲”活动 坚持典型引领 打造模范机关",
        "唯实唯先当好排头兵",
        "党建引领纵深推进清廉机关建设 聚焦主责主业全面提高“三服务”水平",
        "党建联盟强引领聚合力 “出新出彩”促实干树形象",
        "把思想和行动统一到党的二十大精神上高质量做好新时代“三服务”工作",
    ]
    # Nothing of the text is lost: every article body is in the source.
    for article in articles:
        assert clean_text(article.body)[:40] in clean_text(raw)
    assert all("##paid" not in a.body for a in articles)


def test_ordinary_documents_are_not_compilations():
    for path in sorted(CORPUS.glob("00[0-3]_*.txt")):
        assert split_compilation(path.read_text(encoding="utf-8")) is None


def test_derived_title_is_readable_and_short():
    title = derive_title(
        "近年来，市委办公厅坚持以习近平新时代中国特色社会主义思想为指导，以党的政治建设为统领，坚持“四个走在前列”。"
    )
    assert title.startswith("市委办公厅坚持以")
    assert len(title) <= 33 and title.endswith("…")
    assert derive_title("短标题的文档。正文") == "短标题的文档"
