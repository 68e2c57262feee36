"""A learned follow-up decision measured beside the rules: e5 question vectors and logistic regression, sets left out in turn.

Usage: python -m bench.followup_classifier [--test bench/followups_fresh19.jsonl] [--unseen FILE …] [--c 3] [--save]
       python -m bench.followup_classifier --decisions followups_fresh12.jsonl … followups_fresh16.jsonl
Needs the e5 model (scripts/start.sh prepares it). Trains on the labelled follow-up sets read while the rules were written
(bench/followups*.jsonl but --test and the still unread --unseen sets), prints the accuracy of leaving each set out in turn, then trains on all of them and
compares the rules, the classifier and the rules overridden where the classifier is confident on --test. scikit-learn
comes with sentence-transformers. The rules are not retrained here, so on the sets they were written from they look better
than they would on new ones: only --test, chosen before it is read, compares the two fairly.
--save trains on every read set, --test included, and writes the weights the product uses
(assistant/retrieval/followup_weights.json). --decisions compares ways of combining the rules and the classifier on
the named read sets, each left out of the training in turn (the blind sets run since the classifier decides: the rules
were not changed after reading them).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from assistant import Assistant
from assistant.retrieval.followup import rewrite_followup
from assistant.retrieval.followup_learned import SURE, WEIGHTS, features, save

BENCH = Path(__file__).resolve().parent


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def pair_features(embedder, items: list[dict]) -> np.ndarray:
    """The product's features (followup_learned.features) of labelled pairs: the question against its last history turn."""
    return features(embedder, [i["question"] for i in items], [i["history"][-1] for i in items])


def labels_of(items: list[dict]) -> np.ndarray:
    """Whether each labelled pair's question needs its history."""
    return np.array([i["followup"] for i in items])


def rules_verdicts(items: list[dict]) -> np.ndarray:
    """Whether the rules rewrite each labelled pair's question (they call it a follow-up)."""
    return np.array([rewrite_followup(i["question"], i["history"]) != i["question"].strip() for i in items])


def fit(c: float, vectors: list[np.ndarray], labels: list[np.ndarray]) -> LogisticRegression:
    """The classifier trained on these sets' features and labels."""
    return LogisticRegression(C=c, max_iter=3000).fit(np.vstack(vectors), np.concatenate(labels))


def report(name: str, predicted: np.ndarray, labels: np.ndarray) -> str:
    right = int((predicted == labels).sum())
    return (
        f"{name}: {right}/{len(labels)} = {right / len(labels):.3f}; follow-ups {int((predicted & labels).sum())}/"
        f"{int(labels.sum())}, complete kept {int((~predicted & ~labels).sum())}/{int((~labels).sum())}"
    )


def rules_unless_sure(sure: float) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """The classifier where its probability is above `sure` or below 1 − `sure`, the rules elsewhere."""
    return lambda p, r: np.where((p > sure) | (p < 1 - sure), p >= 0.5, r)


#: Ways to decide from the classifier's probability p and the rules' verdict r (arrays over a set's pairs).
DECISIONS = {
    "rules": lambda p, r: r,
    "classifier": lambda p, r: p >= 0.5,
    "blend used until 2026-12-06 (0.1 x rules)": lambda p, r: 0.1 * r + 0.9 * p >= 0.5,
    "rules unless p < .1 or > .9": rules_unless_sure(0.9),
    "rules unless p < .2 or > .8": rules_unless_sure(0.8),
    f"in use: rules unless p < {1 - SURE:.1f} or > {SURE}": rules_unless_sure(SURE),
}


def compare_decisions(
    vectors: dict[str, np.ndarray],
    labels: dict[str, np.ndarray],
    rules: dict[str, np.ndarray],
    held: list[str],
    c: float,
) -> None:
    """Each way of deciding on each held set, the classifier trained on every other read set (markdown table)."""
    print("| set | " + " | ".join(DECISIONS) + " |\n|---|" + "---:|" * len(DECISIONS))
    totals = dict.fromkeys(DECISIONS, 0)
    for name in held:
        model = fit(c, [v for n, v in vectors.items() if n != name], [y for n, y in labels.items() if n != name])
        chance = model.predict_proba(vectors[name])[:, 1]
        right = {d: int((decide(chance, rules[name]) == labels[name]).sum()) for d, decide in DECISIONS.items()}
        totals = {d: totals[d] + right[d] for d in DECISIONS}
        print(f"| {name} | " + " | ".join(f"{right[d]}/{len(labels[name])}" for d in DECISIONS) + " |")
    n = sum(len(labels[name]) for name in held)
    print("| **all** | " + " | ".join(f"{totals[d]}/{n} = {totals[d] / n:.3f}" for d in DECISIONS) + " |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--test", default="bench/followups_fresh19.jsonl")
    ap.add_argument("--unseen", nargs="*", default=[], help="blind sets not to train on (nor test)")
    ap.add_argument("--c", type=float, default=3.0, help="inverse regularisation strength")
    ap.add_argument(
        "--save",
        action="store_true",
        help=f"train on every read set (--test too) and write {WEIGHTS.name} for the product",
    )
    ap.add_argument(
        "--decisions",
        nargs="*",
        metavar="SET",
        help="compare the ways of deciding (DECISIONS) on these read sets, --test included among the read ones",
    )
    args = ap.parse_args()
    test_path = Path(args.test).resolve()
    left_alone = {test_path, *(Path(u).resolve() for u in args.unseen)}
    sets = {p.name: read(p) for p in sorted(BENCH.glob("followups*.jsonl")) if p.resolve() not in left_alone}
    embedder = Assistant.open(None).embedder
    vectors = {name: pair_features(embedder, items) for name, items in sets.items()}
    labels = {name: labels_of(items) for name, items in sets.items()}
    if args.decisions:
        test_items = read(test_path)
        vectors[test_path.name], labels[test_path.name] = pair_features(embedder, test_items), labels_of(test_items)
        rules = {name: rules_verdicts(items) for name, items in {**sets, test_path.name: test_items}.items()}
        compare_decisions(vectors, labels, rules, args.decisions, args.c)
        return
    right = total = 0
    for held in sets:
        model = fit(args.c, [v for n, v in vectors.items() if n != held], [y for n, y in labels.items() if n != held])
        hits = int((model.predict(vectors[held]) == labels[held]).sum())
        right, total = right + hits, total + len(labels[held])
        print(f"left out {held}: {hits}/{len(labels[held])} = {hits / len(labels[held]):.3f}")
    print(f"sets left out in turn: {right}/{total} = {right / total:.3f}\n")
    model = fit(args.c, list(vectors.values()), list(labels.values()))
    if args.save:
        test_items = read(test_path)
        model = fit(
            args.c, [*vectors.values(), pair_features(embedder, test_items)], [*labels.values(), labels_of(test_items)]
        )
        trained_on = {**{n: len(y) for n, y in labels.items()}, test_path.name: len(test_items)}
        save(WEIGHTS, embedder.name, model.coef_[0], model.intercept_[0], trained_on, args.c)
        print(f"wrote {WEIGHTS} ({sum(trained_on.values())} pairs)")
        return
    test = read(test_path)
    truth = labels_of(test)
    chance = model.predict_proba(pair_features(embedder, test))[:, 1]
    rules = rules_verdicts(test)
    print(f"{test_path.name} ({len(test)} pairs), trained on the {total} others:")
    for name, decide in DECISIONS.items():
        print(report(name, decide(chance, rules), truth))


if __name__ == "__main__":
    main()
