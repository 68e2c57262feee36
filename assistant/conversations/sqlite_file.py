"""A store in one SQLite file: created with its schema once, then one short connection and transaction per call."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def create(path: Path, schema: str, error: type[Exception], what: str) -> None:
    """Make the file's folder and tables; `error` (naming `what`) says how to fix a folder that cannot be written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with transaction(path) as db:
            db.executescript(schema)
    except (OSError, sqlite3.Error) as exc:
        raise error(f"cannot open {what} {path} ({exc}); check that the folder is writable") from exc


@contextmanager
def transaction(path: Path, foreign_keys: bool = False) -> Iterator[sqlite3.Connection]:
    """A connection of its own (handlers on several threads share a store): committed on success, rolled back on an
    exception, closed either way."""
    db = sqlite3.connect(path, timeout=30)
    try:
        if foreign_keys:
            db.execute("PRAGMA foreign_keys = ON")
        with db:
            yield db
    finally:
        db.close()
