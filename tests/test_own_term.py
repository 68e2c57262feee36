"""A question asking what a term of its own is stands alone, whatever the learned judge says; one asking an attribute
of what was discussed, or pointing back, is still judged."""

import pytest

from assistant.retrieval.followup import rewrite_followup
from assistant.retrieval.own_term import asks_what_it_names, named_term

PREVIOUS = ["省委办公厅是怎样推进“五个现代化”建设的？"]


def always_followup(question: str, previous: str, rules_say: bool) -> bool:
    return True


# The blind sets' misses (followups_fresh14, 16, 17: the classifier called them follow-ups) and their kin.
OWN_TERMS = [
    "“清单化管理”是什么意思？",
    "“三法三化”是什么？",
    "伊犁组工是什么平台？",
    "红牌警示是啥",
    "三必开是什么",
    "五廉指什么",
    "《保密法》是什么？",
    "什么是清单化管理？",
    "什么叫三会一课？",
    "何谓一岗双责？",
    "Who is 朱兆荣?",
    "Who is 安洪涛?",
    "What is 双报到?",
    "What does “三多一高” mean?",
]
POINTING_BACK = [
    "这个是什么？",
    "目的是什么？",
    "主要内容是什么？",
    "具体要求是什么？",
    "第二条指什么？",
    "他是谁？",
    "那是什么意思？",
    "意义是什么",
    "效果是什么？",
    "报到的社区是什么？",
    "逐条解释下都啥意思",  # followups_fresh12: explain each of what was listed
    "什么是这个？",
    "什么是目的？",
    "What is it?",
    "What is the budget?",
    "Who are they?",
    "What is the second one?",
]


@pytest.mark.parametrize("question", OWN_TERMS)
def test_a_question_about_its_own_term_stands_alone_against_the_judge(question):
    assert asks_what_it_names(question)
    assert rewrite_followup(question, PREVIOUS, always_followup) == question


@pytest.mark.parametrize("question", POINTING_BACK)
def test_a_question_about_what_was_discussed_is_still_judged(question):
    assert not asks_what_it_names(question)
    assert rewrite_followup(question, PREVIOUS, always_followup) != question


def test_the_rules_still_decide_a_follow_up_that_names_a_term():
    # The rules call "那“三法三化”呢？" a topic swap: nothing overrides a follow-up the rules see.
    assert rewrite_followup("那“三法三化”呢？", PREVIOUS) != "那“三法三化”呢？"


@pytest.mark.parametrize(
    "question, term",
    [
        ("什么是双报到制度？", "双报到制度"),
        ("清单化管理是什么意思？", "清单化管理"),
        ("“六地”指什么？", "六地"),
        ("Who is 安洪涛?", "安洪涛"),
        ("双报到制度是怎样落实的？", None),
        ("这个是什么？", None),
    ],
)
def test_the_term_a_question_asks_about_is_read_whichever_side_the_question_form_stands(question, term):
    assert named_term(question) == term


def test_a_connective_before_a_question_about_a_term_of_its_own_swaps_no_topic():
    # followups_fresh18/19: "那么" read as "and what about…", so the term was searched with the last question's frame.
    previous = ["市政府办公室党总支的党建品牌叫什么？"]
    assert rewrite_followup("那么，“四抓两整治”指的是什么？", previous) == "那么，“四抓两整治”指的是什么？"
    assert rewrite_followup("那么它指的是什么？", previous) != "那么它指的是什么？"
