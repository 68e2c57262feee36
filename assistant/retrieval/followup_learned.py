"""A learned opinion on whether a question needs its history: logistic regression over e5 question vectors.

The rules in `followup.py` were written from labelled conversations and are right on .97 of those, but each
new set written blind found shapes they had not seen (.73–.93 on first run). A classifier on the question's e5
vector, its closeness to the last question and its length, trained on the same labelled pairs, did as well or better
on each of the four blind sets where both were measured (223 against 201 of 240), so it decides where it is sure and
the rules decide the rest; the rules still word the rewrite. Training: `python -m bench.followup_classifier --save`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from assistant.models.embeddings import Embedder

WEIGHTS = Path(__file__).with_name("followup_weights.json")

#: The classifier decides only where it is this sure either way (probability above it, or below 1 − it); in
#: between, the rules do. Chosen on the 300 pairs of the blind sets followups_fresh12–16, each left out of the
#: training in turn (`python -m bench.followup_classifier --decisions …`): rules alone 265, the classifier alone
#: 279, the blend used before (0.1 × rules + 0.9 × probability ≥ 0.5) 279, this 283 (0.8: 278, 0.9: 270); then
#: on the next blind sets, the classifier retrained on every set before each, fresh17, 18 and 19: 58, 57 and 54 of
#: 60, the blend 58, 53 and 56 — within a few questions either way. The classifier reads short complete questions
#: ("马燕担任什么职务？", "1加1等于几？") as needing their history; the rules know them.
SURE = 0.7


def features(embedder: Embedder, questions: list[str], previous: list[str]) -> np.ndarray:
    """Per pair: the question's e5 query vector, its cosine to the last question asked, and its length / 40."""
    both = embedder.encode_queries([*questions, *previous])  # one engine call; each text's vector is cached
    vectors, before = both[: len(questions)], both[len(questions) :]
    cosine = (vectors * before).sum(1, keepdims=True)
    length = np.array([[len(q) / 40] for q in questions])
    return np.hstack([vectors, cosine, length])


class LearnedFollowups:
    """The trained classifier, for the embedding model it was trained with."""

    def __init__(self, embedder: Embedder, coef: np.ndarray, intercept: float):
        self.embedder = embedder
        self.coef = coef
        self.intercept = intercept

    @classmethod
    def for_embedder(cls, embedder: Embedder, path: Path = WEIGHTS) -> LearnedFollowups | None:
        """The classifier, or None when there are no weights for this embedding model (then the rules decide)."""
        if not path.is_file():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        # Vectors of another model live in another space: weights learned on e5-small mean nothing there.
        if data.get("embedding_model") != getattr(embedder, "name", None):
            return None
        return cls(embedder, np.asarray(data["coef"], dtype=np.float64), float(data["intercept"]))

    def probability(self, question: str, previous: str) -> float:
        """How likely the question needs `previous` to be understood (0–1)."""
        x = features(self.embedder, [question], [previous])[0]
        if x.shape[0] != self.coef.shape[0]:
            return 0.5  # a model of another width: no opinion
        return 1.0 / (1.0 + math.exp(-(float(x @ self.coef) + self.intercept)))

    def needs_history(self, question: str, previous: str, rules_say: bool) -> bool:
        """The decision: the classifier's where it is sure (see `SURE`), else what the rules say."""
        chance = self.probability(question, previous)
        return chance >= 0.5 if chance > SURE or chance < 1 - SURE else rules_say


def save(path: Path, embedding_model: str, coef: np.ndarray, intercept: float, trained_on: dict[str, int], c: float):
    """Write trained weights where `for_embedder` reads them."""
    data = {
        "embedding_model": embedding_model,
        "trained_on": trained_on,
        "C": c,
        "intercept": round(float(intercept), 6),
        "coef": [round(float(v), 6) for v in coef],
    }
    path.write_text(json.dumps(data, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
