"""Who may call the API: keys (`Authorization: Bearer KEY`, ASSISTANT_API_KEYS), users (HTTP Basic, a proxy's header)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import Headers

from assistant.accounts import ANY_KB, Accounts, role_rank
from assistant.app.http.errors import ApiError
from assistant.app.trusted_proxy import TrustedProxy

BEARER = {"WWW-Authenticate": "Bearer"}
KEY_ROLE = "upload"  # what an API key may do when there are accounts: ask, upload, delete; not read the audit log


@dataclass(frozen=True)
class Caller:
    """What a request says about who sends it: its Authorization header, and the user a trusted proxy named."""

    authorization: str | None = None
    proxy_user: str | None = None


def _caller(given: Caller | str | None) -> Caller:
    """A Caller, also from just the Authorization header (tests and key-only callers pass that)."""
    return given if isinstance(given, Caller) else Caller(given)


class ApiKeys:
    """The keys of ASSISTANT_API_KEYS: `KEY` opens every knowledge base, `KEY:KB` only KB (repeat for more)."""

    def __init__(
        self, spec: str, *, ui_login: bool = False, accounts: Accounts | None = None, proxy: TrustedProxy | None = None
    ):
        """
        Args:
            spec: the comma-separated keys.
            ui_login: the chat asks for a password; then the API, which cannot use that login, stays
                closed until keys are set, so adding the API never opens a protected server.
            accounts: the users file (ASSISTANT_USERS_FILE): its users may also send their name and password
                as HTTP Basic, and get their role; keys then count as the role KEY_ROLE.
            proxy: the sign-in proxy's user header (needs `accounts`): a user it names from its address is that
                user, whatever the Authorization header says (a proxy may pass its own Basic login on).
        """
        if proxy is not None and accounts is None:
            raise ValueError("a trusted proxy's user header needs a users file for the roles")
        self.keys: dict[str, set[str]] = {}
        for item in (part.strip() for part in spec.split(",")):
            if not item:
                continue
            key, _, kb = item.partition(":")
            self.keys.setdefault(key.strip(), set()).add(kb.strip() or ANY_KB)
        self.ui_login = ui_login or accounts is not None
        self.accounts = accounts
        self.proxy = proxy
        self._verified: dict[bytes, str] = {}  # sha256 of a Basic credential -> the password hash it matched

    @property
    def enabled(self) -> bool:
        return bool(self.keys)

    def caller(self, headers: Headers, client: Sequence[Any] | None) -> Caller:
        """Who a request (its headers, and the address `client` it came from) says it is."""
        proxy_user = self.proxy.user(headers, client) if self.proxy is not None else None
        return Caller(headers.get("authorization"), proxy_user)

    def knowledge_bases(self, caller: Caller | str | None) -> set[str]:
        """The knowledge bases the request's key or user opens ({"*"} = all).

        Raises:
            ApiError: 401 without a valid key or login when one is required; 403 for a user the proxy named
                who is not in the users file.
        """
        caller = _caller(caller)
        if self._is_user(caller):
            assert self.accounts is not None
            account = self.accounts.users().get(self._user(caller))
            roles = account.roles if account is not None else {}  # removed just now: no knowledge base
            return {ANY_KB} if ANY_KB in roles else set(roles)
        if not self.keys:
            if self.accounts is not None:
                through = "come through the sign-in proxy, or " if self.proxy is not None else ""
                raise ApiError(
                    401,
                    "missing_credentials",
                    f"{through}send a user's name and password as HTTP Basic (curl -u NAME), or ask the "
                    "administrator for an API key (ASSISTANT_API_KEYS)",
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
        scheme, _, given = (caller.authorization or "").partition(" ")
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

    def _is_user(self, caller: Caller) -> bool:
        """Whether the request is a user of the users file (named by the proxy, or HTTP Basic), not a key."""
        scheme = (caller.authorization or "").partition(" ")[0]
        return self.accounts is not None and (caller.proxy_user is not None or scheme.lower() == "basic")

    def _user(self, caller: Caller) -> str:
        """The user the proxy named (ApiError 403 when the users file has no such user), else the user of an HTTP
        Basic credential (ApiError 401 unless the name and password match)."""
        assert self.accounts is not None
        if caller.proxy_user is not None:
            if caller.proxy_user not in self.accounts.users():
                raise ApiError(
                    403,
                    "unknown_user",
                    f"the sign-in proxy says you are {caller.proxy_user!r}, but this server has no such user; ask "
                    "the administrator to add you (python -m assistant users add NAME --role read)",
                )
            return caller.proxy_user
        given = (caller.authorization or "").partition(" ")[2]
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

    def who(self, caller: Caller | str | None) -> str:
        """Who the request is, for the audit log: a user's name (the proxy's header or HTTP Basic), else its key as
        `api-key:` and the first 8 hex digits of the key's SHA-256 (`printf %s KEY | sha256sum`), never the key
        itself; "anonymous" without keys.

        Call it after `knowledge_bases` accepted the request.
        """
        caller = _caller(caller)
        if self._is_user(caller):
            return self._user(caller)
        if not self.keys:
            return "anonymous"
        given = (caller.authorization or "").partition(" ")[2]
        return "api-key:" + hashlib.sha256(given.strip().encode("utf-8")).hexdigest()[:8]

    def may(self, caller: Caller | str | None, kb: str, role: str) -> bool:
        """Whether the (accepted) request holds `role` in `kb`: always without accounts; a user by their role; a key
        as KEY_ROLE."""
        if self.accounts is None:
            return True
        caller = _caller(caller)
        if self._is_user(caller):
            return self.accounts.may(self._user(caller), kb, role)
        return bool(self.keys) and role_rank(KEY_ROLE) >= role_rank(role)

    def check(self, caller: Caller | str | None, kb: str) -> None:
        """Let the request through to knowledge base `kb`, or raise ApiError (401, or 403 for another KB's key)."""
        caller = _caller(caller)
        allowed = self.knowledge_bases(caller)
        if ANY_KB not in allowed and kb not in allowed and self._is_user(caller):
            raise ApiError(
                403,
                "role_required",
                f"you have no role in the knowledge base {kb!r}; ask the administrator (python -m assistant users "
                f"add NAME --role read --kb {kb})",
            )
        if ANY_KB not in allowed and kb not in allowed:
            raise ApiError(
                403, "forbidden", f"this API key does not open the knowledge base {kb!r}; use a key for {kb!r}"
            )


__all__ = ["ANY_KB", "KEY_ROLE", "ApiKeys", "Caller"]
