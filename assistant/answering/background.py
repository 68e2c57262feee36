"""Ordinary writing to compare a question with: is it more like the documents or like text on any other topic?

e5's similarities sit in a narrow band that moves with the question's language and length, so a fixed floor
on the best passage's similarity cannot tell "How do I set up a shared calendar in Outlook?" from an English
question the documents answer (both score .72–.80 against Chinese passages). The same question's similarity
to ordinary Chinese writing on other topics (`background_zh.txt`: cooking, travel, software, public services,
…) moves with it, so the difference — the best passage's similarity minus the background's — separates them:
on the calibration questions every answerable English one is at least as close to the documents as to the
background but for three, and the far-off ones mostly are not (python -m bench.answerability).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from pathlib import Path

import numpy as np

from assistant.models.embeddings import Embedder

log = logging.getLogger(__name__)

TEXTS = Path(__file__).with_name("background_zh.txt")
TOP = 3  # the background's similarity is the mean of its three closest passages (1, 3 and 5 tried; 3 chosen)


def background_texts(path: Path = TEXTS) -> list[str]:
    """The background passages: one per line, `#` lines are comments."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


class Background:
    """How close a question is to ordinary writing, with the passages' vectors encoded once and kept on disk.

    `cache_dir` holds one `.npy` per embedding model and text version (a 7 s encode on two cores otherwise);
    when it cannot be written the vectors are kept in memory only.
    """

    def __init__(self, embedder: Embedder, cache_dir: Path | None, texts: list[str] | None = None):
        self.embedder = embedder
        self.texts = background_texts() if texts is None else texts
        self.cache_dir = cache_dir
        self._vectors: np.ndarray | None = None
        self._lock = threading.Lock()

    def _cache_file(self) -> Path | None:
        if self.cache_dir is None:
            return None
        digest = hashlib.sha256("\n".join([self.embedder.name, *self.texts]).encode("utf-8")).hexdigest()[:16]
        return self.cache_dir / f"background-{digest}.npy"

    def vectors(self) -> np.ndarray:
        """The background passages' vectors (loaded from the cache, or encoded and cached on first use)."""
        with self._lock:
            if self._vectors is None:
                self._vectors = self._load_or_encode()
            return self._vectors

    def _load_or_encode(self) -> np.ndarray:
        path = self._cache_file()
        if path is not None and path.exists():
            try:
                vectors = np.load(path)
                if vectors.shape[0] == len(self.texts):
                    return vectors
            except (OSError, ValueError) as exc:  # a cache cut short by a crash: encode again
                log.warning("background vectors %s unreadable (%s); encoding again", path, exc)
        vectors = np.asarray(self.embedder.encode_passages(self.texts), dtype=np.float32)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(".tmp.npy")
                np.save(tmp, vectors)
                tmp.replace(path)  # whole or not at all: a reader never sees half a file
            except OSError as exc:
                log.warning("cannot cache background vectors in %s (%s); keeping them in memory", path, exc)
        return vectors

    def similarity(self, question: str) -> float:
        """The mean cosine between the question and its `TOP` closest background passages."""
        if not self.texts:
            return 0.0
        q = self.embedder.encode_queries([question])[0]
        sims = np.sort(self.vectors() @ q)[::-1]
        return float(sims[:TOP].mean())
