"""API keys (`Authorization: Bearer KEY`, ASSISTANT_API_KEYS, optionally per knowledge base) and accounts (HTTP Basic)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from fastapi import Request

from assistant.accounts import ANY_KB, Accounts, role_rank
from assistant.app.http.errors import ApiError

BEARER = {"WWW-Authenticate": "Bearer"}
KEY_ROLE = "upload"  # what an API key may do when there are accounts: ask, upload, delete; not read the audit log


class ApiKeys:
    """The keys of ASSISTANT_API_KEYS: `KEY` opens every knowledge base, `KEY:KB` only KB (repeat for more)."""

    def __init__(self, spec: str, *, ui_login: bool = False, accounts: Accounts | None = None):
        """
        Args:
            spec: the comma-separated keys.
            ui_login: the chat asks for a password; then the API, which cannot use that login, stays
                closed until keys are set, so adding the API never opens a protected server.
            accounts: the users file (ASSISTANT_USERS_FILE): its users may also send their name and password
                as HTTP Basic, and get their role; keys then count as the role KEY_ROLE.
        """
        self.keys: dict[str, set[str]] = {}
        for item in (part.strip() for part in spec.split(",")):
            if not item:
                continue
            key, _, kb = item.partition(":")
            self.keys.setdefault(key.strip(), set()).add(kb.strip() or ANY_KB)
        self.ui_login = ui_login or accounts is not None
        self.accounts = accounts
        self._verified: dict[bytes, str] = {}  # sha256 of a Basic credential -> the password hash it matched

    @property
    def enabled(self) -> bool:
        return bool(self.keys)

    def knowledge_bases(self, header: str | None) -> set[str]:
        """The knowledge bases the request's key opens ({"*"} = all).

        Raises:
            ApiError: 401 without a valid key when keys are required.
        """
        scheme, _, given = (header or "").partition(" ")
        if self.accounts is not None and scheme.lower() == "basic":
            account = self.accounts.users()[self._user(given)]
            return {ANY_KB} if ANY_KB in account.roles else set(account.roles)
        if not self.keys:
            if self.accounts is not None:
                raise ApiError(
                    401,
                    "missing_credentials",
                    "send a user's name and password as HTTP Basic (curl -u NAME), or ask the administrator for "
                    "an API key (ASSISTANT_API_KEYS)",
                    {"WWW-Authenticate": 'Basic realm="office-assistant"'},
                )
            if self.ui_login:
                raise ApiError(
                    401,
                    "api_closed",
                    "this server's chat requires a login, so its API is closed until the administrator sets "
                    "ASSISTANT_API_KEYS (then send 'Authorization: Bearer KEY')",
                    BEARER,
                )
            return {ANY_KB}
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

    def _user(self, given: str) -> str:
        """The user of an HTTP Basic credential (raises ApiError 401 unless the name and password match)."""
        assert self.accounts is not None
        try:
            name, _, password = base64.b64decode(given.strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            name, password = "", ""
        account = self.accounts.users().get(name)
        digest = hashlib.sha256(given.strip().encode("utf-8")).digest()
        if account is not None and self._verified.get(digest) == account.password:
            return name  # checked before, and the password has not changed since (scrypt is slow on purpose)
        if account is None or not self.accounts.check(name, password):
            raise ApiError(
                401,
                "invalid_credentials",
                "the user name or password is wrong; send them as HTTP Basic (curl -u NAME)",
                {"WWW-Authenticate": 'Basic realm="office-assistant"'},
            )
        self._verified[digest] = account.password
        return name

    def who(self, header: str | None) -> str:
        """Who the request is, for the audit log: a user's name (HTTP Basic), else its key as `api-key:` and the
        first 8 hex digits of the key's SHA-256 (`printf %s KEY | sha256sum`), never the key itself; "anonymous"
        without keys.

        Call it after `knowledge_bases` accepted the request.
        """
        scheme, _, given = (header or "").partition(" ")
        if self.accounts is not None and scheme.lower() == "basic":
            return self._user(given)
        if not self.keys:
            return "anonymous"
        return "api-key:" + hashlib.sha256(given.strip().encode("utf-8")).hexdigest()[:8]

    def may(self, header: str | None, kb: str, role: str) -> bool:
        """Whether the (accepted) request holds `role` in `kb`: always without accounts; a user by their role; a key
        as KEY_ROLE."""
        if self.accounts is None:
            return True
        scheme, _, given = (header or "").partition(" ")
        if scheme.lower() == "basic":
            return self.accounts.may(self._user(given), kb, role)
        return bool(self.keys) and role_rank(KEY_ROLE) >= role_rank(role)

    def check(self, header: str | None, kb: str) -> None:
        """Let the request through to knowledge base `kb`, or raise ApiError (401, or 403 for another KB's key)."""
        allowed = self.knowledge_bases(header)
        if ANY_KB not in allowed and kb not in allowed:
            raise ApiError(
                403, "forbidden", f"this API key does not open the knowledge base {kb!r}; use a key for {kb!r}"
            )


def authorization(request: Request) -> str | None:
    return request.headers.get("authorization")


__all__ = ["ANY_KB", "KEY_ROLE", "ApiKeys", "authorization"]
