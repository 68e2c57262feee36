"""A request for new writing ("帮我起草一份…", "Draft a …") is declined plainly, not answered with loosely related quotes."""

import pytest
from conftest import make_passage

from assistant.answering.evidence import Outcome, Thresholds, judge
from assistant.answering.extractive import ExtractiveAnswerer
from assistant.answering.requests import asks_about_self, asks_to_draft
from assistant.retrieval.query import Concept, Query


@pytest.mark.parametrize(
    "question",
    [
        "帮我写一份公司职工食堂管理制度。",
        "请帮我起草一份小区业主大会的会议纪要",
        "写一份落实双报到的工作总结",
        "Draft a remote-work management policy for a 50-person company.",
        "Can you draft meeting minutes for our product launch sync?",
        "Please write a work plan for migrating our database.",
        'Translate "Thank you all for your hard work this year" into Chinese.',
        "把“不忘初心，牢记使命”翻译成英文",
    ],
)
def test_requests_for_new_writing_are_recognised(question):
    assert asks_to_draft(question)


@pytest.mark.parametrize(
    "question",
    [
        "市委办公室起草文稿时讲的“三必开”原则是什么？",  # asks about drafting in the documents
        "起草前必开什么会？",
        "如何写好调研报告？",
        "帮我总结一下双报到的做法",  # a summary of what the documents say is a question about them
        "How do I write a strong cover letter?",
        "What did the office write in its 2022 report?",
        "Can you translate that answer into English?",  # the last answer again: a follow-up, not new writing
        "翻译工作怎么做？",
    ],
)
def test_questions_about_writing_are_not_requests_for_it(question):
    assert not asks_to_draft(question)


def test_a_drafting_request_is_declined_with_its_reason_and_the_nearest_passages_shown_as_such():
    text = "按照起草前必开审题会、初稿完成后必开推稿会、会议召开后必开总结会的“三必开”原则，做好会议纪要服务工作。"
    p = make_passage(text, dense=0.95)
    terms = ["起草", "会议纪要"]
    q = Query("请帮我起草一份会议纪要", "zh", terms, [Concept(t, (t,), 3.0) for t in terms])
    thresholds = Thresholds(evidence_floor=0.3, unseen_share=0.6, unseen_penalty=0.0, sentence_floor=0.0)
    j = judge(q, [p], 5.5, thresholds)
    assert j.drafting and j.outcome is Outcome.REFUSE  # every word of it is in the passage, yet no passage is a draft
    answer = ExtractiveAnswerer(thresholds=thresholds, unseen_idf=lambda: 5.5).answer(q, [p])
    assert answer.refused and answer.citations == [] and answer.nearest == [p]
    assert answer.text.startswith("我只能根据知识库中的文件回答问题") and "不能代写" in answer.text


@pytest.mark.parametrize(
    "question, opening",
    [("谢谢", "不客气"), ("Thanks!", "You're welcome"), ("好的", "好的。"), ("OK", "OK.")],
)
def test_a_courtesy_turn_gets_a_courteous_reply_not_a_refusal_with_passages(question, opening):
    p = make_passage("市委办公厅认真落实在职党员“双报到”要求，组织党员干部下沉一线开展志愿服务。")
    thresholds = Thresholds(evidence_floor=0.3, unseen_share=0.6, unseen_penalty=0.0, sentence_floor=0.0)
    q = Query(question, "en" if question.isascii() else "zh", [], [])
    answer = ExtractiveAnswerer(thresholds=thresholds, unseen_idf=lambda: 5.5).answer(q, [p])
    assert answer.text.startswith(opening) and answer.citations == [] and not answer.nearest


@pytest.mark.parametrize(
    "question",
    [
        "What's a good structure for a weekly work report to my section chief?",
        "我该怎么跟领导请假？",
        "How do I write a strong cover letter for an administrative assistant post?",
        "我的公积金怎么提取？",
    ],
)
def test_questions_about_the_user_s_own_life_are_recognised_and_refused(question):
    assert asks_about_self(question)
    q = Query(question, "zh", ["领导"], [Concept("领导", ("领导",), 3.0)])
    loose = Thresholds(evidence_floor=0.0, unseen_share=1.1, unseen_penalty=0.0, sentence_floor=0.0)
    assert judge(q, [make_passage("领导干部带头落实。", dense=0.95)], 5.5, loose).outcome is Outcome.REFUSE


@pytest.mark.parametrize(
    "question",
    [
        "我想了解机关怎样落实双报到",
        "Can you tell me how offices run the 双报到 system?",
        "I remember a short slogan about the two ends and the middle; what is it?",
        "创城有我学雷锋活动是哪天举办的？",
        "自我革命是什么意思？",
        "请问我省的保密工作有哪些要求？",
        "我们机关怎么落实双报到？",
        "What should I know about the 双报到 system?",
        "Where can I find the rules on confidentiality training?",
    ],
)
def test_asking_in_the_first_person_about_the_documents_is_not_about_the_user(question):
    assert not asks_about_self(question)


def test_a_question_under_a_standard_the_documents_never_name_is_refused():
    from assistant.answering.subject import names_unknown_code

    question = "What are the standard page margins for Chinese official documents under GB/T 9704?"
    assert names_unknown_code(question, "公文格式规范，按照要求排版。")
    assert not names_unknown_code(question, "按照GB/T 9704—2012《党政机关公文格式》排版。")
    assert not names_unknown_code("What did the 2022 report say?", "")  # a year is no code
    # "按国家标准" names no code, but a standard all the same
    assert names_unknown_code("按国家标准，党政机关公文的页码应该标在什么位置？", "公文页码")
    assert not names_unknown_code("按国家标准，页码标在哪？", "严格执行国家标准")
    q = Query(question, "en", ["公文"], [Concept("documents", ("公文",), 3.0)])
    loose = Thresholds(evidence_floor=0.0, unseen_share=1.1, unseen_penalty=0.0, sentence_floor=0.0)
    assert judge(q, [make_passage("公文格式规范，按照要求排版。", dense=0.95)], 5.5, loose).outcome is Outcome.REFUSE
