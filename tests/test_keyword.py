"""Keyword side: jieba tokens with domain terms kept whole, BM25 scoring and persistence."""

import numpy as np

from assistant.keyword import BM25Index, Tokenizer, quoted_terms


def test_quoted_jargon_is_collected_and_kept_whole():
    text = "认真落实在职党员“双报到”要求，依托“三会一课”，做到“两个维护”，“123”不算。"
    assert quoted_terms(text) == {"双报到", "三会一课", "两个维护"}
    tokens = Tokenizer(["双报到"]).tokenize("机关是怎样落实在职党员“双报到”制度的？")
    assert "双报到" in tokens
    assert "的" not in tokens and "怎样" not in tokens  # stop and question words carry no weight


def test_english_words_are_lowercased_and_stopwords_dropped():
    assert Tokenizer().tokenize("How do Offices run the GDP system?") == ["offices", "run", "gdp", "system"]


def test_bm25_ranks_the_chunk_with_the_rare_term_first_and_persists(tmp_path):
    index = BM25Index(tmp_path / "bm25")
    index.build([
        ("a", ["党员", "报到", "双报到", "社区"]),
        ("b", ["党员", "学习", "学习", "制度"]),
        ("c", ["保密", "制度", "管理"]),
    ])
    hits = index.search(["双报到", "党员"], 3)
    assert [h.chunk_id for h in hits][:1] == ["a"]
    assert all(h.score > 0 for h in hits) and {h.chunk_id for h in hits} == {"a", "b"}
    assert index.search(["不存在"], 3) == []
    index.save()
    loaded = BM25Index(tmp_path / "bm25")
    assert loaded.load() and loaded.signature == index.signature
    assert np.allclose(loaded.scores(["制度"]), index.scores(["制度"]))
    # a weighted token counts for less
    assert index.scores(["保密"], {"保密": 0.5})[2] == index.scores(["保密"])[2] * 0.5


def test_a_damaged_saved_index_is_reported_as_unloadable(tmp_path):
    folder = tmp_path / "bm25"
    folder.mkdir()
    (folder / "bm25.npz").write_bytes(b"garbage")
    assert BM25Index(folder).load() is False
