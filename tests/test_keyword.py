"""Keyword side: jieba tokens with domain terms kept whole, BM25 scoring and persistence."""

import numpy as np
import pytest

from assistant.kb.bm25 import BM25Index
from assistant.kb.keyword import Tokenizer, quoted_terms


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
    index.build(
        [
            ("a", ["党员", "报到", "双报到", "社区"]),
            ("b", ["党员", "学习", "学习", "制度"]),
            ("c", ["保密", "制度", "管理"]),
        ]
    )
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


def _textbook_bm25(docs: list[list[str]], query: list[str], k1: float = 1.2, b: float = 0.75) -> list[float]:
    """Okapi BM25 with Lucene's idf, written out term by term: the reference the index must match."""
    import math
    from collections import Counter

    n = len(docs)
    avgdl = sum(map(len, docs)) / n
    scores = []
    for doc in docs:
        tf = Counter(doc)
        score = 0.0
        for term in dict.fromkeys(query):
            df = sum(term in d for d in docs)
            if not tf[term]:
                continue
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            score += idf * tf[term] * (k1 + 1) / (tf[term] + k1 * (1 - b + b * len(doc) / avgdl))
        scores.append(score)
    return scores


def test_bm25_scores_match_the_formula_read_once_or_twice(tmp_path):
    rng = np.random.default_rng(3)
    words = [f"词{i}" for i in range(60)]
    docs = [list(rng.choice(words, size=int(rng.integers(0, 40)))) for _ in range(257)]
    docs[5] = []  # a chunk with no keyword tokens at all
    items = [(f"c{i:04d}", d) for i, d in enumerate(docs)]
    whole = BM25Index(tmp_path / "a")
    whole.build(items)
    sliced = BM25Index(tmp_path / "b")
    sliced.build(lambda: iter(items))  # read twice through fresh iterators, as from the registry
    for query in (["词1"], ["词2", "词3", "词2"], ["词59", "没有"], words[:20]):
        expected = _textbook_bm25(docs, query)
        assert np.allclose(whole.scores(query), expected, rtol=1e-5, atol=1e-6)
        assert np.allclose(sliced.scores(query), expected, rtol=1e-5, atol=1e-6)
    assert whole.signature == sliced.signature and whole.ids == sliced.ids == [cid for cid, _ in items]


def test_an_empty_index_builds_and_scores_nothing(tmp_path):
    index = BM25Index(tmp_path / "bm25")
    index.build([])
    assert index.search(["党员"], 5) == [] and len(index.scores(["党员"])) == 0


def test_the_registry_hands_out_tokens_page_by_page_without_losing_or_repeating_a_chunk(tmp_path):
    from assistant.kb.registry import Registry
    from ingest.chunking import Chunk
    from ingest.documents import Document

    registry = Registry(tmp_path / "registry.sqlite")
    for n in range(3):
        doc = Document(f"d{n}", f"s{n}.txt", f"文档{n}", "正文" * 10, "txt")
        chunks = [Chunk(f"d{n}-{i:02d}", doc.doc_id, i, 0, 2, "正文", "", None, "h") for i in range(7)]
        tokens = {c.chunk_id: ["正文", f"词{i}"] if i else [] for i, c in enumerate(chunks)}
        registry.put_source(doc.source, f"hash{n}", [doc], {doc.doc_id: chunks}, tokens, "now", complete=n != 1)
    paged = list(registry.iter_tokens(page=3))
    assert [cid for cid, _ in paged] == [f"d{n}-{i:02d}" for n in (0, 2) for i in range(7)]  # d1 is incomplete
    assert paged[0] == ("d0-00", []) and paged[1] == ("d0-01", ["正文", "词1"])
    assert paged == list(registry.iter_tokens(page=100))


def test_a_source_that_changes_between_the_two_reads_is_refused_and_the_old_index_kept(tmp_path):
    index = BM25Index(tmp_path / "bm25")
    index.build([("a", ["党员", "报到"]), ("b", ["制度"])])
    before = index.scores(["党员"])
    variants = {
        "a chunk added": [("a", ["党员", "报到"]), ("b", ["制度"]), ("c", ["新"])],
        "a chunk gone": [("a", ["党员", "报到"])],
        "new words": [("a", ["党员", "报到"]), ("b", ["保密"])],
        "words moved": [("a", ["党员"]), ("b", ["制度", "报到"])],
    }
    for name, second in variants.items():
        reads = iter([[("a", ["党员", "报到"]), ("b", ["制度"])], second])
        with pytest.raises(RuntimeError, match="changed while the keyword index"):
            index.build(lambda reads=reads: next(reads))
        assert index.ids == ["a", "b"] and np.array_equal(index.scores(["党员"]), before), name
