"""The knowledge bases one server serves (serve_kbs): opened at start sharing one embedding model, and who reads which."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.conversations.audit import AuditLog, open_audit
from assistant.errors import SettingsError, UnknownKnowledgeBase

if TYPE_CHECKING:
    from assistant.accounts import Accounts
    from assistant.settings import Settings

ALL = "*"
REGISTRY = "registry.sqlite"  # the file every knowledge base folder has once opened (assistant/api.py)


def _is_kb(folder: Path) -> bool:
    return folder.is_dir() and all(c.isalnum() or c in "-_" for c in folder.name) and (folder / REGISTRY).is_file()


def served_names(settings: Settings) -> list[str]:
    """The knowledge bases `serve` serves, the default first.

    serve_kbs empty: just settings.kb (as before there was a choice). "*": every knowledge base under
    home (settings.kb alone when there is none yet). A list: those names; settings.kb comes first when
    listed, otherwise the first listed is the default.

    Raises:
        SettingsError: a listed name that is no knowledge base under home, other than settings.kb (which
            is created empty, as `serve --kb NEW` always did): a typo would otherwise serve an empty one.
            With a Chroma server the knowledge base may exist only there, so nothing is checked.
    """
    spec = [n.strip() for n in settings.serve_kbs.split(",") if n.strip()]
    root = settings.home / "kb"
    if not spec:
        return [settings.kb]
    if spec == [ALL]:
        names = sorted(p.name for p in root.iterdir() if _is_kb(p)) if root.is_dir() else []
        names = names or [settings.kb]
    else:
        names = list(dict.fromkeys(spec))  # in the order given, each once
        missing = [n for n in names if n != settings.kb and not _is_kb(root / n)]
        if missing and not settings.chroma_url:
            there = sorted(p.name for p in root.iterdir() if _is_kb(p)) if root.is_dir() else []
            raise SettingsError(
                f"serve_kbs names {', '.join(map(repr, missing))}, which is not a knowledge base under {root} "
                f"(there: {', '.join(there) or 'none'}); ingest into it first (python -m assistant ingest --kb "
                f"{missing[0]} FILES) or fix ASSISTANT_SERVE_KBS / --kbs"
            )
    if settings.kb in names:
        names.remove(settings.kb)
        names.insert(0, settings.kb)
    return names


def readable(names: Sequence[str], accounts: Accounts | None, user: str | None) -> list[str]:
    """Those of `names` that `user` may read: all of them without accounts (no login, or the one shared login);
    with accounts, those where the user's role is read or higher (none for no user)."""
    if accounts is None:
        return list(names)
    if not user:
        return []
    return [name for name in names if accounts.may(user, name, "read")]


def choose(wanted: str | None, allowed: Sequence[str]) -> str | None:
    """The knowledge base to show: `wanted` when allowed, else the first allowed (None when none is)."""
    if wanted and wanted in allowed:
        return wanted
    return allowed[0] if allowed else None


class Shelf:
    """The open knowledge bases of one server, by name, in the order served; the first is the default."""

    def __init__(self, kbs: Mapping[str, Any], owned: Sequence[Any] = ()):
        """
        Args:
            kbs: name -> open Assistant (or a stand-in with `settings.kb` and `settings.kb_dir`), default first.
            owned: those the shelf opened itself and closes in `close`.
        """
        if not kbs:
            raise ValueError("a shelf needs at least one knowledge base")
        self._kbs = dict(kbs)
        self._owned = list(owned)
        self._audits: dict[str, AuditLog] = {}
        self._lock = threading.Lock()

    @classmethod
    def of(cls, kb: Any) -> Shelf:
        """Just this knowledge base (what a server of one serves)."""
        return cls({str(kb.settings.kb): kb})

    @classmethod
    def open(cls, settings: Settings, first: Any = None) -> Shelf:
        """The knowledge bases of served_names(settings), all opened now, with one embedding model between them.

        `first`, an open Assistant, is used for its own knowledge base and lends its embedding model; without
        it the default is opened first and lends its own. They are opened at start rather than on the first
        request: a knowledge base that cannot be opened (built with another embedding model, a locked store)
        stops `serve` with its message instead of failing some user's question later, and nobody's first
        question waits for a keyword index to load. The cost is memory for knowledge bases nobody asks.
        """
        from assistant.api import Assistant

        names = served_names(settings)
        kbs: dict[str, Any] = {}
        owned: list[Any] = []
        lender = first
        try:
            for name in names:
                if first is not None and name == first.settings.kb:
                    kbs[name] = first
                    continue
                kb = Assistant(settings.replace(kb=name), embedder=lender.embedder if lender is not None else None)
                if lender is not None:
                    # The English dictionary is the same for every knowledge base (68 MB once parsed); its cache of
                    # each knowledge base's own compounds is keyed by that knowledge base's keyword index.
                    kb.dictionary = lender.dictionary
                lender = lender or kb
                kbs[name] = kb
                owned.append(kb)
        except BaseException:
            for kb in owned:
                kb.close()
            raise
        return cls(kbs, owned)

    @property
    def names(self) -> list[str]:
        return list(self._kbs)

    @property
    def default(self) -> str:
        return next(iter(self._kbs))

    def __contains__(self, name: object) -> bool:
        return name in self._kbs

    def __len__(self) -> int:
        return len(self._kbs)

    def get(self, name: str | None = None) -> Any:
        """The knowledge base called `name` (None or "": the default).

        Raises:
            UnknownKnowledgeBase: this server does not serve it (the message lists the ones it does).
        """
        kb = self._kbs.get(name or self.default)
        if kb is None:
            raise UnknownKnowledgeBase(str(name), self.names)
        return kb

    def audit(self, name: str | None = None) -> AuditLog:
        """The audit log of knowledge base `name`: each knowledge base keeps its own, beside its conversations."""
        kb = self.get(name)
        with self._lock:
            key = str(kb.settings.kb)
            if key not in self._audits:
                self._audits[key] = open_audit(kb.settings.kb_dir)
            return self._audits[key]

    def close(self) -> None:
        """Close the knowledge bases the shelf opened (not one handed to it as `first`)."""
        for kb in self._owned:
            kb.close()
        self._owned.clear()


__all__ = ["ALL", "Shelf", "choose", "readable", "served_names"]
