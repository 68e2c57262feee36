"""The FastAPI application of the HTTP API, onto which `serve` mounts the browser chat at /."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from assistant.accounts import Accounts
from assistant.app.http.auth import ApiKeys
from assistant.app.http.errors import GENERIC, ApiError, error_response, install_error_handlers
from assistant.app.http.openai_compat import openai_router
from assistant.app.http.routes import api_router
from assistant.app.http.service import Service
from assistant.app.http.settings import ApiSettings
from assistant.app.shelf import Shelf
from assistant.app.trusted_proxy import TrustedProxy

API_PREFIXES = ("/api/", "/v1/")
UPLOAD_PATH = "/api/v1/documents"
DESCRIPTION = """Ask the knowledge base from other programs. Answers carry [n] markers resolved by `citations`.

* `/api/v1/…`: the assistant's own routes (ask, retrieve, documents, stats, health); `kb` names the knowledge
  base (a JSON field, or a query parameter), default the server's first.
* `/v1/chat/completions`, `/v1/models`: OpenAI-compatible; the knowledge base's name is the `model`.

When the server sets `ASSISTANT_API_KEYS`, send `Authorization: Bearer KEY`. Errors are
`{"error": {"code", "message"}}`, the message saying what to do.
"""


class Gate:
    """Checks the API key and the declared body size before FastAPI reads the body.

    So nobody without a key can make the server spool an upload, and a request over the limit gets the
    JSON 413 (the route limits behind it also stop a body without Content-Length, as plain text).
    Plain ASGI, not BaseHTTPMiddleware: the chat's streamed responses pass through untouched.
    """

    def __init__(self, app: ASGIApp, service: Service):
        self.app = app
        self.service = service

    def _limit(self, scope: Scope) -> int:
        upload = scope["method"] == "POST" and scope["path"].rstrip("/") == UPLOAD_PATH
        return self.service.max_upload_bytes if upload else self.service.max_request_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(API_PREFIXES) and scope["method"] != "OPTIONS":
            headers = Headers(scope=scope)
            try:
                keys = self.service.keys
                keys.knowledge_bases(keys.caller(headers, scope.get("client")))
                length = headers.get("content-length", "")
                if length.isdigit() and int(length) > self._limit(scope):
                    raise ApiError(413, "too_large", self.service.too_large_message())
            except ApiError as exc:
                await error_response(exc.status, exc.code, exc.message, exc.headers)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def api_exposure_warning(host_is_loopback: bool, settings: ApiSettings, ui_login: bool) -> str | None:
    """The warning to print when the API is reachable from other machines without a key."""
    if host_is_loopback or settings.api_keys.get_secret_value().strip() or ui_login:
        return None  # with a chat login and no keys the API is closed (see ApiKeys)
    return (
        "The HTTP API (/api/v1, /v1) answers anyone on the network and lets them upload and delete documents. "
        "Set ASSISTANT_API_KEYS to require a key."
    )


def create_api(
    kb: Any,
    settings: ApiSettings | None = None,
    *,
    ui_login: bool = False,
    max_upload_mb: int | None = None,
    max_upload_files: int | None = None,
    accounts: Accounts | None = None,
    proxy: TrustedProxy | None = None,
) -> FastAPI:
    """The API app for open knowledge bases, its docs at /docs (mount the chat on it afterwards).

    Args:
        kb: an open Assistant, or a Shelf of several (requests choose one by name; the first is the default).
        settings: the API's settings (default: ApiSettings.load(), i.e. the ASSISTANT_ environment).
        ui_login: the chat requires a login; without API keys the API then refuses every request.
        max_upload_mb / max_upload_files: upload limits (default: the knowledge base's settings).
        accounts: the users file: its users may send HTTP Basic, and uploads, deletes and the audit log need roles.
        proxy: the sign-in proxy's user header (trusted_user_header): the users it names need no password.
    """
    settings = settings or ApiSettings.load()
    shelf = kb if isinstance(kb, Shelf) else Shelf.of(kb)
    first = shelf.get()  # the limits are settings of the server, the same in every knowledge base
    service = Service(
        shelf=shelf,
        keys=ApiKeys(settings.api_keys.get_secret_value(), ui_login=ui_login, accounts=accounts, proxy=proxy),
        max_request_kb=settings.max_request_kb,
        max_upload_mb=max_upload_mb or first.settings.max_upload_mb,
        max_upload_files=max_upload_files or first.settings.max_upload_files,
    )
    app = FastAPI(
        title="Office document assistant API",
        description=DESCRIPTION,
        version="1",
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.service = service
    install_error_handlers(app, service.too_large_message())
    app.include_router(api_router(service))
    app.include_router(openai_router(service))

    @app.api_route("/api/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    @app.api_route("/v1/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    def unknown(rest: str) -> None:
        # Without this, the chat mounted at / would answer an unknown API path with its own page or error.
        raise ApiError(404, *GENERIC[404])

    app.add_middleware(Gate, service=service)
    if settings.origins:
        # Added last, so it is outermost: preflight requests are answered before the key check.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.origins,
            allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type"],
        )
    return app


__all__ = ["API_PREFIXES", "Gate", "api_exposure_warning", "create_api"]
