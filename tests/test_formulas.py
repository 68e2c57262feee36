"""A question asking what a numbered formula (“三个马上”, 六地, 五廉) consists of is answered only by text that spells it out."""

import pytest
from conftest import make_passage

from assistant.answering.evidence import Outcome, Thresholds, judge
from assistant.answering.extractive import ExtractiveAnswerer
from assistant.answering.formulas import asked_formula, spelled_out
from assistant.retrieval.query import Concept, Query

# Sentences as the sample corpus writes them.
NAMED_ONLY = (
    "秘书八处牢固树立办公厅工作无小事的理念，认真落实“三个马上”“五个非常”“五个表率”等要求，全面查不足、找差距。"
    "牢记‘十不准、十不得、六严格、七必须、九严禁’，保密规定融入日常。"
    "服务市政府绘制九大重点产业链图谱、制定出台稳住经济一揽子政策措施。"
    "全力助推“3659”发展思路落地见效。一是参谋辅政高质高效。"
    "协调投资700余万元，实施基层阵地建设工程等6个项目。"
)
SPELLED_OUT = (
    "按照起草前必开审题会、初稿完成后必开推稿会、会议召开后必开总结会的“三必开”原则，做好文稿服务工作。"
    "省委办公厅具有涉密岗位多、涉密事项多、涉密人员多和涉密级别高‘三多一高’的显著特点。"
    "“x”是推动五个现代化。具体来说，就是办文的现代化、办会的现代化、督查的现代化。"
    "市委办重点以“五廉”建设为抓手，努力走在前、作示范。一是以责任保廉。二是以制度固廉。三是以教育倡廉。"
    "四是以监督促廉。五是以行动践廉。"
    "按照拟办意见“零差错”、承办转办“零延误”、收文纠错“零容忍”“三个零”原则提质提效。"
)


@pytest.mark.parametrize(
    "question, term",
    [
        ("秘书八处落实的“三个马上”具体指什么？", "三个马上"),
        ("保密行为规范里的“十不准”具体是哪十条？", "十不准"),
        ("九大重点产业链具体是哪九条？", "九大重点产业链"),
        ("“3659”发展思路具体指什么？", "3659发展思路"),
        ("市委办公厅协调投资实施的6个项目分别是哪些？", "6个项目"),
        ("What does the 五个非常 requirement mean?", "五个非常"),
        ("Which nine industrial chains are in the 九大重点产业链 maps?", "九大重点产业链"),
        ("“3659”发展思路里的3、6、5、9分别代表什么", "3659发展思路"),
    ],
)
def test_a_formula_the_documents_only_name_is_not_spelled_out(question, term):
    formula = asked_formula(question, NAMED_ONLY)
    assert formula is not None and formula.term == term
    assert not spelled_out(formula, NAMED_ONLY)


@pytest.mark.parametrize(
    "question",
    [
        "文稿起草的“三必开”原则具体是指开哪些会？",  # its contents listed just before it
        "What does 三多一高 mean?",
        "大同市委办公室提出要推动的“五个现代化”分别是什么？",  # explained by the next sentence
        "市委办“五廉”建设包括哪些方面？",  # itemised 一是 … 五是 from the next sentence on
        "“三个零”原则是什么？",  # quoted items listed before it
    ],
)
def test_a_formula_whose_contents_the_documents_give_is_spelled_out(question):
    formula = asked_formula(question, SPELLED_OUT)
    assert formula is not None
    assert spelled_out(formula, SPELLED_OUT)


@pytest.mark.parametrize(
    "question",
    [
        "市政府办公室的一体化督查闭环机制包括哪几个环节？",  # 一体化 is an ordinary word, not a formula
        "市委办公厅2023年的预算是什么？",  # a year
        "秘书八处认真落实了哪几项要求？",  # the question's own 哪几
        "“三个马上”是哪个处室落实的？",  # asks who, not what it consists of
        "What are the 13 categories of posts?",  # a bare figure, unquoted
        "各单位在落实“三会一课”方面分别有哪些做法？",  # asks how it is carried out, not what it consists of
    ],
)
def test_questions_that_ask_no_formulas_contents_are_not_held_to_one(question):
    assert asked_formula(question, NAMED_ONLY + SPELLED_OUT + "一体化督查闭环机制。13类岗位。") is None


def test_a_list_of_formula_names_is_not_the_contents_of_the_last_one():
    # "“三个马上”“五个非常”": 五个非常 stands after a list, but the list is its siblings' names.
    formula = asked_formula("“五个非常”具体指什么？", NAMED_ONLY)
    assert formula is not None and not spelled_out(formula, NAMED_ONLY)


def test_itemised_work_after_a_formula_without_a_count_does_not_spell_it_out():
    # "全力助推“3659”发展思路落地见效。一是参谋辅政高质高效。": the report's own list of work, not 3659's contents.
    formula = asked_formula("“3659”发展思路具体指什么？", NAMED_ONLY)
    assert formula is not None and not spelled_out(formula, NAMED_ONLY)


def test_the_answer_to_a_named_only_formula_is_partial_and_says_its_contents_are_not_stated():
    thresholds = Thresholds(evidence_floor=0.3, unseen_share=0.6, unseen_penalty=0.0, sentence_floor=0.0)
    terms = ["秘书八处", "三个马上"]
    q = Query("秘书八处落实的“三个马上”具体指什么？", "zh", terms, [Concept(t, (t,), 3.0) for t in terms])
    p = make_passage(NAMED_ONLY)
    assert judge(q, [p], 5.5, thresholds).outcome is Outcome.PARTIAL
    answer = ExtractiveAnswerer(thresholds=thresholds, unseen_idf=lambda: 5.5).answer(q, [p])
    assert answer.partial and not answer.refused and answer.missing == ["具体内容"]
    assert answer.text.startswith("文件提到了") and "“三个马上”" in answer.text.split("\n")[0]
    assert "没有写明具体内容" in answer.text.split("\n")[0]
    assert answer.citations and "三个马上" in answer.citations[0].quote


def test_a_rank_or_round_is_no_formula():
    text = "运转保障处室和二级局重点学习总书记关于机关党建的重要论述。市委五届二次全体会议召开。"
    assert asked_formula("运转保障处室和二级局重点学习了哪些方面的论述？", text) is None
    assert asked_formula("市委五届二次全体会议具体是什么内容？", text) is None
