"""The knowledge base a quality benchmark asks: opened as configured, and refused when it holds no documents."""

from __future__ import annotations

from typing import Any

from assistant import Assistant


def open_corpus_kb(**overrides: Any) -> Assistant:
    """`Assistant.open(None, **overrides)`, exiting with what to do when the knowledge base is empty.

    Every question asked of an empty knowledge base is refused, so a benchmark would print zeros that look like
    results (as one did when ASSISTANT_HOME was not set and the default home held an empty knowledge base).
    """
    kb = Assistant.open(None, **overrides)
    if not kb.registry.documents():
        kb.close()
        raise SystemExit(
            f"the knowledge base in {kb.settings.kb_dir} holds no documents, so every question would be refused: "
            "set ASSISTANT_HOME to the home that holds data/corpus (scripts/start.sh builds .home/), or run "
            "python -m assistant ingest data/corpus"
        )
    return kb
