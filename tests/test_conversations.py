"""Saved conversations, feedback and answer export, on real SQLite files and real .docx/.md files (no model)."""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import asdict
from pathlib import Path

import pytest

from assistant.conversations.export import answer_from_json, docx_bytes, export_answer, markdown_of
from assistant.conversations.feedback import export_feedback, question_line
from assistant.conversations.store import ConversationStore, Turn, open_store
from assistant.errors import ConversationError, ExportError, FeedbackError
from assistant.eval.metrics import read_question_set
from assistant.results import Answer, Citation, Passage

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
QUOTE1 = "认真落实在职党员“双报到”要求，组织党员到社区开展志愿服务。"
QUOTE2 = "与南河道社区建立了常态化对接机制。"


def sample_answer(refused: bool = False) -> Answer:
    def cite(n: int, quote: str, **extra) -> Citation:
        text = f"前文。{quote}后文<b>。"
        return Citation(
            n=n,
            title=f"文件{n}",
            source=f"/srv/docs/{n}.txt",
            section="一、总体情况",
            text=text,
            quote=quote,
            start=3,
            end=3 + len(quote),
            passage_start=0,
            passage_end=len(text),
            doc_id=f"d{n}",
            **extra,
        )

    if refused:
        nearest = [Passage("最接近的段落。", "文件3", "/srv/3.txt", "", 0, 7, 0.1, "c3", office="市委办公厅")]
        return Answer("明天会下雨吗？", "知识库中没有找到答案。", True, nearest=nearest, mode="extractive")
    return Answer(
        question="机关是怎样落实在职党员“双报到”制度的？",
        text=f"根据知识库中的文件：\n{QUOTE1}[1]\n{QUOTE2}[2] 另见[1]。",
        refused=False,
        citations=[cite(1, QUOTE1, office="市委办公厅", page=4), cite(2, QUOTE2, office="市政府办公室")],
        mode="extractive",
    )


@pytest.fixture
def store(tmp_path) -> ConversationStore:
    return open_store(tmp_path / "kb")


def _turn(answer: Answer | None, question: str = "问题？") -> Turn:
    return Turn(
        question=answer.question if answer else question,
        user_message=question,
        reply=answer.text if answer else "**⚠ 出错了**",
        panel="<div>panel</div>",
        searched=answer.question if answer else "",
        answer=asdict(answer) if answer else None,
        mode="extractive",
    )


# -- the store ----------------------------------------------------------------------------------
def test_conversations_are_per_user_and_survive_reopening(store, tmp_path):
    a = store.create("alice", "机关是怎样落实在职党员“双报到”制度的？" * 4)
    assert len(a.title) <= 60 and a.title.endswith("…")
    store.append("alice", a.id, _turn(sample_answer()))
    store.append("alice", a.id, _turn(None, "坏问题"))
    b = store.create("bob")
    assert b.title == "新对话"
    # Another process opening the same file sees everything (a server restart).
    again = open_store(tmp_path / "kb")
    assert [c.id for c in again.conversations("alice")] == [a.id]
    assert again.conversations("alice")[0].turns == 2
    turns = again.turns("alice", a.id)
    assert [t.position for t in turns] == [0, 1]
    assert answer_from_json(turns[0].answer).citations[0].quote == QUOTE1
    assert turns[1].answer is None
    # Bob cannot see, rename or delete Alice's conversation: to him it does not exist.
    with pytest.raises(ConversationError, match="pick one from the list or start a new one"):
        again.turns("bob", a.id)
    with pytest.raises(ConversationError):
        again.delete("bob", a.id)
    assert again.secret() == store.secret() and len(store.secret()) >= 24


def test_rename_delete_and_drop_last(store):
    c = store.create("u", "第一问")
    with pytest.raises(ConversationError, match="type a new title"):
        store.rename("u", c.id, "   ")
    assert store.rename("u", c.id, "  保密  工作\n汇总 ").title == "保密 工作 汇总"
    store.append("u", c.id, _turn(sample_answer()))
    store.append("u", c.id, _turn(sample_answer(refused=True)))
    assert store.drop_last("u", c.id).question == "明天会下雨吗？"
    assert [t.position for t in store.turns("u", c.id)] == [0]
    store.delete("u", c.id)
    assert store.conversations("u") == []
    with pytest.raises(ConversationError, match="不存在"):
        store.turns("u", c.id)
    with pytest.raises(ConversationError, match="no user"):
        store.conversations(" ")


def test_unwritable_store_says_what_to_do(tmp_path):
    (tmp_path / "a-file").write_text("x")  # a file where the folder should be: no user, not even root, can write
    with pytest.raises(ConversationError, match="check that the folder is writable"):
        open_store(tmp_path / "a-file" / "kb")


# -- feedback -----------------------------------------------------------------------------------
def test_feedback_is_stored_with_the_answer_and_an_empty_comment_is_refused(store):
    c = store.create("u")
    store.append("u", c.id, _turn(sample_answer()))
    store.append("u", c.id, _turn(None, "坏问题"))
    item = store.rate("u", c.id, 0, "up")
    assert item.question.startswith("机关") and item.answer["citations"][0]["quote"] == QUOTE1
    assert item.mode == "extractive" and item.comment == ""
    with pytest.raises(FeedbackError, match="The comment is empty"):
        store.comment("u", item.id, "  \n ")
    assert store.comment("u", item.id, "引用准确").comment == "引用准确"
    # Changing the rating keeps the comment; one row per answer.
    again = store.rate("u", c.id, 0, "down")
    assert (again.id, again.rating, again.comment) == (item.id, "down", "引用准确")
    assert len(store.feedback()) == 1
    with pytest.raises(FeedbackError, match="no answer to rate"):
        store.rate("u", c.id, 1, "up")  # an error message, not an answer
    with pytest.raises(FeedbackError, match="unknown rating"):
        store.rate("u", c.id, 0, "meh")
    with pytest.raises(FeedbackError):
        store.comment("other", item.id, "不是我的")


def test_feedback_export_is_a_question_set_eval_reads(store, tmp_path):
    c = store.create("u")
    answers = [sample_answer(), sample_answer(refused=True)]
    wrong = sample_answer()
    wrong.question = "双报到是哪一年开始的？"
    should = sample_answer(refused=True)
    should.question = "市委办公厅创建了几个“五个好”党支部？"
    for a in [*answers, wrong, should]:
        store.append("u", c.id, _turn(a))
    store.rate("u", c.id, 0, "up")
    store.rate("u", c.id, 1, "up")
    store.rate("u", c.id, 2, "down", "年份不对")
    store.rate("u", c.id, 3, "down")
    out = tmp_path / "feedback.jsonl"
    assert export_feedback(store.feedback(), out) == 4
    items = {i["question"]: i for i in read_question_set(out)}
    confirmed = items[answers[0].question]
    assert confirmed["answerable"] is True and confirmed["gold"] == [QUOTE1, QUOTE2]
    assert confirmed["kind"] == "feedback-confirmed" and confirmed["lang"] == "zh"
    assert confirmed["feedback"]["citations"][0]["quote"] == QUOTE1
    assert items["明天会下雨吗？"]["answerable"] is False
    assert items[wrong.question]["answerable"] is False and items[wrong.question]["rejected"] == [QUOTE1, QUOTE2]
    assert items[wrong.question]["feedback"]["comment"] == "年份不对"
    assert items[should.question] | {"feedback": None} == items[should.question] | {
        "answerable": True,
        "gold": [],
        "kind": "feedback-should-answer",
        "feedback": None,
    }
    assert export_feedback(store.feedback(), out, ("up",)) == 2
    with pytest.raises(FeedbackError, match="rate answers"):
        export_feedback([], out)
    with pytest.raises(ExportError, match=r"\.jsonl"):
        export_feedback(store.feedback(), tmp_path / "feedback.txt")
    with pytest.raises(ExportError, match="does not exist"):
        export_feedback(store.feedback(), tmp_path / "nowhere" / "f.jsonl")


def test_question_line_labels_english_and_mixed_questions(store):
    c = store.create("u")
    a = sample_answer()
    a.question = "How do offices run the 双报到 system?"
    store.append("u", c.id, _turn(a))
    assert question_line(store.rate("u", c.id, 0, "up"))["lang"] == "mixed"


# -- export ---------------------------------------------------------------------------------------
def docx_parts(data: bytes) -> tuple[str, list[str]]:
    """The body text (footnote references as {id}) and the footnotes' texts, read back with python-docx."""
    import io

    from docx import Document
    from docx.opc.constants import RELATIONSHIP_TYPE
    from lxml import etree

    document = Document(io.BytesIO(data))
    body = []
    for p in document.element.body.iter(f"{W}p"):
        line = ""
        for node in p.iter(f"{W}t", f"{W}footnoteReference"):
            line += node.text or "" if node.tag == f"{W}t" else "{" + node.get(f"{W}id") + "}"
        body.append(line)
    part = next(r.target_part for r in document.part.rels.values() if r.reltype == RELATIONSHIP_TYPE.FOOTNOTES)
    root = etree.fromstring(part.blob)
    notes = [
        "".join(t.text or "" for t in note.iter(f"{W}t"))
        for note in root.iter(f"{W}footnote")
        if int(note.get(f"{W}id")) > 0
    ]
    return "\n".join(body), notes


def test_docx_export_has_real_footnotes_with_document_office_section_page_and_quote(tmp_path):
    path = export_answer(sample_answer(), tmp_path / "答案.docx")
    data = path.read_bytes()
    assert zipfile.ZipFile(path).testzip() is None
    body, notes = docx_parts(data)
    assert "机关是怎样落实在职党员“双报到”制度的？" in body
    assert f"{QUOTE1}{{1}}" in body and f"{QUOTE2}{{2}} 另见{{3}}。" in body and "[1]" not in body.split("来源")[0]
    assert len(notes) == 3  # one Word footnote per marker; [1] is cited twice
    assert notes[0].strip().startswith("[1] 文件标题：《文件1》；发文机关：市委办公厅；章节：一、总体情况")
    assert "文件：1.txt；页码：第 4 页" in notes[0] and notes[0].endswith(f"引文：“{QUOTE1}”")
    assert notes[2] == notes[0] and "[2]" in notes[1] and "市政府办公室" in notes[1]
    # The content types and the relationship make Word open the footnotes part.
    names = zipfile.ZipFile(path).namelist()
    assert "word/footnotes.xml" in names
    assert b"footnotes+xml" in zipfile.ZipFile(path).read("[Content_Types].xml")


def test_markdown_export_and_a_refusal(tmp_path):
    md = markdown_of(sample_answer())
    assert f"{QUOTE1}[^1]" in md and "另见[^1]" in md
    assert "[^1]: \\[1\\] 文件标题 Document：《文件1》；发文机关 Office：市委办公厅" in md and f"“{QUOTE1}”" in md
    # Document text stays literal in Markdown: a masked office name does not turn bold, a stray [3] is no link.
    masked = sample_answer()
    masked.citations[0].title = "**市人民政府办公室_通知"
    masked.text += "见[3]。"
    md = markdown_of(masked)
    assert "《\\*\\*市人民政府办公室\\_通知》" in md and "见\\[3\\]。" in md and "[^1]" in md
    refused = export_answer(sample_answer(refused=True), tmp_path / "r.md").read_text(encoding="utf-8")
    assert "没有找到答案" in refused and "不回答此问题" in refused and "最接近的段落。" in refused
    assert docx_bytes(sample_answer(refused=True))[:2] == b"PK"
    # A stray control character from a document does not break the Word file.
    bad = sample_answer()
    bad.text = "控制\x07字符[1]"
    assert docx_bytes(bad)[:2] == b"PK"


def test_export_paths_that_cannot_be_written_say_what_to_do(tmp_path):
    answer = sample_answer()
    with pytest.raises(ExportError, match="does not exist; create it first"):
        export_answer(answer, tmp_path / "missing" / "a.docx")
    with pytest.raises(ExportError, match="name the file with .docx or .md"):
        export_answer(answer, tmp_path / "a.pdf")
    (tmp_path / "dir.docx").mkdir()
    with pytest.raises(ExportError, match="is a folder"):
        export_answer(answer, tmp_path / "dir.docx")
    if os.geteuid() != 0:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        try:
            with pytest.raises(ExportError, match="permission denied"):
                export_answer(answer, ro / "a.md")
        finally:
            ro.chmod(0o700)
    assert not list(Path(tmp_path).glob(".*.tmp"))


def test_answer_json_round_trip_ignores_unknown_keys():
    data = asdict(sample_answer())
    data["extra"] = 1
    data["citations"][0]["future_field"] = "x"
    again = answer_from_json(json.loads(json.dumps(data)))
    assert again.citations[0].quote == QUOTE1 and again.citations[1].office == "市政府办公室"


# -- the chat's handlers, without a browser ------------------------------------------------------
def test_chat_history_saves_turns_regenerates_and_reopens_an_unknown_conversation_as_new(tmp_path):
    from types import SimpleNamespace

    from assistant.app.ui.history import ChatHistory, with_turn

    kb = SimpleNamespace(settings=SimpleNamespace(kb_dir=tmp_path / "kb", kb="default"))
    history = ChatHistory(kb)
    answer = sample_answer()
    chat = [
        {"role": "user", "content": "机关是怎样落实在职党员“双报到”制度的？"},
        {"role": "assistant", "content": "答"},
    ]
    session = with_turn(None, "<p>1</p>", answer, chat)
    chat2 = chat + [{"role": "user", "content": "坏\\*问题"}, {"role": "assistant", "content": [{"text": "⚠"}]}]
    session = with_turn(session, "", None, chat2)  # an error turn: no answer, nothing searched
    assert session["searched"] == [answer.searched] and session["answers"][1] is None
    ident, _, _, title, *_ = history.sync({"user": "u", "conversation": ""}, session)
    assert title == answer.question and ident["conversation"]
    turns = history.store.turns("u", ident["conversation"])
    assert [(t.question, t.reply) for t in turns] == [(answer.question, "答"), ("坏*问题", "⚠")]
    # Syncing again (the session re-sent) adds nothing.
    history.sync(ident, session)
    assert len(history.store.turns("u", ident["conversation"])) == 2
    # Regenerate: the last question comes back unescaped, the turn leaves the page, the session and the store.
    question, chat_after, trimmed = history.pop_last(ident, chat2, session)
    assert question == "坏*问题" and chat_after == chat and len(trimmed["sources"]) == 1
    assert trimmed["searched"] == [answer.searched]  # the error turn had added nothing there
    assert len(history.store.turns("u", ident["conversation"])) == 1
    # The conversation reopens with its messages and sources; an unknown id opens a new, empty one instead.
    opened = history.open(ident, ident["conversation"])
    assert opened[4] == chat and opened[5]["sources"] == ["<p>1</p>"]
    fresh = history.restore({"user": "u", "conversation": "no-such-id"}, SimpleNamespace(username=None))
    assert fresh[0] == {"user": "u", "conversation": "", "kb": "default"} and fresh[4] == []
    # A login name wins over the browser's id.
    assert history.restore({"user": "u"}, SimpleNamespace(username="alice"))[0]["user"] == "alice"
