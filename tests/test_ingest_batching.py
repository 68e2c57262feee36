"""Ingestion embeds many files' texts per model call, and stores exactly what one file at a time stored."""

import shutil

import pytest
from conftest import CORPUS, HashEmbedder, models_dir

from assistant.api import Assistant
from assistant.kb import prepared
from assistant.settings import Settings

pytestmark = pytest.mark.e2e  # real Chroma (the embedder is a stand-in)


class CountingEmbedder(HashEmbedder):
    def __init__(self):
        self.calls: list[int] = []

    def encode_passages(self, texts):
        self.calls.append(len(texts))
        return super().encode_passages(texts)


def stored(kb: Assistant) -> dict[str, tuple]:
    got = kb.store._collection.get(include=["embeddings", "metadatas", "documents"])
    return {
        rid: (doc, tuple(round(float(x), 6) for x in vec), meta["kind"], meta["start"], meta["end"])
        for rid, doc, vec, meta in zip(got["ids"], got["documents"], got["embeddings"], got["metadatas"])
    }


def test_files_share_model_calls_and_store_what_one_file_at_a_time_stores(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for f in sorted(CORPUS.glob("*.txt")):
        shutil.copy(f, docs / f.name)
    together = CountingEmbedder()
    kb = Assistant(Settings.load(tmp_path / "a", models=str(models_dir())), embedder=together)
    report = kb.ingest([docs])
    assert len(report.added) == 5
    batched = stored(kb)
    kb.close()

    one_by_one = CountingEmbedder()
    kb = Assistant(Settings.load(tmp_path / "b", models=str(models_dir())), embedder=one_by_one)
    for f in sorted(docs.iterdir()):
        kb.ingest([f])
    # The same texts, in fewer calls: a call (a slice of PROGRESS_SLICE_CHARS characters) holds several files' texts.
    assert sum(one_by_one.calls) == sum(together.calls)
    assert len(together.calls) < len(one_by_one.calls)
    assert stored(kb) == batched
    kb.close()


def test_a_batch_bound_splits_the_calls_and_every_file_completes(tmp_path, monkeypatch):
    docs = tmp_path / "docs"
    docs.mkdir()
    for f in sorted(CORPUS.glob("*.txt")):
        shutil.copy(f, docs / f.name)
    monkeypatch.setattr(prepared, "ENCODE_BATCH_TEXTS", 1)  # every file is a batch of its own
    embedder = CountingEmbedder()
    kb = Assistant(Settings.load(tmp_path / "home", models=str(models_dir())), embedder=embedder)
    report = kb.ingest([docs])
    assert len(report.added) == 5 and len(embedder.calls) >= 5 and kb.incomplete() == []
    assert report.chunks_added == kb.stats()["chunks"]
    kb.close()


def test_a_copy_waiting_in_the_same_batch_is_a_duplicate(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(CORPUS / "001_74ca4dddf80f577d.txt", docs / "a.txt")
    shutil.copy(CORPUS / "001_74ca4dddf80f577d.txt", docs / "b.txt")
    kb = Assistant(Settings.load(tmp_path / "home", models=str(models_dir())), embedder=HashEmbedder())
    report = kb.ingest([docs])
    assert [s.rsplit("/", 1)[-1] for s in report.added] == ["a.txt"]
    assert [(n.rsplit("/", 1)[-1], o.rsplit("/", 1)[-1]) for n, o in report.duplicates] == [("b.txt", "a.txt")]
    assert len(kb.registry.sources()) == 1
    kb.close()
