"""What a chat model reads with llm_evidence="sentences": the extractive answer's sentences, offsets exact."""

from __future__ import annotations

from assistant.answering.generative import selected
from assistant.results import Answer, Citation, Passage

DOC_A = "前言。一是落实双报到制度。二是开展志愿服务。三是其他工作。"
DOC_B = "某办公室坚持周五上街制度。其余内容。"


def passage(doc: str, doc_id: str, start: int = 0) -> Passage:
    return Passage(doc[start:], f"title {doc_id}", f"/{doc_id}.txt", "", start, len(doc), 1.0, doc_id, doc_id=doc_id)


def cite(p: Passage, n: int, quote: str) -> Citation:
    s = p.start + p.text.index(quote)
    return Citation.quoting(p, n, s, s + len(quote), quote, 1.0)


def test_each_cited_passage_is_cut_to_its_chosen_sentences_in_the_answers_order():
    a, b = passage(DOC_A, "a"), passage(DOC_B, "b")
    unused = passage("无关的段落。", "c")
    extract = Answer(
        "q",
        "…",
        refused=False,
        citations=[
            cite(b, 1, "某办公室坚持周五上街制度。"),
            cite(a, 2, "一是落实双报到制度。"),
            cite(a, 2, "二是开展志愿服务。"),
        ],
    )
    shown = selected(extract, [a, unused, b], max_chars=240)
    assert [p.doc_id for p in shown] == ["b", "a"]  # the extractive answer's order; the unused passage left out
    assert shown[1].text == "一是落实双报到制度。二是开展志愿服务。"
    for p, doc in ((shown[0], DOC_B), (shown[1], DOC_A)):
        assert doc[p.start : p.end] == p.text  # offsets stay exact: citations verified later point into the document


def test_a_long_run_is_cut_and_no_citation_gives_nothing():
    a = passage(DOC_A, "a")
    extract = Answer(
        "q", "…", refused=False, citations=[cite(a, 1, "一是落实双报到制度。"), cite(a, 1, "三是其他工作。")]
    )
    (only,) = selected(extract, [a], max_chars=8)
    assert only.text == "一是落实双报到制" and DOC_A[only.start : only.end] == only.text
    assert selected(Answer("q", "", refused=True), [a], max_chars=240) == []


def test_a_reply_that_copies_the_worked_example_is_recognised():
    from assistant.answering.generative import copies_example
    from assistant.answering.prompts import render

    messages = render("answer", passages="[1] 《T》\n认真落实在职党员“双报到”要求。", question="双报到怎么落实？")
    copied = "各科室要明确一名档案安全联络员 [1]。各科室还要明确一名档案安全联络员 [1]。各科室要明确一名档案"
    assert copies_example(copied, messages)  # seen from the 0.5B on the 双报到 question (2026-12-04)
    assert not copies_example("机关认真落实在职党员“双报到”要求，组织党员下沉一线开展志愿服务 [1]。", messages)
