"""The OpenAI-compatible stream over a real uvicorn server: queue places sent, a dropped stream stops the answer."""

from __future__ import annotations

import json
import threading
from types import SimpleNamespace

import httpx
import pytest

from assistant.app.http import ApiSettings, create_api
from assistant.models.generation_queue import Cancelled, Queued, QueueFull, Stop
from assistant.results import Answer
from tests.test_http_api import Running

CHAT = {"model": "default", "messages": [{"role": "user", "content": "收文多少？"}], "stream": True}


class WaitingKB:
    """A stand-in whose answer waits behind one other question, then 'writes' until it is stopped."""

    answer_mode = "local"

    def __init__(self) -> None:
        self.settings = SimpleNamespace(kb="default", top_k=5, max_upload_mb=1, max_upload_files=2)
        self.stopped = threading.Event()
        self.full = False

    def stream(self, question, history=None, mode=None, k=None, filters=None, stop: Stop | None = None, **kw):
        if self.full:
            raise QueueFull("the local model is busy: 5 questions are being answered or waiting; try again")
        assert stop is not None and kw.get("queue_status") is True
        stop.on_set(self.stopped.set)
        yield Queued(1)
        while not stop.is_set():
            yield "收文"  # the model's words (not sent: only the verified answer is)
            self.stopped.wait(0.05)
        raise Cancelled("the answer was stopped")

    def ask(self, question, k=None, history=None, mode=None, filters=None):
        if self.full:
            raise QueueFull("the local model is busy: 5 questions are being answered or waiting; try again")
        return Answer(question=question, text="收文一千二百件。", refused=False)


@pytest.fixture
def running(tmp_path):
    kb = WaitingKB()
    kb.settings.kb_dir = tmp_path  # where the API keeps its audit log
    server = Running(create_api(kb, ApiSettings.load()))
    yield SimpleNamespace(url=server.url, kb=kb)
    server.stop()


def test_the_stream_says_its_place_and_a_dropped_stream_stops_the_answer(running):
    with httpx.Client(timeout=30, trust_env=False) as client:
        with client.stream("POST", f"{running.url}/v1/chat/completions", json=CHAT) as response:
            assert response.status_code == 200
            for line in response.iter_lines():
                if line.startswith("data:") and "queue" in line:
                    event = json.loads(line[5:])
                    assert event["queue"] == {"ahead": 1, "message": "排队中，前面还有 1 个问题…"}
                    assert event["choices"][0]["delta"] == {}
                    break
            assert not running.kb.stopped.is_set()
        # The client hung up without reading the rest: the answer's Stop is set, so the model stops writing.
    assert running.kb.stopped.wait(5), "the dropped stream did not stop the answer"


def test_a_full_queue_is_503_busy_with_the_reason(running):
    running.kb.full = True
    with httpx.Client(timeout=30, trust_env=False) as client:
        for stream in (False, True):
            response = client.post(f"{running.url}/v1/chat/completions", json={**CHAT, "stream": stream})
            assert response.status_code == 503
            assert response.json()["error"]["code"] == "busy" and "try again" in response.json()["error"]["message"]
