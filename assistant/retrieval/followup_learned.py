"""A learned opinion on whether a question needs its history: logistic regression over e5 question vectors.

The rules in `followup.py` were written from labelled conversations and are right on .97 of those, but each
new set written blind found shapes they had not seen (.73–.93 on first run). A classifier on the question's e5
vector, its closeness to the last question and its length, trained on the same labelled pairs, did as well or better
on each of the four blind sets where both were measured (223 against 201 of 240), so it decides, nudged by the rules;
the rules still word the rewrite. Training: `python -m bench.followup_classifier --save`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from assistant.models.embeddings import Embedder

WEIGHTS = Path(__file__).with_name("followup_weights.json")

#: Share of the decision given to the rules (the classifier's probability has the rest); chosen on the 240
#: pairs of followups_fresh8, 9, 11 and 12, each with the rules of the day it was still unread: rules alone
#: 201, the classifier alone 223, this blend 224 (see the README's follow-up table).
RULES_WEIGHT = 0.1


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
        """The decision: the classifier's probability, nudged towards what the rules say."""
        return RULES_WEIGHT * rules_say + (1 - RULES_WEIGHT) * self.probability(question, previous) >= 0.5


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
