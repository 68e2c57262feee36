"""Accounts: scrypt hashes, roles per knowledge base, the `users` command, and the roles enforced by the API and chat."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from assistant.accounts import Accounts, hash_password, verify_password
from assistant.app.http import ApiSettings, create_api
from assistant.app.ui.server import ServerOptions
from assistant.errors import SettingsError
from assistant.settings import Settings
from tests.conftest import REPORT, ROOT, free_port, models_dir
from tests.test_audit_api import DeletingKB
from tests.test_http_api import KEY


def test_passwords_are_salted_scrypt_hashes():
    first, second = hash_password("机密 pw"), hash_password("机密 pw")
    assert first != second and first.startswith("scrypt$16384$8$1$")  # a fresh salt each time
    assert verify_password("机密 pw", first) and not verify_password("机密 PW", first)
    assert not verify_password("x", "plain-text") and not verify_password("x", "scrypt$1$2$3$zz$yy")


def test_roles_per_knowledge_base_and_a_file_that_changes_is_read_again(tmp_path):
    path = tmp_path / "users.json"
    accounts = Accounts(path)
    accounts.add("zhang", "pw1", "read")
    accounts.add("zhang", "pw1", "upload", "finance")
    accounts.add("root", "pw2", "admin")
    assert oct(path.stat().st_mode & 0o777) == "0o600" and "pw1" not in path.read_text()
    assert accounts.check("zhang", "pw1") and not accounts.check("zhang", "pw2") and not accounts.check("nobody", "pw1")
    assert accounts.role("zhang", "default") == "read" and accounts.role("zhang", "finance") == "upload"
    assert accounts.may("zhang", "finance", "upload") and not accounts.may("zhang", "default", "upload")
    assert accounts.may("root", "default", "admin") and not accounts.may("nobody", "default", "read")
    other = Accounts.open(path)  # e.g. the server's copy
    Accounts(path).add("li", "pw3", "read", "hr")
    assert other.check("li", "pw3") and other.role("li", "default") is None
    with pytest.raises(SettingsError, match="role 'owner'"):
        accounts.add("x", "pw", "owner")
    with pytest.raises(SettingsError, match="empty"):
        accounts.add("x", "", "read")
    with pytest.raises(SettingsError, match="does not exist"):
        Accounts.open(tmp_path / "missing.json")
    path.write_text("{not json", encoding="utf-8")
    assert other.check("li", "pw3")  # broken while serving: the users as last read stay (and an ERROR is logged)
    with pytest.raises(SettingsError, match="cannot read the users file"):
        Accounts.open(path)


def test_a_users_file_and_the_single_login_do_not_go_together(tmp_path):
    with pytest.raises(SettingsError, match="ASSISTANT_USERS_FILE and ASSISTANT_UI_USER"):
        Settings.load(tmp_path, users_file=str(tmp_path / "u.json"), ui_user="a", ui_password="b")
    accounts = Accounts(tmp_path / "u.json")
    accounts.add("zhang", "pw", "read", "default")
    accounts.add("li", "pw", "read", "hr")
    login = ServerOptions(users_file=str(accounts.path), kb="default").auth
    assert callable(login) and login("zhang", "pw") and not login("zhang", "bad") and not login("li", "pw")


def _basic(name: str, password: str) -> dict[str, str]:
    import base64

    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


@pytest.fixture
def users(tmp_path) -> Accounts:
    accounts = Accounts(tmp_path / "users.json")
    accounts.add("reader", "r-pw", "read")
    accounts.add("editor", "e-pw", "upload", "default")
    accounts.add("boss", "b-pw", "admin")
    return accounts


def test_the_api_takes_basic_logins_and_enforces_roles(tmp_path, users):
    kb = DeletingKB(tmp_path)
    api = create_api(kb, ApiSettings.load(api_keys=KEY), ui_login=True, accounts=users)
    files = [("files", ("值班制度.txt", "值班".encode(), "text/plain"))]
    with TestClient(api, raise_server_exceptions=False) as client:
        assert client.post("/api/v1/ask", json={"question": "q1"}, headers=_basic("reader", "r-pw")).status_code == 200
        refused = client.post("/api/v1/documents", files=files, headers=_basic("reader", "r-pw"))
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "role_required"
        assert "'upload'" in refused.json()["error"]["message"]
        assert client.post("/api/v1/documents", files=files, headers=_basic("editor", "e-pw")).status_code == 200
        gone = client.delete("/api/v1/documents", params={"source": "值班制度.txt"}, headers=_basic("editor", "e-pw"))
        assert gone.status_code == 200
        wrong = client.post("/api/v1/ask", json={"question": "q"}, headers=_basic("editor", "nope"))
        assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_credentials"
        assert client.post("/api/v1/ask", json={"question": "q"}).status_code == 401
        # An API key still asks, uploads and deletes, but the audit log is for administrators only.
        key = {"Authorization": f"Bearer {KEY}"}
        assert client.post("/api/v1/ask", json={"question": "q2"}, headers=key).status_code == 200
        for who in (key, _basic("editor", "e-pw"), _basic("reader", "r-pw")):
            assert client.get("/api/v1/audit", headers=who).status_code == 403
        listed = client.get("/api/v1/audit", headers=_basic("boss", "b-pw"))
        assert listed.status_code == 200, listed.text
        rows = [(e["user"], e["action"], e["detail"]) for e in listed.json()["entries"]]
        assert rows[:3] == [
            ("reader", "ask", "q1"),
            ("editor", "upload", "值班制度.txt"),
            ("editor", "delete", "值班制度.txt"),
        ]
        assert rows[3][0].startswith("api-key:") and rows[3][1:] == ("ask", "q2")


def test_users_command_reads_the_password_from_stdin(tmp_path):
    path = tmp_path / "users.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ASSISTANT_HOME": str(tmp_path), "ASSISTANT_USERS_FILE": str(path)}

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "assistant", "users", *args]
        return subprocess.run(command, input=stdin, env=env, capture_output=True, text=True, timeout=60)

    added = run("add", "张三", "--role", "upload", "--kb", "finance", stdin="秘密 pw\n")
    assert added.returncode == 0 and "张三 (finance: upload)" in added.stdout, added.stderr
    assert Accounts.open(path).check("张三", "秘密 pw")
    assert "张三  finance: upload" in run("list").stdout and "秘密" not in path.read_text(encoding="utf-8")
    assert run("add", "x", "--role", "read", stdin="\n").returncode == 2
    env.pop("ASSISTANT_USERS_FILE")
    missing = run("list")
    assert missing.returncode == 2 and "ASSISTANT_USERS_FILE" in missing.stderr


def test_users_passwd_and_remove_change_only_what_they_say(tmp_path):
    path = tmp_path / "users.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ASSISTANT_HOME": str(tmp_path), "ASSISTANT_USERS_FILE": str(path)}

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "assistant", "users", *args]
        return subprocess.run(command, input=stdin, env=env, capture_output=True, text=True, timeout=60)

    assert run("add", "zhang", "--role", "upload", "--kb", "finance", stdin="old pw\n").returncode == 0
    assert run("add", "li", "--role", "read", stdin="li pw\n").returncode == 0
    changed = run("passwd", "zhang", stdin="新 pw\n")
    assert changed.returncode == 0 and "zhang" in changed.stdout, changed.stderr
    accounts = Accounts.open(path)
    assert accounts.check("zhang", "新 pw") and not accounts.check("zhang", "old pw")
    assert accounts.role("zhang", "finance") == "upload" and accounts.check("li", "li pw")  # nothing else changed
    assert run("passwd", "zhang", stdin="\n").returncode == 2 and accounts.check("zhang", "新 pw")
    unknown = run("passwd", "wang", stdin="pw\n")
    assert unknown.returncode == 2 and "no user 'wang'" in unknown.stderr and "users list" in unknown.stderr
    removed = run("remove", "zhang")
    assert removed.returncode == 0 and "removed zhang (finance: upload)" in removed.stdout, removed.stderr
    assert not accounts.check("zhang", "新 pw") and accounts.check("li", "li pw")  # a server's copy sees it at once
    assert run("list").stdout.split("\n")[0] == "li  *: read"
    again = run("remove", "zhang")
    assert again.returncode == 2 and "no user 'zhang'" in again.stderr
    assert oct(path.stat().st_mode & 0o777) == "0o600" and [f.name for f in tmp_path.iterdir()] == ["users.json"]


@pytest.mark.e2e
def test_a_real_server_with_a_users_file_logs_in_and_keeps_roles(tmp_path):
    users_file = tmp_path / "users.json"
    accounts = Accounts(users_file)
    accounts.add("reader", "r-pw", "read")
    accounts.add("editor", "e-pw", "upload")
    accounts.add("boss", "b-pw", "admin")
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ASSISTANT_HOME": str(tmp_path / "home"),
        "ASSISTANT_MODELS": str(models_dir()),
        "ASSISTANT_PORT": str(port),
        "ASSISTANT_USERS_FILE": str(users_file),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            try:
                health = httpx.get(f"{url}/api/v1/health", auth=("reader", "r-pw"), timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "serve did not start within 120 s"
                time.sleep(0.5)
        assert health.status_code == 200
        assert httpx.get(f"{url}/api/v1/health").status_code == 401  # the API is closed to strangers
        # The chat's login form checks the users file.
        assert httpx.post(f"{url}/login", data={"username": "reader", "password": "r-pw"}).status_code == 200
        assert httpx.post(f"{url}/login", data={"username": "reader", "password": "bad"}).status_code >= 400
        with httpx.Client(base_url=url, timeout=120) as http:
            files = [("files", ("办公室年度工作报告.md", REPORT.encode(), "text/markdown"))]
            assert http.post("/api/v1/documents", files=files, auth=("reader", "r-pw")).status_code == 403
            up = http.post("/api/v1/documents", files=files, auth=("editor", "e-pw"))
            assert up.status_code == 200 and up.json()["added"], up.text
            asked = http.post("/api/v1/ask", json={"question": "办公室全年共收文多少件？"}, auth=("reader", "r-pw"))
            assert asked.status_code == 200 and "一千二百" in asked.json()["text"]
            assert http.get("/api/v1/audit", auth=("editor", "e-pw")).status_code == 403
            entries = http.get("/api/v1/audit", auth=("boss", "b-pw")).json()["entries"]
            assert [(e["user"], e["action"], e["detail"]) for e in entries] == [
                ("editor", "upload", "办公室年度工作报告.md"),
                ("reader", "ask", "办公室全年共收文多少件？"),
            ]
    finally:
        proc.terminate()
        proc.wait(30)
    assert json.loads(users_file.read_text(encoding="utf-8"))["users"]["boss"]["roles"] == {"*": "admin"}
