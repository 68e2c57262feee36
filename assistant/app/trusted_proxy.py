"""The reverse proxy's user header (trusted_user_header), believed only from the addresses of trusted_proxies."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

from starlette.datastructures import Headers

from assistant.errors import SettingsError


class TrustedProxy:
    """Who a request is according to the sign-in proxy in front of the server (nginx `auth_request`, an SSO gateway).

    Anyone can send the header, so it counts only on a connection from one of the proxy's addresses; the server
    must then see the proxy's own address, not the one of X-Forwarded-For (`serve` turns uvicorn's rewriting off).
    """

    def __init__(self, header: str, proxies: str):
        self.header = header.strip()
        try:
            self.networks = [ipaddress.ip_network(p.strip(), strict=False) for p in proxies.split(",")]
        except ValueError as exc:
            raise SettingsError(f"trusted_proxies {proxies!r}: {exc}; fix ASSISTANT_TRUSTED_PROXIES") from None

    @classmethod
    def from_settings(cls, settings: Any) -> TrustedProxy | None:
        """The proxy of settings.trusted_user_header / trusted_proxies; None when no header is set."""
        return cls(settings.trusted_user_header, settings.trusted_proxies) if settings.trusted_user_header else None

    def trusts(self, host: str | None) -> bool:
        """Whether a connection from `host` comes from the proxy."""
        try:
            address = ipaddress.ip_address(host or "")
        except ValueError:
            return False  # a test client's "testclient", a Unix socket: not an address of the proxy
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped  # a dual-stack socket shows 127.0.0.1 as ::ffff:127.0.0.1
        return any(address in network for network in self.networks)

    def user(self, headers: Headers, client: Sequence[Any] | None) -> str | None:
        """The user name the proxy sent; None when the header is missing or empty, sent twice (a client's own copy
        passed on beside the proxy's: which is whose?), or the connection is not from the proxy."""
        if not client or not self.trusts(str(client[0])):
            return None
        values = headers.getlist(self.header)
        if len(values) != 1:
            return None
        # HTTP header bytes reach Python as latin-1; proxies send a Chinese name as UTF-8.
        value = values[0]
        try:
            value = value.encode("latin-1").decode("utf-8")
        except UnicodeError:
            pass
        return value.strip() or None


__all__ = ["TrustedProxy"]
