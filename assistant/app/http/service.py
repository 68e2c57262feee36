"""What every route needs: the open knowledge base, the API keys and the size limits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from assistant.app.http.auth import ApiKeys, Caller
from assistant.app.http.errors import ApiError
from assistant.conversations.audit import AuditLog

MB = 1024 * 1024


@dataclass(frozen=True)
class Service:
    """The knowledge base the server answers from, who may use it, and how much a request may carry."""

    kb: Any  # an open assistant.Assistant
    keys: ApiKeys
    max_request_kb: int = 1024
    max_upload_mb: int = 50
    max_upload_files: int = 20
    audit: AuditLog | None = None  # where asks, uploads and deletes are recorded (None: nowhere)

    @property
    def kb_name(self) -> str:
        return str(self.kb.settings.kb)

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

    def authorize(self, request: Request, kb: str | None = None) -> None:
        """Raise ApiError unless the request's key opens knowledge base `kb` (default: the open one)."""
        self.keys.check(self.caller(request), kb or self.kb_name)

    def allowed(self, request: Request) -> set[str]:
        """The knowledge bases the request's key opens ({"*"} = all); raises ApiError for a bad key."""
        return self.keys.knowledge_bases(self.caller(request))

    def require(self, request: Request, role: str, what: str) -> None:
        """Raise ApiError 403 unless the request holds `role` (or higher) in this knowledge base (see ApiKeys.may)."""
        if not self.keys.may(self.caller(request), self.kb_name, role):
            raise ApiError(
                403,
                "role_required",
                f"{what} needs the role {role!r} (or higher) in the knowledge base {self.kb_name!r}; ask the "
                f"administrator (python -m assistant users add NAME --role {role} --kb {self.kb_name})",
            )

    def record(self, request: Request, action: str, details: Iterable[str], via: str = "api") -> None:
        """Write the request's action to the audit log: its key (or "anonymous"), this knowledge base, each detail."""
        if self.audit is not None:
            self.audit.record_many(self.keys.who(self.caller(request)), self.kb_name, action, details, via)


__all__ = ["MB", "Service"]
