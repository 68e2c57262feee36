"""Chat-model backends over real HTTP: streaming, retries, clear errors (protocol servers in a thread).

Ollama cannot be installed here (its binary comes from GitHub, not a package registry), so its
protocol is served by a small local HTTP server; the OpenAI path also runs against the real
llama.cpp server in tests/test_generative.py.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import free_port

from assistant.errors import SettingsError
from assistant.models.chat import BackendError, OllamaChat, OpenAIChat, open_chat_model
from assistant.settings import Settings

MESSAGES = [{"role": "user", "content": "你好"}]


class _Server:
    """A loopback HTTP server whose replies the test scripts: a list of (status, body lines)."""

    def __init__(self, script):
        self.script = list(script)
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                outer.requests.append(
                    {
                        "path": self.path,
                        "body": json.loads(self.rfile.read(length) or b"{}"),
                        "auth": self.headers.get("Authorization"),
                    }
                )
                status, lines = outer.script.pop(0) if outer.script else (500, ["no more replies"])
                self.send_response(status)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for line in lines:
                    self.wfile.write((line + "\n").encode())
                    self.wfile.flush()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def _sse(*pieces: str) -> list[str]:
    events = [f"data: {json.dumps({'choices': [{'delta': {'content': p}}]}, ensure_ascii=False)}\n" for p in pieces]
    return [": ping\n", *events, "data: [DONE]\n"]


@pytest.fixture
def server(request):
    s = _Server(request.param)
    yield s
    s.close()


@pytest.mark.parametrize("server", [[(200, _sse("每季度", "检查一次", "[1]。"))]], indirect=True)
def test_openai_streams_pieces_and_sends_a_bounded_greedy_request(server):
    chat = OpenAIChat(server.url + "/v1", "qwen", api_key="secret", retries=0)
    assert list(chat.stream(MESSAGES, max_tokens=50)) == ["每季度", "检查一次", "[1]。"]
    request = server.requests[0]
    assert request["path"] == "/v1/chat/completions"
    assert request["body"]["max_tokens"] == 50 and request["body"]["temperature"] == 0.0
    assert request["body"]["stream"] is True and request["body"]["model"] == "qwen"
    assert request["auth"] == "Bearer secret"


@pytest.mark.parametrize("server", [[(503, ["busy"]), (200, _sse("好"))]], indirect=True)
def test_openai_retries_a_busy_server(server):
    chat = OpenAIChat(server.url, "m", retries=1)
    assert chat.complete(MESSAGES, max_tokens=5) == "好"
    assert len(server.requests) == 2


@pytest.mark.parametrize("server", [[(401, ['{"error": "invalid api key"}'])]], indirect=True)
def test_a_rejected_key_says_which_setting_to_fix(server):
    with pytest.raises(BackendError, match="ASSISTANT_OPENAI_API_KEY"):
        OpenAIChat(server.url, "m", retries=2).complete(MESSAGES, max_tokens=5)
    assert len(server.requests) == 1  # not retried: it would fail the same way


@pytest.mark.parametrize("server", [[(404, ['{"error": "model not found"}'])]], indirect=True)
def test_an_http_error_carries_the_servers_words(server):
    with pytest.raises(BackendError, match="HTTP 404.*model not found"):
        OpenAIChat(server.url, "m", retries=0).complete(MESSAGES, max_tokens=5)


def test_an_unreachable_server_fails_fast_with_what_to_do(monkeypatch):
    # "Fast" by construction rather than by a stopwatch: a short connect timeout, the configured
    # number of tries and nothing else, and only the short back-off between them.
    import assistant.models.chat as chat_module

    url = f"http://127.0.0.1:{free_port()}/v1"
    chat = OpenAIChat(url, "m", retries=1)  # the default read timeout is minutes: connecting must not wait for it
    assert chat._client.timeout.connect <= 5
    tries, pauses = [], []
    real_stream = chat._client.stream

    def counted_stream(*args, **kwargs):
        tries.append(args)
        return real_stream(*args, **kwargs)

    monkeypatch.setattr(chat._client, "stream", counted_stream)
    monkeypatch.setattr(chat_module, "time", type("Clock", (), {"sleep": staticmethod(pauses.append)}))
    with pytest.raises(BackendError) as info:
        chat.complete(MESSAGES, max_tokens=5)
    assert len(tries) == 2 and pauses == [0.5]  # one retry after half a second, then the error
    message = str(info.value)
    assert url in message and "--mode extractive" in message


@pytest.mark.parametrize(
    "server",
    [
        [
            (
                200,
                [
                    json.dumps(
                        {"message": {"role": "assistant", "content": "每季度"}, "done": False}, ensure_ascii=False
                    ),
                    json.dumps(
                        {"message": {"role": "assistant", "content": "一次。"}, "done": False}, ensure_ascii=False
                    ),
                    json.dumps({"message": {"role": "assistant", "content": ""}, "done": True}),
                ],
            )
        ]
    ],
    indirect=True,
)
def test_ollama_streams_its_json_lines(server):
    chat = OllamaChat(server.url, "qwen2.5:7b", retries=0)
    assert list(chat.stream(MESSAGES, max_tokens=40)) == ["每季度", "一次。"]
    body = server.requests[0]["body"]
    assert server.requests[0]["path"] == "/api/chat"
    assert body["options"] == {"temperature": 0.0, "num_predict": 40} and body["model"] == "qwen2.5:7b"


@pytest.mark.parametrize(
    "server", [[(200, [json.dumps({"error": "model 'x' not found, try pulling it first"})])]], indirect=True
)
def test_ollama_errors_say_to_pull_the_model(server):
    with pytest.raises(BackendError, match="ollama pull x"):
        OllamaChat(server.url, "x", retries=0).complete(MESSAGES, max_tokens=5)


def test_backends_are_chosen_in_one_place_from_settings(monkeypatch):
    with pytest.raises(SettingsError, match="ASSISTANT_OPENAI_BASE_URL"):
        open_chat_model(Settings.load(None, env={}), "openai")
    monkeypatch.setenv("OPENAI_API_KEY", "from-env")
    chat = open_chat_model(Settings.load(None, env={}, openai_base_url="http://h:1/v1", openai_model="m"), "openai")
    assert isinstance(chat, OpenAIChat) and chat.url == "http://h:1/v1/chat/completions"
    assert chat._client.headers["Authorization"] == "Bearer from-env"
    assert isinstance(open_chat_model(Settings.load(None, env={}), "ollama"), OllamaChat)
    with pytest.raises(SettingsError):
        open_chat_model(Settings.load(None, env={}), "extractive")
    with pytest.raises(SettingsError, match="answer_mode"):
        Settings.load(None, env={"ASSISTANT_ANSWER_MODE": "gpt"})
    assert "secret" not in repr(Settings.load(None, env={"ASSISTANT_OPENAI_API_KEY": "secret"}))
