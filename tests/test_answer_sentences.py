"""Candidate answer sentences: closeness by meaning comes from the stored span that covers each sentence."""

from assistant.answering.sentences import candidate_sentences, meaning_scores
from assistant.results import Passage
from assistant.retrieval.query import Concept

TEXT = "完善文稿起草制度，按照起草前必开审题会、初稿完成后必开推稿会的原则做好文稿服务。始终以上级党委部署要求为标杆。"


def passage() -> Passage:
    return Passage(
        text=TEXT,
        title="t",
        source="s",
        section="",
        start=100,
        end=100 + len(TEXT),
        score=1.0,
        chunk_id="c",
        doc_id="d",
    )


def test_each_sentence_takes_the_span_that_covers_it_scaled_within_the_answer():
    p = passage()
    sentences = candidate_sentences([Concept("节点", ("节点",), 1.0)], [p])
    assert len(sentences) == 2
    first_end = 100 + TEXT.index("。") + 1
    spans = [("d", 100, first_end, 0.91), ("d", first_end, p.end, 0.83), ("other", 100, p.end, 0.99)]
    close = meaning_scores(sentences, [p], spans)
    assert close == [
        1.0,
        0.0,
    ]  # the review-meeting sentence is the nearer by meaning; another document's span is ignored


def test_a_sentence_without_a_stored_span_of_its_own_takes_its_chunks():
    p = passage()
    sentences = candidate_sentences([Concept("节点", ("节点",), 1.0)], [p])
    close = meaning_scores(sentences, [p], [("d", 100, p.end, 0.9)])
    assert close == [0.0, 0.0]  # one chunk-wide span: nothing tells the sentences apart
    assert meaning_scores(sentences, [p], []) == [0.0, 0.0]
