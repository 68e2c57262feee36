"""The audit log: who asked, uploaded or deleted what, when, and where (append-only SQLite, audit.sqlite3)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
import sqlite3
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from pathlib import Path

from assistant.conversations import sqlite_file
from assistant.errors import AuditError

log = logging.getLogger("assistant.conversations.audit")

FILE_NAME = "audit.sqlite3"
ACTIONS = ("ask", "upload", "delete")
ANONYMOUS = "anonymous"
DETAIL_CHARS = 4000  # a longer question is cut (the API already limits questions; this only bounds the file)
FIELDS = ("id", "at", "user", "kb", "action", "detail", "via")

# Rows can be added and read, never changed or removed: the triggers refuse it inside SQLite itself.
SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, user TEXT NOT NULL, kb TEXT NOT NULL,
    action TEXT NOT NULL, detail TEXT NOT NULL, via TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""


@dataclass(frozen=True)
class AuditEntry:
    """One recorded action. `at` is UTC ISO 8601 (seconds), `via` where it came from: chat, api, openai, gradio-api."""

    id: int
    at: str
    user: str
    kb: str
    action: str
    detail: str
    via: str


def login_of(request: object) -> str:
    """Who a chat request is: its login name (Gradio's `request.username`, set when the chat asks for one), else
    "anonymous" (a browser without a login has only a random id, which names nobody)."""
    return str(getattr(request, "username", None) or "").strip() or ANONYMOUS


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def parse_day(value: str | None, what: str) -> dt.date | None:
    """A YYYY-MM-DD bound of an export (None when not given).

    Raises:
        AuditError: a date that cannot be read, saying what to type.
    """
    if value is None or not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise AuditError(f"{what} {value!r} is not a date: type it as YYYY-MM-DD, e.g. 2026-01-31") from None


class AuditLog:
    """The audit log of one knowledge base in one SQLite file; every call opens its own short connection."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        sqlite_file.create(self.path, SCHEMA, AuditError, "the audit log")

    def _db(self) -> AbstractContextManager[sqlite3.Connection]:
        return sqlite_file.transaction(self.path)

    def record(self, user: str | None, kb: str, action: str, detail: str, via: str = "") -> bool:
        """Append one action; False (and an ERROR in the server log) when it could not be written.

        The action itself goes on: a full disk should not stop people asking, and the log says so loudly.
        """
        return self.record_many(user, kb, action, [detail], via)

    def record_many(self, user: str | None, kb: str, action: str, details: Iterable[str], via: str = "") -> bool:
        """One row per detail (e.g. per uploaded file), written together; False as for `record`."""
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}; one of {', '.join(ACTIONS)}")
        at, who = utc_now(), (user or "").strip() or ANONYMOUS
        rows = [(at, who, kb, action, (detail or "")[:DETAIL_CHARS], via) for detail in details]
        try:
            with self._db() as db:
                db.executemany("INSERT INTO audit (at, user, kb, action, detail, via) VALUES (?, ?, ?, ?, ?, ?)", rows)
        except sqlite3.Error as exc:
            log.error("could not write the audit log %s (%s): %s", self.path, exc, rows)
            return False
        return True

    def entries(self, since: str | None = None, until: str | None = None) -> list[AuditEntry]:
        """The recorded actions, oldest first; since/until are inclusive UTC days YYYY-MM-DD.

        Raises:
            AuditError: a bound that is not a date, or `since` after `until`.
        """
        first, last = parse_day(since, "since"), parse_day(until, "until")
        if first and last and first > last:
            raise AuditError(f"since {first} is after until {last}: swap them")
        where, args = [], []
        if first:
            where.append("at >= ?")
            args.append(first.isoformat())
        if last:
            where.append("at < ?")  # the whole of the `until` day
            args.append((last + dt.timedelta(days=1)).isoformat())
        sql = "SELECT id, at, user, kb, action, detail, via FROM audit"
        sql += (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id"
        try:
            with self._db() as db:
                rows = db.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise AuditError(f"cannot read the audit log {self.path} ({exc})") from exc
        return [AuditEntry(*row) for row in rows]


def excel_safe(value: object) -> object:
    """A text cell Excel would run as a formula (=, +, -, @, a tab or CR first) with a ' before it; else as it is.

    Anyone can type a question such as `=HYPERLINK(...)`; the auditor opening the CSV must not run it.
    """
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def export_audit(entries: Iterable[AuditEntry], path: Path | str) -> int:
    """Write entries as CSV (.csv: UTF-8 with a BOM, so Excel shows Chinese) or JSON Lines (.jsonl, .json).

    Returns the number written.

    Raises:
        AuditError: another extension, or a file that cannot be written.
    """
    path = Path(path)
    kind = path.suffix.lower()
    if kind not in (".csv", ".jsonl", ".json"):
        raise AuditError(f"cannot export the audit log as {path.name!r}: name the file .csv or .jsonl")
    rows = list(entries)
    try:
        if kind == ".csv":
            with path.open("w", encoding="utf-8-sig", newline="") as out:
                writer = csv.writer(out)
                writer.writerow(FIELDS)
                writer.writerows([excel_safe(getattr(e, f)) for f in FIELDS] for e in rows)
        else:
            with path.open("w", encoding="utf-8") as out:
                out.writelines(json.dumps(asdict(e), ensure_ascii=False) + "\n" for e in rows)
    except OSError as exc:
        raise AuditError(f"cannot write {path} ({exc}); choose a writable place") from exc
    return len(rows)


def open_audit(kb_dir: Path | str) -> AuditLog:
    """The audit log of a knowledge base: `<kb_dir>/audit.sqlite3`, beside conversations.sqlite3."""
    return AuditLog(Path(kb_dir) / FILE_NAME)


def export_kb_audit(kb_dir: Path | str, path: Path | str, since: str | None = None, until: str | None = None) -> int:
    """`python -m assistant audit export`: a knowledge base's audit log, since/until, to a .csv or .jsonl file.

    Raises:
        AuditError: no audit log in that knowledge base yet, a bad date or file name, an unwritable file.
    """
    if not (Path(kb_dir) / FILE_NAME).is_file():
        raise AuditError(
            f"no audit log yet in {kb_dir}: it is written by `python -m assistant serve` (the chat and the "
            "HTTP API) as people ask, upload and delete; check --home and --kb"
        )
    return export_audit(open_audit(kb_dir).entries(since, until), path)


__all__ = [
    "ACTIONS",
    "ANONYMOUS",
    "FILE_NAME",
    "AuditEntry",
    "AuditLog",
    "excel_safe",
    "export_audit",
    "export_kb_audit",
    "login_of",
    "open_audit",
    "parse_day",
    "utc_now",
]
