"""A vector store that fails half-way through a batch leaves a consistent knowledge base behind; an empty one says so."""

import shutil

import pytest
from conftest import CORPUS, HashEmbedder, models_dir

from assistant.api import Assistant
from assistant.settings import Settings

pytestmark = pytest.mark.e2e  # real Chroma (the embedder is a stand-in)


def test_store_failure_mid_batch_is_raised_and_the_index_stays_consistent(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("000_c080b3a73747e000.txt", "001_74ca4dddf80f577d.txt", "002_8249a0a6eaf71200.txt"):
        shutil.copy(CORPUS / name, docs / name)
    kb = Assistant(Settings.load(tmp_path / "home", models=str(models_dir())), embedder=HashEmbedder())
    real_add = kb.store.add
    calls = []

    def failing_add(records):
        calls.append(len(records))
        if len(calls) == 2:
            real_add(records[: len(records) // 2])  # half the vectors reach the store, then it dies
            raise OSError("No space left on device")
        real_add(records)

    kb.store.add = failing_add
    with pytest.raises(OSError, match="No space"):
        kb.ingest([docs])
    registry = {cid for cid, _ in kb.registry.iter_tokens()}
    assert kb.store.chunk_ids() == registry == set(kb.bm25.ids)  # the half-written file left nothing behind
    assert [d.source.rsplit("/", 1)[-1] for d in kb.incomplete()] == ["001_74ca4dddf80f577d.txt"]
    kb.store.add = real_add
    report = kb.ingest([docs])  # the next run completes it
    assert kb.incomplete() == [] and len(report.added) == 2 and len(report.unchanged) == 1
    assert kb.store.chunk_ids() == {cid for cid, _ in kb.registry.iter_tokens()} == set(kb.bm25.ids)
    kb.close()


def test_changing_the_chunking_settings_reingests_files(tmp_path):
    shutil.copy(CORPUS / "001_74ca4dddf80f577d.txt", tmp_path / "a.txt")
    home = tmp_path / "home"
    kb = Assistant(Settings.load(home, models=str(models_dir())), embedder=HashEmbedder())
    kb.ingest([tmp_path / "a.txt"])
    assert len(kb.ingest([tmp_path / "a.txt"]).unchanged) == 1
    n = kb.stats()["chunks"]
    kb.close()
    kb = Assistant(Settings.load(home, models=str(models_dir()), chunk_size=150), embedder=HashEmbedder())
    assert len(kb.ingest([tmp_path / "a.txt"]).updated) == 1
    assert kb.stats()["chunks"] > n
    kb.close()


def test_a_registry_that_keeps_changing_under_the_keyword_build_still_gets_a_whole_index(tmp_path):
    # The BM25 build reads the registry twice; another process writing in between makes the two
    # reads differ. The build is retried, then made from one snapshot: never a mixed index.
    shutil.copy(CORPUS / "001_74ca4dddf80f577d.txt", tmp_path / "a.txt")
    kb = Assistant(Settings.load(tmp_path / "home", models=str(models_dir())), embedder=HashEmbedder())
    kb.ingest([tmp_path / "a.txt"])
    real = list(kb.registry.iter_tokens())
    reads = []

    def flickering(page: int = 2000):
        reads.append(page)
        return iter(real if len(reads) % 2 else real[:-1])  # every second read misses the last chunk

    kb.registry.iter_tokens = flickering
    kb.index.refresh_keyword_index(force=True)
    assert len(reads) == 7  # three two-read attempts, then one snapshot
    assert kb.bm25.ids == [cid for cid, _ in real]
    assert kb.retrieve("在职党员双报到")  # and it answers from it
    kb.close()


def test_asking_an_empty_knowledge_base_says_to_add_documents_first(tmp_path):
    kb = Assistant(Settings.load(tmp_path / "home", models=str(models_dir())), embedder=HashEmbedder())
    answer = kb.ask("机关是怎样落实在职党员双报到制度的？")
    assert answer.refused and "还没有文件" in answer.text and "python -m assistant ingest" in answer.text
    english = kb.ask("How do offices run the 双报到 system?")
    assert english.refused and "no documents yet" in english.text
    kb.close()
