"""The HTTP API (/api/v1, OpenAI-compatible /v1): unit tests on a stand-in knowledge base, then a real server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from fastapi.testclient import TestClient

from assistant.app.http import ApiSettings, create_api
from assistant.app.http.auth import ANY_KB, ApiKeys
from assistant.app.http.errors import ApiError, status_of
from assistant.app.http.openai_compat import ChatMessage, question_and_history
from assistant.errors import AssistantError, QuestionError, SettingsError, StoreError
from assistant.models.chat import BackendError
from assistant.results import Answer, Citation, IngestReport
from assistant.retrieval.filters import Filters
from tests.conftest import REPORT, ROOT, free_port, models_dir

KEY, OTHER_KB_KEY = "test-key-0123", "other-key"
KEYS = f"{KEY},{OTHER_KB_KEY}:finance"
QUESTION = "办公室全年共收文多少件？"


# -- units: keys, messages, statuses --------------------------------------------------------------
def test_api_keys_parse_bindings_and_check_in_every_case():
    keys = ApiKeys(f" {KEY} , {OTHER_KB_KEY}:finance, {OTHER_KB_KEY}:hr ,")
    assert keys.enabled and keys.knowledge_bases(f"Bearer {KEY}") == {ANY_KB}
    assert keys.knowledge_bases(f"bearer {OTHER_KB_KEY}") == {"finance", "hr"}
    keys.check(f"Bearer {OTHER_KB_KEY}", "hr")
    for header, code in (
        (None, "missing_api_key"),
        ("Basic abc", "missing_api_key"),
        ("Bearer nope", "invalid_api_key"),
    ):
        with pytest.raises(ApiError) as caught:
            keys.check(header, "default")
        assert caught.value.status == 401 and caught.value.code == code and "Bearer" in caught.value.message
    with pytest.raises(ApiError) as caught:
        keys.check(f"Bearer {OTHER_KB_KEY}", "default")
    assert caught.value.status == 403 and "'default'" in caught.value.message
    assert ApiKeys("").knowledge_bases(None) == {ANY_KB}  # no keys set: open, as the chat is
    with pytest.raises(ApiError, match="ASSISTANT_API_KEYS") as caught:
        ApiKeys("", ui_login=True).knowledge_bases(None)  # a chat behind a login never gets an open API
    assert caught.value.status == 401


def test_the_last_user_message_is_the_question_and_earlier_ones_the_history():
    messages = [
        ChatMessage(role="system", content="忽略"),
        ChatMessage(role="user", content="机关是怎样落实在职党员“双报到”制度的？"),
        ChatMessage(role="assistant", content="……[1]"),
        ChatMessage(role="user", content=[{"type": "text", "text": "那保密工作呢？"}, {"type": "image_url"}]),
    ]
    assert question_and_history(messages) == ("那保密工作呢？", ["机关是怎样落实在职党员“双报到”制度的？"])
    with pytest.raises(ApiError, match="role 'user'"):
        question_and_history([ChatMessage(role="system", content="x")])


def test_assistant_errors_map_to_statuses():
    assert status_of(QuestionError("empty")) == (422, "invalid_question")
    assert status_of(BackendError("down")) == (502, "chat_model_failed")
    assert status_of(SettingsError("no url")) == (503, "not_configured")
    assert status_of(StoreError("locked")) == (503, "store_unavailable")
    assert status_of(AssistantError("x")) == (400, "request_failed")
    with pytest.raises(SettingsError, match="ASSISTANT_MAX_REQUEST_KB"):
        ApiSettings.load(max_request_kb="lots")


# -- units: the routes on a stand-in knowledge base ---------------------------------------------------
class FakeKB:
    """Just enough of an Assistant for the routes; answers without any model."""

    answer_mode = "extractive"

    def __init__(self, tmp: Path):
        self.settings = SimpleNamespace(kb="default", kb_dir=tmp, max_upload_mb=1, max_upload_files=2, top_k=5)
        self.asked: list[dict] = []
        self.ingested: list[Path] = []

    def _answer(self, question: str) -> Answer:
        if not question.strip():
            raise QuestionError("the question is empty: type a question")
        cite = Citation(
            n=1,
            title="T",
            source="/s.txt",
            section="",
            text="收文一千二百件。",
            quote="收文一千二百件。",
            start=0,
            end=8,
        )
        return Answer(question=question, text="收文一千二百件。[1]", refused=False, citations=[cite])

    def ask(self, question, k=None, history=None, mode=None, filters=None):
        Filters.parse(filters)  # a bad filter raises QuestionError, as in kb.ask
        self.asked.append({"question": question, "k": k, "history": history, "mode": mode, "filters": filters})
        return self._answer(question)

    def stream(self, question, history=None, mode=None, k=None, filters=None, stop=None, queue_status=False):
        Filters.parse(filters)
        self.asked.append({"question": question, "k": k, "history": history, "mode": mode, "filters": filters})
        answer = self._answer(question)  # raises before the first piece, as kb.stream does
        yield answer.text
        yield answer

    def ingest(self, paths):
        self.ingested += paths
        return IngestReport(added=[str(p) for p in paths])

    def documents(self):
        return []


@pytest.fixture
def client(tmp_path):
    kb = FakeKB(tmp_path)
    settings = ApiSettings.load(api_keys=KEYS, max_request_kb=4, cors_origins="https://oa.example")
    with TestClient(create_api(kb, settings), raise_server_exceptions=False) as c:
        c.kb = kb
        c.headers["Authorization"] = f"Bearer {KEY}"
        yield c


def test_routes_check_keys_limits_and_answer_json_errors(client):
    ok = client.post("/api/v1/ask", json={"question": "收文多少？", "history": [["q", "a"], "q2"], "k": 3})
    assert ok.status_code == 200 and ok.json()["citations"][0]["n"] == 1
    assert client.kb.asked[-1] == {
        "question": "收文多少？",
        "k": 3,
        "history": [("q", "a"), "q2"],
        "mode": None,
        "filters": None,
    }
    assert client.post("/api/v1/ask", json={"question": "x", "filters": {"office": "市委办公厅"}}).status_code == 200
    assert client.kb.asked[-1]["filters"] == {"office": "市委办公厅"}

    def error(response, status):
        assert response.status_code == status, response.text
        body = response.json()["error"]
        assert set(body) == {"code", "message"} and body["message"]
        return body

    assert error(client.post("/api/v1/ask", json={"question": "  "}), 422)["code"] == "invalid_question"
    assert "question" in error(client.post("/api/v1/ask", json={"q": "x"}), 422)["message"]
    assert error(client.post("/api/v1/ask", json={"question": "x", "mode": "gpt"}), 422)["code"] == "invalid_request"
    unknown = error(client.post("/api/v1/ask", json={"question": "x", "filters": {"a": 1}}), 422)
    assert unknown["code"] == "invalid_question" and "office, doc_type, since, until" in unknown["message"]
    assert (
        "ASSISTANT_MAX_REQUEST_KB" in error(client.post("/api/v1/ask", json={"question": "问" * 3000}), 413)["message"]
    )
    assert error(client.get("/api/v1/nothing"), 404)["code"] == "not_found"
    assert error(client.get("/v1/engines"), 404)["code"] == "not_found"
    assert error(client.get("/api/v1/stats", headers={"Authorization": ""}), 401)["code"] == "missing_api_key"
    assert error(client.get("/v1/models", headers={"Authorization": "Bearer x"}), 401)["code"] == "invalid_api_key"
    bound = {"Authorization": f"Bearer {OTHER_KB_KEY}"}
    assert error(client.get("/api/v1/documents", headers=bound), 403)["code"] == "forbidden"
    assert client.get("/v1/models", headers=bound).json()["data"] == []  # it sees no model here
    chat = {"model": "default", "messages": [{"role": "user", "content": "收文多少？"}]}
    assert error(client.post("/v1/chat/completions", json=chat, headers=bound), 403)["code"] == "forbidden"
    assert (
        error(client.post("/v1/chat/completions", json={**chat, "model": "gpt-4o"}), 404)["code"] == "model_not_found"
    )
    empty = {**chat, "messages": [{"role": "user", "content": ""}], "stream": True}
    assert error(client.post("/v1/chat/completions", json=empty), 422)["code"] == "invalid_question"

    # A browser page of the configured origin may call the API; no other origin gets CORS headers.
    pre = {"Origin": "https://oa.example", "Access-Control-Request-Method": "POST"}
    assert client.options("/api/v1/ask", headers=pre).headers["access-control-allow-origin"] == "https://oa.example"
    other = client.get("/api/v1/health", headers={"Origin": "https://evil.example"})
    assert other.status_code == 200 and "access-control-allow-origin" not in other.headers


def test_uploads_are_checked_like_the_chat_before_ingesting(client, tmp_path):
    def upload(*files):
        return client.post("/api/v1/documents", files=[("files", f) for f in files])

    too_big = upload(("大文件.txt", b"x" * (1024 * 1024 + 1), "text/plain"))
    assert too_big.status_code == 413 and "上限 1 MB" in too_big.json()["error"]["message"]
    assert upload(*[(f"{i}.txt", b"x", "text/plain") for i in range(3)]).status_code == 413  # 2 files at most
    only_bad = upload(("视频.mp4", b"x", "video/mp4"))
    assert only_bad.status_code == 422 and "不支持的格式" in only_bad.json()["error"]["message"]
    assert client.kb.ingested == []
    ok = upload(("../../值班制度.txt", "值班制度全文。".encode(), "text/plain"), (".hidden.txt", b"x", "text/plain"))
    assert ok.status_code == 200, ok.text
    saved = tmp_path / "uploads" / "值班制度.txt"  # the folder part a client sent is dropped
    assert client.kb.ingested == [saved] and saved.read_text(encoding="utf-8") == "值班制度全文。"
    assert ok.json()["added"] == [str(saved)] and ok.json()["rejected"] == [
        [".hidden.txt", "文件名无效 invalid file name"]
    ]


# -- a real server: the chat and the API on one port ------------------------------------------------
class Running:
    """An ASGI app served by uvicorn on a free loopback port, in a thread."""

    def __init__(self, app):
        import uvicorn

        self.url = f"http://127.0.0.1:{free_port()}"
        port = int(self.url.rsplit(":", 1)[1])
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)

    def stop(self):
        self.server.should_exit = True
        self.thread.join(15)


@pytest.fixture(scope="module")
def server(tmp_path_factory, e5_embedder):
    """A knowledge base of one report, served with the chat by the same app `serve` runs; keys required."""
    from assistant.api import Assistant
    from assistant.app.ui import server_app
    from assistant.settings import Settings

    home = tmp_path_factory.mktemp("api-home")
    kb = Assistant(
        Settings.load(home, models=str(models_dir()), max_upload_mb=1, max_upload_files=3), embedder=e5_embedder
    )
    report = home / "办公室年度工作报告.md"
    report.write_text(REPORT, encoding="utf-8")
    assert kb.ingest([report]).added
    running = Running(server_app(kb, api_settings=ApiSettings.load(api_keys=KEYS, max_request_kb=64)))
    yield SimpleNamespace(url=running.url, kb=kb)
    running.stop()
    kb.close()


@pytest.fixture
def http(server):
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {KEY}"}, timeout=120) as c:
        yield c


@pytest.mark.e2e
def test_openai_client_non_streaming_and_streaming(server):
    from openai import OpenAI

    client = OpenAI(base_url=f"{server.url}/v1", api_key=KEY, max_retries=0)
    assert [m.id for m in client.models.list()] == ["default"]
    completion = client.chat.completions.create(model="default", messages=[{"role": "user", "content": QUESTION}])
    text = completion.choices[0].message.content
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", text)}
    citations = completion.model_extra["citations"]
    assert "一千二百" in text and markers and markers == {c["n"] for c in citations}
    assert {"n", "title", "source", "section", "text", "quote", "start", "end", "page"} <= set(citations[0])
    assert completion.choices[0].finish_reason == "stop" and completion.model == "default"

    chunks = list(
        client.chat.completions.create(
            model="default",
            messages=[{"role": "user", "content": QUESTION}],
            stream=True,
        )
    )
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert streamed == text  # the same verified answer, whole
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop" and last.model_extra["citations"] == citations

    # Follow-ups: earlier user messages are the history, and the refusal is an answer too.
    refused = client.chat.completions.create(
        model="default", messages=[{"role": "user", "content": "明天北京会下雨吗？"}]
    )
    assert refused.model_extra["refused"] is True and refused.model_extra["citations"] == []

    from openai import AuthenticationError, NotFoundError

    with pytest.raises(AuthenticationError):
        OpenAI(base_url=f"{server.url}/v1", api_key="wrong", max_retries=0).models.list()
    with pytest.raises(NotFoundError, match="GET /v1/models"):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": QUESTION}])


@pytest.mark.e2e
def test_upload_ask_delete_over_http(server, http, tmp_path):
    doc = "档案室管理规定：档案室每周三下午对外开放，借阅档案须填写借阅登记表，并经办公室主任签字批准。"
    up = http.post("/api/v1/documents", files=[("files", ("档案室管理规定.txt", doc.encode(), "text/plain"))])
    assert up.status_code == 200, up.text
    (source,) = up.json()["added"]
    assert up.json()["failed"] == [] and up.json()["chunks_added"] >= 1
    assert source in {d["source"] for d in http.get("/api/v1/documents").json()["documents"]}

    asked = http.post("/api/v1/ask", json={"question": "借阅档案需要谁签字批准？", "k": 3}).json()
    assert asked["refused"] is False and "签字" in asked["text"]
    assert any(c["source"] == source for c in asked["citations"])
    assert set(asked) >= {"text", "refused", "citations", "nearest", "searched", "mode", "statements", "unsupported"}
    passages = http.post("/api/v1/retrieve", json={"question": "档案借阅", "k": 2}).json()["passages"]
    assert len(passages) == 2 and passages[0]["source"] == source

    follow = http.post("/api/v1/ask", json={"question": "那保密检查呢？", "history": ["档案室什么时候开放？"]}).json()
    assert follow["searched"] != "那保密检查呢？"  # the follow-up was rewritten with the history

    assert http.delete("/api/v1/documents", params={"source": "档案室管理规定.txt"}).json() == {"deleted": [source]}
    assert source not in {d["source"] for d in http.get("/api/v1/documents").json()["documents"]}
    gone = http.delete("/api/v1/documents", params={"source": "档案室管理规定.txt"})
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "unknown_source"
    stats = http.get("/api/v1/stats").json()
    assert stats["kb"] == "default" and stats["documents"] == 1
    assert http.get("/api/v1/health").json()["status"] == "ok"


@pytest.mark.e2e
def test_filters_over_http_restrict_the_search_and_say_when_nothing_matches(server, http):
    # The report is titled 办公室年度工作报告: its 文种 is 报告, and it prints no date.
    kept = http.post("/api/v1/retrieve", json={"question": QUESTION, "k": 2, "filters": {"doc_type": "报告"}})
    assert kept.status_code == 200 and kept.json()["passages"], kept.text
    assert all(p["doc_type"] == "报告" and "office" in p and "doc_number" in p for p in kept.json()["passages"])
    none = http.post("/api/v1/retrieve", json={"question": QUESTION, "filters": {"doc_type": "通知"}})
    assert none.status_code == 200 and none.json()["passages"] == []
    asked = http.post("/api/v1/ask", json={"question": QUESTION, "filters": {"since": "2023-01-01"}}).json()
    assert asked["refused"] is True and "筛选条件" in asked["text"] and asked["citations"] == []
    cited = http.post("/api/v1/ask", json={"question": QUESTION, "filters": {"doc_type": "报告"}}).json()
    assert cited["refused"] is False and cited["citations"][0]["doc_type"] == "报告"
    bad = http.post("/api/v1/ask", json={"question": QUESTION, "filters": {"since": "2023/01/01"}})
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.json()["error"]["message"]
    # The OpenAI-compatible route takes the same filters as an extension field.
    chat = {"model": "default", "messages": [{"role": "user", "content": QUESTION}]}
    narrowed = http.post("/v1/chat/completions", json={**chat, "filters": {"doc_type": "报告"}}).json()
    assert narrowed["refused"] is False and narrowed["citations"][0]["doc_type"] == "报告"
    emptied = http.post("/v1/chat/completions", json={**chat, "filters": {"since": "2023-01-01"}}).json()
    assert emptied["refused"] is True and "筛选条件" in emptied["choices"][0]["message"]["content"]
    wrong = http.post("/v1/chat/completions", json={**chat, "filters": {"until": "yesterday"}})
    assert wrong.status_code == 422 and "YYYY-MM-DD" in wrong.json()["error"]["message"]


@pytest.mark.e2e
def test_keys_limits_and_errors_over_http(server, http):
    def error(response, status, code):
        assert response.status_code == status, response.text
        assert response.json()["error"]["code"] == code and response.json()["error"]["message"]

    with httpx.Client(base_url=server.url, timeout=30) as anonymous:
        error(anonymous.get("/api/v1/health"), 401, "missing_api_key")
        error(anonymous.post("/api/v1/ask", json={"question": QUESTION}), 401, "missing_api_key")
        error(anonymous.get("/v1/models", headers={"Authorization": "Bearer wrong"}), 401, "invalid_api_key")
        assert anonymous.get("/api/v1/health").headers["www-authenticate"] == "Bearer"
        # Without a key nothing is read or ingested, however large the upload.
        big = [("files", ("a.txt", b"x" * (2 * 1024 * 1024), "text/plain"))]
        error(anonymous.post("/api/v1/documents", files=big), 401, "missing_api_key")
        assert anonymous.get("/docs").status_code == 200 and "swagger" in anonymous.get("/docs").text.lower()
        schema = anonymous.get("/openapi.json").json()
        assert {"/api/v1/ask", "/api/v1/documents", "/v1/chat/completions", "/v1/models"} <= set(schema["paths"])
        assert "gradio" in anonymous.get("/").text.lower()  # the chat is served at / by the same server

    error(
        http.post("/api/v1/documents", files=[("files", ("大.txt", b"x" * (1024 * 1024 + 10), "text/plain"))]),
        413,
        "file_too_large",
    )
    error(http.post("/api/v1/ask", json={"question": "问" * 40000}), 413, "too_large")
    error(http.post("/api/v1/ask", json={"question": "   "}), 422, "invalid_question")
    error(http.post("/api/v1/ask", json={}), 422, "invalid_request")
    error(http.get("/api/v1/unknown"), 404, "not_found")
    chat = {"model": "default", "messages": [{"role": "user", "content": ""}]}
    error(http.post("/v1/chat/completions", json=chat), 422, "invalid_question")
    error(http.post("/v1/chat/completions", json={**chat, "stream": True}), 422, "invalid_question")


@pytest.mark.e2e
def test_gradio_ask_still_works_beside_the_api(server):
    from gradio_client import Client

    result = Client(server.url, verbose=False).predict(QUESTION, api_name="/ask")
    assert result["refused"] is False and result["citations"]


@pytest.mark.e2e
def test_python_m_assistant_serve_serves_chat_and_api_with_keys(tmp_path):
    """The real command: one process, one port, the chat at / and the API asking for its key."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ASSISTANT_HOME": str(tmp_path),
        "ASSISTANT_MODELS": str(models_dir()),
        "ASSISTANT_PORT": str(port),
        "ASSISTANT_API_KEYS": KEY,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            try:
                health = httpx.get(f"{url}/api/v1/health", headers={"Authorization": f"Bearer {KEY}"}, timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "serve did not start within 120 s"
                time.sleep(0.5)
        assert health.status_code == 200 and health.json()["kb"] == "default"
        assert httpx.get(f"{url}/api/v1/health").status_code == 401
        assert httpx.get(f"{url}/").status_code == 200
    finally:
        proc.terminate()
        proc.wait(30)


@pytest.mark.e2e
def test_export_route_writes_docx_with_footnoted_sources_and_markdown(server, http):
    from assistant.conversations.export import md_text
    from tests.test_conversations import docx_parts

    word = http.post("/api/v1/export", json={"question": QUESTION, "format": "docx"})
    assert word.status_code == 200, word.text
    assert word.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.wordprocessingml")
    assert 'filename="answer.docx"' in word.headers["content-disposition"]
    body, notes = docx_parts(word.content)
    assert QUESTION in body and "一千二百" in body and "{1}" in body
    assert notes and all("文件标题：《办公室年度工作报告》" in n and "引文：“" in n for n in notes)
    assert any("章节：" in n and "文件：办公室年度工作报告.md" in n for n in notes)
    # An answer already received from /ask is exported as it is, without asking again.
    asked = http.post("/api/v1/ask", json={"question": QUESTION}).json()
    md = http.post("/api/v1/export", json={"answer": asked, "format": "markdown"})
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    assert "[^1]:" in md.text and md_text(asked["citations"][0]["quote"]) in md.text
    for bad, code in (
        ({"format": "docx"}, "invalid_request"),
        ({"question": QUESTION, "answer": asked}, "invalid_request"),
        ({"answer": {"text": 1}}, "invalid_answer"),
        ({"question": QUESTION, "format": "pdf"}, "invalid_request"),
    ):
        refused = http.post("/api/v1/export", json=bad)
        assert refused.status_code == 422 and refused.json()["error"]["code"] == code, refused.text
    assert httpx.post(f"{server.url}/api/v1/export", json={"question": QUESTION}).status_code == 401
