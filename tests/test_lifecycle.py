"""Knowledge bases that stay right as documents change: real model, real Chroma, real files."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import pytest
from conftest import CORPUS, ROOT, models_dir

from assistant.api import Assistant
from assistant.errors import AssistantError
from assistant.settings import Settings

pytestmark = pytest.mark.e2e


def open_kb(home, embedder, **kw):
    return Assistant(Settings.load(home, models=str(models_dir()), **kw), embedder=embedder)


def consistent(kb) -> set[str]:
    """Registry, vectors and BM25 hold exactly the same chunks; returns them."""
    registry = {cid for cid, _ in kb.registry.iter_tokens()}
    assert kb.store.chunk_ids() == registry
    assert set(kb.bm25.ids) == registry
    return registry


def names(sources):
    return sorted(s.rsplit("/", 1)[-1] for s in sources)


def test_unchanged_changed_pruned_deleted_and_duplicate_files(tmp_path, e5_embedder):
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("000_c080b3a73747e000.txt", "001_74ca4dddf80f577d.txt", "002_8249a0a6eaf71200.txt"):
        shutil.copy(CORPUS / name, docs / name)
    kb = open_kb(tmp_path / "home", e5_embedder)
    first = kb.ingest([docs])
    assert len(first.added) == 3
    before = consistent(kb)
    by_source = {s: set(kb.registry.chunk_ids_of_source(s)) for s in kb.registry.sources()}

    # a copy under another name is stored once and reported as a duplicate
    shutil.copy(docs / "001_74ca4dddf80f577d.txt", docs / "copy of 001.txt")
    # a changed file replaces exactly its own chunks
    (docs / "002_8249a0a6eaf71200.txt").write_text("督查督办实行“周报告”制度，每周五报送进展。", encoding="utf-8")
    report = kb.ingest([docs])
    assert names(report.unchanged) == ["000_c080b3a73747e000.txt", "001_74ca4dddf80f577d.txt"]
    assert names(report.updated) == ["002_8249a0a6eaf71200.txt"]
    assert [(n.rsplit("/", 1)[-1], o.rsplit("/", 1)[-1]) for n, o in report.duplicates] == [
        ("copy of 001.txt", "001_74ca4dddf80f577d.txt")
    ]
    after = consistent(kb)
    changed = str((docs / "002_8249a0a6eaf71200.txt").resolve())
    assert after - set(kb.registry.chunk_ids_of_source(changed)) == before - by_source[changed]
    assert "周报告" in kb.ask("督查督办的进展多久报送一次？").citations[0].quote

    # a file that left the folder is removed only with prune
    (docs / "000_c080b3a73747e000.txt").unlink()
    assert kb.ingest([docs]).removed == []
    assert len(kb.registry.sources()) == 3
    pruned = kb.ingest([docs], prune=True)
    assert names(pruned.removed) == ["000_c080b3a73747e000.txt"]
    consistent(kb)
    assert str((docs / "000_c080b3a73747e000.txt").resolve()) not in kb.registry.sources()
    passages = kb.retrieve("在职党员双报到", k=5)  # the pruned file was the only one about 双报到
    assert len(passages) == 5 and not any(p.source.endswith("000_c080b3a73747e000.txt") for p in passages)
    assert not any("双报到" in p.text for p in passages)

    # explicit delete; an unknown source is an error that removes nothing
    with pytest.raises(AssistantError, match="not in the knowledge base"):
        kb.delete([str(docs / "nope.txt")])
    assert names(kb.delete([str(docs / "001_74ca4dddf80f577d.txt")])) == ["001_74ca4dddf80f577d.txt"]
    consistent(kb)
    # deleting from the index leaves the file: the next ingestion of the folder brings it back
    again = kb.ingest([docs])
    assert names(again.added) == ["001_74ca4dddf80f577d.txt"] and len(again.duplicates) == 1
    # with the original file gone, its copy is the one indexed
    (docs / "001_74ca4dddf80f577d.txt").unlink()
    again = kb.ingest([docs], prune=True)
    assert names(again.added) == ["copy of 001.txt"] and names(again.removed) == ["001_74ca4dddf80f577d.txt"]
    consistent(kb)
    kb.close()


def test_knowledge_bases_side_by_side_are_isolated(tmp_path, e5_embedder):
    a_dir, b_dir = tmp_path / "a", tmp_path / "b"
    a_dir.mkdir()
    b_dir.mkdir()
    shutil.copy(CORPUS / "000_c080b3a73747e000.txt", a_dir)
    (b_dir / "finance.txt").write_text("财政局今年预算执行率达到百分之九十五，双报到工作另有安排。", encoding="utf-8")
    a = open_kb(tmp_path / "home", e5_embedder, kb="party")
    b = open_kb(tmp_path / "home", e5_embedder, kb="finance")
    a.ingest([a_dir])
    b.ingest([b_dir])
    for question in ("双报到", "预算执行率", "How do offices run the 双报到 system?"):
        from_a, from_b = a.retrieve(question, k=10), b.retrieve(question, k=10)
        assert from_a and all(p.source.startswith(str(a_dir.resolve())) for p in from_a)
        assert from_b and all(p.source.startswith(str(b_dir.resolve())) for p in from_b)
    assert a.stats()["sources"] == b.stats()["sources"] == 1
    a.close()
    b.close()


def test_questions_are_answered_while_an_ingestion_runs(tmp_path, e5_embedder):
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(CORPUS / "003_3979e3c1054974f1.txt", docs)
    kb = open_kb(tmp_path / "home", e5_embedder)
    kb.ingest([docs])
    more = tmp_path / "more"
    more.mkdir()
    for name in ("000_c080b3a73747e000.txt", "001_74ca4dddf80f577d.txt", "004_a27570de015ca1d1.txt"):
        shutil.copy(CORPUS / name, more)
    errors: list[BaseException] = []
    answers = []
    done = threading.Event()

    def ask_loop():
        while not done.is_set() and len(answers) < 60:
            try:
                answers.append(kb.ask("市政府办公室怎样开展双报到？"))
            except BaseException as exc:  # noqa: BLE001 - the test reports any failure
                errors.append(exc)
                return

    askers = [threading.Thread(target=ask_loop) for _ in range(2)]
    for t in askers:
        t.start()
    report = kb.ingest([more])
    done.set()
    for t in askers:
        t.join(timeout=120)
    assert errors == []
    assert len(answers) >= 2 and all(not a.refused for a in answers)
    assert len(report.added) == 3
    consistent(kb)
    kb.close()


INGEST_SCRIPT = """
import sys
from assistant import Assistant
kb = Assistant.open(sys.argv[1], models=sys.argv[2])
kb.ingest([sys.argv[3]])
"""


def test_sigkill_during_ingestion_then_recovery(tmp_path, e5_embedder):
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(8):  # enough files that the kill lands mid-batch
        for name in ("000_c080b3a73747e000.txt", "001_74ca4dddf80f577d.txt"):
            text = (CORPUS / name).read_text(encoding="utf-8")[:2500]
            (docs / f"{i:02d}_{name}").write_text(f"第{i}份。" + text, encoding="utf-8")
    home = tmp_path / "home"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", INGEST_SCRIPT, str(home), str(models_dir()), str(docs)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    registry = home / "kb" / "default" / "registry.sqlite"
    deadline = time.time() + 300
    killed_mid_document = False
    while time.time() < deadline and proc.poll() is None:
        try:
            with sqlite3.connect(registry, timeout=0.1) as db:
                rows = db.execute("SELECT complete FROM documents").fetchall()
        except sqlite3.Error:
            rows = []
        if rows and sum(c for (c,) in rows) >= 2 and any(c == 0 for (c,) in rows):
            proc.send_signal(signal.SIGKILL)
            killed_mid_document = True
            break
        time.sleep(0.005)
    proc.wait(timeout=60)
    assert killed_mid_document, "the ingestion finished before it could be killed mid-document"

    kb = open_kb(home, e5_embedder)
    assert kb.incomplete()  # reported, not hidden
    complete = consistent(kb)  # no partial vectors are searchable
    assert complete and not kb.ask("怎样落实在职党员双报到？").refused
    report = kb.ingest([docs])  # re-running completes the batch
    assert kb.incomplete() == []
    assert len(report.added) + len(report.updated) + len(report.unchanged) == 16
    assert len(consistent(kb)) > len(complete)
    kb.close()
