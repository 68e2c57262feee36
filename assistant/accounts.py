"""Optional accounts: users with scrypt password hashes and a role per knowledge base, in the JSON file of users_file."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path

from assistant.errors import SettingsError

log = logging.getLogger("assistant.accounts")

ROLES = ("read", "upload", "admin")  # each may do what the ones before it may
ANY_KB = "*"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1  # ~16 MB and a few tens of ms per check
NAME_CHARS = 64


def hash_password(password: str) -> str:
    """`scrypt$N$r$p$salt$hash` (hex) with a fresh random salt."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches a hash of `hash_password` (compared in constant time)."""
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        given = hashlib.scrypt(
            password.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), maxmem=2**26
        )
        return hmac.compare_digest(given, bytes.fromhex(digest))
    except (ValueError, TypeError):
        return False


def role_rank(role: str | None) -> int:
    """0 for no role, then read < upload < admin."""
    return ROLES.index(role) + 1 if role in ROLES else 0


@dataclass
class Account:
    """One user: the password hash and the role per knowledge base ("*" = every one not named)."""

    name: str
    password: str
    roles: dict[str, str] = field(default_factory=dict)

    def role(self, kb: str) -> str | None:
        return self.roles.get(kb) or self.roles.get(ANY_KB)


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > NAME_CHARS or any(c.isspace() or c in ":/\\" for c in name):
        raise SettingsError(
            f"user name {name!r}: use 1 to {NAME_CHARS} characters without spaces, ':' or slashes (e.g. zhangsan)"
        )
    return name


class Accounts:
    """The users file: read when opened and again whenever it changes on disk, so `users add` needs no restart."""

    def __init__(self, path: Path | str):
        self.path = Path(path).expanduser()
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._users: dict[str, Account] = {}
        self._dummy = hash_password(secrets.token_hex(8))  # checked for unknown names, so timing tells nothing

    @classmethod
    def open(cls, path: Path | str) -> Accounts:
        """The accounts of an existing users file.

        Raises:
            SettingsError: no such file, or one that cannot be read, saying how to make it.
        """
        accounts = cls(path)
        if not accounts.path.is_file():
            raise SettingsError(
                f"users_file {accounts.path} does not exist: create it with `python -m assistant users add NAME "
                "--role admin`, or unset ASSISTANT_USERS_FILE"
            )
        accounts.users()
        return accounts

    def users(self) -> dict[str, Account]:
        """name -> Account, re-read when the file changed since the last look."""
        with self._lock:
            try:
                stat = self.path.stat()
            except FileNotFoundError:
                self._users, self._stamp = {}, None
                return {}
            stamp = (stat.st_mtime_ns, stat.st_size)
            if stamp != self._stamp:
                try:
                    self._users = self._read()
                except SettingsError as exc:
                    if self._stamp is None:
                        raise  # never read: opening the file fails, and says why
                    # Broken while serving (a hand edit): keep the users as last read, and say so once per change.
                    log.error("%s; keeping the users as they were", exc)
                self._stamp = stamp
            return dict(self._users)

    def _read(self) -> dict[str, Account]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return {
                name: Account(name, str(item["password"]), {str(k): str(v) for k, v in item.get("roles", {}).items()})
                for name, item in data.get("users", {}).items()
            }
        except (OSError, ValueError, KeyError, AttributeError, TypeError) as exc:
            raise SettingsError(
                f"cannot read the users file {self.path} ({exc}); fix or remove it, then add users with "
                "`python -m assistant users add NAME --role read|upload|admin`"
            ) from exc

    def check(self, name: str, password: str) -> bool:
        """Whether the name and password belong to a user (Gradio's login calls this)."""
        account = self.users().get((name or "").strip())
        ok = verify_password(password or "", account.password if account else self._dummy)
        return ok and account is not None

    def role(self, name: str, kb: str) -> str | None:
        account = self.users().get(name)
        return account.role(kb) if account else None

    def may(self, name: str, kb: str, role: str) -> bool:
        """Whether user `name` holds `role` (or a higher one) in knowledge base `kb`."""
        return role_rank(self.role(name, kb)) >= role_rank(role)

    def add(self, name: str, password: str, role: str, kb: str = ANY_KB) -> Account:
        """Add a user, or set an existing user's password and role in `kb`; the file is written at once (mode 600).

        Raises:
            SettingsError: a bad name, role or empty password.
        """
        name = check_name(name)
        if role not in ROLES:
            raise SettingsError(f"role {role!r}: use one of {', '.join(ROLES)}")
        if not password:
            raise SettingsError("the password is empty: type one (or pipe it on stdin)")
        users = self.users()
        account = users.get(name) or Account(name, "")
        account.password = hash_password(password)
        account.roles[(kb or ANY_KB).strip() or ANY_KB] = role
        users[name] = account
        self._write(users)
        return account

    def set_password(self, name: str, password: str) -> Account:
        """Give an existing user a new password, keeping their roles; the file is written at once.

        Raises:
            SettingsError: no such user, or an empty password.
        """
        if not password:
            raise SettingsError("the password is empty: type one (or pipe it on stdin)")
        users = self.users()
        account = self._existing(users, name)
        # A changed copy: the cached users stay as on disk should the write fail.
        users[account.name] = account = replace(account, password=hash_password(password))
        self._write(users)
        return account

    def remove(self, name: str) -> Account:
        """Remove a user and all their roles; the file is written at once (servers read it again when it changes).

        Raises:
            SettingsError: no such user.
        """
        users = self.users()
        account = self._existing(users, name)
        del users[account.name]
        self._write(users)
        return account

    def account(self, name: str) -> Account:
        """The user called `name`.

        Raises:
            SettingsError: no such user, naming the users there are.
        """
        return self._existing(self.users(), name)

    def _existing(self, users: dict[str, Account], name: str) -> Account:
        account = users.get((name or "").strip())
        if account is None:
            raise SettingsError(f"no user {name!r} in {self.path}; `python -m assistant users list` shows the users")
        return account

    def _write(self, users: dict[str, Account]) -> None:
        data = {"users": {a.name: {"password": a.password, "roles": a.roles} for a in users.values()}}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, ensure_ascii=False, indent=2)
        os.replace(temp, self.path)


__all__ = [
    "ANY_KB",
    "ROLES",
    "Account",
    "Accounts",
    "check_name",
    "hash_password",
    "role_rank",
    "verify_password",
]
