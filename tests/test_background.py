"""The background of ordinary writing: encoded once per model and kept on disk, re-encoded when the cache is bad."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.answering.background import TOP, Background, background_texts


class CountingEmbedder:
    """Unit vectors along an axis chosen by the text's first character; counts the passages it encodes."""

    name = "counting"

    def __init__(self) -> None:
        self.encoded = 0

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(8, np.float32)
        v[ord(text[0]) % 8] = 1.0
        return v

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        self.encoded += len(texts)
        return np.stack([self._vector(t) for t in texts])

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return np.stack([self._vector(t) for t in texts])


def test_the_bundled_background_is_ordinary_writing_not_office_work():
    texts = background_texts()
    assert len(texts) >= 200
    assert not any(word in t for t in texts for word in ("党建", "机关", "办公厅", "市委", "保密"))


def test_vectors_are_encoded_once_and_then_read_from_the_cache(tmp_path):
    texts = ["a1", "b2", "c3", "a4"]
    first = CountingEmbedder()
    assert Background(first, tmp_path, texts).similarity("a?") == pytest.approx((1.0 + 1.0 + 0.0) / TOP)
    assert first.encoded == 4
    again = CountingEmbedder()
    assert Background(again, tmp_path, texts).similarity("b?") == pytest.approx(1.0 / TOP)
    assert again.encoded == 0  # from the cache
    # Other texts (or another model) are another cache file.
    Background(again, tmp_path, [*texts, "d5"]).similarity("a?")
    assert again.encoded == 5


def test_a_cache_cut_short_is_encoded_again(tmp_path):
    texts = ["a1", "b2", "c3"]
    Background(CountingEmbedder(), tmp_path, texts).similarity("a?")
    (cached,) = tmp_path.glob("background-*.npy")
    cached.write_bytes(cached.read_bytes()[:20])
    embedder = CountingEmbedder()
    assert Background(embedder, tmp_path, texts).similarity("a?") == pytest.approx(1.0 / TOP)
    assert embedder.encoded == 3
    assert np.load(cached).shape == (3, 8)  # and written whole again


def test_an_unwritable_cache_keeps_the_vectors_in_memory(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    embedder = CountingEmbedder()
    background = Background(embedder, blocked / "cache", ["a1", "b2", "c3"])
    assert background.similarity("a?") == background.similarity("a!") == pytest.approx(1.0 / TOP)
    assert embedder.encoded == 3
