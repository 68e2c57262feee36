"""Ingestion progress: characters embedded, the expected total, the rate and the time left."""

from pathlib import Path

import numpy as np
from conftest import HashEmbedder

from assistant.kb.prepared import PROGRESS_SLICE_CHARS, Prepared, embed_all
from assistant.kb.progress import TextRate, TextTally
from assistant.kb.vectors import VectorRecord
from assistant.text import runs_within


def pending_file(name: str, texts: list[str]) -> Prepared:
    records = [VectorRecord(f"{name}-{i}", f"{name}-c", "chunk", t, np.zeros(0), {}) for i, t in enumerate(texts)]
    return Prepared(name, "hash", [], {}, {}, "now", records)


def test_runs_keep_order_and_budget_and_a_long_text_goes_alone():
    texts = ["a" * 40, "b" * 40, "c" * 40, "d" * 200, "e" * 10]
    assert runs_within(texts, 100) == [(0, 2), (2, 3), (3, 4), (4, 5)]
    assert runs_within([], 100) == []


def test_embedding_reports_every_character_slice_by_slice_and_keeps_the_vectors():
    texts = [f"第{i}段：" + "机关党建" * 40 for i in range(200)]  # ~33k characters: several slices
    files = [pending_file("a", texts[:120]), pending_file("b", texts[120:])]
    reports: list[int] = []
    embed_all(HashEmbedder(), files, reports.append)
    assert len(reports) > 1 and sum(reports) == sum(map(len, texts))
    assert all(n <= PROGRESS_SLICE_CHARS for n in reports)
    whole = HashEmbedder().encode_passages(texts)
    assert np.allclose(np.concatenate([files[0].vectors, files[1].vectors]), whole)


def test_the_expected_total_grows_from_the_files_read_and_the_bytes_left(tmp_path: Path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("x" * 300, encoding="utf-8")
    b.write_text("y" * 600, encoding="utf-8")
    seen: list[tuple[int, int]] = []
    tally = TextTally([a, b], lambda done, expected: seen.append((done, expected)))
    tally.read(a, pending_file("a", ["x" * 150]))  # 150 characters from 300 bytes: b's 600 bytes ≈ 300 more
    assert seen[-1] == (0, 450)
    tally.embedded(150)
    assert seen[-1] == (150, 450)
    tally.read(b, None)  # unchanged: nothing to embed
    assert seen[-1] == (150, 150)


def test_rate_and_time_left_read_like_a_progress_bar():
    now = [100.0]
    rate = TextRate(clock=lambda: now[0])
    assert rate.describe() == []
    now[0] = 110.0
    rate.update(3000, 9000)  # 300 characters per second, 6000 left
    assert rate.describe() == ["300 chars/s", "ETA 0:20"]
    now[0] = 120.0
    rate.update(6000, 6000)
    assert rate.describe() == ["300 chars/s"]
    now[0] = 100.0 + 2
    rate.update(1, 10_000)
    assert rate.describe()[1].startswith("ETA 5:33:")  # past an hour: h:mm:ss
