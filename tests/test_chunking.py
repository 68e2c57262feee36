"""Chunking: sentence boundaries, sizes, overlap, heading paths and exact offsets."""

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.chunking import chunk_document, section_paths, split_sentences
from ingest.clean import clean_text

CORPUS = Path(__file__).resolve().parent.parent / "data" / "corpus"


def test_sentences_end_at_chinese_terminators_and_keep_closing_quotes():
    text = "他说：“要落实。”然后走了！真的吗？是的；好\n新段落"
    spans = [text[s:e] for s, e in split_sentences(text)]
    assert spans == ["他说：“要落实。”", "然后走了！", "真的吗？", "是的；", "好", "新段落"]


def test_chunks_are_exact_slices_within_size_and_never_split_a_sentence():
    text = clean_text((CORPUS / "003_3979e3c1054974f1.txt").read_text(encoding="utf-8"))
    chunks = chunk_document("d1", text, size=300, overlap=60)
    sentence_bounds = {s for s, _ in split_sentences(text)} | {e for _, e in split_sentences(text)}
    for c in chunks:
        assert text[c.start : c.end] == c.text
        assert len(c.text) <= 300
        # no sentence of this document is longer than 300 characters, so every cut is at a boundary
        assert c.start in sentence_bounds and c.end in sentence_bounds


def test_no_text_is_lost_between_chunks():
    text = clean_text((CORPUS / "000_c080b3a73747e000.txt").read_text(encoding="utf-8"))
    chunks = chunk_document("d", text, size=250, overlap=50)
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    missing = [i for i in range(len(text)) if i not in covered and not text[i].isspace()]
    assert missing == []


def test_overlap_repeats_whole_sentences_of_the_previous_chunk():
    text = "".join(f"第{i}句话的内容比较长一些。" for i in range(40))
    chunks = chunk_document("d", text, size=100, overlap=40)
    assert len(chunks) > 3
    for prev, nxt in zip(chunks, chunks[1:]):
        assert nxt.start < prev.end <= nxt.end  # they overlap
        assert prev.end - nxt.start <= 40
        assert text[nxt.start - 1] == "。"  # starts at a sentence boundary


def test_a_sentence_longer_than_the_chunk_size_is_cut_at_clauses():
    long_sentence = "，".join(["这是一个很长的分句内容"] * 40) + "。"
    chunks = chunk_document("d", long_sentence, size=100, overlap=0)
    assert all(len(c.text) <= 100 for c in chunks)
    assert "".join(c.text for c in chunks) == long_sentence
    assert all(c.text.endswith(("，", "。")) for c in chunks)


def test_heading_paths_follow_the_numbering_of_the_document():
    text = clean_text((CORPUS / "003_3979e3c1054974f1.txt").read_text(encoding="utf-8"))
    chunks = chunk_document("d", text, size=300, overlap=60)
    sections = [c.section for c in chunks]
    assert sections[0] == ""  # the introduction precedes any heading
    assert "一、对党忠诚做表率，持续提升政治引领力" in sections
    assert any(s.startswith("二、固本培元筑堡垒") and s.endswith("二是聚力“标准化”") for s in sections)
    # a new top-level heading closes the sub-points of the previous one
    top4 = [s for s in sections if s.startswith("四、")]
    assert top4 and all("三是" not in s.split(" > ")[0] for s in top4)


def test_paragraph_lead_sentence_announcing_points_is_a_heading():
    text = "突出政治过硬，在做到“两个维护”上走在前。一是把牢政治方向。制定方案。二是打牢思想根基。坚持学习。"
    spans = split_sentences(text)
    paths, is_heading = section_paths(text, spans)
    assert paths[-1] == "突出政治过硬，在做到“两个维护”上走在前 > 二是打牢思想根基"
    assert is_heading[0] and is_heading[1] and not is_heading[2]


def test_markdown_and_pdf_pages():
    text = "# 总则\n第一段内容写得足够长以便单独成块。\n## 细则\n第二段内容。\n第三页内容。"
    chunks = chunk_document("d", text, size=50, overlap=0, page_starts=[(0, 1), (text.index("第三页"), 3)])
    assert chunks[0].section == "总则" and chunks[0].page == 1
    assert chunks[-1].section == "总则 > 细则"
    # A chunk never spans two pages: the third page's text starts its own chunk, with no overlap carried over.
    assert chunks[-1].page == 3 and chunks[-1].text == "第三页内容。"
    assert chunks[-2].page == 1 and chunks[-2].text.endswith("第二段内容。")


def test_chunk_ids_are_stable_and_change_with_content():
    text = "甲乙丙丁。戊己庚辛。"
    a = chunk_document("d", text, size=50, overlap=0)
    b = chunk_document("d", text, size=50, overlap=0)
    c = chunk_document("d", text.replace("丙", "两"), size=50, overlap=0)
    assert [x.chunk_id for x in a] == [x.chunk_id for x in b]
    assert a[0].chunk_id != c[0].chunk_id


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.text(alphabet=st.sampled_from(list("党建工作机关服务abc 123。！？；，、\n“”")), min_size=0, max_size=60),
        min_size=0,
        max_size=30,
    ),
    st.integers(min_value=50, max_value=200),
)
def test_property_offsets_always_point_at_the_chunk_text_and_nothing_is_lost(parts, size):
    text = clean_text("".join(parts))
    chunks = chunk_document("d", text, size=size, overlap=size // 4)
    covered = set()
    for c in chunks:
        assert text[c.start : c.end] == c.text
        assert 0 < len(c.text) <= size
        covered.update(range(c.start, c.end))
    assert all(i in covered or text[i].isspace() for i in range(len(text)))
