"""Every retrieval mode on the office development set, CMRC and RGB-dev, as one markdown table.

Run from the project folder (the two BEIR sets are indexed into `beir-<folder>` on first use, which
takes minutes; later runs reuse them):

    PYTHONPATH=$PWD ASSISTANT_HOME=$PWD/.home python -m bench.fusion_table \\
        [--devset bench/devset.jsonl --kb default] [--beir ../shared/bench/cmrc2018 ../shared/bench/rgb_zh_dev] \\
        [--cache /tmp/fusion-cache] [--limit N]

Rows: BM25 alone, dense alone, the fusion as it was before issue 13 (z-scores, BM25 weight 0.4),
RRF k=60, two variants tried and not adopted (they lost on a set they were not chosen on), and
the fusion the settings choose now (`fusion`, `keyword_weight`, `rrf_k`). Columns:
hit@1, hit@5 and MRR@10 per set, at chunk level (a devset chunk is relevant when it holds one of
the question's gold strings; a BEIR chunk when qrels names it). Each question's candidate pool is
built once by `Retriever.pool`, so every fused row ranks the same candidates; `--cache` keeps the
pools between runs (delete it after re-indexing).
"""

from __future__ import annotations

import argparse
import pickle
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant import Assistant
from assistant.eval.metrics import beir_kb_name, evaluate_beir, read_beir, read_question_set
from assistant.retrieval.hybrid import Candidate, dense_only_ranking, fuse, keyword_only_ranking
from assistant.settings import Settings


@dataclass
class QuerySignals:
    """One question's candidate pool and its single-retriever rankings, with what is relevant."""

    text: str
    pool: list[Candidate]
    parts: dict[str, tuple[float, float]]  # chunk id -> (whole-chunk, best-window) similarity
    bm25_top: list[str]
    dense_top: list[str]
    relevant: set[str] = field(default_factory=set)  # relevant chunk ids among all of the above
    idf: list[float] = field(default_factory=list)  # idf of each distinct query token


Ranker = Callable[[QuerySignals], list[str]]


def collect(kb: Assistant, questions: Sequence[str], is_relevant: Callable[[int, str], bool]) -> list[QuerySignals]:
    """Candidate pools, single-retriever top 10s and relevance of each question (question index, chunk id)."""
    retriever = kb.retriever
    out = []
    for i, text in enumerate(questions):
        query = kb.analyse(text)
        vector = kb.embedder.encode_queries([text])[0]  # once: encoding is most of the time here
        pool = retriever.pool(text, query.tokens, query.weights, vector=vector)
        parts = retriever.dense_parts(vector, [c.chunk_id for c in pool])
        bm25_top = keyword_only_ranking(retriever, query.tokens, 10, query.weights)
        dense_top = dense_only_ranking(retriever, text, 10, vector)
        seen = {c.chunk_id for c in pool} | set(bm25_top) | set(dense_top)
        idf = [kb.bm25.term_idf(t) for t in dict.fromkeys(query.tokens)]
        out.append(QuerySignals(text, pool, parts, bm25_top, dense_top, {c for c in seen if is_relevant(i, c)}, idf))
        if (i + 1) % 100 == 0:
            print(f"  {i + 1}/{len(questions)}", file=sys.stderr)
    return out


def devset_signals(home: str | None, kb_name: str, path: Path, limit: int | None) -> list[QuerySignals]:
    items = [i for i in read_question_set(path) if i["answerable"]][: limit or None]
    with Assistant.open(home, kb=kb_name) as kb:
        texts: dict[str, str] = {}

        def relevant(i: int, cid: str) -> bool:
            if cid not in texts:
                texts[cid] = kb.chunk_text(cid)
            return any(g in texts[cid] for g in items[i]["gold"])

        return collect(kb, [i["question"] for i in items], relevant)


def beir_signals(home: str | None, folder: Path, limit: int | None) -> list[QuerySignals]:
    _, queries, qrels = read_beir(folder)
    qids = [q for q in queries if q in qrels][: limit or None]
    with Assistant.open(home, kb=beir_kb_name(folder)) as kb:
        evaluate_beir(kb, folder, limit=1)  # indexes the corpus when it is not indexed yet
        return collect(kb, [queries[q]["text"] for q in qids], lambda i, cid: cid in qrels[qids[i]])


def metrics(signals: list[QuerySignals], ranker: Ranker) -> tuple[float, float, float]:
    """hit@1, hit@5, MRR@10 of a ranker over the questions."""
    h1 = h5 = mrr = 0.0
    for s in signals:
        first = next((r for r, cid in enumerate(ranker(s)[:10], 1) if cid in s.relevant), 0)
        h1 += first == 1
        h5 += 1 <= first <= 5
        mrr += 1 / first if first else 0.0
    n = max(len(signals), 1)
    return h1 / n, h5 / n, mrr / n


def _z(values: list[float]) -> np.ndarray:
    a = np.asarray(values, dtype=np.float64)
    return (a - a.mean()) / a.std() if a.std() > 1e-9 else np.zeros_like(a)


def _order(pool: list[Candidate], score: np.ndarray) -> list[str]:
    return [pool[i].chunk_id for i in sorted(range(len(pool)), key=lambda i: (-score[i], -pool[i].dense))]


def zscore_before(pool: list[Candidate], keyword_weight: float = 0.4) -> list[str]:
    """The fusion before issue 13: fixed-weight mix of each side's z-scores over the pool."""
    if not pool:
        return []
    dense, keyword = _z([c.dense for c in pool]), _z([c.keyword for c in pool])
    return _order(pool, keyword_weight * keyword + (1 - keyword_weight) * dense)


def lead_scaled(s: QuerySignals, keyword_weight: float = 0.3) -> list[str]:
    """Tried, not adopted: BM25's share scaled per question by each side's lead (best z above the next three)."""
    if not s.pool:
        return []
    dense, keyword = _z([c.dense for c in s.pool]), _z([c.keyword for c in s.pool])

    def lead(z: np.ndarray) -> float:
        top = np.sort(z)[::-1]
        return max(float(top[0] - top[1:4].mean()), 1e-6) if len(top) > 1 else 1e-6

    share = keyword_weight * lead(keyword) / (keyword_weight * lead(keyword) + (1 - keyword_weight) * lead(dense))
    return _order(s.pool, share * keyword + (1 - share) * dense)


def whole_chunk_dense(s: QuerySignals, keyword_weight: float = 0.4) -> list[str]:
    """Tried, not adopted: the z-score mix with each chunk's whole-chunk similarity, windows left out."""
    if not s.pool:
        return []
    dense, keyword = _z([s.parts[c.chunk_id][0] for c in s.pool]), _z([c.keyword for c in s.pool])
    return _order(s.pool, keyword_weight * keyword + (1 - keyword_weight) * dense)


def modes(fusion: str, keyword_weight: float, rrf_k: int) -> dict[str, Ranker]:
    now = f"hybrid now ({fusion}, w={keyword_weight}" + (f", k={rrf_k})" if fusion == "rrf" else ")")
    return {
        "bm25": lambda s: s.bm25_top,
        "dense": lambda s: s.dense_top,
        "hybrid before (zscore, w=0.4)": lambda s: zscore_before(s.pool),
        "rrf k=60, w=0.5": lambda s: [c.chunk_id for c in fuse(s.pool, method="rrf", keyword_weight=0.5, rrf_k=60)],
        "tried: lead-scaled zscore, w=0.3": lead_scaled,
        "tried: zscore on whole-chunk dense, w=0.4": whole_chunk_dense,
        now: lambda s: [c.chunk_id for c in fuse(s.pool, method=fusion, keyword_weight=keyword_weight, rrf_k=rrf_k)],
    }


def table(sets: dict[str, list[QuerySignals]], rankers: dict[str, Ranker]) -> str:
    head = "| mode | " + " | ".join(f"{name} hit@1 | {name} hit@5 | {name} MRR@10" for name in sets) + " |"
    lines = [head, "|---|" + "---:|" * (3 * len(sets))]
    for mode, ranker in rankers.items():
        cells = [f"{v:.3f}" for signals in sets.values() for v in metrics(signals, ranker)]
        lines.append(f"| {mode} | " + " | ".join(cells) + " |")
    sizes = ", ".join(f"{name} {len(signals)} questions" for name, signals in sets.items())
    return "\n".join(lines) + f"\n\n({sizes})"


def load_sets(args: argparse.Namespace) -> dict[str, list[QuerySignals]]:
    sets: dict[str, list[QuerySignals]] = {}
    cache = Path(args.cache) if args.cache else None
    wanted: list[tuple[str, Callable[[], list[QuerySignals]]]] = [
        ("devset", lambda: devset_signals(args.home, args.kb, Path(args.devset), args.limit))
    ]
    for folder in args.beir:
        wanted.append((Path(folder).name, lambda f=Path(folder): beir_signals(args.home, f, args.limit)))
    for name, build in wanted:
        path = cache / f"{name}-{args.limit or 'all'}.pkl" if cache else None
        if path and path.exists():
            sets[name] = pickle.loads(path.read_bytes())
            continue
        print(f"collecting {name}", file=sys.stderr)
        sets[name] = build()
        if path:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(pickle.dumps(sets[name]))
    return sets


def add_set_arguments(ap: argparse.ArgumentParser) -> None:
    """--home, --kb, --devset, --beir and --limit: the three sets and where they are indexed."""
    ap.add_argument("--home", default=None, help="ASSISTANT_HOME by default")
    ap.add_argument("--kb", default="default", help="knowledge base of the development set")
    ap.add_argument("--devset", default="bench/devset.jsonl")
    ap.add_argument("--beir", nargs="*", default=["../shared/bench/cmrc2018", "../shared/bench/rgb_zh_dev"])
    ap.add_argument("--limit", type=int, help="only the first N questions of each set")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_set_arguments(ap)
    ap.add_argument("--cache", help="folder keeping each set's candidate pools between runs")
    args = ap.parse_args()
    sets = load_sets(args)
    s = Settings.load(args.home)
    print(table(sets, modes(s.fusion, s.keyword_weight, s.rrf_k)))


if __name__ == "__main__":
    main()
