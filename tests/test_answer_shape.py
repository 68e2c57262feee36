"""How an extractive answer reads: one paragraph per issuing office, the quoted focus kept, each asked subject
answered or named as not covered, and a question with no subject asked to be completed (no model needed)."""

import pytest

from assistant.answering.evidence import Thresholds
from assistant.answering.extractive import ExtractiveAnswerer, quoted_terms
from assistant.results import Passage
from assistant.retrieval.decompose import interleave, subjects, subquestions
from assistant.retrieval.query import Concept, Query
from ingest.metadata import issuing_office

THRESHOLDS = Thresholds(evidence_floor=0.3, unseen_share=0.6, unseen_penalty=0.0, sentence_floor=0.0)
OFFICES = {"d1": "市委办公厅", "d2": "市政府办公室党总支"}


def passage(text, doc, start=0, title="标题", section="", score=1.0):
    return Passage(
        text=text,
        title=title,
        source=f"/{doc}.txt",
        section=section,
        start=start,
        end=start + len(text),
        score=score,
        chunk_id=f"{doc}-{start}",
        doc_id=doc,
        dense=0.9,
    )


def query(text, *terms):
    return Query(text, "zh", list(terms), [Concept(t, (t,), 3.0) for t in terms])


def answerer():
    return ExtractiveAnswerer(thresholds=THRESHOLDS, unseen_idf=lambda: 5.5, office_of=OFFICES.get)


def test_issuing_office_is_the_name_a_document_uses_most_with_variants_counted_together():
    branch = "**市人民政府办公室党总支部下设4个党支部。市政府办公室党总支部创建党建品牌。市政府办公室党总支书记讲党课。"
    assert issuing_office(branch) == "市政府办公室党总支"
    assert issuing_office("近年来，市委办公厅坚持……。市委办公厅党员干部下沉社区。省委办公厅通报表扬。") == "市委办公厅"
    # The words before a name are not part of it, and a document naming no office has none.
    assert issuing_office("制定市委办公室“第一议题”制度。市委办公室党员学习。") == "市委办公室"
    assert issuing_office("党办部门要切实把思想和行动统一到党的二十大精神上来。") is None


def test_sentences_are_grouped_by_issuing_office_which_is_named_once():
    p1 = passage("市委办公厅认真落实在职党员“双报到”要求。下沉社区开展志愿服务30余场次。", "d1")
    p2 = passage("党总支落实“双报到”制度，与南河道社区建立对接机制。", "d2", start=500)
    answer = answerer().answer(query("机关怎样落实“双报到”？", "双报到", "落实"), [p1, p2])
    lines = answer.text.split("\n")
    assert lines[0] == "根据知识库中的文件："
    assert lines[1].startswith("市委办公厅：") and lines[1].count("市委办公厅：") == 1
    assert lines[2].startswith("市政府办公室党总支：") and lines[2].endswith("[2]")
    assert [c.n for c in answer.citations] == sorted(c.n for c in answer.citations)


def test_a_second_source_retrieved_much_worse_than_the_best_is_not_cited():
    # Both sentences name 廉政风险 and 清单, but the second document was retrieved at half the score: its
    # sentence is about something else, and citing it would send the reader to the wrong place.
    best = passage("市委办公厅开展廉政风险排查，形成13类岗位廉政风险清单。", "d1", score=2.5)
    weak = passage("党总支制定廉政风险防控责任清单，每半年研究一次。", "d2", start=500, score=1.2)
    close = passage("党总支制定廉政风险防控责任清单，每半年研究一次。", "d2", start=500, score=2.4)
    q = query("廉政风险清单是怎样形成的？", "廉政风险", "清单", "形成")
    assert [c.source for c in answerer().answer(q, [best, weak]).citations] == ["/d1.txt"]
    assert [c.source for c in answerer().answer(q, [best, close]).citations] == ["/d1.txt", "/d2.txt"]


def test_a_second_source_carrying_the_quoted_term_is_cited_however_it_was_retrieved():
    best = passage("市委办公厅认真落实在职党员“双报到”要求，下沉一线开展志愿服务。", "d1", score=2.5)
    other = passage("党总支落实“双报到”制度，与南河道社区建立对接机制。", "d2", start=500, score=1.2)
    answer = answerer().answer(query("机关怎样落实“双报到”？", "双报到", "落实"), [best, other])
    assert [c.source for c in answer.citations] == ["/d1.txt", "/d2.txt"]


def test_asking_what_an_unquoted_term_is_cites_every_source_that_uses_it():
    # "什么是双报到制度？" showed one office's mention of 双报到 and left out the other's, which says what it is.
    best = passage("市委办公厅认真落实在职党员“双报到”要求，下沉一线开展志愿服务。", "d1", score=2.5)
    other = passage(
        "党总支认真落实党组织和在职党员到社区“双报到”制度，与南河道社区建立对接机制。", "d2", start=500, score=1.2
    )
    for question in ("什么是双报到制度？", "双报到是什么？"):
        answer = answerer().answer(query(question, "双报到"), [best, other])
        assert [c.source for c in answer.citations] == ["/d1.txt", "/d2.txt"], question


def test_a_document_without_a_known_office_is_named_by_its_title():
    p = passage("严格落实“三会一课”制度，每月开展主题党日。", "d9", title="把思想和行动统一到二十大精神上")
    answer = answerer().answer(query("怎样落实“三会一课”？", "三会一课", "落实"), [p])
    assert "《把思想和行动统一到二十大精神上》：严格落实" in answer.text


def test_sentences_without_the_quoted_focus_term_are_left_out_when_others_carry_it():
    p1 = passage("把牢管理关，督促各科室开展安全隐患大检查，落实各项做法。", "d1")
    p2 = passage("严格落实“三会一课”制度，推进党建品牌化建设。", "d2", start=500)
    q = query("各单位在落实“三会一课”方面有哪些做法？", "三会一课", "落实", "做法")
    answer = answerer().answer(q, [p1, p2])
    assert "三会一课" in answer.text and "安全隐患" not in answer.text
    assert quoted_terms("在落实“三会一课”和'双报到'方面") == ["三会一课"]


@pytest.mark.parametrize(
    "question, names",
    [
        ("市委办公厅和市政府办公室党总支分别怎样落实“双报到”？", ["市委办公厅", "市政府办公室党总支"]),
        ("市委办公厅、省委办公厅和省政府办公厅各自怎样抓保密工作？", ["市委办公厅", "省委办公厅", "省政府办公厅"]),
        ("请问市委办公厅和市政府办公室党总支分别怎样落实“双报到”？", ["市委办公厅", "市政府办公室党总支"]),
        ("Compare the 市委办公厅 and the 省委办公厅 on confidentiality work.", ["市委办公厅", "省委办公厅"]),
        ("机关是怎样落实在职党员“双报到”制度的？", []),
        ("市委办公厅怎样落实“双报到”和“三会一课”？", []),  # two topics of one subject: one search does
    ],
)
def test_subjects_of_a_question_about_each_of_several(question, names):
    assert subjects(question) == names
    parts = subquestions(question)
    assert len(parts) == len(names)
    for name, part in zip(names, parts, strict=True):
        assert name in part and all(other not in part for other in names if other != name)


def test_each_subject_gets_its_own_line_and_a_subject_the_documents_miss_is_named():
    p1 = passage("市委办公厅认真落实在职党员“双报到”要求，下沉社区开展服务。", "d1")
    p2 = passage("党总支落实“双报到”制度，与南河道社区建立对接机制。", "d2", start=500)
    q = query("市委办公厅和市政府办公室党总支分别怎样落实“双报到”？", "双报到", "落实")
    answer = answerer().answer(q, [p2, p1])
    lines = answer.text.split("\n")
    assert lines[1].startswith("市委办公厅：") and lines[2].startswith("市政府办公室党总支：")  # in the order asked
    assert not answer.partial

    q = query("市委办公厅和省委办公厅分别怎样落实“双报到”？", "双报到", "落实")
    answer = answerer().answer(q, [p1])
    assert answer.partial and answer.missing == ["省委办公厅"]
    assert answer.text.split("\n")[-1] == "省委办公厅：文件中没有找到相关内容。"


def test_interleave_takes_each_ranking_in_turn_without_repeats():
    a = [passage("甲。", "d1"), passage("乙。", "d1", start=10)]
    b = [passage("甲。", "d1"), passage("丙。", "d2", start=20)]
    assert [p.text for p in interleave([a, b], 10)] == ["甲。", "乙。", "丙。"]
    assert len(interleave([a, b], 2)) == 2


@pytest.mark.parametrize("question", ["这个呢？", "那个怎么样？", "它们呢？", "What about this?"])
def test_a_question_that_names_nothing_asks_to_be_completed(question):
    terms = [t for t in ("这个", "那个", "怎么样", "它们") if t in question]
    q = Query(question, "en" if question.isascii() else "zh", terms, [Concept(t, (t,), 3.0) for t in terms])
    answer = answerer().answer(q, [passage("要引导干部职工珍惜这个干事创业的平台。", "d1")])
    assert answer.refused and not answer.citations
    assert ("请把问题说完整" in answer.text) or ("please ask it in full" in answer.text)


def test_sentences_next_to_each_other_in_one_passage_are_quoted_and_cited_once():
    text = "市委办公厅认真落实在职党员“双报到”要求。党员下沉社区落实“双报到”，开展志愿服务30余场次。"
    p1 = passage(text, "d1", start=100)
    answer = answerer().answer(query("机关怎样落实“双报到”？", "双报到", "落实"), [p1])
    assert answer.text.split("\n")[1] == f"市委办公厅：{text}[1]"
    assert len(answer.citations) == 1 and answer.citations[0].quote == text
    assert (answer.citations[0].start, answer.citations[0].end) == (100, 100 + len(text))


def test_an_office_named_in_the_question_is_answered_from_its_own_documents():
    p1 = passage("市委办公厅落实“双报到”，党员下沉社区开展志愿服务。", "d1")
    p2 = passage("党总支落实“双报到”制度，与南河道社区建立对接机制。", "d2", start=500)
    answer = answerer().answer(query("市委办公厅怎样落实“双报到”？", "双报到", "落实"), [p2, p1])
    assert [line.split("：")[0] for line in answer.text.split("\n")[1:]] == ["市委办公厅"]
    # A branch belongs to its office; a question naming no office keeps every office's lines.
    branch = answerer().answer(query("市政府办公室怎样落实“双报到”？", "双报到", "落实"), [p1, p2])
    assert [line.split("：")[0] for line in branch.text.split("\n")[1:]] == ["市政府办公室党总支"]
    both = answerer().answer(query("机关怎样落实“双报到”？", "双报到", "落实"), [p1, p2])
    assert len(both.text.split("\n")) == 3


def test_offices_named_in_a_question():
    from ingest.metadata import named_offices

    assert named_offices("市委办公厅第三党支部的支部书记叫什么名字？") == ["市委办公厅"]
    assert named_offices("**市人民政府办公室党总支部和省委办公厅分别…") == ["市政府办公室党总支", "省委办公厅"]
    assert named_offices("机关怎样落实双报到？") == []
