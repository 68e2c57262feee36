"""The audit log as the HTTP API, the chat and the CLI write and read it: on stand-ins, then a real `serve`."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from fastapi.testclient import TestClient

from assistant.app.http import ApiSettings, create_api
from assistant.app.ui.documents_tab import delete_sources
from assistant.app.ui.history import empty_session
from assistant.app.ui.respond import make_responder
from assistant.app.ui.status import Runs
from assistant.conversations.audit import open_audit
from tests.conftest import REPORT, ROOT, free_port, models_dir
from tests.test_http_api import KEY, KEYS, FakeKB

KEY_ID = "api-key:" + hashlib.sha256(KEY.encode()).hexdigest()[:8]


class DeletingKB(FakeKB):
    """The routes' stand-in knowledge base, which can also delete what it ingested."""

    def delete(self, sources):
        return [s for s in sources if s in {str(p) for p in self.ingested}]

    def documents(self):
        return [SimpleNamespace(source=str(p)) for p in self.ingested]


def _client(tmp_path: Path, keys: str) -> TestClient:
    kb = DeletingKB(tmp_path)
    client = TestClient(create_api(kb, ApiSettings.load(api_keys=keys)), raise_server_exceptions=False)
    if keys:
        client.headers["Authorization"] = f"Bearer {KEY}"
    return client


def test_api_routes_record_asks_uploads_and_deletes_under_the_key(tmp_path):
    with _client(tmp_path, KEYS) as client:
        assert client.post("/api/v1/ask", json={"question": "收文多少件？"}).status_code == 200
        body = {"model": "default", "messages": [{"role": "user", "content": "发文多少件？"}]}
        assert client.post("/v1/chat/completions", json=body).status_code == 200
        up = client.post("/api/v1/documents", files=[("files", ("值班制度.txt", "值班".encode(), "text/plain"))])
        assert up.status_code == 200, up.text
        assert client.delete("/api/v1/documents", params={"source": "值班制度.txt"}).status_code == 200
        assert client.post("/api/v1/export", json={"question": "导出的问题", "format": "markdown"}).status_code == 200
        # A refused request (no key) is not an action: nothing is recorded for it.
        assert (
            httpx.codes.UNAUTHORIZED
            == client.post("/api/v1/ask", json={"question": "无钥匙"}, headers={"Authorization": ""}).status_code
        )

        listed = client.get("/api/v1/audit")
        assert listed.status_code == 200, listed.text
        entries = listed.json()["entries"]
        assert [(e["user"], e["kb"], e["action"], e["detail"], e["via"]) for e in entries] == [
            (KEY_ID, "default", "ask", "收文多少件？", "api"),
            (KEY_ID, "default", "ask", "发文多少件？", "openai"),
            (KEY_ID, "default", "upload", "值班制度.txt", "api"),
            (KEY_ID, "default", "delete", "值班制度.txt", "api"),
            (KEY_ID, "default", "ask", "导出的问题", "api"),
        ]
        assert KEY not in json.dumps(entries)  # the key itself is never written down
        today = dt.datetime.now(dt.UTC).date()
        assert len(client.get("/api/v1/audit", params={"since": today.isoformat()}).json()["entries"]) == 5
        yesterday = (today - dt.timedelta(days=1)).isoformat()
        assert client.get("/api/v1/audit", params={"until": yesterday}).json()["entries"] == []
        bad = client.get("/api/v1/audit", params={"since": "last week"})
        assert bad.status_code == 422 and "YYYY-MM-DD" in bad.json()["error"]["message"]
        assert client.get("/api/v1/audit", headers={"Authorization": "Bearer other-key"}).status_code == 403
        assert client.get("/api/v1/audit", headers={"Authorization": ""}).status_code == 401
    assert (tmp_path / "audit.sqlite3").is_file()  # beside the knowledge base, as conversations.sqlite3


def test_without_keys_actions_are_anonymous_and_the_log_is_not_served(tmp_path):
    with _client(tmp_path, "") as client:
        assert client.post("/api/v1/ask", json={"question": "收文多少件？"}).status_code == 200
        refused = client.get("/api/v1/audit")
        assert refused.status_code == 403
        error = refused.json()["error"]
        assert error["code"] == "audit_needs_keys" and "ASSISTANT_API_KEYS" in error["message"]
        assert "audit export" in error["message"]
    assert [(e.user, e.action) for e in open_audit(tmp_path).entries()] == [("anonymous", "ask")]


def test_the_chat_records_questions_and_deletions_under_the_login(tmp_path):
    from assistant.errors import QuestionError

    class KB:
        settings = SimpleNamespace(answer_mode="extractive", kb="default", kb_dir=tmp_path)

        def stream(self, question, **kwargs):
            raise QuestionError("the filter is wrong")  # the question was still asked

        def delete(self, sources):
            return list(sources)

        def documents(self):
            return []

    audit = open_audit(tmp_path)
    respond = make_responder(KB(), Runs(), audit)
    request = SimpleNamespace(username="张三", session_hash="s1")
    list(respond("双报到是什么？", [], empty_session(), 5, "extractive", None, None, None, None, request))
    list(respond("   ", [], empty_session(), 5, "extractive", None, None, None, None, request))  # nothing asked
    list(respond("无登录的问题", [], empty_session(), 5, "extractive", None, None, None, None, None))
    removed: list[list[str]] = []
    assert delete_sources(KB(), ["/kb/uploads/a.txt"], removed.append).startswith("已删除")
    assert removed == [["/kb/uploads/a.txt"]]
    assert [(e.user, e.action, e.detail, e.via) for e in audit.entries()] == [
        ("张三", "ask", "双报到是什么？", "chat"),
        ("anonymous", "ask", "无登录的问题", "chat"),
    ]


def _cli(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ASSISTANT_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_cli_audit_export_writes_csv_and_jsonl_and_explains_mistakes(tmp_path):
    home = tmp_path / "home"
    audit = open_audit(home / "kb" / "default")
    audit.record("张三", "default", "ask", "机关是怎样落实“双报到”制度的？", via="chat")
    audit.record("李四", "default", "upload", "值班制度.docx", via="chat")

    out = tmp_path / "审计.csv"
    done = _cli("audit", "export", str(out), home=home)
    assert done.returncode == 0, done.stderr
    assert "wrote 2 audit entries" in done.stdout
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["user"], r["action"], r["detail"]) for r in rows] == [
        ("张三", "ask", "机关是怎样落实“双报到”制度的？"),
        ("李四", "upload", "值班制度.docx"),
    ]
    today = dt.datetime.now(dt.UTC).date().isoformat()
    lines = tmp_path / "audit.jsonl"
    assert _cli("audit", "export", str(lines), "--since", today, "--until", today, home=home).returncode == 0
    assert [json.loads(line)["user"] for line in lines.read_text(encoding="utf-8").splitlines()] == ["张三", "李四"]
    assert "wrote 0" in _cli("audit", "export", str(lines), "--until", "2000-01-01", home=home).stdout

    for args, message in (
        (("--since", "1.1.2026"), "YYYY-MM-DD"),
        (("--kb", "other"), "no audit log yet"),
    ):
        failed = _cli("audit", "export", str(out), *args, home=home)
        assert failed.returncode == 2 and message in failed.stderr, failed.stderr
    failed = _cli("audit", "export", str(tmp_path / "audit.xlsx"), home=home)
    assert failed.returncode == 2 and ".csv or .jsonl" in failed.stderr


# -- the real thing: `python -m assistant serve`, asked and uploaded to over HTTP, then exported ----------------
@pytest.mark.e2e
def test_a_real_server_records_what_the_api_did_and_the_cli_exports_it(tmp_path):
    port = free_port()
    home = tmp_path / "home"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ASSISTANT_HOME": str(home),
        "ASSISTANT_MODELS": str(models_dir()),
        "ASSISTANT_PORT": str(port),
        "ASSISTANT_API_KEYS": KEY,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEY}"}, timeout=120) as http:
            deadline = time.monotonic() + 120
            while True:
                assert proc.poll() is None, proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                try:
                    assert http.get("/api/v1/health").status_code == 200
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "serve did not start within 120 s"
                    time.sleep(0.5)
            up = http.post(
                "/api/v1/documents", files=[("files", ("办公室年度工作报告.md", REPORT.encode(), "text/markdown"))]
            )
            assert up.status_code == 200 and up.json()["added"], up.text
            asked = http.post("/api/v1/ask", json={"question": "办公室全年共收文多少件？"})
            assert asked.status_code == 200 and "一千二百" in asked.json()["text"], asked.text
            body = {"model": "default", "messages": [{"role": "user", "content": "全年发文多少件？"}]}
            assert http.post("/v1/chat/completions", json=body).status_code == 200
            deleted = http.delete("/api/v1/documents", params={"source": "办公室年度工作报告.md"})
            assert deleted.status_code == 200, deleted.text

            served = http.get("/api/v1/audit").json()["entries"]
            assert [(e["user"], e["action"], e["detail"], e["via"]) for e in served] == [
                (KEY_ID, "upload", "办公室年度工作报告.md", "api"),
                (KEY_ID, "ask", "办公室全年共收文多少件？", "api"),
                (KEY_ID, "ask", "全年发文多少件？", "openai"),
                (KEY_ID, "delete", "办公室年度工作报告.md", "api"),
            ]
            assert httpx.get(f"{url}/api/v1/audit").status_code == 401
    finally:
        proc.terminate()
        proc.wait(30)

    out = tmp_path / "audit.csv"
    done = _cli("audit", "export", str(out), "--since", dt.datetime.now(dt.UTC).date().isoformat(), home=home)
    assert done.returncode == 0, done.stderr
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["action"], r["detail"]) for r in rows] == [
        ("upload", "办公室年度工作报告.md"),
        ("ask", "办公室全年共收文多少件？"),
        ("ask", "全年发文多少件？"),
        ("delete", "办公室年度工作报告.md"),
    ]
    assert {r["user"] for r in rows} == {KEY_ID} and {r["kb"] for r in rows} == {"default"}
