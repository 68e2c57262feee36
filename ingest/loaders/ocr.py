"""OCR of a file's scanned pages: page limit, confidence cut-off, reading order, fixes, progress and warnings."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from ingest.loaders.ocr_engine import DEFAULT_ENGINE, get_engine
from ingest.loaders.ocr_fix import normalise_line
from ingest.loaders.ocr_layout import reading_order

logger = logging.getLogger(__name__)

# Lines the recogniser is less sure of than this are dropped (counted in the file's warnings). Measured
# with bench/ocr_bench.py (rapidocr, 8 corpus pages, half of them noisy, and 4 pages of shapes and speckle):
# correctly read text boxes scored ≥ 0.964, boxes found on the pages without text ≤ 0.815. 0.85 drops all
# of the latter and leaves room below for fainter real scans; character accuracy was the same at 0.5–0.9.
MIN_CONFIDENCE = 0.85
# A rendered page whose darkest and lightest pixels differ less than this is blank: no engine call.
BLANK_RANGE = 24
# PDF pages are rendered at this resolution: what office scanners default to; 三号 body text is then ~33 px.
# Scanned OFD pages are drawn from their images at the same resolution.
RENDER_DPI = 150
# A page with an image and fewer characters of text than this is a scan with a stamp, page number or
# scanner watermark in its text layer ("扫描全能王"): it is OCR'd, and the text layer kept only if OCR finds nothing.
THIN_TEXT = 20

# Called as progress(done, total) after each OCR'd page of a file.
PageProgress = Callable[[int, int], None]


@dataclass(frozen=True)
class OcrOptions:
    """What the caller allows: OCR on or off, how many pages of one file may be OCR'd, and who hears of progress."""

    enabled: bool = True
    max_pages: int = 50
    progress: PageProgress | None = None
    engine: str = DEFAULT_ENGINE


OFF_HINT = "turn OCR on with ASSISTANT_OCR=true (or ocr = true in the settings file)"


def is_blank(image: Image.Image) -> bool:
    """Whether a page image is a single flat shade (an empty scanned page needs no OCR)."""
    pixels = np.asarray(image.convert("L"))
    return bool(int(pixels.max()) - int(pixels.min()) < BLANK_RANGE)


@dataclass
class FileOcr:
    """The OCR of one file's pages under the options' page limit, with what the user should be told about it."""

    path: Path
    options: OcrOptions
    total: int  # pages of this file that need OCR
    done: int = 0
    dropped: int = 0
    kept: int = 0
    skipped: list[int] = field(default_factory=list)  # page numbers over the limit
    seconds: float = 0.0

    def over_limit(self, number: int) -> bool:
        """Whether page `number` comes after the file's page limit (it is then counted as skipped).

        Ask before building a page's image: a page over the limit is not worth decoding.
        """
        if self.done >= self.options.max_pages:
            self.skipped.append(number)
            return True
        return False

    def read_page(self, number: int, image: Image.Image) -> str | None:
        """The text of page `number` (1-based), or None when the file's page limit is reached."""
        if self.over_limit(number):
            return None
        started = time.perf_counter()
        engine = get_engine(self.options.engine)  # loaded on the first page that needs it, then kept
        boxes = engine.read(np.asarray(image.convert("RGB")))
        good = [b for b in boxes if b.confidence >= MIN_CONFIDENCE and b.text.strip()]
        lines = [line for line in (normalise_line(t) for t in reading_order(good)) if line]
        elapsed = time.perf_counter() - started
        self.done += 1
        self.kept += len(good)
        self.dropped += len(boxes) - len(good)
        self.seconds += elapsed
        logger.info(
            "%s: OCR page %d (%d/%d): %d lines, %d dropped below confidence %.2f, %.1f s",
            self.path.name,
            number,
            self.done,
            min(self.total, self.options.max_pages),
            len(good),
            len(boxes) - len(good),
            MIN_CONFIDENCE,
            elapsed,
        )
        if self.options.progress is not None:
            self.options.progress(self.done, min(self.total, self.options.max_pages))
        return "\n".join(lines)

    def warnings(self) -> tuple[str, ...]:
        """What the user should know: pages skipped over the limit, lines dropped for low confidence."""
        out: list[str] = []
        if self.skipped:
            out.append(
                f"OCR page limit reached: {len(self.skipped)} scanned page(s) not read ({page_list(self.skipped)}); "
                f"only the first {self.options.max_pages} were OCR'd — raise ASSISTANT_OCR_MAX_PAGES to read them"
            )
        if self.dropped:
            out.append(
                f"OCR dropped {self.dropped} of {self.dropped + self.kept} detected line(s) on {self.done} page(s) "
                f"as unreadable (confidence below {MIN_CONFIDENCE})"
            )
        return tuple(out)


def page_list(pages: list[int]) -> str:
    """'pages 3, 5, 7' or 'pages 3–40' for a long run: short enough for a message."""
    if len(pages) > 5 and pages == list(range(pages[0], pages[-1] + 1)):
        return f"pages {pages[0]}–{pages[-1]}"
    shown = ", ".join(str(p) for p in pages[:10])
    return f"page{'s' if len(pages) > 1 else ''} {shown}{' …' if len(pages) > 10 else ''}"
