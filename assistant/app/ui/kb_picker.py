"""The chat's knowledge-base switcher (知识库): which served knowledge bases a user may read or change, and the one asked."""

from __future__ import annotations

from typing import Any

import gradio as gr

from assistant.accounts import Accounts
from assistant.app.shelf import Shelf, choose, readable
from assistant.conversations.audit import AuditLog
from assistant.errors import AssistantError

NONE_READABLE = (
    "你在这里没有可以查看的知识库，请联系管理员。"
    " There is no knowledge base here that you may read; ask the administrator."
)


class NotReadable(AssistantError):
    """The user may not read the knowledge base asked for (a role was removed, or the request was not the page's)."""

    def __init__(self, name: str):
        super().__init__(
            f"你没有知识库「{name}」的查看权限，请联系管理员。 You may not read the knowledge base {name!r};"
            " ask the administrator."
            if name
            else NONE_READABLE
        )


class KbAccess:
    """The served knowledge bases and the users file: what each chat user may read and change.

    Without a users file everyone reads and changes every served knowledge base (no login, or the one shared
    login); with one, a user's role in each decides (read: ask and see the documents; upload: also add and delete).
    """

    def __init__(self, shelf: Shelf, accounts: Accounts | None = None):
        self.shelf = shelf
        self.accounts = accounts

    @property
    def several(self) -> bool:
        """More than one knowledge base is served (the page then leaves the documents empty until it knows who asks)."""
        return len(self.shelf) > 1

    def readable(self, user: str | None) -> list[str]:
        """The served knowledge bases `user` (a login name) may read, the default first."""
        return readable(self.shelf.names, self.accounts, user)

    def choose(self, wanted: str | None, user: str | None) -> str | None:
        """`wanted` when the user may read it, else the first they may (None: none)."""
        return choose(wanted, self.readable(user))

    def may(self, user: str | None, name: str, role: str) -> bool:
        """Whether `user` holds `role` (or higher) in served knowledge base `name`."""
        if name not in self.shelf:
            return False
        return self.accounts is None or (bool(user) and self.accounts.may(str(user), name, role))

    def kb(self, name: str | None, user: str | None) -> Any:
        """The open knowledge base `name` ("": the user's first) once `user` may read it.

        Raises:
            NotReadable: the user may not read it, or may read none.
        """
        chosen = name or self.choose(None, user) or ""
        if not chosen or not self.may(user, chosen, "read"):
            raise NotReadable(chosen)
        return self.shelf.get(chosen)

    def audit(self, name: str) -> AuditLog:
        return self.shelf.audit(name)

    def picker(self) -> gr.Dropdown:
        """The dropdown; empty and hidden until the page loads and the user's knowledge bases are known."""
        return gr.Dropdown(
            choices=[],
            value=None,
            label="知识库 Knowledge base",
            info=None,
            interactive=True,
            visible=False,
            min_width=200,
            scale=0,
            elem_id="kb-picker",
        )

    def picker_update(self, user: str | None, value: str | None) -> Any:
        """The dropdown for `user`: their knowledge bases, `value` chosen, shown only when there is a choice."""
        names = self.readable(user)
        return gr.update(choices=names, value=value, visible=len(names) > 1)


__all__ = ["NONE_READABLE", "KbAccess", "NotReadable"]
