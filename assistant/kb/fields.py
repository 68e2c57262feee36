"""The registry's 公文 field columns: their values for a document, and the migration that adds and fills them."""

from __future__ import annotations

import sqlite3

from ingest.metadata import METADATA_VERSION, extract_metadata

# Derived from each document's stored text (see ingest/metadata.py), so they can always be redone.
METADATA_COLUMNS = ("office", "doc_number", "date", "doc_type", "classification", "doc_title")


def metadata_values(title: str, text: str) -> tuple[str | None, ...]:
    """A document's fields in the order of METADATA_COLUMNS."""
    meta = extract_metadata(title, text)
    return tuple(getattr(meta, name) for name in METADATA_COLUMNS)


def migrate_metadata(db: sqlite3.Connection) -> None:
    """Give a registry written before the 公文 fields (or by an older extractor) its fields.

    They are re-extracted from the stored text of each document, in one transaction: no file is
    read again and nothing is re-embedded. The caller holds the connection's lock.
    """
    version = db.execute("SELECT value FROM meta WHERE key='metadata_version'").fetchone()
    have = {row[1] for row in db.execute("PRAGMA table_info(documents)")}
    if have >= set(METADATA_COLUMNS) and version == (METADATA_VERSION,):
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        have = {row[1] for row in db.execute("PRAGMA table_info(documents)")}  # another process may have added them
        for name in METADATA_COLUMNS:
            if name not in have:
                db.execute(f"ALTER TABLE documents ADD COLUMN {name} TEXT")
        rows = db.execute("SELECT doc_id, title, text FROM documents").fetchall()
        sets = ", ".join(f"{name}=?" for name in METADATA_COLUMNS)
        db.executemany(
            f"UPDATE documents SET {sets} WHERE doc_id=?",
            [(*metadata_values(title, text), doc_id) for doc_id, title, text in rows],
        )
        db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('metadata_version', ?)", (METADATA_VERSION,))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
