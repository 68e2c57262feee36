"""What keeping the sentence windows' vectors apart costs in retrieval quality, on knowledge bases already indexed.

    PYTHONPATH=$PWD ASSISTANT_HOME=$PWD/.home python -m bench.windows_apart [--limit 300] \\
        [--devset bench/devset.jsonl --kb default] [--beir ../shared/bench/cmrc2018 ../shared/bench/rgb_zh_dev]

Each knowledge base (the development set's, and `beir-<folder>` of each BEIR set, indexed first by
`bench.fusion_table` or `assistant eval`) is copied into a temporary home with its vectors re-laid as
window_vectors = "apart" — the same vectors, read from its Chroma collection, nothing embedded again —
and the fusion table's rankings (BM25, dense, the fusion in use) are measured on both copies at chunk
level; the development set also as `assistant eval` measures it (merged passages, false refusals). Only the dense side can differ: with the windows apart, only the chunks' own vectors are searched
and each chunk found is then scored by its best vector, windows included, as before.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from assistant import Assistant
from assistant.eval.metrics import beir_kb_name, evaluate_questions
from assistant.kb.vectors import APART, open_store
from assistant.settings import Settings
from bench.fusion_table import QuerySignals, add_set_arguments, beir_signals, devset_signals, metrics, modes


def copy_apart(home: str | None, kb: str, to_home: Path) -> int:
    """Copy knowledge base `kb` of `home` into `to_home` with its windows' vectors apart; the vectors copied."""
    source = Settings.load(home, kb=kb).kb_dir
    target = Settings.load(str(to_home), kb=kb).kb_dir
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("chroma"))
    reader = open_store(source / "chroma", f"kb_{kb}")
    store = open_store(target / "chroma", f"kb_{kb}", window_vectors=APART)
    copied = 0
    for page in reader.records():  # what `python -m assistant relayout` copies, here into another home
        store.add(page)
        copied += len(page)
    assert store.windows is not None and store.count() == reader.count() == copied
    reader.close()
    store.close()
    return copied


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_set_arguments(ap)
    args = ap.parse_args()
    settings = Settings.load(args.home)
    rankers = modes(settings.fusion, settings.keyword_weight, settings.rrf_k)
    shown = {name: rankers[name] for name in rankers if name in ("bm25", "dense") or name.startswith("hybrid now")}
    os.environ.setdefault("ASSISTANT_MODELS", str(settings.models_dir))  # the copies share the prepared model
    sets: list[tuple[str, str, object]] = [(Path(args.devset).stem, args.kb, None)]
    sets += [(Path(f).name, beir_kb_name(Path(f)), Path(f)) for f in args.beir]
    print("| set | layout | mode | hit@1 | hit@5 | MRR@10 |\n|---|---|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="windows-apart-") as tmp:
        for name, kb, folder in sets:
            vectors = copy_apart(args.home, kb, Path(tmp))
            print(f"{name}: {vectors} vectors copied apart", file=sys.stderr)
            for layout, home in (("searched", args.home), ("apart", tmp)):
                signals: list[QuerySignals] = (
                    devset_signals(home, kb, Path(args.devset), args.limit)
                    if folder is None
                    else beir_signals(home, folder, args.limit)  # type: ignore[arg-type]
                )
                for mode, ranker in shown.items():
                    h1, h5, mrr = metrics(signals, ranker)
                    print(f"| {name} ({len(signals)} q) | {layout} | {mode} | {h1:.3f} | {h5:.3f} | {mrr:.3f} |")
                if folder is None:  # the product's own path too: merged passages and the answerability gate
                    with Assistant.open(home, kb=kb) as assistant:
                        report = evaluate_questions(assistant, Path(args.devset))
                    hybrid = next(r for r in report.rankings if r.name == "hybrid")
                    print(
                        f"| {name} ({hybrid.n} q) | {layout} | `assistant eval` hybrid, merged passages; "
                        f"{report.false_refusals} false refusals | {hybrid.hit1:.3f} | {hybrid.hit5:.3f} | "
                        f"{hybrid.mrr10:.3f} |"
                    )
                sys.stdout.flush()


if __name__ == "__main__":
    main()
