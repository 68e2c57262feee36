"""Move an embedded knowledge base's vectors to the other window layout ("searched" ⇄ "apart") without embedding again."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import AssistantError
from assistant.kb.consistency import WriterLock
from assistant.kb.vectors import APART, SEARCHED, open_store
from assistant.settings import Settings

STAGING = "chroma.relayout"  # the new layout is written here, beside the store in use, then swapped in


@dataclass(frozen=True)
class Relaid:
    """What `relayout` did: the layout now, the vectors written in it, and where the store before it was kept."""

    layout: str
    vectors: int
    backup: Path | None  # None when the knowledge base had the asked layout already


def relayout(settings: Settings, layout: str) -> Relaid:
    """Re-lay the knowledge base of `settings` in `layout`: every vector is copied, none is embedded again.

    The copy is written beside the store in use and checked against it before the two are swapped; the old store is
    kept as `chroma.before-relayout-<time>` until the user deletes it, so an interrupted run or a surprise loses
    nothing. It holds the knowledge base's writer lock, so no ingestion runs meanwhile; chat servers that have the
    knowledge base open must be stopped first, as they keep reading the old store until restarted.
    """
    if layout not in (SEARCHED, APART):
        raise AssistantError(f"unknown window layout {layout!r}: use {SEARCHED!r} or {APART!r}")
    if settings.chroma_url:
        raise AssistantError(
            "relayout works on an embedded knowledge base; on a Chroma server, ingest the documents again into a "
            f"new knowledge base with window_vectors = {layout!r} (the server's memory is not the app's)"
        )
    kb_dir, collection = settings.kb_dir, f"kb_{settings.kb}"
    current, staging = kb_dir / "chroma", kb_dir / STAGING
    if not current.is_dir():
        raise AssistantError(f"no knowledge base {settings.kb!r} in {kb_dir}: ingest documents first")
    with WriterLock(kb_dir / "write.lock"):
        source = open_store(current, collection)
        try:
            now = APART if source.windows is not None else SEARCHED
            if now == layout:
                return Relaid(layout, source.count(), None)
            shutil.rmtree(staging, ignore_errors=True)  # what an interrupted run left
            target = open_store(staging, collection, window_vectors=layout)
            try:
                read = 0
                for page in source.records():
                    target.add(page)
                    read += len(page)
                written = target.count()
                if written != read or (target.windows is not None) != (layout == APART):
                    raise AssistantError(
                        f"the copy in {staging} holds {written} vectors of the {read} read; the knowledge base is "
                        "unchanged. Delete that folder and run relayout again"
                    )
                target.bump_generation()  # another instance sharing the folder reloads what it caches
            finally:
                target.close()
        finally:
            source.close()
        stamp = time.strftime("%Y%m%d-%H%M%S")
        backup = next(
            path
            for n in range(1, 1000)
            if not (path := kb_dir / f"chroma.before-relayout-{stamp}{'' if n == 1 else f'-{n}'}").exists()
        )
        current.rename(backup)
        staging.rename(current)
    return Relaid(layout, written, backup)


def folder_size(path: Path) -> int:
    """Bytes of the files under `path` (what deleting a kept store frees)."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
