"""JSON errors of the HTTP API: {"error": {"code", "message"}}, the message saying what to do."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.errors import AssistantError, ModelError, QuestionError, SettingsError, StoreError
from assistant.models.chat import BackendError
from assistant.models.generation_queue import Cancelled, QueueFull

log = logging.getLogger("assistant.app.http")

# The assistant's exceptions as HTTP statuses, most specific first: the caller's fault is 4xx, a
# chat model that is down is 502 (a bad gateway), anything the server's set-up lacks is 503.
STATUS_OF: tuple[tuple[type[Exception], int, str], ...] = (
    (QuestionError, 422, "invalid_question"),
    (BackendError, 502, "chat_model_failed"),
    (QueueFull, 503, "busy"),  # the local model has too many questions waiting: try again later
    (Cancelled, 499, "cancelled"),  # the client went away (nginx's 499); nobody reads it
    (SettingsError, 503, "not_configured"),
    (ModelError, 503, "model_unavailable"),
    (StoreError, 503, "store_unavailable"),
    (AssistantError, 400, "request_failed"),
)

GENERIC = {
    400: ("bad_request", "the request could not be read; check its JSON and send it again"),
    401: ("unauthorized", "send a valid API key as 'Authorization: Bearer KEY'"),
    404: ("not_found", "no such route; the API lives under /api/v1 and /v1 (see /docs)"),
    405: ("method_not_allowed", "this route does not take that method; see /docs"),
}


class ApiError(Exception):
    """An error answered as {"error": {"code", "message"}} with the given status."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(code, message), status_code=status, headers=headers)


def status_of(exc: Exception) -> tuple[int, str]:
    """The HTTP status and error code of one of the assistant's exceptions."""
    for kind, status, code in STATUS_OF:
        if isinstance(exc, kind):
            return status, code
    return 500, "internal_error"


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "the request does not match the API (" + "; ".join(parts) + "); fix it and send it again (see /docs)"


def install_error_handlers(app: FastAPI, too_large: str) -> None:
    """Every error of the API routes as JSON; `too_large` is the message of a 413 (what the limits are)."""

    async def api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    async def assistant_error(request: Request, exc: Exception) -> JSONResponse:
        status, code = status_of(exc)
        if status >= 500:
            log.warning("%s %s failed: %s", request.method, request.url.path, exc)
        return error_response(status, code, str(exc))

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return error_response(422, "invalid_request", _validation_message(exc))

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 413:
            return error_response(413, "too_large", too_large)
        code, message = GENERIC.get(exc.status_code, ("http_error", str(exc.detail)))
        return error_response(exc.status_code, code, message, getattr(exc, "headers", None))

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(AssistantError, assistant_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)


__all__ = ["GENERIC", "STATUS_OF", "ApiError", "error_body", "error_response", "install_error_handlers", "status_of"]
