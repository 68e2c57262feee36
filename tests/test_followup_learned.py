"""The learned follow-up decision: the classifier decides whether a question needs its history, the rules word it."""

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import HashEmbedder

from assistant.retrieval.followup import rewrite_followup
from assistant.retrieval.followup_learned import LearnedFollowups

BENCH = Path(__file__).resolve().parent.parent / "bench"
SUPERVISION = "省委政研室和综合一处党支部联合搞了什么"


def test_the_judge_can_make_a_question_the_rules_keep_a_follow_up():
    # The rules see a complete question here; a judge that says "needs its history" searches it with the topic.
    searched = rewrite_followup("效果咋样 有数据吗", [SUPERVISION], judge=lambda q, prev, rules: True)
    assert searched != "效果咋样 有数据吗" and "省委政研室" in searched and searched.endswith("效果咋样 有数据吗")


def test_the_judge_can_keep_a_question_the_rules_would_merge():
    question = "有几章几条？"  # the rules read it as a follow-up of the rules question
    assert rewrite_followup(question, ["《省委办公厅保密工作规定》主要规定了什么？"]) != question
    kept = rewrite_followup(question, ["《省委办公厅保密工作规定》主要规定了什么？"], judge=lambda q, p, r: False)
    assert kept == question


def test_the_judge_is_told_what_the_rules_say():
    seen = []
    rewrite_followup("那保密工作呢？", ["机关是怎样落实双报到制度的？"], judge=lambda q, p, r: seen.append(r) or r)
    rewrite_followup(
        "明天北京天气怎么样？", ["机关是怎样落实双报到制度的？"], judge=lambda q, p, r: seen.append(r) or r
    )
    assert seen == [True, False]


def test_no_weights_for_another_embedding_model():
    assert LearnedFollowups.for_embedder(HashEmbedder()) is None  # its vectors mean nothing to e5's weights


def _pairs(*names: str) -> list[dict]:
    return [
        json.loads(line)
        for name in names
        for line in (BENCH / f"followups{name}.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


@pytest.mark.e2e  # the real e5 model
def test_the_learned_decision_on_every_labelled_set(e5_embedder):
    learned = LearnedFollowups.for_embedder(e5_embedder)
    assert learned is not None

    def accuracy(items):
        return sum(
            (rewrite_followup(i["question"], i["history"], learned.needs_history) != i["question"].strip())
            == i["followup"]
            for i in items
        ) / len(items)

    # fresh15–18 are not among the pairs the weights were trained on (each written blind; 230/240 with the decision
    # as shipped since fresh18 was run: the classifier where it is sure, the rules elsewhere).
    assert accuracy(_pairs("_fresh15", "_fresh16", "_fresh17", "_fresh18")) >= 0.95
    every = _pairs("", "_heldout", "_fresh", *(f"_fresh{n}" for n in range(2, 15)))
    assert len(every) >= 880 and accuracy(every) >= 0.95


@pytest.mark.e2e  # real model, real Chroma
def test_the_assistant_decides_with_the_classifier(corpus_kb):
    assert corpus_kb.followups is not None
    follow = corpus_kb.standalone("效果咋样 有数据吗", [SUPERVISION])
    assert follow != "效果咋样 有数据吗" and "省委政研室" in follow
    assert corpus_kb.standalone("市委办公厅2023年的预算是多少？", [SUPERVISION]) == "市委办公厅2023年的预算是多少？"
    assert (
        corpus_kb.standalone("明天北京天气怎么样？", ["How do offices run the 双报到 system?"])
        == "明天北京天气怎么样？"
    )


class _Sure(LearnedFollowups):
    """The decision around a given probability (the classifier's own weights are tested below, on the real model)."""

    def __init__(self, chance: float):
        super().__init__(HashEmbedder(), np.zeros(1), 0.0)
        self.chance = chance

    def probability(self, question: str, previous: str) -> float:
        return self.chance


@pytest.mark.parametrize(
    "chance, rules_say, decided",
    [(0.95, False, True), (0.05, True, False), (0.6, False, False), (0.6, True, True), (0.4, True, True)],
)
def test_the_classifier_overrides_the_rules_only_where_it_is_sure(chance, rules_say, decided):
    assert _Sure(chance).needs_history("问题", "上一个问题", rules_say) is decided
