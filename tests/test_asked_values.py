"""The asked value must be one the passages state: a year, a length, a name, a score, a post — not the question's own words."""

import pytest
from conftest import make_passage

from assistant.answering.answer_types import AnswerType, answer_type, asked_head, asks_length, asks_year
from assistant.answering.evidence import Outcome, Thresholds, judge
from assistant.answering.extractive import ExtractiveAnswerer
from assistant.retrieval.query import Concept, Query

THRESHOLDS = Thresholds(evidence_floor=0.3, unseen_share=0.6, unseen_penalty=0.0, sentence_floor=0.0)
UNSEEN = 5.5


def query(text: str, *words: str, language: str = "zh") -> Query:
    return Query(text, language, list(words), [Concept(w, (w,), 3.0) for w in words])


def outcome(q: Query, text: str) -> Outcome:
    return judge(q, [make_passage(text)], UNSEEN, THRESHOLDS).outcome


def test_which_year_needs_a_year_not_this_year():
    q = query("“深化基层党建亮晒比行动”是市委在哪一年部署的？", "深化基层党建亮晒比行动", "部署")
    assert outcome(q, "今年以来，认真落实市委部署的“深化基层党建亮晒比行动”。") is Outcome.PARTIAL
    assert outcome(q, "2021年，认真落实市委部署的“深化基层党建亮晒比行动”。") is Outcome.ANSWER
    # A year the documents mask is one they withhold.
    assert outcome(q, "20xx年，认真落实市委部署的“深化基层党建亮晒比行动”。") is Outcome.PARTIAL
    assert asks_year("In which year was the database set up?") and not asks_year("什么时候开始的？")


def test_how_long_needs_a_length_not_how_often():
    q = query("跟班学习人员一般在省委办公厅跟班多长时间？", "跟班", "学习", "人员")
    assert outcome(q, "跟班学习人员每年轮换，每周参加一次学习。") is Outcome.PARTIAL
    assert outcome(q, "跟班学习人员跟班时间一般为6个月。") is Outcome.ANSWER
    # "多久召开一次" asks how often: "每季度" answers it.
    assert not asks_length("保密例会多久召开一次？") and not asks_length("How often is it held?")
    often = query("保密管理员例会多久召开一次？", "保密", "管理员", "例会")
    assert outcome(often, "每季度召开一次保密管理员例会。") is Outcome.ANSWER


def test_a_place_the_question_already_names_does_not_answer_which_place():
    q = query("与市委办公室开展联合主题党日的包联帮扶村是哪个村？", "包联帮扶村", "主题党日", "联合")
    assert outcome(q, "与包联帮扶村开展联合主题党日活动。") is Outcome.PARTIAL
    assert outcome(q, "与包联帮扶村东关村开展联合主题党日活动。") is Outcome.ANSWER
    # The question word's own noun stays: "南河道社区" answers "哪个社区".
    c = query("市政府办公室党员到哪个社区报到？", "市政府办公室", "社区", "报到")
    assert outcome(c, "市政府办公室党员到南河道社区报到。") is Outcome.ANSWER
    # ... also when the noun stands earlier in the question as well ("到社区“双报到”，是和哪个社区…").
    twice = query("党员到社区“双报到”，是和哪个社区建立的对接机制？", "社区", "双报到", "对接机制")
    assert outcome(twice, "党员到社区“双报到”，与南河道社区建立了对接机制。") is Outcome.ANSWER


def test_which_roads_is_a_place_question():
    assert answer_type("督促解决的中心城区道路项目，具体是哪几条路？") is AnswerType.PLACE
    q = query("督促解决的中心城区道路项目，具体是哪几条路？", "督促", "中心城区道路", "项目")
    assert outcome(q, "督促解决中心城区道路项目等困难问题。") is Outcome.PARTIAL
    # "…在哪里就覆盖到哪里" is a saying, not a question about a place.
    assert answer_type("中心工作在哪里就覆盖到哪里，要做到哪三个“全”？") is AnswerType.OTHER


def test_what_is_it_called_needs_a_name_not_the_question_s_words():
    q = query("市委办公厅参观的市直党性教育基地叫什么名字？", "市委办公厅", "参观", "市直党性教育基地")
    answerer = ExtractiveAnswerer(thresholds=THRESHOLDS, unseen_idf=lambda: UNSEEN)
    partial = answerer.answer(q, [make_passage("市委办公厅组织党员干部参观市直党性教育基地。")])
    assert partial.partial and partial.missing == ["具体名称"] and "没有写明具体名称" in partial.text
    named = "市委办公厅组织党员干部参观市直党性教育基地集宁战役纪念馆。"
    assert outcome(q, named) is Outcome.ANSWER
    # A quoted name elsewhere in the sentence ("政治体检") is not the base's name.
    far = "市委办公厅常态化开展“政治体检”，组织党员干部参观市直党性教育基地。"
    assert outcome(q, far) is Outcome.PARTIAL
    brand = query("党总支创建的党建品牌叫什么名字？", "党总支", "创建", "党建品牌")
    assert outcome(brand, "大力创建“忠诚铸魂·匠心服务”党建品牌。") is Outcome.ANSWER


@pytest.mark.parametrize(
    "question, words, silent, stating",
    [
        (
            "保密知识测试的及格线是多少分？",
            ("保密", "知识", "测试"),
            "每年组织保密知识测试。",
            "每年组织保密知识测试，80分及格。",
        ),
        (
            "What's 花木嵯's job title?",
            ("花木嵯",),
            "省委办公厅综合一处党支部花木嵯说，要学深悟透。",
            "省委办公厅综合一处副处长花木嵯说，要学深悟透。",
        ),
    ],
)
def test_a_score_or_a_post_asked_for_must_be_stated(question, words, silent, stating):
    language = "en" if question.isascii() or "What" in question else "zh"
    q = query(question, *words, language=language)
    assert outcome(q, silent) is Outcome.PARTIAL
    assert outcome(q, stating) is Outcome.ANSWER


@pytest.mark.parametrize(
    "question, kind",
    [
        ("市委办公厅这几年办理的领导批示件和公文一共有多少？", AnswerType.NUMBER),  # 这几年 is when, not how long
        ("省政府办公厅的“四讲”活动，分别让哪些人讲什么？", AnswerType.OTHER),  # groups answer it, not names
        ("Under whose guidance did the office carry out the campaign?", AnswerType.OTHER),  # a body answers it
        ("Whose idea was the alliance?", AnswerType.PERSON),
        ("When drafting major documents, what are the three meetings it requires?", AnswerType.OTHER),  # a scene
        ("When did the office, the branch and the group start?", AnswerType.DATE),
    ],
)
def test_question_words_that_ask_for_something_else(question, kind):
    assert answer_type(question) is kind


def test_n_big_things_count_them():
    q = query("今年市政府办公室绘制了几条重点产业链的图谱？", "市政府办公室", "绘制", "重点产业链", "图谱")
    assert outcome(q, "服务市政府绘制九大重点产业链图谱。") is Outcome.ANSWER
    assert outcome(q, "服务市政府绘制重点产业链图谱，召开大会部署。") is Outcome.PARTIAL


def test_a_masked_name_after_a_post_is_no_name():
    q = query("说“三多一高”的那位秘书长叫什么名字？", "三多一高", "秘书长")
    assert outcome(q, "省委常委、秘书长xx开门见山：保密工作“三多一高”。") is Outcome.PARTIAL
    assert outcome(q, "省委常委、秘书长王xx开门见山：保密工作“三多一高”。") is Outcome.ANSWER


def test_a_time_answers_how_often_though_no_passage_names_the_action_asked_about():
    # "怎么安排的，多久一次？": 安排 is nowhere, "每月" is the answer.
    q = query("党支部政治理论学习日是怎么安排的，多久一次？", "党支部", "政治理论学习日", "安排")
    assert outcome(q, "建立党支部政治理论学习日制度，每月相对固定1天。") is Outcome.ANSWER
    # A figure is not so freed: "一共查出多少人？" with no passage saying 查出 is not answered by another figure.
    n = query("专项清理一共查出多少人？", "专项清理", "查出")
    assert outcome(n, "开展违规入股企业专项清理，覆盖32个单位。") is Outcome.PARTIAL


def test_a_bare_newspaper_in_a_who_question_does_not_ask_which_newspaper():
    q = query("Which official was interviewed by the newspaper about clean offices?", "清廉", language="en")
    assert outcome(q, "市委常务副秘书长安洪涛在接受采访时说，要以清廉机关建设为抓手。") is Outcome.ANSWER


def test_figures_and_places_the_documents_mask_are_no_names():
    q = query("市政府办公室党总支的书记是谁？", "市政府办公室", "党总支")
    assert outcome(q, "市政府办公室党总支下设市政府办公室第**党支部、**党支部，推进xx振兴。") is Outcome.PARTIAL
    assert outcome(q, "市政府办公室党总支书记王xx主持会议。") is Outcome.ANSWER
    film = query("组织党员收看的那部警示教育片叫什么名字？", "警示教育片", "收看")
    assert outcome(film, "组织收看《**》等警示教育片。") is Outcome.PARTIAL
    assert outcome(film, "组织收看《榜样7》等警示教育片。") is Outcome.ANSWER


def test_a_place_is_a_name_of_its_own_not_prose_that_ends_in_a_place_word():
    q = query("省委办公厅去浙江考察时，考察了哪些县市？", "省委办公厅", "浙江", "考察")
    assert outcome(q, "实地考察浙江经验，更好服务省委决策和全省发展大局。") is Outcome.PARTIAL
    assert outcome(q, "实地考察浙江安吉县、德清县的经验。") is Outcome.ANSWER
    village = query("市政府办公室党总支跟哪两个村结对共建？村名叫什么？", "市政府办公室", "党总支", "结对共建")
    assert outcome(village, "市政府办公室党总支结对共建，帮助两村党支部提升组织力。") is Outcome.PARTIAL
    assert outcome(village, "市政府办公室党总支与东关村结对共建。") is Outcome.ANSWER
    # The central task (中心工作) and the title of a civilised city (文明城市) are prose, not places.
    district = query("南河道社区在哪个区？", "南河道", "社区")
    prose = "坚持在市委市政府中心工作一线彰显担当作为，结合创建全国文明城市，与南河道社区建立了对接机制。"
    assert outcome(district, prose) is Outcome.PARTIAL
    assert outcome(district, "南河道社区位于平城区。") is Outcome.ANSWER
    # An English question's place stands in the passages in Chinese: it is no answer to where.
    delta = Concept("yangtze river delta", ("长三角地区", "长三角"), 3.0)
    en = Query("Where was the Yangtze River Delta symposium held?", "en", ["长三角"], [delta])
    assert outcome(en, "高质量保障长三角地区主要领导座谈会。") is Outcome.PARTIAL
    assert outcome(en, "长三角地区主要领导座谈会在安吉县召开。") is Outcome.ANSWER


def test_what_is_counted_is_the_noun_after_the_measure_word_or_the_english_phrase_s_head():
    q = query("市委办公室在会议服务保障方面建了几项机制？", "市委办公室", "会议", "服务", "保障", "建了", "机制")
    assert outcome(q, "建立会议预安排、会议材料审核、流程化服务5项服务保障机制。") is Outcome.ANSWER
    members = [Concept("service", ("服务",), 1.0), Concept("party member", ("党员",), 1.0)]
    question = "How many in-service Party members were sent down to communities?"
    assert asked_head(question, members, AnswerType.NUMBER).label == "party member"


def test_a_rank_states_the_post_asked_for():
    q = query("省委办公厅的保密办是什么级别？", "省委办公厅", "保密办")
    assert outcome(q, "专门设立厅保密办，级别为正处级。") is Outcome.ANSWER
    assert outcome(q, "专门设立厅保密办，指导各处室保密工作。") is Outcome.PARTIAL


def test_which_month_needs_a_month_the_documents_do_not_mask():
    q = query("省委政研室和综合一处的党建联盟是几月份成立的？", "党建联盟", "成立")
    assert outcome(q, "今年x月，党建联盟成立。") is Outcome.PARTIAL
    assert outcome(q, "今年3月，党建联盟成立。") is Outcome.ANSWER


def test_a_sentence_that_does_not_mention_the_thing_does_not_name_it():
    q = query("市政府办公室组织收看的警示教育片叫什么名字？", "市政府办公室", "警示教育片", "收看")
    text = "市政府办公室深入贯彻“五个坚持”重要指示精神。组织收看《**》等警示教育片。"
    assert outcome(q, text) is Outcome.PARTIAL  # “五个坚持” names something, but not the film


def test_a_quoted_name_right_before_the_thing_is_read_whole():
    q = query("市政府办公室党总支创建的党建品牌叫什么名字？", "市政府办公室", "党总支", "品牌")
    assert outcome(q, "大力创建“忠诚铸魂·匠心服务”党建品牌，高效服务市政府。") is Outcome.ANSWER
    film = query("市委办公厅摄制的那部精品党课微视频，片名叫什么？", "市委办公厅", "精品党课", "微视频", "名叫")
    assert outcome(film, "精心摄制精品党课《捧着一颗心来不带半根草去》等微视频。") is Outcome.ANSWER
