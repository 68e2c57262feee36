"""What an ingestion reports as it goes: files done, OCR pages, characters embedded against those expected."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.kb.prepared import Prepared
    from ingest.loaders.ocr import PageProgress

# Called as progress(done, total, source) while ingesting.
Progress = Callable[[int, int, str], None]
# Called as on_text(embedded, expected) while ingesting: characters embedded so far, and the characters the batch is
# expected to hold (those of the files read so far, plus the rest at the characters per byte they showed).
TextProgress = Callable[[int, int], None]


def page_progress(progress: Progress | None, done: int, total: int, source: str) -> PageProgress | None:
    """Each OCR'd page reported as the current file's progress: "scan.pdf (OCR page 3 of 12)"."""
    report = progress  # bound here: mypy does not narrow a captured Optional inside the lambda
    return None if report is None else lambda page, pages: report(done, total, f"{source} (OCR page {page} of {pages})")


class TextTally:
    """Characters read and embedded during one ingestion, reported to `on_text` with the expected total."""

    def __init__(self, files: list[Path], on_text: TextProgress | None):
        self.on_text = on_text
        self.left = sum(_size(f) for f in files) if on_text else 0  # bytes not read yet
        self.bytes = self.chars = self.done = 0  # of the files read that are to be embedded

    def read(self, path: Path, prepared: Prepared | None) -> None:
        if not self.on_text:
            return
        size = _size(path)
        self.left = max(0, self.left - size)
        if prepared is not None:
            self.bytes += size
            self.chars += sum(len(r.text) for r in prepared.records)
        self.report()

    def embedded(self, chars: int) -> None:
        self.done += chars
        self.report()

    def report(self) -> None:
        if self.on_text:
            per_byte = self.chars / self.bytes if self.bytes else 0.0
            self.on_text(self.done, max(self.done, self.chars + round(self.left * per_byte)))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


class TextRate:
    """Characters embedded per second and the time left, from `on_text`'s reports (for a progress bar)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.started = clock()
        self.embedded = self.expected = 0
        self.seconds = 0.0

    def update(self, embedded: int, expected: int) -> None:
        self.embedded, self.expected = embedded, expected
        self.seconds = self.clock() - self.started

    def describe(self) -> list[str]:
        """["310 chars/s", "ETA 4:05"], or nothing before the first characters are embedded."""
        if self.embedded <= 0 or self.seconds <= 0:
            return []
        rate = self.embedded / self.seconds
        out = [f"{rate:,.0f} chars/s"]
        if self.expected > self.embedded:
            out.append(f"ETA {_clock_time((self.expected - self.embedded) / rate)}")
        return out


def _clock_time(seconds: float) -> str:
    """4:05, or 1:02:03 past an hour."""
    s = round(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
