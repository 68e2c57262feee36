"""A sign-in proxy's user header (trusted_user_header): believed from the proxy's addresses only, roles from the file."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.datastructures import Headers

from assistant.accounts import Accounts
from assistant.app.http import ApiSettings, create_api
from assistant.app.trusted_proxy import TrustedProxy
from assistant.errors import SettingsError
from assistant.settings import Settings
from tests.conftest import REPORT, ROOT, free_port, models_dir
from tests.test_audit_api import DeletingKB

HEADER = "X-Remote-User"


def test_the_header_counts_only_on_a_connection_from_the_proxy():
    proxy = TrustedProxy(HEADER, "127.0.0.1, 10.0.0.0/24")
    one = Headers(raw=[(b"x-remote-user", "张三".encode())])
    assert proxy.user(one, ("127.0.0.1", 5000)) == "张三"  # sent as UTF-8, as proxies do
    assert proxy.user(one, ("::ffff:127.0.0.1", 5000)) == "张三" and proxy.user(one, ("10.0.0.7", 1)) == "张三"
    assert proxy.user(one, ("10.0.1.7", 1)) is None and proxy.user(one, ("testclient", 1)) is None
    assert proxy.user(one, None) is None
    two = Headers(raw=[(b"x-remote-user", b"boss"), (b"x-remote-user", b"zhang")])  # a client's copy passed on
    assert proxy.user(two, ("127.0.0.1", 5000)) is None
    assert proxy.user(Headers(raw=[(b"x-remote-user", b"  ")]), ("127.0.0.1", 5000)) is None


def test_settings_read_the_header_from_the_environment_and_explain_mistakes(tmp_path):
    users = str(tmp_path / "users.json")
    env = {"ASSISTANT_TRUSTED_USER_HEADER": HEADER, "ASSISTANT_USERS_FILE": users}
    settings = Settings.load(tmp_path, env=env)
    assert (settings.trusted_user_header, settings.trusted_proxies) == (HEADER, "127.0.0.1")
    assert Settings.load(tmp_path, env={}).trusted_user_header == ""  # off unless set
    with pytest.raises(SettingsError, match="needs ASSISTANT_USERS_FILE"):
        Settings.load(tmp_path, env={"ASSISTANT_TRUSTED_USER_HEADER": HEADER})
    with pytest.raises(SettingsError, match="ASSISTANT_TRUSTED_PROXIES.*'nginx'|'nginx'.*ASSISTANT_TRUSTED_PROXIES"):
        Settings.load(tmp_path, env={**env, "ASSISTANT_TRUSTED_PROXIES": "127.0.0.1,nginx"})
    with pytest.raises(SettingsError, match="ASSISTANT_TRUSTED_USER_HEADER"):
        Settings.load(tmp_path, env={**env, "ASSISTANT_TRUSTED_USER_HEADER": "X Remote User"})


def test_the_api_takes_the_proxys_user_with_their_roles(tmp_path):
    accounts = Accounts(tmp_path / "users.json")
    accounts.add("reader", "r-pw", "read")
    accounts.add("editor", "e-pw", "upload")
    api = create_api(
        DeletingKB(tmp_path), ApiSettings.load(), accounts=accounts, proxy=TrustedProxy(HEADER, "10.0.0.5")
    )
    files = [("files", ("值班制度.txt", "值班".encode(), "text/plain"))]
    with TestClient(api, raise_server_exceptions=False, client=("10.0.0.5", 40000)) as proxied:
        assert proxied.post("/api/v1/ask", json={"question": "q"}, headers={HEADER: "reader"}).status_code == 200
        refused = proxied.post("/api/v1/documents", files=files, headers={HEADER: "reader"})
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "role_required"
        # The proxy's own Basic login passed on does not change who the header says it is.
        editor = {HEADER: "editor", "Authorization": "Basic cHJveHk6cHJveHk="}
        assert proxied.post("/api/v1/documents", files=files, headers=editor).status_code == 200
        stranger = proxied.post("/api/v1/ask", json={"question": "q"}, headers={HEADER: "stranger"})
        assert stranger.status_code == 403 and stranger.json()["error"]["code"] == "unknown_user"
        assert "'stranger'" in stranger.json()["error"]["message"]
    with TestClient(api, raise_server_exceptions=False, client=("10.0.0.6", 40000)) as direct:
        ignored = direct.post("/api/v1/documents", files=files, headers={HEADER: "editor"})
        assert ignored.status_code == 401 and ignored.json()["error"]["code"] == "missing_credentials"
        as_reader = direct.post("/api/v1/documents", files=files, headers={HEADER: "editor"}, auth=("reader", "r-pw"))
        assert as_reader.status_code == 403  # the header ignored, the Basic login counts


def _serve(tmp_path: Path, name: str, users_file: Path, **env: str) -> tuple[subprocess.Popen, str]:
    """`python -m assistant serve` with a users file and the settings `env` (its knowledge base: its own home)."""
    port = free_port()
    full = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ASSISTANT_HOME": str(tmp_path / name),
        "ASSISTANT_MODELS": str(models_dir()),
        "ASSISTANT_PORT": str(port),
        "ASSISTANT_USERS_FILE": str(users_file),
        **env,
    }
    command = [sys.executable, "-m", "assistant", "serve"]
    return subprocess.Popen(command, env=full, stdout=subprocess.PIPE, stderr=subprocess.STDOUT), (
        f"http://127.0.0.1:{port}"
    )


def _wait(proc: subprocess.Popen, url: str) -> None:
    deadline = time.monotonic() + 120
    while True:
        assert proc.poll() is None, proc.stdout.read().decode(errors="replace") if proc.stdout else ""
        try:
            httpx.get(f"{url}/api/v1/health", timeout=5)
            return
        except httpx.TransportError:
            assert time.monotonic() < deadline, "serve did not start within 120 s"
            time.sleep(0.5)


@pytest.mark.e2e
def test_a_real_server_behind_a_sign_in_proxy_and_one_that_does_not_trust_the_caller(tmp_path):
    users_file = tmp_path / "users.json"
    accounts = Accounts(users_file)
    accounts.add("reader", "r-pw", "read")
    accounts.add("editor", "e-pw", "upload")
    accounts.add("boss", "b-pw", "admin")
    trusting, url = _serve(tmp_path, "trusting", users_file, ASSISTANT_TRUSTED_USER_HEADER=HEADER)
    # The same header, but the proxy is said to be elsewhere: this test's requests from 127.0.0.1 are not its.
    other = {"ASSISTANT_TRUSTED_USER_HEADER": HEADER, "ASSISTANT_TRUSTED_PROXIES": "10.255.0.0/16"}
    distrusting, other_url = _serve(tmp_path, "distrusting", users_file, **other)
    files = [("files", ("办公室年度工作报告.md", REPORT.encode(), "text/markdown"))]
    question = {"question": "办公室全年共收文多少件？"}
    try:
        _wait(trusting, url)
        _wait(distrusting, other_url)
        with httpx.Client(base_url=url, timeout=120) as http:
            # As nginx sends it: the browser's address in X-Forwarded-For, the connection from the proxy.
            reader = {HEADER: "reader", "X-Forwarded-For": "192.168.3.20"}
            assert http.get("/api/v1/health", headers=reader).status_code == 200
            refused = http.post("/api/v1/documents", files=files, headers=reader)
            assert refused.status_code == 403 and refused.json()["error"]["code"] == "role_required", refused.text
            up = http.post("/api/v1/documents", files=files, headers={HEADER: "editor"})
            assert up.status_code == 200 and up.json()["added"], up.text
            asked = http.post("/api/v1/ask", json=question, headers=reader)
            assert asked.status_code == 200 and "一千二百" in asked.json()["text"]
            stranger = http.get("/api/v1/health", headers={HEADER: "stranger"})
            assert stranger.status_code == 403 and stranger.json()["error"]["code"] == "unknown_user"
            assert "users add" in stranger.json()["error"]["message"]
            assert http.get("/api/v1/health").status_code == 401  # no header: a login is still needed
            assert http.get("/api/v1/health", auth=("reader", "r-pw")).status_code == 200
            entries = http.get("/api/v1/audit", headers={HEADER: "boss"}).json()["entries"]
            assert [(e["user"], e["action"], e["via"]) for e in entries] == [
                ("editor", "upload", "api"),
                ("reader", "ask", "api"),
            ]
            # The chat: the header signs the user in; without it there is no way in.
            assert http.get("/", headers=reader).status_code == 200
            assert http.get("/").status_code == 401 and http.get("/", headers={HEADER: "stranger"}).status_code == 401
        with httpx.Client(base_url=other_url, timeout=120) as http:
            ignored = http.post("/api/v1/documents", files=files, headers={HEADER: "editor"})
            assert ignored.status_code == 401 and ignored.json()["error"]["code"] == "missing_credentials"
            as_reader = http.post("/api/v1/documents", files=files, headers={HEADER: "editor"}, auth=("reader", "r-pw"))
            assert as_reader.status_code == 403 and as_reader.json()["error"]["code"] == "role_required"
            assert http.get("/", headers={HEADER: "editor"}).status_code == 401
            assert http.get("/api/v1/audit", headers={HEADER: "boss"}, auth=("boss", "b-pw")).json()["entries"] == []
    finally:
        for proc in (trusting, distrusting):
            proc.terminate()
            proc.wait(30)
