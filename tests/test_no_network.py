"""Answering (and ingesting) opens no network connection: a socket guard in a fresh interpreter proves it.

In embedded mode there is no configured server, so no connection at all may be attempted: not by
the embedding model (Hugging Face Hub), not by Chroma (telemetry is off), not by any library.
The guard is installed before anything of the assistant is imported; it records and refuses every
non-AF_UNIX connect, create_connection, sendto and DNS lookup. When strace is available the same
run is also traced at the system-call level, which sees connections made outside Python too.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import CORPUS, ROOT, models_dir

from assistant.api import Assistant
from assistant.settings import Settings

pytestmark = pytest.mark.e2e

GUARD = textwrap.dedent(
    r"""
    import socket

    ATTEMPTS = []
    _connect, _connect_ex, _sendto = socket.socket.connect, socket.socket.connect_ex, socket.socket.sendto

    def _refuse(how, family, address):
        ATTEMPTS.append({"how": how, "family": str(family), "address": repr(address)})
        raise ConnectionRefusedError(f"socket guard: network access attempted ({how} {address!r})")

    def connect(self, address):
        if self.family != socket.AF_UNIX:
            _refuse("connect", self.family, address)
        return _connect(self, address)

    def connect_ex(self, address):
        if self.family != socket.AF_UNIX:
            _refuse("connect_ex", self.family, address)
        return _connect_ex(self, address)

    def sendto(self, data, *args):
        if self.family != socket.AF_UNIX:
            _refuse("sendto", self.family, args[-1])
        return _sendto(self, data, *args)

    def create_connection(address, *args, **kwargs):
        _refuse("create_connection", "?", address)

    def getaddrinfo(host, port, *args, **kwargs):
        ATTEMPTS.append({"how": "getaddrinfo", "family": "?", "address": repr((host, port))})
        raise socket.gaierror(socket.EAI_NONAME, "socket guard: name lookup attempted")

    socket.socket.connect, socket.socket.connect_ex, socket.socket.sendto = connect, connect_ex, sendto
    socket.create_connection, socket.getaddrinfo = create_connection, getaddrinfo

    def selftest(address):
        before = len(ATTEMPTS)
        try:
            socket.socket(socket.AF_INET, socket.SOCK_STREAM).connect(address)
        except ConnectionRefusedError:
            pass
        assert len(ATTEMPTS) == before + 1, "the socket guard did not see a connect"
        del ATTEMPTS[before:]
    """
)

SCRIPT = GUARD + textwrap.dedent(
    r"""
    import json, sys
    selftest(("192.0.2.1", 80))  # TEST-NET-1: nothing there, and the guard refuses it anyway

    from assistant.api import Assistant

    home, models, extra = sys.argv[1:4]
    kb = Assistant.open(home, models=models)
    out = {}
    for key, question in [("zh", "机关是怎样落实在职党员“双报到”制度的？"), ("en", "How do offices run the 双报到 system?")]:
        answer = kb.ask(question)
        out[key] = {"refused": answer.refused, "quotes": [c.quote for c in answer.citations]}
    out["retrieve"] = [p.text[:40] for p in kb.retrieve("保密工作怎么抓？", k=3)]
    out["ingest"] = kb.ingest([extra]).added          # ingestion is guarded as well
    out["after_ingest"] = kb.ask("公务接待的标准是什么？").refused
    out["telemetry"] = kb.store._client.get_settings().anonymized_telemetry
    kb.close()
    selftest(("198.51.100.1", 443))  # the guard is still in place at the end
    print("ATTEMPTS " + json.dumps(ATTEMPTS))
    print("RESULT " + json.dumps(out, ensure_ascii=False))
    """
)


def _strace_prefix(trace: Path) -> list[str]:
    strace = shutil.which("strace")
    if strace is None:
        return []
    # --seccomp-bpf stops the process only at the traced calls, so the run is hardly slower
    command = [strace, "-f", "-qq", "--seccomp-bpf", "-e", "trace=connect,sendto,sendmsg,sendmmsg"]
    probe = subprocess.run([*command, "-o", os.devnull, "true"], capture_output=True)
    if probe.returncode != 0:  # ptrace not permitted here, or an strace without --seccomp-bpf
        return []
    return [*command, "-o", str(trace)]


def test_answering_opens_no_network_connection(tmp_path, e5_embedder):
    home = tmp_path / "home"
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(CORPUS / "000_c080b3a73747e000.txt", docs / "a.txt")
    kb = Assistant(Settings.load(home, models=str(models_dir())), embedder=e5_embedder)
    assert kb.ingest([docs]).failed == []
    kb.close()
    extra = tmp_path / "extra.txt"
    extra.write_text("关于公务接待的规定\n公务接待的标准是工作餐一菜一汤，不得安排宴请。\n", encoding="utf-8")

    # A fresh interpreter, with the product's own defaults: no offline switches from the test run.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "HF_", "TRANSFORMERS_", "CHROMA_"))}
    env["PYTHONPATH"] = str(ROOT)
    trace = tmp_path / "strace.txt"
    prefix = _strace_prefix(trace)
    run = subprocess.run(
        [*prefix, sys.executable, "-c", SCRIPT, str(home), str(models_dir()), str(extra)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in run.stdout.splitlines() if line.startswith(("ATTEMPTS ", "RESULT ")))
    attempts, result = json.loads(lines["ATTEMPTS"]), json.loads(lines["RESULT"])

    assert attempts == [], f"network access attempted at run time: {attempts}"
    # … and the run really answered, retrieved and ingested while guarded
    assert not result["zh"]["refused"] and any("双报到" in q for q in result["zh"]["quotes"])
    assert not result["en"]["refused"] and any("双报到" in q for q in result["en"]["quotes"])
    assert len(result["retrieve"]) == 3
    assert [Path(s).name for s in result["ingest"]] == ["extra.txt"] and result["after_ingest"] is False
    assert result["telemetry"] is False

    if prefix:  # system-call level: no connect/send to an internet address, from Python or native code
        inet = [line for line in trace.read_text().splitlines() if re.search(r"sa_family=AF_INET6?\b", line)]
        assert inet == [], "connections seen by strace:\n" + "\n".join(inet[:20])
