"""Serving the browser chat: where it listens, who may log in, and the warning when it is exposed."""

from __future__ import annotations

import functools
import ipaddress
import logging
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from assistant.accounts import Accounts
from assistant.app.shelf import Shelf
from assistant.app.trusted_proxy import TrustedProxy
from assistant.app.ui.app import build_app
from assistant.errors import AssistantError

log = logging.getLogger("assistant.app.ui.server")


@dataclass(frozen=True)
class ServerOptions:
    """What the web server needs, taken from the knowledge base's Settings (ASSISTANT_HOST, …)."""

    host: str = "127.0.0.1"
    port: int = 7860
    user: str = ""
    password: str = ""
    max_upload_mb: int = 50
    max_upload_files: int = 20
    users_file: str = ""
    kb: str = "default"
    trusted_user_header: str = ""
    trusted_proxies: str = "127.0.0.1"
    kbs: tuple[str, ...] = ()  # the served knowledge bases (empty: just `kb`)

    @classmethod
    def from_settings(cls, settings: Any, kbs: tuple[str, ...] = ()) -> ServerOptions:
        return cls(
            kbs=kbs,
            host=settings.host,
            port=settings.port,
            user=settings.ui_user,
            password=settings.ui_password.get_secret_value(),
            max_upload_mb=settings.max_upload_mb,
            max_upload_files=settings.max_upload_files,
            users_file=settings.users_file,
            kb=settings.kb,
            trusted_user_header=settings.trusted_user_header,
            trusted_proxies=settings.trusted_proxies,
        )

    @property
    def served(self) -> tuple[str, ...]:
        return self.kbs or (self.kb,)

    def may_enter(self, name: str) -> bool:
        """Whether user `name` may read one of the served knowledge bases (with a users file), so may log in."""
        return self.accounts is not None and any(self.accounts.may(name, kb, "read") for kb in self.served)

    @property
    def auth(self) -> tuple[str, str] | Callable[[str, str], bool] | None:
        """Gradio's login: the one user and password, or (with a users file) any user with a role of read or higher
        in one of the served knowledge bases; None: no login."""
        accounts = self.accounts
        if accounts is not None:
            return lambda name, password: accounts.check(name, password) and self.may_enter(name)
        return (self.user, self.password) if self.user else None

    @functools.cached_property
    def proxy(self) -> TrustedProxy | None:
        """The sign-in proxy's user header (trusted_user_header), None when not set."""
        return TrustedProxy.from_settings(self)

    def proxy_login(self, request: Any) -> str | None:
        """Gradio's `auth_dependency` when a proxy signs users in: the user its header names, if they may read one of
        the served knowledge bases; None (Gradio answers 401) for anyone else, also for a request not from the proxy."""
        name = self.proxy.user(request.headers, request.client) if self.proxy is not None else None
        return name if name and self.may_enter(name) else None

    @functools.cached_property
    def accounts(self) -> Accounts | None:
        """The users file's accounts, opened once: the login, the API and the chat share them and their cache
        (raises SettingsError when the file is named but missing or unreadable)."""
        return Accounts.open(self.users_file) if self.users_file else None


PROXY_ONLY = (
    "请通过单位的统一登录入口打开本页面（或请管理员在用户文件中添加你）。"
    " Open this page through the office's sign-in proxy (or ask the administrator to add you to the users file)."
)


def is_loopback(host: str) -> bool:
    """True when a server bound to `host` is reachable only from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposure_warning(host: str, auth: object) -> str | None:
    """The warning to show when the server is reachable from other machines without a password."""
    if auth is not None or is_loopback(host):
        return None
    return (
        f"服务器监听 {host}，且未设置密码：同一网络中的任何人都能查看并修改知识库。"
        "请设置 ASSISTANT_UI_USER 和 ASSISTANT_UI_PASSWORD。"
        f" The server listens on {host} without a password: anyone on the network can read and change"
        " the knowledge base. Set ASSISTANT_UI_USER and ASSISTANT_UI_PASSWORD."
    )


def server_app(kb: Any, *, warning: str | None = None, api_settings: Any = None, **mount_kwargs: Any) -> Any:
    """One ASGI app: the HTTP API (/api/v1, /v1, /docs) with the browser chat mounted at /.

    Gradio runs on FastAPI, so the chat is mounted onto the API's FastAPI app (`gr.mount_gradio_app`)
    and one server, one port, serves both. `kb`: an open Assistant (its settings' serve_kbs are opened
    beside it, sharing its embedding model) or a Shelf.
    """
    import gradio as gr

    from assistant.app.http import create_api

    shelf = kb if isinstance(kb, Shelf) else Shelf.open(kb.settings, first=kb)
    first = shelf.get()
    options = ServerOptions.from_settings(first.settings, tuple(shelf.names))
    accounts = options.accounts
    auth = options.auth
    api = create_api(shelf, api_settings, ui_login=auth is not None, accounts=accounts, proxy=options.proxy)
    blocks = build_app(first, warning=warning, accounts=accounts, shelf=shelf)
    blocks.queue(default_concurrency_limit=2)
    mount_kwargs.setdefault("max_file_size", f"{options.max_upload_mb}mb")  # a hard cap on top of our own check
    mount_kwargs.setdefault("ssr_mode", False)
    mount_kwargs.setdefault("show_error", True)
    if options.proxy is not None:
        # Gradio takes either a login form (`auth`) or a per-request user (`auth_dependency`), never both: behind a
        # sign-in proxy the chat has no login form, and a request the proxy did not sign in is refused (401).
        mount_kwargs.setdefault("auth_message", PROXY_ONLY)
        return gr.mount_gradio_app(api, blocks, path="/", auth_dependency=options.proxy_login, **mount_kwargs)
    return gr.mount_gradio_app(api, blocks, path="/", auth=auth, **mount_kwargs)


def serve(kb: Any, host: str | None = None, port: int | None = None, **mount_kwargs: Any) -> None:
    """Start the browser chat and the HTTP API for a knowledge base, or a Shelf of several (blocks until stopped).

    Binds 127.0.0.1:7860 unless told otherwise (arguments, then settings.host/port, i.e.
    ASSISTANT_HOST/ASSISTANT_PORT). settings.ui_user and ui_password turn on a login;
    ASSISTANT_API_KEYS makes the API ask for a key (assistant/app/http).
    """
    import uvicorn

    from assistant.app.http import ApiSettings, api_exposure_warning

    shelf = kb if isinstance(kb, Shelf) else Shelf.open(kb.settings, first=kb)
    kb = shelf.get()  # the server's settings and chat model are the default knowledge base's (all share them)
    options = ServerOptions.from_settings(kb.settings, tuple(shelf.names))
    host = host or options.host
    port = port or options.port
    api_settings = ApiSettings.load()
    warning = exposure_warning(host, options.auth)
    api_warning = api_exposure_warning(is_loopback(host), api_settings, options.auth is not None)
    for text in (warning, api_warning):
        if text:
            log.warning(text)
            print(f"WARNING: {text}", file=sys.stderr)
    if kb.settings.answer_mode != "extractive":
        # Start the chat model now (the local server loads its GGUF), so a broken set-up is reported
        # at start and the first question does not wait for it.
        try:
            kb.chat_model(kb.settings.answer_mode)
        except AssistantError as exc:
            print(
                f"WARNING: answer mode {kb.settings.answer_mode!r} is not usable ({exc}); "
                "questions will be answered extractively until it is fixed",
                file=sys.stderr,
            )
    # The ordinary-writing passages' vectors (answering/background.py) are encoded on first use, ~7 s on a fresh
    # home: encode them now, beside the start-up, so the first question does not wait (later starts read the cache).
    threading.Thread(target=kb.background.vectors, name="background-vectors", daemon=True).start()
    app = server_app(shelf, warning=warning, api_settings=api_settings, **mount_kwargs)
    shown = f"[{host}]" if ":" in host else host
    print(f"Chat at http://{shown}:{port}/ ; HTTP API at http://{shown}:{port}/api/v1 and /v1 (docs: /docs)")
    print(f"Knowledge bases: {', '.join(shelf.names)} (default {shelf.default})")
    # A short graceful shutdown: open chat streams would otherwise hold Ctrl-C up.
    # Behind a sign-in proxy the user header is believed by the connection's own address, so uvicorn must not put
    # X-Forwarded-For's client address in its place (it does for connections from 127.0.0.1 by default).
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=3,
        proxy_headers=options.proxy is None,
    )
