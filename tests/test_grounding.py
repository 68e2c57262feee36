"""Citation verification of generated answers: markers checked, not trusted; unsupported sentences flagged."""

from __future__ import annotations

import re

import pytest

from assistant.answering.generative import focus, looping
from assistant.answering.grounding import UNVERIFIED, bigrams, ground, split_markers
from assistant.results import Passage
from assistant.retrieval.query import Concept, Query

DOC_A = "一、压实责任\n各科室要明确一名档案安全联络员，每季度开展一次档案库房安全检查。发现隐患当日上报。"
DOC_B = "三、数字化建设\n全年完成馆藏档案数字化扫描12万页，建成电子档案备份中心。"


def _passage(doc: str, doc_id: str, title: str) -> Passage:
    start = doc.index("\n") + 1  # the passage is the document after its heading line
    return Passage(
        text=doc[start:],
        title=title,
        source=f"/docs/{doc_id}.txt",
        section=doc[: start - 1],
        start=start,
        end=len(doc),
        score=1.0,
        chunk_id=f"{doc_id}:0",
        doc_id=doc_id,
    )


DOCS = {"a": DOC_A, "b": DOC_B}
PASSAGES = [_passage(DOC_A, "a", "档案安全通知"), _passage(DOC_B, "b", "工作总结")]


def _check_offsets(result) -> None:
    for c in result.citations:
        assert DOCS[c.doc_id][c.start : c.end] == c.quote  # the quote is the document's text at its offsets
    numbers = {c.n for c in result.citations}
    assert set(int(n) for n in re.findall(r"\[(\d+)\]", result.text)) == numbers  # every marker resolves


def test_markers_attach_to_their_sentence_also_after_the_full_stop():
    parts = split_markers("每季度检查一次[1]。发现隐患当日上报。[1][2] 扫描12万页【2】。")
    assert parts == [("每季度检查一次。", [1]), ("发现隐患当日上报。", [1, 2]), ("扫描12万页。", [2])]
    assert split_markers("档案工作[1, 2]。") == [("档案工作。", [1, 2])]


def test_markdown_and_repeated_sentences_are_cleaned():
    parts = split_markers("1. **定期检查**：每季度一次。[1]\n- 每季度一次。[2]")
    assert parts == [("定期检查：每季度一次。", [1]), ("每季度一次。", [2])]


def test_a_right_marker_is_kept_with_the_quote_at_its_offsets():
    result = ground("各科室每季度开展一次档案库房安全检查[1]。", PASSAGES, None)
    assert result.unsupported == []
    assert [c.n for c in result.citations] == [1]
    assert result.citations[0].quote == "各科室要明确一名档案安全联络员，每季度开展一次档案库房安全检查。"
    assert result.citations[0].statement == "各科室每季度开展一次档案库房安全检查。"
    assert result.statements[0].supported and result.statements[0].citations == [1]
    _check_offsets(result)


def test_a_marker_pointing_at_the_wrong_passage_is_corrected():
    result = ground("全年完成馆藏档案数字化扫描12万页[1]。", PASSAGES, None)
    assert len(result.citations) == 1
    assert result.citations[0].doc_id == "b"  # the model said [1]; passage 2 is what supports it
    assert result.text == "全年完成馆藏档案数字化扫描12万页。[1]"  # renumbered by first use
    _check_offsets(result)


def test_markers_out_of_range_or_missing_are_replaced_by_the_supporting_passage():
    result = ground("发现隐患当日上报[7]。建成电子档案备份中心。", PASSAGES, None)
    assert [(c.n, c.doc_id) for c in result.citations] == [(1, "a"), (2, "b")]
    assert "[7]" not in result.text
    _check_offsets(result)


def test_an_invented_sentence_is_flagged_and_gets_no_citation():
    invented = "该制度由阿里巴巴集团于2001年首创，全国推广。"
    result = ground(f"每季度开展一次档案库房安全检查[1]。{invented}[2]", PASSAGES, None)
    assert result.unsupported == [invented]
    assert [s.supported for s in result.statements] == [True, False]
    assert result.text.endswith(invented + UNVERIFIED["zh"])  # visibly flagged, its [2] removed
    assert all(c.statement != invented for c in result.citations)
    _check_offsets(result)


def test_nothing_supported_means_no_citations():
    result = ground("明天北京有大雨，请带伞[1]。", PASSAGES, None)
    assert result.citations == [] and len(result.unsupported) == 1


def test_connective_fragments_are_neither_cited_nor_flagged():
    result = ground("好的。每季度开展一次档案库房安全检查[1]。", PASSAGES, None)
    assert result.unsupported == [] and len(result.statements) == 1


@pytest.mark.e2e
def test_support_uses_the_embedding_model_for_paraphrases(e5_embedder):
    # Few shared bigrams, same meaning: the embedding similarity lifts it over the floor.
    paraphrase = "每个季度都要对档案库房做一次安全检查。"
    without = ground(paraphrase, PASSAGES, None)
    with_model = ground(paraphrase, PASSAGES, e5_embedder)
    assert with_model.statements[0].support > without.statements[0].support
    assert with_model.statements[0].supported
    off_topic = ground("今年春节放假七天，高速公路免费通行。", PASSAGES, e5_embedder)
    assert off_topic.citations == []


def test_bigrams_ignore_punctuation_and_case():
    assert bigrams("A，b。") == {"ab"}


def test_looping_detects_repetition_and_marker_runs():
    assert looping("办公室工作急事多、琐事多。要加强督查督办。办公室工作急事多、琐事多。")
    assert looping("答案 [2] [3] [4] [5] [6] [7]")
    assert not looping("每季度检查一次。发现隐患当日上报。")


def test_focus_keeps_exact_offsets_and_the_covering_sentences():
    long_doc = "开头的话。" * 40 + "档案库房每季度检查一次。" + "结尾的话。" * 40
    p = Passage(
        text=long_doc, title="t", source="s", section="", start=100, end=100 + len(long_doc), score=1.0, chunk_id="c"
    )
    query = Query("档案库房多久检查？", "zh", [], [Concept("档案库房", ("档案库房",), 3.0)])
    cut = focus(p, query, 60)
    assert len(cut.text) <= 60 and "档案库房每季度检查一次。" in cut.text
    assert long_doc[cut.start - 100 : cut.end - 100] == cut.text


@pytest.mark.parametrize("reply", ["", "   ", "[1][2]", "。。。"])
def test_empty_or_marker_only_replies_give_no_citations(reply):
    result = ground(reply, PASSAGES, None)
    assert result.citations == [] and result.unsupported == []


def test_words_repeated_from_the_question_are_not_evidence():
    question = "档案库房每年的安全检查经费是多少？"
    # Shares 档案库房/安全检查 with question and passage; the claimed figure is in neither passage.
    invented = "档案库房每年的安全检查经费是12万元。"
    result = ground(invented, PASSAGES, None, question=question)
    assert result.unsupported == [invented] and result.citations == []


def test_a_sentence_that_only_restates_the_question_is_neither_cited_nor_flagged():
    question = "各科室多久开展一次档案库房安全检查？"
    result = ground(
        "各科室多久开展一次档案库房安全检查？每季度开展一次档案库房安全检查[1]。", PASSAGES, None, question=question
    )
    assert result.unsupported == [] and [s.text for s in result.statements] == ["每季度开展一次档案库房安全检查。"]


def test_a_number_the_passage_does_not_give_is_not_supported():
    result = ground("全年完成馆藏档案数字化扫描15万页。", PASSAGES, None)
    assert result.citations == [] and len(result.unsupported) == 1
    assert ground("全年完成馆藏档案数字化扫描12万页。", PASSAGES, None).citations


def test_english_sentences_are_checked_through_their_concepts():
    lexicon = {
        "archive": ("档案",),
        "inspection": ("安全检查",),
        "quarter": ("季度",),
        "football": ("足球",),
        "champion": ("冠军",),
    }

    def concepts(text):
        words = re.findall(r"[a-z]+", text.lower())
        return [Concept(w, lexicon.get(w, ()), 1.0) for w in dict.fromkeys(words) if w in lexicon]

    supported = ground(
        "Every quarter there is an archive inspection.",
        PASSAGES,
        None,
        language="en",
        question="How often are archives checked?",
        concepts=concepts,
    )
    assert supported.unsupported == [] and supported.citations[0].doc_id == "a"
    invented = ground(
        "The archive won the football champion title.",
        PASSAGES,
        None,
        language="en",
        question="How often are archives checked?",
        concepts=concepts,
    )
    assert invented.citations == [] and invented.text.endswith(UNVERIFIED["en"])
