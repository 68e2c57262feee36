"""`serve` encodes the ordinary-writing passages at start, so the first question does not wait ~7 s for them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import free_port, models_dir

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.e2e
def test_the_background_vectors_are_cached_at_start_before_any_question(tmp_path):
    # A models folder of its own (the e5 model linked in, no background cache yet), so the cache it writes is new.
    models = tmp_path / "models"
    models.mkdir()
    e5 = next(p for p in models_dir().iterdir() if p.is_dir() and p.name.startswith("multilingual-e5"))
    (models / e5.name).symlink_to(e5, target_is_directory=True)
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ASSISTANT_HOME": str(tmp_path / "home"),
        "ASSISTANT_MODELS": str(models),
        "ASSISTANT_PORT": str(port),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 180
        while not list((models / "background").glob("background-*.npy")):
            assert proc.poll() is None, proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            assert time.monotonic() < deadline, "no background vectors cached within 180 s of start"
            time.sleep(0.5)
        # Nothing was asked: the server is up and its health route answers.
        health = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=30)
        assert health.status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)
