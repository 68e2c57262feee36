"""The chat's parts without a browser: citation links, the sources panel, the stoppable run, modes, plain errors, the document list."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from assistant.app.ui.documents_tab import delete_question, documents_html, source_choices
from assistant.app.ui.history import empty_session
from assistant.app.ui.modes import default_mode, mode_statuses, unusable_html, usable_choices
from assistant.app.ui.render import answer_message, cite_links, display_title, sources_link, turn_panel
from assistant.app.ui.respond import make_responder, make_settler, make_stop_request
from assistant.app.ui.status import AnswerRun, Progress, Runs, status_text
from assistant.errors import SettingsError
from assistant.kb.records import DocumentRecord
from assistant.models.chat import BackendError
from assistant.results import Answer, Citation, Stage
from assistant.settings import Settings


def _citation(n: int) -> Citation:
    return Citation(n=n, title="t", source="/srv/kb/a.txt", section="", text="句子。", quote="句子。", start=0, end=3)


# -- citations and the panel -----------------------------------------------------------------------
def test_markers_of_cited_passages_link_to_their_card_of_that_answer():
    answer = Answer(question="q", text="甲。[1]乙。[2]丙[7]。", refused=False, citations=[_citation(1), _citation(2)])
    message = cite_links(answer_message(answer, "问题"), 3, [1, 2])
    assert '<a class="cite" href="#answer-3-source-1"' in message and ">[1]</a>" in message
    assert '<a class="cite" href="#answer-3-source-2"' in message
    assert "\\[7\\]" in message and "source-7" not in message  # no passage 7 was cited: stays text
    assert sources_link(3, answer) == '<a class="src-open" href="#answer-3-sources">查看来源 Sources（2）›</a>'
    assert sources_link(0, Answer(question="q", text="…", refused=True)) == ""


def test_the_panel_says_which_answer_it_shows_and_leads_back_to_the_latest():
    panels = ["<p>一</p>", "", "<p>三</p>"]
    first = turn_panel(panels, 0)
    assert "第 1 个回答的来源" in first and "of 3" in first and "<p>一</p>" in first
    assert 'href="#answer-2-sources"' in first  # back to the latest answer
    latest = turn_panel(panels, 2)
    assert "第 3 个回答的来源" in latest and "#answer-2-sources" not in latest
    assert "没有引用来源" in turn_panel(panels, 1)


def test_titles_lose_leading_mask_marks():
    assert display_title("*市委办公室全面落实…") == "市委办公室全面落实…"
    assert display_title("**市人民政府办公室") == "市人民政府办公室"
    assert display_title("***") == "***"  # nothing but marks: shown as it is, never empty


# -- the answer run: status, stop ----------------------------------------------------------------
def test_a_run_reports_its_stages_and_words_then_the_answer():
    def stream(on_stage):
        on_stage(Stage.SEARCHING)
        on_stage(Stage.GENERATING)
        yield "甲"
        yield "乙"
        yield Answer(question="q", text="甲乙", refused=False)

    items = list(AnswerRun().start(stream).updates(tick=0.05))
    progress = [i for i in items if isinstance(i, Progress)]
    assert progress[-1].stage is Stage.GENERATING and progress[-1].draft == "甲乙"
    assert isinstance(items[-1], Answer)
    assert status_text(Stage.SEARCHING, 0) == "检索中…"
    assert status_text(Stage.GENERATING, 12.4) == "生成中… 12 s"


def test_stopping_closes_the_stream_at_its_next_word_and_calls_the_stop_hooks():
    closed, hooked, gate = threading.Event(), [], threading.Event()

    def stream(on_stage):
        on_stage(Stage.GENERATING)
        try:
            yield "甲"
            gate.wait(5)  # the model is still writing when the user stops it
            yield "乙"
            yield "丙"
            yield Answer(question="q", text="甲乙丙", refused=False)
        finally:
            closed.set()

    run = AnswerRun()
    run.on_stop.append(lambda: hooked.append("cancel"))
    run.start(stream)
    seen = []
    for item in run.updates(tick=0.05):
        seen.append(item)
        if isinstance(item, Progress) and item.draft == "甲":
            run.stop()
            gate.set()
    assert not any(isinstance(i, Answer) for i in seen)  # stopped: no answer is shown
    assert closed.wait(5) and hooked == ["cancel"]  # the request was closed; the backend's cancel ran
    run.stop()
    assert hooked == ["cancel"]  # once only


def test_a_run_hands_the_streams_error_to_the_page():
    def stream(on_stage):
        raise BackendError("down")
        yield  # pragma: no cover

    with pytest.raises(BackendError):
        list(AnswerRun().start(stream).updates(tick=0.05))


def test_after_a_stop_the_draft_is_marked_stopped_and_the_turn_keeps_its_place():
    runs = Runs()
    assert runs.stop("nobody") is None
    settle = make_settler(runs)
    request = SimpleNamespace(session_hash="s")
    run = runs.begin("s", "问")
    make_stop_request(runs)(request)
    assert run.stopped.is_set()
    # The page shows the draft as it was when Gradio cancelled the answer.
    history = [
        {"role": "user", "content": "问"},
        {"role": "assistant", "content": [{"type": "text", "text": "写到 ▍"}]},
    ]
    _, history, session, sources, status, *_ = settle(history, empty_session(), request)
    assert history[-1]["content"].startswith("写到\n\n*已停止生成") and status == ""
    # The stopped turn keeps its place (no sources, no answer to rate or export) and stays follow-up context.
    assert session["searched"] == ["问"] and session["sources"] == [""] and session["answers"] == [None]
    again = settle(history, session, request)
    assert again[1] == again[2] == {"__type__": "update"}  # settled once only


def test_settling_a_finished_answer_shows_its_final_state_even_if_the_page_missed_it():
    runs = Runs()
    run = runs.begin("s", "问")
    final = ([{"role": "assistant", "content": "答。"}], {"searched": ["问"], "sources": ["<p>源</p>"]}, "<p>panel</p>")
    run.final = final
    assert runs.stop("s") is None  # done: nothing to stop
    assert settle_outputs(runs, "s")[1:4] == final


def settle_outputs(runs, session):
    return make_settler(runs)(
        [{"role": "assistant", "content": "草稿 ▍"}], empty_session(), SimpleNamespace(session_hash=session)
    )


# -- answer modes and messages ---------------------------------------------------------------------
def test_modes_that_are_not_set_up_are_offered_disabled_with_a_plain_note():
    nothing_there = "http://127.0.0.1:9"  # the discard port: no Ollama answers there
    statuses = mode_statuses(Settings.load(None, env={"ASSISTANT_OLLAMA_URL": nothing_there}))
    by_mode = {s.mode: s for s in statuses}
    assert by_mode["extractive"].usable and not by_mode["openai"].usable and not by_mode["ollama"].usable
    assert by_mode["openai"].note == "未配置 OpenAI 兼容服务，请联系管理员"
    assert ("OpenAI 兼容服务 OpenAI-compatible", "openai") not in usable_choices(statuses)
    html = unusable_html(statuses)
    assert "disabled" in html and "未配置 OpenAI 兼容服务，请联系管理员" in html
    assert default_mode(statuses, "openai") == "extractive"
    configured = mode_statuses(
        Settings.load(
            None, env={"ASSISTANT_OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "ASSISTANT_OLLAMA_URL": nothing_there}
        )
    )
    assert next(s for s in configured if s.mode == "openai").usable


class _FailingKB:
    """A knowledge base whose chat model is down (or whose set-up is wrong), as the chat meets it."""

    settings = SimpleNamespace(answer_mode="extractive")

    def __init__(self, error: Exception):
        self.error = error

    def stream(self, question, **kwargs):
        kwargs["on_stage"](Stage.SEARCHING)
        raise self.error
        yield  # pragma: no cover

    def ask(self, question, **kwargs):
        return Answer(
            question=question, text="根据知识库中的文件：\n句子。[1]", refused=False, citations=[_citation(1)]
        )

    def document_text(self, doc_id):
        return None


def _last_message(kb, mode: str) -> str:
    respond = make_responder(kb, Runs())
    states = list(respond("双报到是什么？", [], empty_session(), 5, mode, None, None, None, None, None))
    history = states[-1][1]
    return history[-1]["content"]


@pytest.mark.parametrize(
    ("error", "mode", "expected"),
    [
        (
            BackendError("openai: cannot reach http://127.0.0.1:8000/v1\\ ; check ASSISTANT_OPENAI_BASE_URL"),
            "openai",
            "语言模型暂时不可用，请联系管理员",
        ),
        (SettingsError("answer mode 'ollama': run `ollama serve`, or --mode extractive"), "ollama", "请联系管理员"),
        (SettingsError("ASSISTANT_TOP_K must be an int"), "extractive", "出错了，请联系管理员"),
    ],
)
def test_the_chat_never_shows_settings_names_commands_or_backslashes(error, mode, expected):
    message = _last_message(_FailingKB(error), mode)
    assert expected in message
    for developer_text in ("ASSISTANT_", "ollama serve", "--mode", "http://", "\\ ", "\\;"):
        assert developer_text not in message


# -- the knowledge-base list -----------------------------------------------------------------------
def _record(source: str, title: str, collection: str | None = None, chunks: int = 3) -> DocumentRecord:
    return DocumentRecord(
        doc_id=f"{source}:{title}",
        source=source,
        title=title,
        collection=collection,
        format="txt",
        file_hash="h",
        n_chunks=chunks,
        ingested_at="2026-12-04T10:00:00+00:00",
        complete=True,
    )


class _ListKB:
    def __init__(self, records):
        self.records = records

    def documents(self):
        return list(self.records)


def test_the_list_shows_names_and_titles_and_groups_a_compilation_under_its_file():
    kb = _ListKB(
        [
            _record("/srv/home/kb/uploads/值班制度.txt", "*市委办公室值班制度"),
            *(
                _record("/srv/data/汇编.txt", f"第{i}篇 <b>文章</b>", collection="2023年材料汇编（3篇）")
                for i in (1, 2, 3)
            ),
            _record("/other/值班制度.txt", "另一份值班制度"),
        ]
    )
    html = documents_html(kb)
    assert "/srv" not in html and "/other" not in html and "uploads" not in html
    assert html.count('<tr class="file">') == 3 and html.count('<tr class="article">') == 3
    assert "2023年材料汇编（3篇）" in html and "汇编 · 3 篇文章" in html
    assert ">市委办公室值班制度<" in html and "*市委" not in html
    assert "&lt;b&gt;文章&lt;/b&gt;" in html and "<b>文章" not in html
    labels = [label for label, _ in source_choices(kb)]
    assert all("/" not in label for label in labels)
    # Two files of one name (different folders) are told apart by a number, not by their paths.
    assert "值班制度.txt —《另一份值班制度》" in labels and "值班制度.txt (2) —《市委办公室值班制度》" in labels
    assert "汇编.txt — 汇编 3 篇 compilation of 3" in labels
    question = delete_question(kb, ["/srv/data/汇编.txt"])
    assert "确定要从知识库删除这 1 个文件吗" in question and "汇编.txt" in question and "/srv" not in question


def test_a_run_times_its_status_from_when_it_began():
    def stream(on_stage):
        on_stage(Stage.GENERATING)
        time.sleep(0.3)
        yield Answer(question="q", text="a", refused=False)

    ticks = [i for i in AnswerRun().start(stream).updates(tick=0.1) if isinstance(i, Progress)]
    assert ticks and ticks[-1].seconds >= 0.2  # the seconds keep counting while no word arrives
