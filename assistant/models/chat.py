"""Chat-model backends (OpenAI-compatible, Ollama, a local GGUF, any LangChain chat model) behind one small interface."""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING, Protocol

import httpx

from assistant.errors import AssistantError, SettingsError

if TYPE_CHECKING:
    from assistant.models.generation_queue import Stop
    from assistant.settings import Settings

MODES = ("extractive", "openai", "ollama", "local")  # the modes settings (and the CLI) can name
#: The mode of a LangChain chat model handed to the API (`Assistant.open(home, chat_model=...)`):
#: it exists only in code, so it is an answer mode but not one of the settings' MODES.
LANGCHAIN_MODE = "langchain"
Message = dict[str, str]


class BackendError(AssistantError):
    """The chat model cannot be reached or failed; the message says which and what to do."""


class ChatModel(Protocol):
    """A chat model that streams its reply; `complete` is the whole reply at once."""

    name: str

    def stream(self, messages: list[Message], *, max_tokens: int) -> Iterator[str]: ...

    def complete(self, messages: list[Message], *, max_tokens: int) -> str: ...

    def close(self) -> None: ...


_RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}


class _HTTPChat:
    """What the HTTP backends share: timeouts, retries before the first token, clear errors."""

    name = "http"
    hint = ""  # what to check, added to every error message

    def __init__(
        self, url: str, *, timeout: float, retries: int, temperature: float, headers: dict[str, str] | None = None
    ):
        self.url = url
        self.retries = max(0, retries)
        self.temperature = temperature
        # A short connect timeout: a server that is down should be reported at once, not after minutes.
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(5.0, timeout)), headers=headers or {}, trust_env=False
        )

    def _payload(self, messages: list[Message], max_tokens: int) -> dict:
        raise NotImplementedError

    def _pieces(self, response: httpx.Response) -> Iterator[str]:
        raise NotImplementedError

    def stream(self, messages: list[Message], *, max_tokens: int, stop: Stop | None = None) -> Iterator[str]:
        """Yield the reply as it is generated; `stop` (set from any thread) drops the connection at once.

        Dropping the connection is what makes the server stop generating (llama.cpp frees its slot);
        the stream then just ends.

        Raises:
            BackendError: the server is unreachable, answers with an error, or times out.
        """
        payload = self._payload(messages, max_tokens)
        for attempt in range(self.retries + 1):
            yielded = False
            unhook = None
            try:
                with self._client.stream("POST", self.url, json=payload) as response:
                    if stop is not None:
                        unhook = stop.on_set(partial(drop_connection, response))
                        if stop.is_set():
                            return
                    if response.status_code >= 400:
                        response.read()
                        if response.status_code in _RETRY_STATUS and attempt < self.retries:
                            time.sleep(0.5 * 2**attempt)
                            continue
                        raise BackendError(self._status_message(response))
                    for piece in self._pieces(response):
                        if stop is not None and stop.is_set():
                            return
                        if piece:
                            yielded = True
                            yield piece
                return
            except (httpx.TransportError, ValueError) as exc:
                if stop is not None and stop.is_set():
                    return  # the connection was dropped on purpose: the reply just ends here
                if not isinstance(exc, httpx.TransportError):
                    raise
                # Retrying after part of the reply was shown would repeat it: only retry before.
                if yielded or attempt >= self.retries:
                    if isinstance(exc, httpx.TimeoutException):
                        raise BackendError(
                            f"{self.name}: no reply from {self.url} in time ({type(exc).__name__}); {self.hint}"
                        ) from exc
                    raise BackendError(
                        f"{self.name}: cannot reach {self.url} ({exc or type(exc).__name__}); {self.hint}"
                    ) from exc
            finally:
                if unhook is not None:
                    unhook()
            time.sleep(0.5 * 2**attempt)

    def complete(self, messages: list[Message], *, max_tokens: int) -> str:
        return "".join(self.stream(messages, max_tokens=max_tokens))

    def _status_message(self, response: httpx.Response) -> str:
        detail = response.text.strip().replace("\n", " ")[:300]
        if response.status_code in (401, 403):
            return (
                f"{self.name}: the server at {self.url} refused the API key (HTTP {response.status_code}): {detail}; "
                "set ASSISTANT_OPENAI_API_KEY (or OPENAI_API_KEY)"
            )
        return f"{self.name}: the server at {self.url} answered HTTP {response.status_code}: {detail}; {self.hint}"

    def close(self) -> None:
        self._client.close()


def drop_connection(response: httpx.Response) -> None:
    """Shut the response's socket from any thread: a reader blocked on it wakes at once and the server sees the
    client gone (closing the response itself is not safe while another thread reads it)."""
    stream = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    if sock is not None:
        sock.shutdown(socket.SHUT_RDWR)
    else:
        response.close()


class OpenAIChat(_HTTPChat):
    """Any OpenAI-compatible chat endpoint: vLLM, llama.cpp's server, Xinference, DeepSeek, Qwen."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str = "",
        timeout: float = 120.0,
        retries: int = 2,
        temperature: float = 0.0,
        name: str = "openai",
        hint: str = "",
    ):
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        super().__init__(
            base_url.rstrip("/") + "/chat/completions",
            timeout=timeout,
            retries=retries,
            temperature=temperature,
            headers=headers,
        )
        self.model = model
        self.name = name
        self.hint = hint or (
            "check that the server runs and ASSISTANT_OPENAI_BASE_URL / ASSISTANT_OPENAI_MODEL are "
            "right, or answer with --mode extractive (needs no model)"
        )

    def _payload(self, messages: list[Message], max_tokens: int) -> dict:
        return {
            "model": self.model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": self.temperature,
            "stream": True,
        }

    def _pieces(self, response: httpx.Response) -> Iterator[str]:
        for line in response.iter_lines():
            if not line.startswith("data:"):
                continue  # blank separators, ": ping" comments
            data = line[5:].strip()
            if data == "[DONE]":
                return
            event = json.loads(data)
            if "error" in event:
                raise BackendError(f"{self.name}: the model failed while writing: {event['error']}")
            for choice in event.get("choices") or []:
                yield (choice.get("delta") or {}).get("content") or ""


class OllamaChat(_HTTPChat):
    """An Ollama server (its native /api/chat, streamed as one JSON object per line)."""

    name = "ollama"

    def __init__(self, url: str, model: str, *, timeout: float = 120.0, retries: int = 2, temperature: float = 0.0):
        super().__init__(url.rstrip("/") + "/api/chat", timeout=timeout, retries=retries, temperature=temperature)
        self.model = model
        self.hint = (
            f"check that Ollama runs at {url} (`ollama serve`) and has the model (`ollama pull {model}`), "
            "or answer with --mode extractive (needs no model)"
        )

    def _payload(self, messages: list[Message], max_tokens: int) -> dict:
        return {
            "model": self.model,
            "messages": messages,
            "stream": True,
            "options": {"temperature": self.temperature, "num_predict": max_tokens},
        }

    def _pieces(self, response: httpx.Response) -> Iterator[str]:
        for line in response.iter_lines():
            if not line.strip():
                continue
            event = json.loads(line)
            if event.get("error"):
                raise BackendError(f"ollama: {event['error']}; {self.hint}")
            yield (event.get("message") or {}).get("content") or ""
            if event.get("done"):
                return


def check_mode(mode: str) -> str:
    """The answer mode, checked: one of MODES, or LANGCHAIN_MODE."""
    if mode not in MODES and mode != LANGCHAIN_MODE:
        raise SettingsError(f"answer mode must be one of {', '.join(MODES + (LANGCHAIN_MODE,))}; got {mode!r}")
    return mode


def open_chat_model(settings: Settings, mode: str) -> ChatModel:
    """The one place that builds a chat-model backend from the settings (never for 'extractive').

    'local' starts the bundled (or configured) GGUF in an in-process llama.cpp server on loopback
    and talks to it through the same OpenAI-compatible path as 'openai'.
    """
    s = settings
    if check_mode(mode) == "openai":
        if not s.openai_base_url:
            raise SettingsError(
                "answer mode 'openai' needs ASSISTANT_OPENAI_BASE_URL (e.g. http://127.0.0.1:8000/v1) "
                "and ASSISTANT_OPENAI_MODEL"
            )
        key = s.openai_api_key.get_secret_value() or os.environ.get("OPENAI_API_KEY", "")
        return OpenAIChat(
            s.openai_base_url,
            s.openai_model,
            api_key=key,
            timeout=s.llm_timeout,
            retries=s.llm_retries,
            temperature=s.llm_temperature,
        )
    if mode == "ollama":
        return OllamaChat(
            s.ollama_url, s.ollama_model, timeout=s.llm_timeout, retries=s.llm_retries, temperature=s.llm_temperature
        )
    if mode == "local":
        from assistant.models.local_llm import LocalChat  # xllamacpp loads only when asked for

        return LocalChat.start(s)
    if mode == LANGCHAIN_MODE:
        raise SettingsError(
            "answer mode 'langchain' needs a LangChain chat model: "
            "Assistant.open(home, chat_model=ChatOpenAI(...)) (any BaseChatModel)"
        )
    raise SettingsError("the extractive mode needs no chat model")
