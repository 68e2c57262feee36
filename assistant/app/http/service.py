"""What every route needs: the served knowledge bases, the API keys and the size limits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from assistant.app.http.auth import ANY_KB, ApiKeys, Caller
from assistant.app.http.errors import ApiError
from assistant.app.shelf import Shelf

MB = 1024 * 1024


@dataclass(frozen=True)
class Service:
    """The knowledge bases the server answers from, who may use which, and how much a request may carry."""

    shelf: Shelf
    keys: ApiKeys
    max_request_kb: int = 1024
    max_upload_mb: int = 50
    max_upload_files: int = 20
    audited: bool = True  # asks, uploads and deletes are written to each knowledge base's audit log

    @property
    def kb(self) -> Any:
        """The default knowledge base (the one a request naming none gets)."""
        return self.shelf.get()

    @property
    def kb_name(self) -> str:
        return self.shelf.default

    @property
    def max_request_bytes(self) -> int:
        return self.max_request_kb * 1024

    @property
    def max_upload_bytes(self) -> int:
        # Every file at its limit plus room for the multipart framing; each file is checked on its own too.
        return self.max_upload_files * self.max_upload_mb * MB + MB

    def too_large_message(self) -> str:
        return (
            f"the request is too large: JSON requests may carry {self.max_request_kb} KB "
            f"(ASSISTANT_MAX_REQUEST_KB), uploads {self.max_upload_mb} MB per file and {self.max_upload_files} "
            "files (ASSISTANT_MAX_UPLOAD_MB, ASSISTANT_MAX_UPLOAD_FILES); send less, or ask the administrator "
            "to raise the limit"
        )

    def caller(self, request: Request) -> Caller:
        """Who the request says it is (its Authorization header, and a trusted proxy's user header)."""
        return self.keys.caller(request.headers, request.client)

    def allowed(self, request: Request) -> set[str]:
        """The knowledge bases the request's key opens ({"*"} = all); raises ApiError for a bad key."""
        return self.keys.knowledge_bases(self.caller(request))

    def visible(self, request: Request) -> list[str]:
        """The served knowledge bases the request's key or user opens, the default first."""
        allowed = self.allowed(request)
        return [name for name in self.shelf.names if ANY_KB in allowed or name in allowed]

    def open(self, request: Request, name: str | None, code: str = "unknown_kb") -> tuple[str, Any]:
        """(name, knowledge base) of the one the request names, once the request may use it; None names the first
        served one the caller's key or user opens (the server's default when it opens that).

        Raises:
            ApiError: 404 `code` for a knowledge base this server does not serve (the message lists those the
                caller may use), 401/403 as `ApiKeys.check` for one the caller's key or role does not open.
        """
        name = name or next(iter(self.visible(request)), self.kb_name)
        if name not in self.shelf:
            served = ", ".join(self.visible(request)) or "none that you may use"
            raise ApiError(
                404,
                code,
                f"there is no knowledge base {name!r} here; served: {served} (GET /v1/models lists them; name one as "
                "`kb`, or as the `model` of /v1/chat/completions)",
            )
        self.keys.check(self.caller(request), name)
        return name, self.shelf.get(name)

    def require(self, request: Request, kb: str, role: str, what: str) -> None:
        """Raise ApiError 403 unless the request holds `role` (or higher) in knowledge base `kb` (see ApiKeys.may)."""
        if not self.keys.may(self.caller(request), kb, role):
            raise ApiError(
                403,
                "role_required",
                f"{what} needs the role {role!r} (or higher) in the knowledge base {kb!r}; ask the "
                f"administrator (python -m assistant users add NAME --role {role} --kb {kb})",
            )

    def record(self, request: Request, kb: str, action: str, details: Iterable[str], via: str = "api") -> None:
        """Write the request's action to knowledge base `kb`'s audit log: its key or user (or "anonymous"), each detail."""
        if self.audited:
            self.shelf.audit(kb).record_many(self.keys.who(self.caller(request)), kb, action, details, via)


__all__ = ["MB", "Service"]
