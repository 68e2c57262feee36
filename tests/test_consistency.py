"""Server-mode resync without a server: the registry rebuilt from what the vector store holds.

The store here is an in-memory stand-in with the methods the indexer calls on Chroma; the
registry (SQLite), the chunker, jieba and BM25 are the real ones. tests/test_server_mode.py runs
the same path against a real `chroma run` server.
"""

from __future__ import annotations

import itertools
import sqlite3
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import REPORT, HashEmbedder, models_dir

from assistant.kb.consistency import documents_from_store, uncovered_text
from assistant.kb.indexer import Indexer
from assistant.kb.registry import Registry, SourceRecord
from assistant.kb.vectors import VectorRecord
from assistant.settings import Settings
from ingest.chunking import Chunk, chunk_document
from ingest.documents import Document

NOTICE = "关于做好保密检查的通知\n各部门要在月底前完成自查。 Reports are due at the end of the month. 逾期未报的，予以通报。\n"


class MemoryStore:
    """The vector-store calls the indexer makes, kept in a dict (vectors are not searched here)."""

    def __init__(self):
        self.records: dict[str, VectorRecord] = {}
        self._generation = ""

    def generation(self) -> str:
        return self._generation

    def bump_generation(self) -> str:
        self._generation = uuid.uuid4().hex
        return self._generation

    def add(self, records: list[VectorRecord]) -> None:
        self.records.update({r.record_id: r for r in records})

    def delete_chunks(self, chunk_ids: list[str]) -> None:
        gone = set(chunk_ids)
        self.records = {k: r for k, r in self.records.items() if r.chunk_id not in gone}

    def chunk_ids(self) -> set[str]:
        return {r.chunk_id for r in self.records.values()}

    def count(self) -> int:
        return len(self.records)

    def chunk_records(self):
        # what Chroma hands back: the chunk's text and its metadata with our two keys added
        for r in self.records.values():
            if r.kind == "chunk":
                yield r.chunk_id, r.text, {**r.metadata, "chunk_id": r.chunk_id, "kind": r.kind}


def indexer(home: Path, store: MemoryStore, server: bool) -> Indexer:
    settings = Settings.load(home, models=str(models_dir()), chroma_url="http://chroma.invalid:8000" if server else "")
    settings.kb_dir.mkdir(parents=True, exist_ok=True)
    return Indexer(settings, Registry(settings.kb_dir / "registry.sqlite"), store, HashEmbedder())


def write_docs(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """A report and a notice ingested by one app instance into a store (read-only for the tests)."""
    base = tmp_path_factory.mktemp("written")
    docs = write_docs(base / "docs", {"report.md": REPORT, "notice.txt": NOTICE})
    store = MemoryStore()
    writer = indexer(base / "writer", store, server=False)
    assert len(writer.ingest([docs]).added) == 2
    yield writer, store
    writer.registry.close()


def test_a_document_rebuilt_from_the_store_is_the_cleaned_text_exactly(written, tmp_path):
    writer, store = written
    originals = {d.doc_id: writer.registry.document_text(d.doc_id) for d in writer.registry.documents()}
    # the case this is about: text between chunks that is not a line break
    report_id = next(d.doc_id for d in writer.registry.documents() if d.source.endswith("report.md"))
    chunks = writer.registry.chunks_of_document(report_id)
    between = [originals[report_id][a.end : b.start] for a, b in itertools.pairwise(chunks) if b.start > a.end]
    assert " " in between and "\n" in between

    rebuilt = {doc.doc_id: doc for items in documents_from_store(store).values() for doc, _, _ in items}
    assert set(rebuilt) == set(originals)
    for doc_id, text in originals.items():
        assert rebuilt[doc_id].text == text

    # a second app instance sharing the store rebuilds its registry from it: the same text, the same offsets
    reader = indexer(tmp_path / "reader", store, server=True)
    for doc_id, text in originals.items():
        assert reader.registry.document_text(doc_id) == text
        for c in reader.registry.chunks_of_document(doc_id):
            assert text[c.start : c.end] == store.records[c.chunk_id].text
    assert reader.registry.get_meta("store_generation") == store.generation()
    assert set(reader.bm25.ids) == store.chunk_ids()


def test_a_store_written_before_the_gap_keys_still_loads_with_line_breaks_between_chunks(written):
    writer, store = written
    doc = next(d for d in writer.registry.documents() if d.source.endswith("report.md"))
    original = writer.registry.document_text(doc.doc_id)
    old = MemoryStore()  # what an older version wrote: the same records without the gap keys
    old.add(
        [
            replace(r, metadata={k: v for k, v in r.metadata.items() if k not in ("gap_before", "gap_after")})
            for r in store.records.values()
        ]
    )
    ((rebuilt, chunks, _),) = documents_from_store(old)[doc.source]
    # every chunk is in place; what lies between chunks comes back as line breaks, as it always did
    assert len(rebuilt.text) == max(c.end for c in chunks)
    assert all(rebuilt.text[c.start : c.end] == c.text == original[c.start : c.end] for c in chunks)
    covered = {i for c in chunks for i in range(c.start, c.end)}
    assert {rebuilt.text[i] for i in range(len(rebuilt.text)) if i not in covered} == {"\n"}
    assert rebuilt.text != original  # the space between two English sentences is not recovered


def test_uncovered_text_covers_every_character_no_chunk_holds():
    text = "  甲。乙。 丙。\n丁。"
    chunks = [
        Chunk("a", "d", 0, 2, 6, text[2:6], "", None, ""),  # 甲。乙。
        Chunk("b", "d", 1, 4, 6, text[4:6], "", None, ""),  # inside a: ends where a ends
        Chunk("c", "d", 2, 7, 9, text[7:9], "", None, ""),  # 丙。
        Chunk("e", "d", 3, 10, 12, text[10:12], "", None, ""),
    ]  # 丁。
    gaps = uncovered_text(text, chunks)
    assert gaps == {
        "a": {"gap_after": " ", "gap_before": "  "},
        "b": {"gap_after": " "},
        "c": {"gap_after": "\n"},
        "e": {"gap_after": ""},
    }
    for source, size, overlap in (
        (REPORT.strip(), 300, 60),
        (NOTICE.strip(), 50, 20),
        (" ".join(["Short one."] * 40), 60, 0),
    ):
        cs = chunk_document("d", source, size=size, overlap=overlap)
        g = uncovered_text(source, cs)
        rebuilt = list(g[cs[0].chunk_id]["gap_before"])
        for c in cs:
            rebuilt[c.start :] = list(c.text) + list(g[c.chunk_id]["gap_after"])
        assert "".join(rebuilt) == source


def source_record(source: str, text: str, ingested_at: str = "2026-01-01T00:00:00+00:00") -> SourceRecord:
    doc = Document(f"id-{source}", source, f"title {source}", text, "txt")
    chunks = chunk_document(doc.doc_id, text, size=60, overlap=10)
    return SourceRecord(
        source,
        f"hash-{source}",
        [doc],
        {doc.doc_id: chunks},
        {c.chunk_id: list(c.text[:4]) for c in chunks},
        ingested_at,
        True,
    )


def snapshot(registry: Registry) -> tuple:
    docs = registry.documents()
    return (
        docs,
        {d.doc_id: registry.document_text(d.doc_id) for d in docs},
        {d.doc_id: registry.chunks_of_document(d.doc_id) for d in docs},
        list(registry.iter_tokens()),
        registry.get_meta("store_generation"),
    )


def fail_inserting(registry_path: Path, source: str) -> None:
    """Make SQLite itself fail on writing `source`'s document, as a full disk would, mid-transaction."""
    with sqlite3.connect(registry_path) as db:
        db.execute("CREATE TABLE failing (source TEXT)")
        db.execute("INSERT INTO failing VALUES (?)", (source,))
        db.execute(
            "CREATE TRIGGER fail_insert BEFORE INSERT ON documents WHEN NEW.source IN (SELECT source FROM failing) "
            "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
        )


def test_rewriting_the_whole_registry_is_one_transaction(tmp_path):
    path = tmp_path / "registry.sqlite"
    registry = Registry(path)
    registry.replace_all(
        [source_record("a", "甲方说明。" * 30), source_record("b", "乙方说明。" * 30)], meta={"store_generation": "g1"}
    )
    before = snapshot(registry)
    assert [d.source for d in before[0]] == ["a", "b"] and before[3]

    fail_inserting(path, "d")
    with pytest.raises(sqlite3.IntegrityError, match="disk is full"):
        registry.replace_all(
            [source_record("c", "丙方说明。" * 30), source_record("d", "丁方说明。" * 30)],
            meta={"store_generation": "g2"},
        )
    assert snapshot(registry) == before  # neither emptied nor half rewritten, and still at the old generation

    def failing_midway():  # an exception of our own between two sources
        yield source_record("c", "丙方说明。" * 30)
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError, match="killed"):
        registry.replace_all(failing_midway())
    assert snapshot(registry) == before
    registry.replace_all([source_record("c", "丙方说明。" * 30)], meta={"store_generation": "g3"})
    assert [d.source for d in registry.documents()] == ["c"] and registry.get_meta("store_generation") == "g3"
    registry.close()


def test_a_resync_that_fails_half_way_leaves_the_registry_as_it_was(tmp_path):
    docs = write_docs(tmp_path / "docs", {"a.txt": NOTICE, "b.md": REPORT})
    store = MemoryStore()
    writer = indexer(tmp_path / "writer", store, server=True)
    writer.ingest([docs])
    reader = indexer(tmp_path / "reader", store, server=True)
    before = snapshot(reader.registry)
    assert len(before[0]) == 2 and before[4] == store.generation()

    # the writer changes both files; the reader's rebuild then dies on writing the second one
    write_docs(docs, {"a.txt": NOTICE.replace("月底", "周五"), "b.md": REPORT.replace("十二次", "十四次")})
    writer.ingest([docs])
    fail_inserting(reader.settings.kb_dir / "registry.sqlite", str((docs / "b.md").resolve()))
    with pytest.raises(sqlite3.IntegrityError, match="disk is full"):
        reader.sync_if_stale()
    assert snapshot(reader.registry) == before  # old content whole, old generation: the next look retries
    assert reader.stale_generation() == store.generation()
