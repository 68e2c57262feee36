"""The administrator's commands: `audit export` (who did what), `users add|passwd|remove|list` (users_file) and
`relayout searched|apart` (where the sentence windows' vectors are kept)."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from assistant.accounts import ANY_KB, ROLES, Account, Accounts
from assistant.conversations.audit import export_kb_audit
from assistant.errors import SettingsError
from assistant.kb.relayout import folder_size, relayout
from assistant.kb.vectors import APART, SEARCHED
from assistant.settings import Settings


def add_admin_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add `audit` and `users` to the command line's subparsers."""
    p = sub.add_parser("audit", parents=[common], help="the audit log: who asked, uploaded or deleted what, and when")
    actions = p.add_subparsers(dest="action", required=True)
    q = actions.add_parser(
        "export", parents=[common], help="write the audit log as CSV (.csv, opens in Excel) or .jsonl"
    )
    q.add_argument("file", help="the file to write, e.g. audit-2026-01.csv or audit.jsonl")
    q.add_argument("--since", help="only actions on or after this UTC day, YYYY-MM-DD")
    q.add_argument("--until", help="only actions on or before this UTC day, YYYY-MM-DD")

    p = sub.add_parser("users", parents=[common], help="accounts of the chat and the API (the file of users_file)")
    actions = p.add_subparsers(dest="action", required=True)
    q = actions.add_parser(  # no `common`: here --kb is the knowledge base of the role
        "add",
        help="add a user or change one's password and role; the password is asked for, or read from stdin",
    )
    q.add_argument("name")
    q.add_argument("--home", default=argparse.SUPPRESS, help="as for every command (default: $ASSISTANT_HOME)")
    q.add_argument(
        "--role",
        choices=ROLES,
        required=True,
        help="read: ask; upload: also upload and delete; admin: also the audit log",
    )
    q.add_argument("--kb", dest="role_kb", default=ANY_KB, help="the knowledge base of this role (default: every one)")
    q = actions.add_parser("passwd", help="give a user a new password (roles unchanged); asked for, or read from stdin")
    q.add_argument("name")
    q.add_argument("--home", default=argparse.SUPPRESS, help="as for every command (default: $ASSISTANT_HOME)")
    q = actions.add_parser("remove", help="remove a user and all their roles")
    q.add_argument("name")
    q.add_argument("--home", default=argparse.SUPPRESS, help="as for every command (default: $ASSISTANT_HOME)")
    actions.add_parser("list", parents=[common], help="the users and their roles (never their passwords)")

    p = sub.add_parser(
        "relayout",
        parents=[common],
        help="keep the sentence windows' vectors apart from the searched index (less memory) or back in it; "
        "nothing is embedded again. Stop the chat server first",
    )
    p.add_argument(
        "layout", choices=(SEARCHED, APART), help="apart: ~half the memory at 100k chunks; searched: default"
    )


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.load(args.home, **({"kb": args.kb} if args.kb else {}))


def _audit(args: argparse.Namespace) -> int:
    """The audit log is read from the knowledge base's folder; no model is loaded."""
    settings = _settings(args)
    written = export_kb_audit(settings.kb_dir, args.file, args.since, args.until)
    print(f"wrote {written} audit entr{'y' if written == 1 else 'ies'} of {settings.kb!r} to {args.file}")
    return 0


def _password() -> str:
    """From a terminal: typed twice, unseen; otherwise the first line of stdin (scripts: `echo PW | … users add`)."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        raise SettingsError("the two passwords differ; run the command again")
    return first


def _users(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if not settings.users_file:
        raise SettingsError(
            "no users file: set ASSISTANT_USERS_FILE (or users_file in the settings file) to where accounts are "
            "kept, e.g. ~/office-assistant-users.json; `serve` then asks everyone to log in"
        )
    accounts = Accounts(settings.users_file)
    if args.action == "add":
        account = accounts.add(args.name, _password(), args.role, args.role_kb)
        print(f"saved {account.name} ({_roles(account)}) in {accounts.path}")
    elif args.action == "passwd":
        accounts.account(args.name)  # an unknown name fails before the password is asked for
        account = accounts.set_password(args.name, _password())
        print(f"new password saved for {account.name} in {accounts.path}")
    elif args.action == "remove":
        account = accounts.remove(args.name)
        print(f"removed {account.name} ({_roles(account)}) from {accounts.path}")
    else:
        for account in accounts.users().values():
            print(f"{account.name}  {_roles(account)}")
    return 0


def _roles(account: Account) -> str:
    return ", ".join(f"{kb}: {role}" for kb, role in sorted(account.roles.items()))


def _relayout(args: argparse.Namespace) -> int:
    settings = _settings(args)
    done = relayout(settings, args.layout)
    if done.backup is None:
        print(
            f"{settings.kb!r} keeps its window vectors {args.layout} already ({done.vectors} vectors); nothing changed"
        )
        return 0
    size = folder_size(done.backup) / 1e6
    print(
        f"re-laid the {done.vectors} vectors of {settings.kb!r}: window vectors {args.layout}. The store before is kept "
        f"in {done.backup} ({size:.0f} MB); delete it once the knowledge base answers as before"
    )
    return 0


ADMIN_COMMANDS = {"audit": _audit, "users": _users, "relayout": _relayout}

__all__ = ["ADMIN_COMMANDS", "add_admin_commands"]
