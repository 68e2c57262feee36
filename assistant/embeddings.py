"""Sentence embeddings: the bundled multilingual-e5-small or any sentence-transformers folder."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Protocol

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.errors import ModelError
from assistant.settings import Settings


class Embedder(Protocol):
    """What retrieval needs of an embedding model: normalised vectors for passages and queries."""

    name: str

    def encode_passages(self, texts: list[str]) -> np.ndarray: ...

    def encode_queries(self, texts: list[str]) -> np.ndarray: ...


class SentenceTransformerEmbedder(Embeddings):
    """A sentence-transformers model, loaded lazily once, with e5-style prefixes.

    Also a LangChain `Embeddings`, so the same object can be handed to LangChain components.
    """

    def __init__(self, path: Path, *, name: str, query_prefix: str = "", passage_prefix: str = "",
                 threads: int = 2, batch_size: int = 32):
        self.path = path
        self.name = name
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.threads = threads
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    @property
    def model(self):
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                import torch
                from sentence_transformers import SentenceTransformer

                if self.threads > 0:
                    torch.set_num_threads(self.threads)
                try:
                    self._model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
                except Exception as exc:  # the library raises many kinds; all mean "this folder is unusable"
                    raise ModelError(
                        f"cannot load the embedding model at {self.path}: {exc}. Point ASSISTANT_EMBEDDING_MODEL "
                        "at a sentence-transformers folder, or leave it empty to use the bundled model "
                        "(scripts/setup.sh prepares it)."
                    ) from exc
            return self._model

    def _encode(self, texts: list[str], prefix: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            [prefix + t for t in texts], batch_size=self.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    @property
    def dimension(self) -> int:
        return int(self.model.get_sentence_embedding_dimension())

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self.passage_prefix)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self.query_prefix)

    # LangChain's Embeddings interface.
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode_passages(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode_queries([text])[0].tolist()


def open_embedder(settings: Settings) -> SentenceTransformerEmbedder:
    """The configured embedding model: a sentence-transformers folder, or the bundled e5-small.

    Raises:
        ModelError: the folder is missing, or the bundled model cannot be built or verified.
    """
    if settings.embedding_model:
        path = Path(settings.embedding_model).expanduser()
        if not (path / "modules.json").exists() and not (path / "config.json").exists():
            raise ModelError(
                f"{path} is not a sentence-transformers model folder (no modules.json or config.json). "
                "Set ASSISTANT_EMBEDDING_MODEL to such a folder, or unset it to use the bundled model."
            )
        name = path.name
    else:
        from assistant.model_build import MODEL_NAME, ModelBuildError, ensure_e5_small

        try:
            path = ensure_e5_small(settings.models_dir)
        except ModelBuildError as exc:
            raise ModelError(str(exc)) from exc
        name = MODEL_NAME
    return SentenceTransformerEmbedder(
        path, name=name, query_prefix=settings.query_prefix, passage_prefix=settings.passage_prefix,
        threads=settings.embedding_threads, batch_size=settings.embedding_batch_size,
    )
