"""The keyword index on disk: one file per segment, written once, and a small list of them with the holes."""

from __future__ import annotations

import json
import os
import time
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.kb.postings import Segment

_FORMAT = 2  # 1 was one file of precomputed BM25 weights
_LIST = "bm25.npz"  # the same name as format 1's file, which it replaces
_UNREADABLE = (OSError, ValueError, KeyError, TypeError, IndexError, zipfile.BadZipFile)
# A segment no list names is left this long: another process may be about to publish a list naming it.
_GRACE_S = 600


@dataclass(frozen=True)
class Saved:
    segments: list[Segment]
    alive: np.ndarray
    meta: dict


def _json(value: object) -> np.ndarray:
    return np.frombuffer(json.dumps(value, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)


def _write(path: Path, **arrays: Any) -> None:
    """Write an .npz under a temporary name, then rename it: a reader never sees half a file."""
    tmp = path.with_name(f"{path.stem}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def save(folder: Path, segments: Sequence[Segment], alive: np.ndarray, meta: dict) -> None:
    """Write the segments not on disk yet, then the list naming them all and which rows are holes.

    Segments never change once written, so a save after adding a file writes that file's segment
    (and any segment a merge made) and a list the size of a few bytes per row.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for seg in segments:
        path = folder / f"seg-{seg.name}.npz"
        if not path.exists():
            _write(
                path,
                lengths=seg.lengths,
                cols=seg.cols,
                indptr=seg.indptr,
                rows=seg.rows,
                tf=seg.tf,
                meta=_json({"row0": seg.row0, "term_lo": seg.term_lo, "ids": seg.ids, "terms": seg.terms}),
            )
    names = [seg.name for seg in segments]
    _write(
        folder / _LIST,
        alive=np.packbits(alive),
        meta=_json({**meta, "format": _FORMAT, "segments": names, "rows": len(alive)}),
    )
    keep = {f"seg-{name}.npz" for name in names}
    for path in folder.glob("seg-*.npz"):  # segments merged away, or left by a build that died
        try:
            if path.name not in keep and time.time() - path.stat().st_mtime > _GRACE_S:
                path.unlink()
        except OSError:
            pass


def _segment(path: Path) -> Segment:
    with np.load(path) as saved:
        meta = json.loads(saved["meta"].tobytes().decode("utf-8"))
        seg = Segment(
            int(meta["row0"]),
            list(meta["ids"]),
            saved["lengths"].astype(np.int32),
            saved["cols"].astype(np.int32),
            saved["indptr"].astype(np.int64),
            saved["rows"].astype(np.int32),
            saved["tf"].astype(np.uint16),
            int(meta["term_lo"]),
            list(meta["terms"]),
            path.stem.removeprefix("seg-"),
        )
    n = len(seg.ids)
    if (
        len(seg.lengths) != n
        or len(seg.indptr) != len(seg.cols) + 1
        or seg.indptr[0] != 0
        or seg.indptr[-1] != seg.nnz
        or len(seg.tf) != seg.nnz
        or (seg.nnz and not 0 <= int(seg.rows.min()) <= int(seg.rows.max()) < n)
        or np.any(np.diff(seg.indptr) < 0)
        or np.any(np.diff(seg.cols) <= 0)
    ):
        raise ValueError(f"{path.name} is inconsistent")
    return seg


def load(folder: Path) -> Saved | None:
    """The saved segments and holes; None when there are none or any part cannot be read."""
    try:
        with np.load(folder / _LIST) as saved:
            meta = json.loads(saved["meta"].tobytes().decode("utf-8"))
            packed = saved["alive"]
        if meta.get("format") != _FORMAT:
            return None
        segments = [_segment(folder / f"seg-{name}.npz") for name in meta["segments"]]
        if len(packed) != (int(meta["rows"]) + 7) // 8:
            return None
        alive = np.unpackbits(packed, count=int(meta["rows"])).astype(bool)
    except _UNREADABLE:
        return None
    row = 0
    for seg in segments:
        if seg.row0 != row:
            return None
        row = seg.row_end
    if row != len(alive):
        return None
    return Saved(segments, alive, meta)
