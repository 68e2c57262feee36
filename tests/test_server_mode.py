"""The same code against a real `chroma run` server: ingest, ask, restart the server, a second instance."""

from __future__ import annotations

import itertools
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import CORPUS, REPORT, HashEmbedder, free_port, models_dir

from assistant.api import Assistant
from assistant.errors import StoreError
from assistant.kb.consistency import documents_from_store
from assistant.settings import Settings

pytestmark = pytest.mark.e2e


class ChromaServer:
    """`chroma run` on loopback with a temporary data folder, stopped by PID."""

    def __init__(self, path: Path, port: int):
        self.path, self.port = path, port
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        chroma = Path(sys.executable).parent / "chroma"
        self.proc = subprocess.Popen(
            [str(chroma), "run", "--path", str(self.path), "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=1):
                    return
            except OSError:
                assert self.proc.poll() is None, "chroma run exited"
                time.sleep(0.2)
        raise RuntimeError("chroma run did not come up in 60 s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def server(tmp_path):
    srv = ChromaServer(tmp_path / "chroma-data", free_port())
    srv.start()
    yield srv
    srv.stop()


def open_kb(home, url, embedder, **settings):
    return Assistant(Settings.load(home, models=str(models_dir()), chroma_url=url, **settings), embedder=embedder)


def test_server_mode_end_to_end_with_restart_and_a_second_instance(tmp_path, server, e5_embedder):
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(CORPUS / "003_3979e3c1054974f1.txt", docs)
    shutil.copy(CORPUS / "001_74ca4dddf80f577d.txt", docs)
    a = open_kb(tmp_path / "home-a", server.url, e5_embedder)
    assert len(a.ingest([docs]).added) == 2
    assert not (a.settings.kb_dir / "chroma").exists()  # vectors live on the server
    question = "市政府办公室党员到社区“双报到”是怎样做的？"
    first = a.ask(question)
    assert not first.refused and "双报到" in "".join(c.quote for c in first.citations)

    server.stop()
    server.start()  # nothing is lost across a server restart
    again = a.ask(question)
    assert again.text == first.text

    # a second app instance with an empty home rebuilds its registry and BM25 from the server
    b = open_kb(tmp_path / "home-b", server.url, e5_embedder)
    assert {d.source for d in b.documents()} == {d.source for d in a.documents()}
    assert b.ask(question).text == first.text
    assert b.document_text(first.citations[0].doc_id) == a.document_text(first.citations[0].doc_id)
    # what one instance ingests, the other sees at its next question
    shutil.copy(CORPUS / "000_c080b3a73747e000.txt", docs)
    assert len(a.ingest([docs]).added) == 1
    answer = b.ask("市委办公厅在政治上怎样做到“两个维护”？")
    assert any(c.source.endswith("000_c080b3a73747e000.txt") for c in answer.citations)
    assert len(b.documents()) == 3
    a.close()
    b.close()


def test_windows_kept_apart_live_on_the_server_and_every_instance_reads_them(tmp_path, server, e5_embedder):
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(CORPUS / "003_3979e3c1054974f1.txt", docs)
    a = open_kb(tmp_path / "home-a", server.url, e5_embedder, window_vectors="apart")
    a.ingest([docs])
    assert not (a.settings.kb_dir / "chroma").exists()  # nothing of the vectors on the app's disk
    question = "市政府办公室党员到社区“双报到”是怎样做的？"
    first = a.ask(question)
    assert not first.refused and "双报到" in "".join(c.quote for c in first.citations)
    ids = sorted(a.store.chunk_ids())
    assert a.store.windows is not None and a.store.windows.count() > len(ids)
    assert {h.record_id for h in a.store.query(e5_embedder.encode_queries([question])[0], 500)} == set(ids)
    b = open_kb(tmp_path / "home-b", server.url, e5_embedder)  # the default setting: the store keeps its layout
    assert b.store.windows is not None
    assert {c: len(v) for c, v in b.store.vectors_of(ids).items()} == {
        c: len(v) for c, v in a.store.vectors_of(ids).items()
    }
    assert b.ask(question).text == first.text
    a.close()
    b.close()


def test_a_document_rebuilt_from_the_server_is_the_original_cleaned_text(tmp_path, server):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "report.md").write_text(REPORT, encoding="utf-8")  # blank lines, headings, English sentences
    shutil.copy(CORPUS / "004_a27570de015ca1d1.txt", docs)
    # The text is what is checked, so a stand-in embedder will do; the store is the real server.
    a = Assistant(
        Settings.load(tmp_path / "home-a", models=str(models_dir()), chroma_url=server.url), embedder=HashEmbedder()
    )
    assert len(a.ingest([docs]).added) == 2
    documents = a.documents()
    report = next(d for d in documents if d.source.endswith("report.md"))
    text = a.document_text(report.doc_id)
    chunks = a.registry.chunks_of_document(report.doc_id)
    assert " " in [text[x.end : y.start] for x, y in itertools.pairwise(chunks)]  # a gap that is not a line break

    rebuilt = {doc.doc_id: doc for items in documents_from_store(a.store).values() for doc, _, _ in items}
    assert set(rebuilt) == {d.doc_id for d in documents}
    for d in documents:
        assert rebuilt[d.doc_id].text == a.registry.document_text(d.doc_id)

    # a second instance with an empty home rebuilds its registry from the server: the same documents
    b = Assistant(
        Settings.load(tmp_path / "home-b", models=str(models_dir()), chroma_url=server.url), embedder=HashEmbedder()
    )
    assert [(d.doc_id, d.n_chunks, d.complete) for d in b.documents()] == [
        (d.doc_id, d.n_chunks, d.complete) for d in documents
    ]
    for d in documents:
        assert b.document_text(d.doc_id) == a.document_text(d.doc_id)
        assert b.registry.chunks_of_document(d.doc_id) == a.registry.chunks_of_document(d.doc_id)
    a.close()
    b.close()


def test_unreachable_server_gives_a_clear_error(tmp_path, e5_embedder):
    with pytest.raises(StoreError, match=r"cannot reach the Chroma server .*\(chroma run --path"):
        open_kb(tmp_path / "home", f"http://127.0.0.1:{free_port()}", e5_embedder)
