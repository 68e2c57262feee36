"""BEIR evaluation indexes the benchmark corpus into a knowledge base of its own, never the user's."""

from __future__ import annotations

import pytest
from conftest import BEIR_PASSAGES, BEIR_QUERIES, CORPUS, HashEmbedder, models_dir, write_beir

from assistant.api import Assistant
from assistant.errors import AssistantError
from assistant.eval.metrics import beir_kb_name, evaluate_beir
from assistant.settings import Settings


class CountingEmbedder(HashEmbedder):
    def __init__(self):
        self.passages = 0

    def encode_passages(self, texts):
        self.passages += len(texts)
        return super().encode_passages(texts)

    def encode_queries(self, texts):
        return HashEmbedder.encode_passages(self, texts)


def test_the_benchmark_knowledge_base_is_named_after_the_folder(tmp_path):
    assert beir_kb_name(tmp_path / "cmrc2018") == "beir-cmrc2018"
    assert beir_kb_name(tmp_path / "my set (v2)") == "beir-my-set-v2"
    odd = beir_kb_name(tmp_path / "中文集")  # no letters a Chroma collection name allows: a stable hash
    assert odd.startswith("beir-") and odd == beir_kb_name(tmp_path / "中文集") != beir_kb_name(tmp_path / "其他集")
    for name in ("cmrc2018", "my set (v2)", "中文集", "x" * 300):
        Settings.load(tmp_path, kb=beir_kb_name(tmp_path / name))  # a valid knowledge-base name


@pytest.mark.e2e
def test_a_knowledge_base_with_the_users_documents_is_refused_and_left_as_it_was(tmp_path):
    embedder = CountingEmbedder()
    beir = write_beir(tmp_path / "tiny", BEIR_PASSAGES, BEIR_QUERIES)
    with Assistant(Settings.load(tmp_path / "home", models=str(models_dir())), embedder=embedder) as mine:
        mine.ingest([CORPUS / "001_74ca4dddf80f577d.txt"])
        before = (mine.documents(), mine.store.count())
        with pytest.raises(AssistantError, match="of its own.*--kb beir-tiny"):
            evaluate_beir(mine, beir)
        assert (mine.documents(), mine.store.count()) == before

    # its own knowledge base: indexed once, then reused while the corpus is unchanged
    settings = Settings.load(tmp_path / "home", models=str(models_dir()), kb=beir_kb_name(beir))
    with Assistant(settings, embedder=embedder) as bench:
        first = evaluate_beir(bench, beir)
        assert first.questions == 2 and {d.source for d in bench.documents()} == {"beir:tiny"}
        indexed, embedded = bench.documents(), embedder.passages
        assert embedded >= len(BEIR_PASSAGES)
        again = evaluate_beir(bench, beir)
        assert bench.documents() == indexed and embedder.passages == embedded  # nothing re-embedded
        assert again.rankings == first.rankings
    with Assistant(Settings.load(tmp_path / "home", models=str(models_dir())), embedder=embedder) as mine:
        assert (mine.documents(), mine.store.count()) == before
