"""API keys: `Authorization: Bearer KEY` on every API route when ASSISTANT_API_KEYS is set, optionally per knowledge base."""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request

from assistant.app.http.errors import ApiError

ANY_KB = "*"
BEARER = {"WWW-Authenticate": "Bearer"}


class ApiKeys:
    """The keys of ASSISTANT_API_KEYS: `KEY` opens every knowledge base, `KEY:KB` only KB (repeat for more)."""

    def __init__(self, spec: str, *, ui_login: bool = False):
        """
        Args:
            spec: the comma-separated keys.
            ui_login: the chat asks for a password; then the API, which cannot use that login, stays
                closed until keys are set, so adding the API never opens a protected server.
        """
        self.keys: dict[str, set[str]] = {}
        for item in (part.strip() for part in spec.split(",")):
            if not item:
                continue
            key, _, kb = item.partition(":")
            self.keys.setdefault(key.strip(), set()).add(kb.strip() or ANY_KB)
        self.ui_login = ui_login

    @property
    def enabled(self) -> bool:
        return bool(self.keys)

    def knowledge_bases(self, header: str | None) -> set[str]:
        """The knowledge bases the request's key opens ({"*"} = all).

        Raises:
            ApiError: 401 without a valid key when keys are required.
        """
        if not self.keys:
            if self.ui_login:
                raise ApiError(
                    401,
                    "api_closed",
                    "this server's chat requires a login, so its API is closed until the administrator sets "
                    "ASSISTANT_API_KEYS (then send 'Authorization: Bearer KEY')",
                    BEARER,
                )
            return {ANY_KB}
        scheme, _, given = (header or "").partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            raise ApiError(401, "missing_api_key", "send your API key as 'Authorization: Bearer KEY'", BEARER)
        given = given.strip()
        found: set[str] | None = None
        # Compare with every key in constant time, so the timing tells nothing about a near miss.
        for key, kbs in self.keys.items():
            if hmac.compare_digest(key.encode("utf-8"), given.encode("utf-8")):
                found = kbs
        if found is None:
            raise ApiError(
                401,
                "invalid_api_key",
                "the API key is not valid; send a key the administrator gave you as 'Authorization: Bearer KEY'",
                BEARER,
            )
        return found

    def who(self, header: str | None) -> str:
        """Who the request is, for the audit log: "anonymous" without keys, else its key as `api-key:` and the
        first 8 hex digits of the key's SHA-256 (`printf %s KEY | sha256sum`), never the key itself.

        Call it after `knowledge_bases` accepted the request.
        """
        if not self.keys:
            return "anonymous"
        given = (header or "").partition(" ")[2].strip()
        return "api-key:" + hashlib.sha256(given.encode("utf-8")).hexdigest()[:8]

    def check(self, header: str | None, kb: str) -> None:
        """Let the request through to knowledge base `kb`, or raise ApiError (401, or 403 for another KB's key)."""
        allowed = self.knowledge_bases(header)
        if ANY_KB not in allowed and kb not in allowed:
            raise ApiError(
                403, "forbidden", f"this API key does not open the knowledge base {kb!r}; use a key for {kb!r}"
            )


def authorization(request: Request) -> str | None:
    return request.headers.get("authorization")


__all__ = ["ANY_KB", "ApiKeys", "authorization"]
