"""The keyword index kept in step with the registry a batch at a time: no full rebuild per upload, none at restart."""

from __future__ import annotations

import sqlite3
import threading

import numpy as np
import pytest
from test_consistency import MemoryStore, indexer, write_docs

from assistant.kb.bm25 import BM25Index
from assistant.kb.registry import Registry
from ingest.chunking import Chunk
from ingest.documents import Document

FILES = {
    "a.txt": "机关党支部落实在职党员双报到制度，组织党员到社区报到服务。\n每季度召开一次组织生活会。",
    "b.txt": "保密工作实行责任制，涉密文件由专人管理，借阅须登记。\n保密检查每半年开展一次。",
    "c.txt": "督查督办实行周报告制度，每周五报送进展情况。",
    "d.txt": "档案室每周一至周五开放，查阅档案须经办公室主任批准。",
}
QUERIES = [["党员"], ["保密", "检查"], ["制度"], ["档案", "报到"], ["没有的词"]]


@pytest.fixture
def builds(monkeypatch):
    """How many times the knowledge base's whole index was built (the tests' own scratch builds aside)."""
    calls = []
    real = BM25Index.build

    def build(self, items):
        if self.folder.name == "bm25":
            calls.append(self.folder)
        return real(self, items)

    monkeypatch.setattr(BM25Index, "build", build)
    return calls


def assert_in_step(ix) -> None:
    """The index holds the registry's complete chunks and scores as one built from them from scratch."""
    scratch = BM25Index(ix.bm25.folder.parent / "scratch")
    scratch.build(list(ix.registry.iter_tokens()))
    index = ix.bm25
    assert sorted(index.ids) == sorted(scratch.ids) == sorted(ix.store.chunk_ids())
    assert index.signature == scratch.signature == ix.registry.chunk_signature(verify=True)
    for query in QUERIES:
        got, expected = index.scores(query), scratch.scores(query)
        for chunk_id, row in scratch.rows.items():
            assert got[index.rows[chunk_id]] == pytest.approx(expected[row], rel=1e-5, abs=1e-6)


def test_uploads_replacements_and_deletions_update_the_index_without_rebuilding_it(tmp_path, builds):
    docs = write_docs(tmp_path / "docs", dict(list(FILES.items())[:3]))
    store = MemoryStore()
    ix = indexer(tmp_path / "home", store, server=False)
    assert len(ix.ingest([docs]).added) == 3
    assert_in_step(ix)
    opened = len(builds)  # the empty index built when the knowledge base was first opened

    write_docs(docs, {"d.txt": FILES["d.txt"]})  # one more file
    assert ix.ingest([docs]).added == [str((docs / "d.txt").resolve())]
    assert_in_step(ix)
    write_docs(docs, {"b.txt": FILES["b.txt"].replace("半年", "季度")})  # a changed file
    assert len(ix.ingest([docs]).updated) == 1
    assert_in_step(ix)
    write_docs(docs, {"copy.txt": FILES["c.txt"]})  # a duplicate: not indexed twice
    assert len(ix.ingest([docs]).duplicates) == 1
    assert_in_step(ix)
    ix.delete([docs / "a.txt"])
    assert_in_step(ix)
    (docs / "d.txt").unlink()
    assert len(ix.ingest([docs], prune=True).removed) == 1
    assert_in_step(ix)
    assert len(builds) == opened

    # a restart loads the saved index: no rebuild, the same scores
    before = {tuple(q): dict(zip(ix.bm25.ids, ix.bm25.scores(q)[list(ix.bm25.rows.values())])) for q in QUERIES}
    ix.registry.close()
    again = indexer(tmp_path / "home", store, server=False)
    assert len(builds) == opened
    for q, scores in before.items():
        got = again.bm25.scores(list(q))
        assert {cid: got[row] for cid, row in again.bm25.rows.items()} == scores
    assert_in_step(again)


def test_new_domain_terms_rebuild_the_whole_index_since_every_chunk_is_cut_anew(tmp_path, builds):
    docs = write_docs(tmp_path / "docs", {"a.txt": FILES["a.txt"]})
    ix = indexer(tmp_path / "home", MemoryStore(), server=False)
    ix.ingest([docs])
    opened = len(builds)
    write_docs(docs, {"e.txt": "认真落实“四下基层”要求。"})  # a quoted term joins the tokenizer's dictionary
    ix.ingest([docs])
    assert len(builds) == opened + 1
    assert_in_step(ix)


def test_a_registry_written_behind_the_index_is_noticed_and_the_index_rebuilt(tmp_path, builds):
    # As after a crash between a registry write and the index's save, or another process's write.
    docs = write_docs(tmp_path / "docs", dict(list(FILES.items())[:2]))
    store = MemoryStore()
    ix = indexer(tmp_path / "home", store, server=False)
    ix.ingest([docs])
    doc = Document("zz", "/elsewhere/z.txt", "z", "档案借阅须登记。", "txt")
    chunk = Chunk("zz-0", "zz", 0, 0, len(doc.text), doc.text, "", None, "h")
    other = Registry(ix.settings.kb_dir / "registry.sqlite")  # another connection, as another process has
    other.put_source(doc.source, "hz", [doc], {"zz": [chunk]}, {"zz-0": ["档案", "借阅", "登记"]}, "now", True)
    store.add(ix.vector_records(doc.source, [chunk], {"zz": {"title": "z"}}))
    opened = len(builds)
    ix.keyword.apply()  # nothing of its own to add, but the registry moved on
    assert len(builds) == opened + 1 and "zz-0" in ix.bm25.rows
    assert_in_step(ix)
    other.delete_source(doc.source)
    store.delete_chunks(["zz-0"])
    ix.registry.close()
    reopened = indexer(tmp_path / "home", store, server=False)  # the saved index still has zz-0: rebuilt
    assert "zz-0" not in reopened.bm25.rows
    assert_in_step(reopened)


def test_the_registry_keeps_its_fingerprint_through_every_kind_of_write(tmp_path):
    registry = Registry(tmp_path / "registry.sqlite")

    def put(n: int, complete: bool) -> None:
        doc = Document(f"d{n}", f"s{n}.txt", f"文档{n}", "正文" * 5, "txt")
        chunks = [Chunk(f"d{n}-{i}", doc.doc_id, i, 0, 2, "正文", "", None, "h") for i in range(n + 1)]
        registry.put_source(
            doc.source, "h", [doc], {doc.doc_id: chunks}, {c.chunk_id: ["正文"] for c in chunks}, "t", complete
        )

    def same() -> None:
        kept = registry.chunk_signature()
        assert kept == registry.chunk_signature(verify=True) == BM25Index.signature_of(registry.complete_chunk_ids())

    same()
    put(1, True)
    put(2, False)
    same()
    registry.mark_complete("s2.txt")
    same()
    put(1, False)  # replaced by an incomplete version
    same()
    registry.delete_source("s2.txt")
    same()
    # checking takes no write lock when the fingerprint is right: a knowledge base opens while another
    # process is in the middle of a write
    other = sqlite3.connect(tmp_path / "registry.sqlite", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        same()
    finally:
        other.execute("ROLLBACK")
        other.close()
    registry.clear()
    same()
    assert registry.chunk_signature() == BM25Index.signature_of([])


def test_searches_running_while_files_come_and_go_see_a_whole_index(tmp_path):
    docs = write_docs(tmp_path / "docs", FILES)
    ix = indexer(tmp_path / "home", MemoryStore(), server=False)
    ix.ingest([docs])
    stop, errors = threading.Event(), []

    def search() -> None:
        while not stop.is_set():
            try:
                index = ix.bm25  # as the retriever does: one snapshot for the whole search
                for query in QUERIES:
                    scores = index.scores(query)
                    hits = index.top(index.restrict(scores, index.ids[::2]), 5)
                    assert all(index.score_of(scores, h.chunk_id) == h.score for h in hits)
                    assert len(scores) >= len(index)
            except Exception as exc:  # noqa: BLE001 - any failure is the test's finding
                errors.append(exc)
                return

    threads = [threading.Thread(target=search) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for round_ in range(6):
            write_docs(docs, {"b.txt": FILES["b.txt"] + f"第{round_}次修订。"})
            ix.ingest([docs])
            ix.delete([docs / "c.txt"])
            write_docs(docs, {"c.txt": FILES["c.txt"] + f"补充{round_}。"})
            ix.ingest([docs])
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert errors == []
    assert_in_step(ix)
    assert np.isfinite(ix.bm25.scores(["党员"])).all()


def test_tokens_recut_with_new_terms_but_not_yet_indexed_are_noticed_at_the_next_opening(tmp_path, builds):
    # New domain terms re-cut every chunk's tokens and keep every chunk id: the ids alone cannot tell.
    docs = write_docs(tmp_path / "docs", {"a.txt": FILES["a.txt"]})
    store = MemoryStore()
    ix = indexer(tmp_path / "home", store, server=False)
    ix.ingest([docs])
    # what a crash leaves after the registry's tokens were re-cut and before the index was saved
    ix.registry.set_meta("terms", (ix.registry.get_meta("terms") or "") + "\n组织生活会")
    ix.registry.set_tokens({cid: [*tokens, "组织生活会"] for cid, tokens in ix.registry.iter_tokens()})
    ix.registry.close()
    opened = len(builds)
    again = indexer(tmp_path / "home", store, server=False)
    assert len(builds) == opened + 1 and again.bm25.knows("组织生活会")
    assert_in_step(again)
