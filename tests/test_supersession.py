"""Supersession: a newer document of the same office with the same 文号 or title replaces the older one."""

from __future__ import annotations

import pytest

from assistant.app.cli import citation_meta
from assistant.kb.records import DocumentRecord
from assistant.kb.supersession import asks_about_older, label, successors
from tests.conftest import models_dir


def doc(doc_id, title, office="上海市人民政府办公厅", date="2023-03-05", number=None):
    return DocumentRecord(doc_id, f"/{doc_id}.txt", title, None, "txt", doc_id, 1, "t", True, office, number, date)


def test_a_newer_document_of_the_same_office_and_title_or_number_supersedes_the_older():
    old = doc("a", "关于加强机关档案管理工作的通知", date="2022-01-10")
    new = doc("b", "关于加强机关档案管理工作的通知", date="2024-02-01")
    renumbered_old = doc("c", "关于值班工作的通知", date="2021-05-01", number="沪府办发〔2021〕3号")
    renumbered_new = doc("d", "关于进一步做好值班工作的通知", date="2023-05-01", number="沪府办发〔2021〕3号")
    found = successors([old, new, renumbered_old, renumbered_new])
    assert found == {"a": new, "c": renumbered_new}
    assert label(new) == "已被《关于加强机关档案管理工作的通知》（2024-02-01）替代"


def test_other_offices_undated_documents_and_same_day_copies_are_left_alone():
    base = doc("a", "关于加强机关档案管理工作的通知", date="2022-01-10")
    other_office = doc("b", "关于加强机关档案管理工作的通知", office="xx市委办公室", date="2024-02-01")
    undated = doc("c", "关于加强机关档案管理工作的通知", date=None)
    same_day = doc("d", "关于加强机关档案管理工作的通知", date="2022-01-10")
    assert successors([base, other_office, undated, same_day]) == {}
    # A header line ("…办公厅文件") shared by all of an office's documents is no title to compare.
    headers = [
        doc("g", "上海市人民政府办公厅文件", date="2022-01-01"),
        doc("h", "上海市人民政府办公厅文件", date="2023-01-01"),
    ]
    assert successors(headers) == {}
    # The office compares after normalisation: **市人民政府办公室 and xx市政府办公室 are one office.
    masked_old = doc("e", "关于规范档案借阅的意见", office="**市人民政府办公室", date="2020-01-01")
    masked_new = doc("f", "关于规范档案借阅的意见", office="xx市政府办公室", date="2021-01-01")
    assert successors([masked_old, masked_new]) == {"e": masked_new}


@pytest.mark.parametrize(
    "question, older",
    [
        ("档案室什么时候开放？", False),
        ("旧版通知规定档案室什么时候开放？", True),
        ("2022年的规定里档案室什么时候开放？", True),
        ("2025年档案室什么时候开放？", False),
        ("What did the previous version say about opening hours?", True),
    ],
)
def test_the_older_version_is_wanted_only_when_the_question_says_so(question, older):
    assert asks_about_older(question, doc("b", "关于加强机关档案管理工作的通知", date="2024-02-01")) is older


def test_a_citation_line_says_its_document_was_replaced():
    meta = citation_meta("上海市人民政府办公厅", "2022-01-10", None, "已被《关于…的通知》（2024-02-01）替代")
    assert meta.endswith("已被《关于…的通知》（2024-02-01）替代") and "2022-01-10" in meta


OLD = """上海市人民政府办公厅文件
沪府办发〔2022〕5号
上海市人民政府办公厅关于机关档案室开放时间的通知
各区人民政府，市政府各委、办、局：
一、机关档案室每周三下午对外开放，借阅档案须填写借阅登记表。
上海市人民政府办公厅
2022年1月10日"""

NEW = """上海市人民政府办公厅文件
沪府办发〔2024〕2号
上海市人民政府办公厅关于机关档案室开放时间的通知
各区人民政府，市政府各委、办、局：
一、机关档案室每周一至周五全天对外开放，借阅档案须在网上预约登记。
上海市人民政府办公厅
2024年2月1日"""


@pytest.mark.e2e
def test_a_replaced_notice_is_labelled_and_ranked_after_its_successor(tmp_path, e5_embedder):
    from assistant.api import Assistant
    from assistant.settings import Settings

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "old.txt").write_text(OLD, encoding="utf-8")
    settings = Settings.load(tmp_path / "home", models=str(models_dir()))
    with Assistant(settings, embedder=e5_embedder) as kb:
        kb.ingest([folder])
        alone = kb.retrieve("机关档案室什么时候开放？", k=2)
        assert alone[0].source.endswith("old.txt") and alone[0].superseded is None  # nothing replaces it yet

        (folder / "new.txt").write_text(NEW, encoding="utf-8")  # the newer notice arrives later
        kb.ingest([folder])
        ranked = kb.retrieve("机关档案室什么时候开放？", k=2)
        assert [p.source.rsplit("/", 1)[-1] for p in ranked] == ["new.txt", "old.txt"]
        assert ranked[1].superseded == "已被《上海市人民政府办公厅关于机关档案室开放时间的通知》（2024-02-01）替代"
        assert ranked[0].superseded is None

        # Asked about the older version, its passage keeps its rank and still carries the label.
        older = kb.retrieve("2022年的通知规定机关档案室每周三什么时候开放？", k=2)
        assert older[0].source.endswith("old.txt") and older[0].superseded

        answer = kb.ask("机关档案室什么时候开放？")
        assert not answer.refused and "周一至周五" in answer.text.split("\n")[1]
        for c in answer.citations:
            assert (c.superseded is not None) == c.source.endswith("old.txt")

        # Deleting the newer notice lifts the label.
        kb.delete(str(folder / "new.txt"))
        assert kb.retrieve("机关档案室什么时候开放？", k=1)[0].superseded is None


def test_the_sources_panel_marks_a_replaced_document():
    from assistant.app.ui.render import sources_html
    from assistant.results import Answer, Citation

    cited = Citation(1, "关于机关档案室开放时间的通知", "/old.txt", "", OLD, "每周三下午对外开放", 0, 9)
    cited.superseded = "已被《关于机关档案室开放时间的通知》（2024-02-01）替代"
    html = sources_html(Answer("档案室什么时候开放？", "每周三下午对外开放[1]", False, [cited]))
    assert "已替代 Superseded" in html and "（2024-02-01）替代" in html
    cited.superseded = None
    assert "已替代" not in sources_html(Answer("档案室什么时候开放？", "每周三下午对外开放[1]", False, [cited]))
