"""An answer sentence brings the neighbour it cannot be read without: what "这段" points to, who spoke."""

from assistant.answering.answer_types import AnswerType, has_value
from assistant.answering.context import context_spans

JINGLE = (
    "目前，跟班学习人员的保密管理规范有序。\n"
    "“牢记‘十不准、十不得、六严格、七必须、九严禁’，保密规定融入日常，我们增强了保密守密意识。”"
    "省委办公厅的一名工作人员告诉记者。而他口中的这段“顺口溜”，指的是省委办公厅印发的保密工作行为规范。\n"
    "这些年来，省委办公厅不断创新保密宣教形式。"
)
INTERVIEW = (
    "“党建工作可以讲是机关工作的纲，纲举则目张，只有抓好党建引领这个纲，才能做好其他工作。”"
    "日前，市委常务副秘书长安洪涛在接受本报记者采访时说，作为全市的中枢机关，市委办公室首先是政治机关。"
)


def spans_of(text: str, sentence: str, **kw) -> list[str]:
    start = text.index(sentence)
    return [text[s:e] for s, e in context_spans(text, start, start + len(sentence), **kw)]


def test_a_sentence_pointing_back_brings_the_quotation_it_names():
    got = spans_of(JINGLE, "而他口中的这段“顺口溜”，指的是省委办公厅印发的保密工作行为规范。")
    assert "省委办公厅的一名工作人员告诉记者。" in got
    assert any("十不准、十不得" in s for s in got)  # the jingle itself, before the speaker's line


def test_a_paragraph_boundary_is_not_crossed():
    # "这些年来…" opens a new paragraph: the line before it belongs to another point.
    assert spans_of(JINGLE, "这些年来，省委办公厅不断创新保密宣教形式。") == []


def test_a_bare_quotation_brings_its_speaker():
    got = spans_of(INTERVIEW, INTERVIEW.split("”")[0] + "”")
    assert len(got) == 1 and "安洪涛" in got[0]


def test_a_typed_question_takes_the_neighbour_with_the_value():
    quote = INTERVIEW.split("”")[0] + "”"
    holds = lambda text: has_value(AnswerType.PERSON, text)  # noqa: E731
    assert any("安洪涛" in s for s in spans_of(INTERVIEW, quote, holds_answer=holds))
    plain = "机关党委加强组织建设。支部书记带头讲党课。"
    assert spans_of(plain, "机关党委加强组织建设。", holds_answer=holds) == []  # no name beside it: nothing added


def test_an_ordinary_sentence_stands_alone():
    text = "市委办公室建立会议预安排机制。会前提醒、会议提请等5项机制进一步落实精文简会要求。"
    assert spans_of(text, "市委办公室建立会议预安排机制。") == []


def test_a_clause_cut_at_a_semicolon_brings_the_rest_of_its_list():
    text = (
        "厅保密办构建了全过程保密管理模式，即上岗前要求派出单位进行严格审查；在岗时由保密管理员进行日常监督；"
        "离岗时进行保密提醒谈话，办理脱密期委托管理手续。目前管理规范有序。"
    )
    got = spans_of(text, "厅保密办构建了全过程保密管理模式，即上岗前要求派出单位进行严格审查；")
    assert got == ["在岗时由保密管理员进行日常监督；", "离岗时进行保密提醒谈话，办理脱密期委托管理手续。"]
