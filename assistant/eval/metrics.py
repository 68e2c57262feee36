"""Retrieval and refusal metrics on a JSONL question set or a BEIR-layout folder."""

from __future__ import annotations

import hashlib
import json
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import AssistantError
from assistant.results import Answer

if TYPE_CHECKING:
    from assistant.api import Assistant


@dataclass
class RankingMetrics:
    """hit@1, hit@5 and MRR@10 of one ranking method over the answerable questions."""

    name: str
    hit1: float = 0.0
    hit5: float = 0.0
    mrr10: float = 0.0
    n: int = 0


@dataclass
class EvalReport:
    """Everything `eval` prints; `rankings` holds hybrid and, for BEIR sets, BM25 and dense alone."""

    dataset: str
    questions: int
    rankings: list[RankingMetrics] = field(default_factory=list)
    unanswerable: int = 0
    refused_unanswerable: int = 0
    refusal_by_kind: dict[str, tuple[int, int]] = field(default_factory=dict)  # kind -> (refused, total)
    false_refusals: int = 0
    partial_by_kind: dict[str, int] = field(default_factory=dict)  # kind -> questions answered as partial
    latency_p50_ms: float = 0.0
    latency_p95_ms: float = 0.0
    failures: list[dict] = field(default_factory=list)  # per-question detail of misses, for tuning
    answers: AnswerMetrics | None = None  # with --mode: how good the answers themselves are

    @property
    def refusal_accuracy(self) -> float:
        return self.refused_unanswerable / self.unanswerable if self.unanswerable else 1.0


@dataclass
class AnswerMetrics:
    """Quality of the answers of one mode on a question set (answerable and unanswerable questions)."""

    mode: str
    answerable: int = 0
    key_coverage: float = 0.0  # mean share of a question's answer-key terms found in its answer (refusal = 0)
    supported_share: float = 0.0  # share of answer sentences that some passage supports
    citation_precision: float = 0.0  # share of citations whose passage contains the question's gold text
    refusal_accuracy: float = 0.0  # unanswerable questions refused
    false_refusals: int = 0  # answerable questions refused
    fallbacks: int = 0  # answerable questions whose model reply failed verification, answered by quotes instead
    near_refused: tuple[int, int] = (0, 0)  # near-domain unanswerable questions (kind "near"): refused, total
    latency_p50_ms: float = 0.0
    latency_p95_ms: float = 0.0
    # Among questions that reached the model (its words streamed before the Answer): first word, full answer.
    first_token_p50_ms: float = 0.0
    generated_p50_ms: float = 0.0
    rows: list[dict] = field(default_factory=list)  # per question: answer, statements, supports


def evaluate_answers(
    kb: Assistant, items: list[dict], mode: str, progress: Callable[[int, int], None] | None = None
) -> AnswerMetrics:
    """Ask every question in `mode` and measure the answers (see AnswerMetrics)."""
    metrics = AnswerMetrics(mode)
    coverages, latencies, firsts, generated = [], [], [], []
    sentences = supported = cited = cited_ok = 0
    unanswerable = refused_unanswerable = near = near_refused = 0
    for i, item in enumerate(items):
        started = time.perf_counter()
        first = answer = None
        for piece in kb.stream(item["question"], mode=mode):
            if first is None:
                first = (time.perf_counter() - started) * 1000
            answer = piece
        assert isinstance(answer, Answer)
        latencies.append((time.perf_counter() - started) * 1000)
        if answer.generated:  # the model was asked (not refused or answered partly by the gate first)
            firsts.append(first or latencies[-1])
            generated.append(latencies[-1])
        key = item.get("answer_key") or []
        if item["answerable"]:
            metrics.answerable += 1
            metrics.false_refusals += int(answer.refused)
            metrics.fallbacks += int(bool(answer.fallback))
            if key:
                coverages.append(0.0 if answer.refused else sum(k in answer.text for k in key) / len(key))
            for c in answer.citations:
                cited += 1
                cited_ok += any(g in c.text for g in item["gold"])
        else:
            unanswerable += 1
            refused_unanswerable += int(answer.refused)
            if item.get("kind") == "near":
                near += 1
                near_refused += int(answer.refused)
        if not answer.refused:
            sentences += len(answer.statements)
            supported += sum(s.supported for s in answer.statements)
        metrics.rows.append(
            {
                "id": item.get("id"),
                "question": item["question"],
                "answerable": item["answerable"],
                "refused": answer.refused,
                "fallback": answer.fallback,
                "text": answer.text,
                "generated": answer.generated,
                "statements": [(s.text, s.supported, round(s.support, 3)) for s in answer.statements],
                "ms": round(latencies[-1]),
                "first_ms": round(first or 0),
                "citations": [c.n for c in answer.citations],
            }
        )
        if progress:
            progress(i + 1, len(items))
    metrics.key_coverage = sum(coverages) / len(coverages) if coverages else 0.0
    metrics.supported_share = supported / sentences if sentences else 0.0
    metrics.citation_precision = cited_ok / cited if cited else 0.0
    metrics.refusal_accuracy = refused_unanswerable / unanswerable if unanswerable else 1.0
    metrics.latency_p50_ms = _percentile(latencies, 50)
    metrics.latency_p95_ms = _percentile(latencies, 95)
    metrics.near_refused = (near_refused, near)
    metrics.first_token_p50_ms = _percentile(firsts, 50)
    metrics.generated_p50_ms = _percentile(generated, 50)
    return metrics


def _rank_of_first_hit(flags: list[bool]) -> int:
    for i, ok in enumerate(flags, 1):
        if ok:
            return i
    return 0


def _summarise(name: str, first_hits: list[int]) -> RankingMetrics:
    n = len(first_hits)
    if not n:
        return RankingMetrics(name)
    return RankingMetrics(
        name=name,
        hit1=sum(1 for r in first_hits if r == 1) / n,
        hit5=sum(1 for r in first_hits if 1 <= r <= 5) / n,
        mrr10=sum(1.0 / r for r in first_hits if 1 <= r <= 10) / n,
        n=n,
    )


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def read_question_set(path: Path) -> list[dict]:
    """Read a JSONL question set; every line needs "question", and "gold" unless "answerable" is false."""
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise AssistantError(f"{path}, line {number}: not valid JSON ({exc.msg})") from exc
        if "question" not in item:
            raise AssistantError(f'{path}, line {number}: no "question" field')
        item.setdefault("answerable", bool(item.get("gold")))
        item.setdefault("gold", [])
        items.append(item)
    return items


def evaluate_questions(kb: Assistant, path: Path, mode: str | None = None) -> EvalReport:
    """Hybrid retrieval hits and refusals of a knowledge base on a JSONL question set.

    With `mode`, the answers of that mode are measured too (`report.answers`).
    """
    from assistant.retrieval.hybrid import dense_only_ranking, keyword_only_ranking

    items = read_question_set(path)
    report = EvalReport(dataset=str(path), questions=len(items))
    retriever = kb.retriever
    alone: dict[str, list[int]] = {"bm25": [], "dense": []}
    english_hits: list[int] = []
    first_hits: list[int] = []
    latencies: list[float] = []
    kinds: dict[str, list[int]] = {}
    for item in items:
        started = time.perf_counter()
        answer, passages = kb.answer_with_passages(item["question"], k=10)
        latencies.append((time.perf_counter() - started) * 1000)
        if item["answerable"] and not item["gold"]:
            # Known to be answerable, but no gold text yet (feedback: 👎 on a refusal): only a refusal is a miss.
            report.false_refusals += int(answer.refused)
            if answer.refused:
                report.failures.append(
                    {"id": item.get("id"), "question": item["question"], "refused": True, "evidence": answer.evidence}
                )
        elif item["answerable"]:
            rank = _rank_of_first_hit([any(g in p.text for g in item["gold"]) for p in passages])
            first_hits.append(rank)
            query = kb.analyse(item["question"])
            for name, ranking in (
                ("bm25", keyword_only_ranking(retriever, query.tokens, 10, query.weights)),
                ("dense", dense_only_ranking(retriever, item["question"], 10)),
            ):
                texts = [kb.chunk_text(cid) for cid in ranking]
                alone[name].append(_rank_of_first_hit([any(g in t for g in item["gold"]) for t in texts]))
            if item.get("lang") in ("en", "mixed"):
                english_hits.append(rank)
            if answer.refused:
                report.false_refusals += 1
            report.partial_by_kind["answerable"] = report.partial_by_kind.get("answerable", 0) + int(answer.partial)
            if rank != 1 or answer.refused:
                report.failures.append(
                    {
                        "id": item.get("id"),
                        "question": item["question"],
                        "rank": rank,
                        "refused": answer.refused,
                        "evidence": round(answer.evidence, 3),
                    }
                )
        else:
            report.unanswerable += 1
            report.refused_unanswerable += int(answer.refused)
            kind = item.get("kind", "unanswerable")
            tally = kinds.setdefault(kind, [0, 0])
            tally[0] += int(answer.refused)
            tally[1] += 1
            report.partial_by_kind[kind] = report.partial_by_kind.get(kind, 0) + int(answer.partial)
            if not answer.refused:
                report.failures.append(
                    {
                        "id": item.get("id"),
                        "question": item["question"],
                        "kind": kind,
                        "refused": False,
                        "evidence": round(answer.evidence, 3),
                    }
                )
    report.rankings.append(_summarise("hybrid", first_hits))
    report.rankings += [_summarise(name, ranks) for name, ranks in alone.items()]
    if english_hits:  # English and mixed questions over Chinese text: the cross-lingual path alone
        report.rankings.append(_summarise("hybrid, English/mixed questions", english_hits))
    report.refusal_by_kind = {k: (v[0], v[1]) for k, v in kinds.items()}
    report.latency_p50_ms = _percentile(latencies, 50)
    report.latency_p95_ms = _percentile(latencies, 95)
    if mode:
        report.answers = evaluate_answers(kb, items, mode)
    return report


def read_beir(folder: Path) -> tuple[dict[str, dict], dict[str, dict], dict[str, set[str]]]:
    """corpus, queries and qrels (query id -> relevant corpus ids) of a BEIR-layout folder."""
    try:
        corpus = {
            d["_id"]: d
            for d in map(json.loads, (folder / "corpus.jsonl").read_text(encoding="utf-8").splitlines())
            if d
        }
        queries = {
            q["_id"]: q
            for q in map(json.loads, (folder / "queries.jsonl").read_text(encoding="utf-8").splitlines())
            if q
        }
        qrels: dict[str, set[str]] = {}
        for line in (folder / "qrels.tsv").read_text(encoding="utf-8").splitlines()[1:]:
            qid, cid, score = line.split("\t")[:3]
            if float(score) > 0:
                qrels.setdefault(qid, set()).add(cid)
    except (OSError, ValueError, KeyError) as exc:
        raise AssistantError(
            f"{folder} is not a readable BEIR folder (corpus.jsonl, queries.jsonl, qrels.tsv): {exc}"
        ) from exc
    return corpus, queries, qrels


BEIR_SOURCE_PREFIX = "beir:"


def beir_kb_name(folder: Path) -> str:
    """The knowledge base a BEIR folder is evaluated in, beside the user's own: `beir-<folder name>`.

    Its passages are indexed there once and reused while the corpus is unchanged.
    """
    resolved = Path(folder).resolve()
    name = re.sub(r"[^A-Za-z0-9]+", "-", resolved.name).strip("-")[:48].strip("-")
    return f"beir-{name or hashlib.sha1(str(resolved).encode()).hexdigest()[:10]}"


def evaluate_beir(
    kb: Assistant, folder: Path, limit: int | None = None, progress: Callable[[int, int], None] | None = None
) -> EvalReport:
    """Index a BEIR corpus as one chunk per entry (if not yet indexed) and rank its queries three ways.

    `kb` must be a knowledge base for benchmarks (see `beir_kb_name`): the corpus is indexed into
    it, so one holding other documents is refused rather than mixed with benchmark passages.
    """
    from assistant.retrieval.hybrid import dense_only_ranking, keyword_only_ranking

    corpus, queries, qrels = read_beir(folder)
    own = [s for s in kb.registry.sources() if not s.startswith(BEIR_SOURCE_PREFIX)]
    if own:
        raise AssistantError(
            f"the knowledge base {kb.settings.kb!r} holds {len(own)} document source(s) of its own (e.g. {own[0]}); "
            f"a BEIR corpus is indexed into the knowledge base it is evaluated in, so evaluate it in a separate "
            f"one, e.g. --kb {beir_kb_name(folder)} (the default for `eval FOLDER`)"
        )
    kb.index_passages(f"{BEIR_SOURCE_PREFIX}{folder.name}", corpus)
    qids = [q for q in queries if q in qrels][: limit or None]
    retriever = kb.retriever
    ranks: dict[str, list[int]] = {"hybrid": [], "bm25": [], "dense": []}
    latencies: list[float] = []
    for i, qid in enumerate(qids):
        text = queries[qid]["text"]
        gold = qrels[qid]
        started = time.perf_counter()
        query = kb.analyse(text)
        hybrid = [
            c.chunk_id for c in retriever.candidates_for(text, query.tokens, query.weights, query.keyword_weight)
        ][:10]
        latencies.append((time.perf_counter() - started) * 1000)
        ranks["hybrid"].append(_rank_of_first_hit([c in gold for c in hybrid]))
        bm25_ranking = keyword_only_ranking(retriever, query.tokens, 10, query.weights)
        ranks["bm25"].append(_rank_of_first_hit([c in gold for c in bm25_ranking]))
        ranks["dense"].append(_rank_of_first_hit([c in gold for c in dense_only_ranking(retriever, text, 10)]))
        if progress:
            progress(i + 1, len(qids))
    report = EvalReport(dataset=str(folder), questions=len(qids))
    report.rankings = [_summarise(name, r) for name, r in ranks.items()]
    report.latency_p50_ms = _percentile(latencies, 50)
    report.latency_p95_ms = _percentile(latencies, 95)
    return report


def format_report(report: EvalReport) -> str:
    """A plain-text table of an EvalReport."""
    lines = [
        f"dataset: {report.dataset} ({report.questions} questions)",
        f"{'method':<8} {'n':>5} {'hit@1':>7} {'hit@5':>7} {'MRR@10':>7}",
    ]
    for r in report.rankings:
        lines.append(f"{r.name:<8} {r.n:>5} {r.hit1:>7.3f} {r.hit5:>7.3f} {r.mrr10:>7.3f}")
    if report.unanswerable:
        lines.append(
            f"refusal accuracy (unanswerable): {report.refused_unanswerable}/{report.unanswerable}"
            f" = {report.refusal_accuracy:.3f}"
        )
        for kind, (refused, total) in sorted(report.refusal_by_kind.items()):
            partial = report.partial_by_kind.get(kind, 0)
            lines.append(f"  {kind}: {refused}/{total} refused, {partial}/{total} answered as partial")
    if report.rankings and report.rankings[0].n and report.dataset.endswith(".jsonl"):
        lines.append(
            f"false refusals (answerable refused): {report.false_refusals}; "
            f"answerable answered as partial: {report.partial_by_kind.get('answerable', 0)}"
        )
    lines.append(f"latency p50 {report.latency_p50_ms:.1f} ms, p95 {report.latency_p95_ms:.1f} ms")
    a = report.answers
    if a is not None:
        lines += [
            f"answers ({a.mode} mode):",
            f"  answer-key coverage {a.key_coverage:.3f}, sentences supported {a.supported_share:.3f}, "
            f"citation precision {a.citation_precision:.3f}",
            f"  refusal accuracy {a.refusal_accuracy:.3f}, false refusals {a.false_refusals}/{a.answerable}, "
            f"quoted instead of an unverified reply {a.fallbacks}/{a.answerable}, "
            f"latency p50 {a.latency_p50_ms:.0f} ms, p95 {a.latency_p95_ms:.0f} ms",
            f"  near-domain refused {a.near_refused[0]}/{a.near_refused[1]}; answers the model wrote: "
            f"first word p50 {a.first_token_p50_ms:.0f} ms, full answer p50 {a.generated_p50_ms:.0f} ms",
        ]
    return "\n".join(lines)
