"""OpenAI-compatible /v1/chat/completions and /v1/models: the knowledge base is the model."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import iterate_in_threadpool

from assistant.app.http.errors import ApiError, error_body, status_of
from assistant.app.http.routes import FILTERS_EXAMPLE, FILTERS_HELP, Mode
from assistant.app.http.service import Service
from assistant.errors import AssistantError
from assistant.models.generation_queue import Queued, Stop
from assistant.results import Answer

OWNER = "office-assistant"
KEEPALIVE_SECONDS = 5.0  # an SSE comment at most this often while a chat model writes, so proxies keep the line open


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")  # name, tool_calls, …: accepted and not used

    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    # Clients send temperature, max_tokens, top_p, user, …: accepted; the answer is built from the documents.
    model_config = ConfigDict(extra="allow")

    model: str = Field(description="the knowledge base's name (GET /v1/models)", examples=["default"])
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    k: int | None = Field(default=None, ge=1, le=50, description="extension: passages to answer from")
    mode: Mode | None = Field(default=None, description="extension: answer mode (default: the server's)")
    filters: dict[str, Any] | None = Field(
        default=None, description="extension: " + FILTERS_HELP, examples=[FILTERS_EXAMPLE]
    )


def _text(content: str | list[dict[str, Any]] | None) -> str:
    """A message's text: the string, or the text parts of a multi-part content."""
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if part.get("type", "text") == "text")
    return content or ""


def question_and_history(messages: list[ChatMessage]) -> tuple[str, list[str]]:
    """The last user message is the question; the user messages before it are the history (oldest first)."""
    asked = [_text(m.content) for m in messages if m.role == "user"]
    if not asked:
        raise ApiError(422, "invalid_question", "the messages hold no user message; send the question as role 'user'")
    return asked[-1], asked[:-1]


def _completion_base(model: str) -> dict[str, Any]:
    return {"id": f"chatcmpl-{uuid.uuid4().hex}", "created": int(time.time()), "model": model}


def _sse(data: dict[str, Any] | str) -> str:
    return f"data: {data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)}\n\n"


def _chunk(base: dict[str, Any], delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return _sse({**base, "object": "chat.completion.chunk", "choices": [choice], **extra})


def _queued(base: dict[str, Any], item: Queued) -> str:
    # An extension field on an empty delta: OpenAI clients ignore it, ours can show "排队中，前面还有 1 个问题…".
    return _chunk(base, {}, queue={"ahead": item.ahead, "message": item.message()})


def _events(base: dict[str, Any], first: str | Queued | Answer, rest: Iterator[str | Queued | Answer]) -> Iterator[str]:
    """The SSE stream: the role, queue places while waiting, then the verified answer with its citations, then [DONE].

    A chat model's raw words are not sent: every sentence is checked against the passages before it is
    shown (the final Answer's text), and an SSE stream cannot take back what it sent.
    """
    yield _chunk(base, {"role": "assistant", "content": ""})
    answer = first if isinstance(first, Answer) else None
    if isinstance(first, Queued):
        yield _queued(base, first)
    last_beat = time.monotonic()
    try:
        for item in rest:
            if isinstance(item, Answer):
                answer = item
            elif isinstance(item, Queued):
                last_beat = time.monotonic()
                yield _queued(base, item)
            elif time.monotonic() - last_beat > KEEPALIVE_SECONDS:
                last_beat = time.monotonic()
                yield ": writing\n\n"
    except AssistantError as exc:
        # Headers are sent: the error travels as an event, which OpenAI clients raise as an APIError.
        yield _sse(error_body(status_of(exc)[1], str(exc)))
        yield _sse("[DONE]")
        return
    assert answer is not None  # kb.stream ends with the Answer
    yield _chunk(base, {"content": answer.text})
    yield _chunk(base, {}, "stop", citations=[asdict(c) for c in answer.citations], refused=answer.refused)
    yield _sse("[DONE]")


async def _until_gone(events: Iterator[str], stop: Stop, request: Request) -> AsyncIterator[str]:
    """The events, sent from a worker thread; a client that goes away sets `stop`, which ends the generation.

    The model server stops when its connection drops, so a dropped stream frees the model at once
    instead of after the answer it would have written for nobody.
    """

    async def watch() -> None:
        while not await request.is_disconnected():
            await asyncio.sleep(0.25)
        stop.set()

    watcher = asyncio.ensure_future(watch())
    try:
        async for event in iterate_in_threadpool(events):
            yield event
    finally:
        watcher.cancel()
        stop.set()  # also when the client vanished mid-send (the response was cancelled): harmless after the end


def openai_router(service: Service) -> APIRouter:
    """The OpenAI-compatible routes (plain `def` handlers: FastAPI runs them off the event loop)."""
    router = APIRouter(prefix="/v1", tags=["OpenAI-compatible"], max_body_size=service.max_request_bytes)

    @router.get("/models", summary="The served knowledge bases this key or user may ask, one model each")
    def models(request: Request) -> dict[str, Any]:
        names = service.visible(request)
        created = int(time.time())
        return {
            "object": "list",
            "data": [{"id": n, "object": "model", "created": created, "owned_by": OWNER} for n in names],
        }

    @router.post(
        "/chat/completions",
        summary="Answer the last user message from the knowledge base named by `model`",
        response_model=None,
    )
    def chat_completions(body: ChatRequest, request: Request) -> dict[str, Any] | StreamingResponse:
        name, kb = service.open(request, body.model, code="model_not_found")  # the model is the knowledge base
        question, history = question_and_history(body.messages)
        service.record(request, name, "ask", [question], via="openai")
        base = _completion_base(name)
        stop = Stop()
        pieces = kb.stream(
            question,
            history=history or None,
            mode=body.mode,
            k=body.k,
            filters=body.filters,
            stop=stop,
            queue_status=body.stream,
        )
        if body.stream:
            # The first step (checking the question, retrieving) runs before any byte is sent, so a bad
            # question is still a plain JSON error with its status.
            first = next(pieces)
            return StreamingResponse(
                _until_gone(_events(base, first, pieces), stop, request),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        answer = None
        for item in pieces:
            answer = item
        assert isinstance(answer, Answer)
        return {
            **base,
            "object": "chat.completion",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": answer.text}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},  # no tokens are counted
            "citations": [asdict(c) for c in answer.citations],
            "refused": answer.refused,
        }

    return router


__all__ = ["ChatMessage", "ChatRequest", "openai_router", "question_and_history"]
