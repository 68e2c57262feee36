"""Filters on a real knowledge base: by office (containment), 文种 and 成文日期, applied inside the search."""

from __future__ import annotations

import pytest

from assistant.errors import QuestionError
from tests.conftest import models_dir

pytestmark = pytest.mark.e2e

SHANGHAI = """上海市人民政府办公厅文件
沪府办发〔2023〕12号
上海市人民政府办公厅关于加强机关档案管理工作的通知
各区人民政府，市政府各委、办、局：
为加强机关档案管理，现就有关事项通知如下。
一、档案室每周三下午对外开放，借阅档案须填写借阅登记表，并经办公室主任签字批准。
二、涉密档案不得带出档案室。
上海市人民政府办公厅
2023年3月5日"""

MASKED = """xx市人民政府办公室
关于规范机关档案借阅工作的意见
各县区人民政府：
为规范档案借阅，提出如下意见。
一、档案借阅实行登记制度，借阅档案须经分管副主任审批，借阅期限不超过十天。
二、档案室每周一、周四上午开放。
2024年5月10日"""

# Many documents about 档案, ahead of WEAK for any 档案 question; WEAK mentions it once.
FILLERS = [
    f"关于档案工作情况的报告之{i}\n档案管理是机关基础工作。档案借阅、档案整理、档案保管、档案数字化都有制度，档案室管理规范，档案借阅登记完整。"
    for i in "一二三四五六"
]
WEAK = """某某县委办公室
关于做好年终值班工作的通知
各乡镇党委：
春节期间实行二十四小时值班，值班人员须坚守岗位。值班记录随后归入档案。
2022年12月20日"""


@pytest.fixture(scope="module")
def kb(tmp_path_factory, e5_embedder):
    from assistant.api import Assistant
    from assistant.settings import Settings

    home = tmp_path_factory.mktemp("filters-home")
    folder = home / "docs"
    folder.mkdir()
    files = {"shanghai.txt": SHANGHAI, "masked.txt": MASKED, "weak.txt": WEAK}
    files |= {f"filler{i}.txt": text for i, text in enumerate(FILLERS)}
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    # Few candidates per search: a filter applied after the cut would leave nothing of WEAK to find.
    settings = Settings.load(home, models=str(models_dir()), candidates=2, top_k=2)
    with Assistant(settings, embedder=e5_embedder) as kb:
        assert len(kb.ingest([folder]).added) == len(files)
        kb.folder = folder
        yield kb


def _office(kb, name: str):
    (doc,) = [d for d in kb.documents() if d.source.endswith(name)]
    return doc


def test_documents_carry_their_fields(kb):
    doc = _office(kb, "shanghai.txt")
    assert (doc.office, doc.doc_number, doc.date, doc.doc_type) == (
        "上海市人民政府办公厅",
        "沪府办发〔2023〕12号",
        "2023-03-05",
        "通知",
    )
    masked = _office(kb, "masked.txt")
    assert (masked.office, masked.date, masked.doc_type) == ("xx市人民政府办公室", "2024-05-10", "意见")


def test_a_filter_changes_which_passage_comes_first(kb):
    question = "借阅档案需要谁审批？"
    by_type = {t: kb.retrieve(question, k=1, filters={"doc_type": t})[0] for t in ("通知", "意见")}
    assert by_type["通知"].source.endswith("shanghai.txt") and by_type["意见"].source.endswith("masked.txt")
    assert kb.retrieve(question, k=1, filters={"since": "2024-01-01"})[0].source.endswith("masked.txt")
    assert kb.retrieve(question, k=1, filters={"until": "2023-12-31", "doc_type": "通知"})[0].office == (
        "上海市人民政府办公厅"
    )
    # By containment after normalisation: 市人民政府办公室 finds xx市人民政府办公室 (and not the 办公厅).
    found = kb.retrieve(question, k=2, filters={"office": "市人民政府办公室"})
    assert found and {p.source.rsplit("/", 1)[-1] for p in found} == {"masked.txt"}
    assert kb.retrieve(question, k=1, filters={"office": "上海市政府办公厅"})[0].doc_number == "沪府办发〔2023〕12号"


def test_filters_apply_before_the_top_k_cut(kb):
    question = "档案"
    unfiltered = kb.retrieve(question, k=2)
    assert not any(p.source.endswith("weak.txt") for p in unfiltered)  # ranked below k without the filter
    query = kb.analyse(question)
    weak = _office(kb, "weak.txt").doc_id
    pool = kb.retriever.pool(query.text, query.tokens, query.weights)
    chunks = kb.registry.chunks(c.chunk_id for c in pool)
    assert weak not in {r.doc_id for r in chunks.values()}  # so filtering the candidates afterwards would miss it
    filtered = kb.retrieve(question, k=2, filters={"office": "县委办公室"})
    assert filtered and filtered[0].source.endswith("weak.txt") and filtered[0].date == "2022-12-20"


def test_answers_cite_the_filtered_documents_with_their_fields(kb):
    answer = kb.ask("档案室什么时候开放？", filters={"office": "上海市人民政府办公厅"})
    assert not answer.refused and answer.citations
    assert {(c.office, c.date, c.doc_number) for c in answer.citations} == {
        ("上海市人民政府办公厅", "2023-03-05", "沪府办发〔2023〕12号")
    }


def test_a_filter_that_matches_nothing_refuses_and_says_so(kb):
    assert kb.retrieve("档案", filters={"office": "国务院办公厅"}) == []
    answer = kb.ask("档案室什么时候开放？", filters={"doc_type": "批复"})
    assert answer.refused and "筛选条件" in answer.text and "doc_type=批复" in answer.text
    english = kb.ask("When is the archive open?", filters={"until": "2000-01-01"})
    assert english.refused and "No document matches the filters" in english.text


@pytest.mark.parametrize(
    ("filters", "says"),
    [
        ({"issuer": "x"}, "office, doc_type, since, until"),
        ({"since": "2023/01/01"}, "YYYY-MM-DD"),
        ({"until": "2023-02-30"}, "YYYY-MM-DD"),
        ({"since": "2024-01-01", "until": "2023-01-01"}, "swap"),
        ({"doc_type": 3}, "must be text"),
    ],
)
def test_bad_filters_raise_question_errors_that_say_what_to_do(kb, filters, says):
    with pytest.raises(QuestionError, match=says):
        kb.retrieve("档案", filters=filters)
    with pytest.raises(QuestionError, match=says):
        kb.ask("档案", filters=filters)


def test_reingesting_keeps_the_fields_and_a_changed_file_re_extracts_them(kb):
    report = kb.ingest([kb.folder])
    assert report.added == [] and report.updated == []
    assert _office(kb, "masked.txt").date == "2024-05-10"
    path = kb.folder / "masked.txt"
    path.write_text(MASKED.replace("2024年5月10日", "2024年6月1日"), encoding="utf-8")
    assert kb.ingest([path]).updated
    assert _office(kb, "masked.txt").date == "2024-06-01"
    assert kb.retrieve("档案借阅", k=1, filters={"since": "2024-06-01"})[0].source.endswith("masked.txt")
