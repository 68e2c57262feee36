"""LibreOffice conversions batched over one ingestion: the first queued file loaded converts the next ones of its kind."""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from ingest.loaders.base import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_UNCOMPRESSED_BYTES,
    FORMAT_BY_SUFFIX,
    LoadError,
    RawDocument,
    read_file,
)
from ingest.loaders.soffice import convert

# What LibreOffice turns each format into before it is read. One start writes one target format,
# so each target has a queue of its own.
TARGET_BY_FORMAT = {"doc": "docx", "wps": "docx", "rtf": "docx", "odt": "docx", "ppt": "pptx"}
# Files per LibreOffice start inside `preconverted`: one start (~2.5 s) then ~0.1 s a file, while
# the converted files wait in memory until loaded.
BATCH_SIZE = 20
BATCH_BYTES = 64 * 1024 * 1024

# A loader's check of a file's bytes before conversion (path, data, format, max uncompressed bytes):
# the document when it is read without LibreOffice (a .docx named .doc), None when it is to be
# converted; it raises LoadError for a file LibreOffice must not be given.
Precheck = Callable[[Path, bytes, str, int], RawDocument | None]


def resolved(path: Path) -> Path:
    """The path as the batch queues it (resolved, or absolute when it cannot be resolved)."""
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


class Batch:
    """Files queued for conversion: the first one loaded converts itself and the next queued ones in one start."""

    def __init__(self, paths: Iterable[Path], max_bytes: int, max_uncompressed_bytes: int) -> None:
        self.queues: dict[str, deque[Path]] = {target: deque() for target in TARGET_BY_FORMAT.values()}
        for p in paths:
            target = TARGET_BY_FORMAT.get(FORMAT_BY_SUFFIX.get(p.suffix.lower(), ""))
            if target is not None:
                self.queues[target].append(resolved(p))
        self.queued = {p for queue in self.queues.values() for p in queue}  # membership without walking a queue
        self.max_bytes = max_bytes
        self.max_uncompressed_bytes = max_uncompressed_bytes
        # target and content sha256 -> converted file or reason
        self.done: OrderedDict[str, bytes | str] = OrderedDict()
        self.starts = 0  # LibreOffice starts, for tests and logs

    def _pop(self, queue: deque[Path]) -> Path:
        path = queue.popleft()
        self.queued.discard(path)
        return path

    def _next_inputs(
        self, target: str, precheck: Precheck, room: int, taken: set[str], used: int
    ) -> list[tuple[str, str, bytes]]:
        """Up to `room` queued files of `target` that LibreOffice must convert, read and checked as load() would.

        Stops before the batch's bytes (`used` so far) would pass BATCH_BYTES: they are all in memory at once.
        """
        queue = self.queues[target]
        inputs: list[tuple[str, str, bytes]] = []
        while queue and len(inputs) < room:
            try:
                size = queue[0].stat().st_size
            except OSError:
                size = 0  # read_file below reports nothing; load() will
            if used + size > BATCH_BYTES:
                break
            path = self._pop(queue)
            fmt = FORMAT_BY_SUFFIX[path.suffix.lower()]
            try:
                data = read_file(path, self.max_bytes)
                if precheck(path, data, fmt, self.max_uncompressed_bytes) is not None:
                    continue
            except (LoadError, OSError):
                continue  # load() reports it when its turn comes
            key = f"{target}:{hashlib.sha256(data).hexdigest()}"
            if key not in taken and key not in self.done:
                taken.add(key)
                inputs.append((key, path.suffix, data))
                used += len(data)
        return inputs

    def convert(self, path: Path, data: bytes, fmt: str, precheck: Precheck) -> bytes | str:
        """`path` (resolved) converted, with the next queued files of its target format in the same start."""
        target = TARGET_BY_FORMAT[fmt]
        key = f"{target}:{hashlib.sha256(data).hexdigest()}"
        queue = self.queues[target]
        if path in self.queued:
            # The files queued before it were skipped by the caller (already indexed): never convert them.
            while self._pop(queue) != path:
                pass
        if key in self.done:
            return self.done[key]
        suffix = path.suffix or f".{fmt}"
        inputs = [(key, suffix, data), *self._next_inputs(target, precheck, BATCH_SIZE - 1, {key}, len(data))]
        self.starts += 1
        try:
            results = convert([(s, d) for _, s, d in inputs], target)
        except LoadError:
            if len(inputs) == 1:
                raise
            # One file may have hung or crashed LibreOffice: this file alone decides its own fate.
            self.starts += 1
            return convert([(suffix, data)], target)[0]
        for (k, _, _), result in zip(inputs, results):
            self.done[k] = result  # kept after use too: a copy of the same file may come later
        while len(self.done) > 2 * BATCH_SIZE:  # converted files the caller skipped (unchanged) must not pile up
            self.done.popitem(last=False)
        return results[0]


_BATCH: contextvars.ContextVar[Batch | None] = contextvars.ContextVar("assistant_soffice_batch", default=None)


@contextlib.contextmanager
def preconverted(
    paths: Iterable[Path],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED_BYTES,
) -> Iterator[Batch]:
    """Within this block, load() converts the files among `paths` that need LibreOffice BATCH_SIZE per start.

    Loading them one by one otherwise starts LibreOffice for each (~2.5 s). Files are converted
    when the first of a batch is loaded, in the order given, so a caller that skips some (already
    indexed) wastes only their share of a start. Only this thread (context) sees the batch.
    """
    token = _BATCH.set(Batch(paths, max_bytes, max_uncompressed_bytes))
    try:
        yield _BATCH.get()  # type: ignore[misc]
    finally:
        _BATCH.reset(token)


def convert_file(path: Path, data: bytes, fmt: str, precheck: Precheck) -> bytes | str:
    """The file converted by LibreOffice to its target format, or the reason it wrote nothing; batched in `preconverted`.

    `precheck` is the loader's own check, applied to the queued files of the same target that join this start.

    Raises:
        LoadError: LibreOffice (or the part of it the format needs) is missing, failed to start or ran out of time.
    """
    batch = _BATCH.get()
    if batch is not None:
        return batch.convert(resolved(path), data, fmt, precheck)
    return convert([(path.suffix or f".{fmt}", data)], TARGET_BY_FORMAT[fmt])[0]
