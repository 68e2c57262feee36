"""公文 fields in the registry: written with each document, and filled in for a registry that predates them."""

from __future__ import annotations

import sqlite3

from assistant.app.cli import citation_meta
from assistant.app.ui.render import answer_dict, sources_html
from assistant.kb.registry import DocumentRecord, Registry
from assistant.results import Answer, Citation, Passage
from assistant.retrieval.filters import Filters, allowed_documents
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


# -- what reads the fields: filters on records, citations, the CLI line and the source card -------------
def _record(doc_id: str, **fields) -> DocumentRecord:
    return DocumentRecord(doc_id, f"/{doc_id}.txt", doc_id, None, "txt", "h", 1, "t", True, **fields)


def test_filters_admit_by_office_containment_type_and_inclusive_dates():
    docs = [
        _record("a", office="**市人民政府办公室", date="2023-03-05", doc_type="通知"),
        _record("b", office="xx市政府办公室党总支", doc_type="经验材料"),
        _record("c", office="市委办公厅", date="2024-01-01", doc_type="通知"),
    ]
    admitted = lambda f: allowed_documents(Filters.parse(f), docs)  # noqa: E731
    assert admitted({"office": "市人民政府办公室"}) == ["a", "b"]
    assert admitted({"doc_type": "通知", "since": "2023-03-05", "until": "2023-03-05"}) == ["a"]
    assert admitted({"since": "2023-01-01"}) == ["a", "c"]  # the undated document is left out
    assert admitted({"office": "国务院办公厅"}) == []
    assert admitted({"office": " ", "doc_type": None}) is None  # empty conditions: no restriction
    assert admitted({"office": "办公"}) is None  # every document admitted: nothing to restrict


def test_citations_copy_the_passage_fields_and_every_output_shows_them():
    passage = Passage(
        "档案室每周三开放。", "关于档案的通知", "/a.txt", "", 0, 9, 1.0, "c1", "a", office="上海市人民政府办公厅",
        doc_number="沪府办发〔2023〕12号", date="2023-03-05", doc_type="通知",
    )  # fmt: skip
    cite = Citation.quoting(passage, 1, 0, 9, "档案室每周三开放。", 1.0)
    assert (cite.office, cite.doc_number, cite.date, cite.doc_type) == ("上海市人民政府办公厅", *_FIELDS)
    assert (
        citation_meta(cite.office, cite.date, cite.doc_number)
        == " 上海市人民政府办公厅 · 2023-03-05 · 沪府办发〔2023〕12号"
    )
    assert citation_meta(None, None, None) == ""
    answer = Answer("档案室什么时候开放？", "档案室每周三开放。[1]", refused=False, citations=[cite])
    card = sources_html(answer)
    assert "上海市人民政府办公厅 · 通知 · 2023-03-05 · 沪府办发〔2023〕12号" in card
    assert answer_dict(answer)["citations"][0]["doc_number"] == "沪府办发〔2023〕12号"


_FIELDS = ("沪府办发〔2023〕12号", "2023-03-05", "通知")
