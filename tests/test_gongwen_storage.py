"""公文 fields in the registry: written with each document, and filled in for a registry that predates them."""

from __future__ import annotations

import sqlite3

from assistant.kb.registry import Registry
from ingest.chunking import Chunk
from ingest.documents import Document
from tests.test_gongwen_metadata import NOTICE

# The documents table as it was before the 公文 fields.
OLD_SCHEMA = """
CREATE TABLE documents (
    doc_id TEXT PRIMARY KEY, source TEXT NOT NULL, title TEXT NOT NULL, collection TEXT, format TEXT NOT NULL,
    text TEXT NOT NULL, file_hash TEXT NOT NULL, page_starts TEXT, n_chunks INTEGER NOT NULL,
    ingested_at TEXT NOT NULL, complete INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def _doc(doc_id: str, title: str, text: str) -> Document:
    return Document(doc_id, f"/docs/{doc_id}.txt", title, text, "txt")


def _chunk(doc: Document) -> Chunk:
    return Chunk(f"{doc.doc_id}-0", doc.doc_id, 0, 0, len(doc.text), doc.text, "", None, "h")


def test_fields_are_written_with_each_document_and_replaced_with_it(tmp_path):
    registry = Registry(tmp_path / "r.sqlite")
    title, _, text = NOTICE.partition("\n")
    doc = _doc("a", title, text)
    registry.put_source(doc.source, "h1", [doc], {"a": [_chunk(doc)]}, {"a-0": ["x"]}, "t", complete=True)
    record = registry.documents()[0]
    assert (record.office, record.doc_number, record.date, record.doc_type, record.classification) == (
        "上海市人民政府办公厅",
        "沪府办发〔2023〕12号",
        "2023-03-05",
        "通知",
        None,
    )
    changed = _doc("a", "关于某事的请示", "正文。\n某某县人民政府\n2024年1月8日")
    registry.put_source(doc.source, "h2", [changed], {"a": [_chunk(changed)]}, {"a-0": ["x"]}, "t", complete=True)
    record = registry.documents_by_id(["a"])["a"]
    assert (record.office, record.doc_number, record.date, record.doc_type) == (
        "某某县人民政府",
        None,
        "2024-01-08",
        "请示",
    )
    registry.close()


def test_a_registry_from_before_the_fields_gets_them_from_its_stored_text(tmp_path):
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(OLD_SCHEMA)
    title, _, text = NOTICE.partition("\n")
    db.execute(
        "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        ("a", "/docs/a.txt", title, None, "txt", text, "h1", None, 1, "t", 1),
    )
    db.commit()
    db.close()
    registry = Registry(path)
    record = registry.documents()[0]
    assert record.office == "上海市人民政府办公厅" and record.date == "2023-03-05" and record.complete
    assert registry.get_meta("metadata_version")
    registry.close()
    assert Registry(path).documents() == [record]  # opening again changes nothing
