"""One question is encoded once per answer: the query-vector cache returns the same vector, and a copy of it."""

import numpy as np

from assistant.models.query_cache import QueryVectors


def test_a_question_seen_lately_is_not_encoded_again_and_callers_cannot_spoil_the_cache():
    calls = []

    def encode(texts):
        calls.append(list(texts))
        return np.array([[float(len(t)), 1.0] for t in texts], dtype=np.float32)

    cache = QueryVectors(size=2)
    first = cache.encode(["双报到怎么落实？"], encode)
    first[0, 0] = -99.0  # a caller that writes into its vector
    again = cache.encode(["双报到怎么落实？"], encode)
    assert calls == [["双报到怎么落实？"]] and again[0, 0] == len("双报到怎么落实？")
    cache.encode(["a"], encode), cache.encode(["b"], encode)  # the oldest falls out
    cache.encode(["双报到怎么落实？"], encode)
    assert len(calls) == 4


def test_batches_are_encoded_as_asked():
    calls = []

    def encode(texts):
        calls.append(list(texts))
        return np.zeros((len(texts), 2), dtype=np.float32)

    cache = QueryVectors()
    cache.encode(["a", "b"], encode), cache.encode(["a", "b"], encode)
    assert calls == [["a", "b"], ["a", "b"]]
