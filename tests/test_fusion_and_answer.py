"""Fusion of dense and keyword candidates, and the extractive answer composer (no model needed)."""

from assistant.answering.evidence import Thresholds, assess
from assistant.answering.extractive import ExtractiveAnswerer
from assistant.results import Passage
from assistant.retrieval.hybrid import Candidate, fuse
from assistant.retrieval.query import Concept, Query


def only_floor(floor: float) -> "Thresholds":
    """Thresholds that refuse on the evidence floor alone (no unseen-word or sentence checks)."""
    return Thresholds(evidence_floor=floor, unseen_share=1.01, unseen_penalty=0.0, sentence_floor=0.0)


def cand(cid, dense, keyword, dr, kr):
    return Candidate(cid, dense, keyword, dr, kr)


def test_zscore_fusion_keeps_a_decisive_keyword_lead_that_rrf_flattens():
    # "x" is far ahead on keywords (a rare term), mediocre on dense; "y" is best on dense only.
    pool = [cand("x", 0.885, 16.0, 5, 1), cand("y", 0.90, 2.0, 1, 6)] + [
        cand(f"n{i}", d, 6.0 - i, 2 + i, 2 + i) for i, d in enumerate([0.895, 0.89, 0.88, 0.875])
    ]
    assert fuse(pool, method="zscore", keyword_weight=0.4)[0].chunk_id == "x"
    assert fuse(pool, method="rrf", keyword_weight=0.5)[0].chunk_id != "x"


def test_fusion_is_sorted_and_handles_one_candidate():
    fused = fuse([cand("a", 0.8, 1.0, 1, 1)], method="zscore")
    assert [c.chunk_id for c in fused] == ["a"]
    fused = fuse([cand("a", 0.8, 1.0, 2, 2), cand("b", 0.9, 3.0, 1, 1)])
    assert [c.chunk_id for c in fused] == ["b", "a"] and fused[0].score >= fused[1].score


def passage(text, start=0, doc="d1", dense=0.9, title="标题"):
    return Passage(
        text=text,
        title=title,
        source="/x.txt",
        section="一、总体",
        start=start,
        end=start + len(text),
        score=1.0,
        chunk_id=f"c{start}",
        doc_id=doc,
        dense=dense,
    )


def query(text, *terms):
    return Query(text, "zh", list(terms), [Concept(t, (t,), 2.0) for t in terms])


def test_extractive_answer_quotes_supporting_sentences_with_resolving_markers():
    p1 = passage("开头一句。认真落实在职党员“双报到”要求，下沉社区开展服务。其他内容。", start=100)
    p2 = passage("与社区建立常态化对接机制，落实“双报到”制度。", start=500, doc="d2")
    answer = ExtractiveAnswerer(thresholds=only_floor(0.3)).answer(
        query("怎样落实双报到？", "双报到", "落实"), [p1, p2]
    )
    assert not answer.refused
    assert answer.text.startswith("根据知识库中的文件")
    for c in answer.citations:
        assert f"{c.quote}[{c.n}]" in answer.text
        assert c.quote in c.text
        own = p1 if c.doc_id == "d1" else p2
        assert own.text[c.start - own.start : c.end - own.start] == c.quote
    assert {c.n for c in answer.citations} == {1, 2}
    assert "其他内容" not in answer.text


def test_weak_evidence_is_refused_and_lists_nearest_passages_as_such():
    p = passage("市委办公厅开展理论学习。", dense=0.70)
    answer = ExtractiveAnswerer(thresholds=only_floor(0.3)).answer(query("红烧肉怎么做？", "红烧肉"), [p])
    assert answer.refused and answer.citations == []
    assert answer.nearest == [p]
    assert "没有找到" in answer.text and "并不回答" in answer.text


def test_no_passages_is_a_refusal():
    answer = ExtractiveAnswerer(thresholds=only_floor(0.3)).answer(query("什么？", "什么"), [])
    assert answer.refused and answer.nearest == []


def test_evidence_rises_with_coverage():
    q = query("双报到制度", "双报到", "制度")
    low = assess(q, [passage("制度建设。", dense=0.85)])
    high = assess(q, [passage("双报到制度。", dense=0.85)])
    assert high.score > low.score and high.coverage == 1.0


def test_answer_language_weighs_english_words_against_chinese_characters():
    from assistant.text import question_language

    assert question_language("How do offices run the 双报到 system?") == "en"
    assert question_language("<img src=x onerror=alert(1)> 网页安全测试由哪个部门负责？") == "zh"
    assert question_language("机关是怎样落实在职党员“双报到”制度的？") == "zh"
