"""`relayout`: a knowledge base's window vectors moved apart and back through real Chroma, none embedded again."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import chromadb
import numpy as np
import pytest
from chromadb.config import Settings as ChromaSettings
from conftest import HashEmbedder, models_dir

from assistant.api import Assistant
from assistant.errors import AssistantError
from assistant.kb.relayout import STAGING, relayout
from assistant.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
REPORT = (
    "机关党建工作报告\n\n"
    "一、落实双报到制度。机关在职党员按照党员“双报到”要求，到居住地社区报到。每名党员认领一个服务岗位。"
    "全年开展志愿服务活动30余场次，办实事好事563件。\n\n"
    "二、加强保密管理。每季度召开一次保密管理员例会。定期开展保密专题培训。严格落实涉密人员管理制度。"
)


def collection_contents(kb_dir: Path, kb: str) -> dict:
    """Every record of the searched collection: id -> (kind, text, metadata, vector)."""
    client = chromadb.PersistentClient(path=str(kb_dir / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))
    try:
        got = client.get_collection(f"kb_{kb}", embedding_function=None).get(
            include=["embeddings", "documents", "metadatas"]
        )
        return {
            rid: (meta["kind"], text, meta, np.asarray(vector, np.float32))
            for rid, text, meta, vector in zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"])
        }
    finally:
        client.close()


@pytest.fixture
def settings(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "报告.txt").write_text(REPORT, encoding="utf-8")
    settings = Settings.load(tmp_path / "home", models=str(models_dir()), window_chars=40)
    with Assistant(settings, embedder=HashEmbedder()) as kb:
        assert kb.ingest([tmp_path / "docs"]).failed == []
    return settings


def test_windows_moved_apart_and_back_are_the_vectors_texts_and_metadata_written_at_ingestion(settings):
    before = collection_contents(settings.kb_dir, settings.kb)
    windows = {rid for rid, (kind, *_rest) in before.items() if kind == "window"}
    assert len(windows) >= 4  # the report's chunks have several sentence windows each

    apart = relayout(settings, "apart")
    assert apart.layout == "apart" and apart.vectors == len(before) and apart.backup.is_dir()
    assert not (settings.kb_dir / STAGING).exists()
    searched_now = collection_contents(settings.kb_dir, settings.kb)
    assert set(searched_now) == set(before) - windows  # only the chunks' own vectors are searched now
    with Assistant(settings, embedder=HashEmbedder()) as kb:
        assert kb.stats()["window_vectors"] == "apart" and kb.stats()["vectors"] == len(before)
        got = kb.store.vectors_of(list(kb.registry.complete_chunk_ids()))
        assert sum(len(v) for v in got.values()) == len(before)

    back = relayout(settings, "searched")
    assert back.layout == "searched" and back.vectors == len(before)
    after = collection_contents(settings.kb_dir, settings.kb)
    assert set(after) == set(before)
    for rid, (kind, text, meta, vector) in before.items():
        assert after[rid][:3] == (kind, text, meta), rid  # a window's text and offsets rebuilt from its chunk
        # Chroma hands back a cosine collection's vectors normalised once more: equal to the last float bit or so.
        assert np.allclose(after[rid][3], vector, rtol=0, atol=1e-6), rid


def test_asking_for_the_layout_a_knowledge_base_has_changes_nothing(settings):
    done = relayout(settings, "searched")
    assert done.backup is None and not list(settings.kb_dir.glob("chroma.before-relayout-*"))


def test_bad_requests_say_what_to_do_and_touch_nothing(settings, tmp_path):
    with pytest.raises(AssistantError, match="use 'searched' or 'apart'"):
        relayout(settings, "elsewhere")
    with pytest.raises(AssistantError, match="ingest documents first"):
        relayout(Settings.load(tmp_path / "home", kb="empty"), "apart")
    server = Settings.load(tmp_path / "home", chroma_url="http://127.0.0.1:9")
    with pytest.raises(AssistantError, match="embedded knowledge base"):
        relayout(server, "apart")
    assert (settings.kb_dir / "chroma").is_dir() and not list(settings.kb_dir.glob("chroma.*"))


def test_the_command_line_relays_and_then_reports_nothing_to_do(settings):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ASSISTANT_HOME": str(settings.home)}
    command = [sys.executable, "-m", "assistant", "relayout", "apart"]
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    assert "window vectors apart" in first.stdout and "delete it once" in first.stdout
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "nothing changed" in again.stdout
    wrong = subprocess.run(command[:-1] + ["sideways"], env=env, capture_output=True, text=True, timeout=300)
    assert wrong.returncode == 2 and "invalid choice" in wrong.stderr


@pytest.mark.e2e  # the real corpus, model and Chroma: a copy of the sample knowledge base re-laid apart
def test_the_sample_corpus_relaid_apart_scores_and_answers_as_before(tmp_path, corpus_kb, e5_embedder):
    settings = Settings.load(tmp_path / "home", models=str(models_dir()))
    shutil.copytree(corpus_kb.settings.kb_dir, settings.kb_dir)
    done = relayout(settings, "apart")
    assert done.vectors == corpus_kb.store.count()
    question = "机关是怎样落实在职党员双报到制度的？"
    with Assistant(settings, embedder=e5_embedder) as kb:
        assert kb.stats()["window_vectors"] == "apart" and len(collection_contents(settings.kb_dir, "default")) == len(
            corpus_kb.store.chunk_ids()
        )
        ids = sorted(kb.store.chunk_ids())
        vector = e5_embedder.encode_queries([question])[0]
        assert kb.retriever.dense_scores(vector, ids) == pytest.approx(corpus_kb.retriever.dense_scores(vector, ids))
        answer = kb.ask(question)
        assert not answer.refused and "双报到" in "".join(c.quote for c in answer.citations)
