"""OCR engines compared on scanned pages rendered from the corpus: pages per minute, character accuracy, confidences.

    PYTHONPATH=. .venv/bin/python bench/ocr_bench.py --pages 6

Each page is drawn from real corpus text (WenQuanYi, 150 dpi A4; every other page tilted, blurred and
speckled like a scan), wrapped into an image-only PDF and rendered back with pdfium, as the loader does.
Accuracy is 1 − edit distance / length over all characters but whitespace (and over Chinese characters
only); figures are medians over pages. Confidence figures show where MIN_CONFIDENCE should sit: boxes of
real text vs boxes found on a page with no text (shapes, lines, speckle).
"""

from __future__ import annotations

import argparse
import io
import random
import re
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ocr_pages import (  # noqa: E402
    PAGE_SIZE,
    char_accuracy,
    chars_per_line,
    image_pdf,
    lines_per_page,
    render_page,
    wrap,
)
from ingest.loaders.ocr import MIN_CONFIDENCE  # noqa: E402
from ingest.loaders.ocr_engine import ENGINES, Box, Engine, get_engine  # noqa: E402
from ingest.loaders.ocr_fix import normalise_line  # noqa: E402
from ingest.loaders.ocr_layout import reading_order  # noqa: E402

HAN = re.compile(r"[\u4e00-\u9fff]")
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9)


def corpus_pages(n: int, columns: int = 1) -> list[list[str]]:
    """`n` pages of lines cut from the corpus files in data/corpus, in order."""
    lines: list[str] = []
    for path in sorted((ROOT / "data" / "corpus").glob("*.txt")):
        lines += wrap(path.read_text(encoding="utf-8"), chars_per_line(columns))
    per = lines_per_page() * columns
    return [lines[i * per : (i + 1) * per] for i in range(n)]


def junk_page(seed: int) -> Image.Image:
    """A page with no text: shapes, rules and speckle, where every box an engine finds is a false one."""
    rng = random.Random(seed)
    page = Image.new("L", PAGE_SIZE, 255)
    draw = ImageDraw.Draw(page)
    for _ in range(40):
        x, y = rng.randrange(PAGE_SIZE[0]), rng.randrange(PAGE_SIZE[1])
        w, h = rng.randrange(10, 200), rng.randrange(5, 120)
        shape = rng.choice((draw.ellipse, draw.rectangle))
        shape((x, y, x + w, y + h), outline=rng.randrange(0, 150), width=rng.randrange(1, 5))
    for _ in range(20):
        y = rng.randrange(PAGE_SIZE[1])
        draw.line((rng.randrange(200), y, rng.randrange(600, PAGE_SIZE[0]), y), fill=0, width=2)
    pixels = page.load()
    assert pixels is not None
    for _ in range(20000):
        pixels[rng.randrange(PAGE_SIZE[0]), rng.randrange(PAGE_SIZE[1])] = rng.randrange(0, 200)
    return page


def through_pdf(page: Image.Image, dpi: int = 150) -> Image.Image:
    """The page as the loader sees it: wrapped in an image-only PDF, rendered back by pdfium."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(io.BytesIO(image_pdf([page], dpi)))
    try:
        return doc[0].render(scale=dpi / 72, grayscale=True).to_pil()
    finally:
        doc.close()


def han(text: str) -> str:
    return "".join(HAN.findall(text))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=6)
    parser.add_argument("--engines", default=",".join(ENGINES))
    args = parser.parse_args()
    pages = [(lines, i % 2 == 1) for i, lines in enumerate(corpus_pages(args.pages))]
    images = [through_pdf(render_page(lines, noise=noisy, seed=i)) for i, (lines, noisy) in enumerate(pages)]
    junk = [through_pdf(junk_page(s)) for s in range(4)]
    print(f"{len(pages)} pages ({sum(len(''.join(lines)) for lines, _ in pages)} characters), half of them noisy")
    engines: dict[str, tuple[Engine, float]] = {}
    for name in args.engines.split(","):
        started = time.perf_counter()
        try:
            engines[name] = (get_engine(name), time.perf_counter() - started)
        except Exception as exc:  # noqa: BLE001 - an engine that cannot load is reported, not fatal
            print(f"{name}: cannot load ({exc})")
    # Engines take turns page by page, so the load other users put on a shared machine falls on both alike.
    stats = {name: Stats() for name in engines}
    for (lines, _), image in zip(pages, images):
        pixels = np.asarray(image.convert("RGB"))
        for name, (engine, _) in engines.items():
            started = time.perf_counter()
            boxes = engine.read(pixels)
            stats[name].add_page("\n".join(lines), boxes, time.perf_counter() - started)
    for name, (engine, load_s) in engines.items():
        junk_conf = [b.confidence for image in junk for b in engine.read(np.asarray(image.convert("RGB")))]
        stats[name].report(engine.name, load_s, junk_conf, len(junk))


class Stats:
    """One engine's figures over the pages."""

    def __init__(self) -> None:
        self.secs: list[float] = []
        self.acc: list[float] = []
        self.acc_han: list[float] = []
        self.acc_by_t: dict[float, list[float]] = {t: [] for t in THRESHOLDS}
        self.text_conf: list[float] = []
        self.wrong_conf: list[float] = []

    def add_page(self, expected: str, boxes: list[Box], seconds: float) -> None:
        self.secs.append(seconds)
        flat = "".join(expected.split())
        for b in (b for b in boxes if b.text.strip()):
            (self.text_conf if "".join(b.text.split()) in flat else self.wrong_conf).append(b.confidence)
        for t in THRESHOLDS:
            self.acc_by_t[t].append(char_accuracy(expected, as_text(boxes, t)))
        got = as_text(boxes, MIN_CONFIDENCE)
        self.acc.append(char_accuracy(expected, got))
        self.acc_han.append(char_accuracy(han(expected), han(got)))

    def report(self, name: str, load_s: float, junk_conf: list[float], junk_pages: int) -> None:
        med = statistics.median(self.secs)
        print(f"\n{name}: load {load_s:.1f} s, {60 / med:.1f} pages/min (median {med:.1f} s/page)")
        print(
            f"  character accuracy at confidence ≥ {MIN_CONFIDENCE} (median): all {statistics.median(self.acc):.4f}, "
            f"Chinese only {statistics.median(self.acc_han):.4f}"
        )
        print(f"  per page: {' '.join(f'{a:.3f}' for a in self.acc)}")
        print(
            f"  confidence of exact text boxes: n={len(self.text_conf)} min {min(self.text_conf, default=0):.3f}"
            f" p1 {percentile(self.text_conf, 1):.3f} median {percentile(self.text_conf, 50):.3f}"
        )
        print(
            f"  confidence of misread text boxes: n={len(self.wrong_conf)} min {min(self.wrong_conf, default=0):.3f}"
            f" median {percentile(self.wrong_conf, 50):.3f}"
        )
        print(
            f"  boxes found on {junk_pages} pages without text: n={len(junk_conf)}"
            f" max {max(junk_conf, default=0):.3f} median {percentile(junk_conf, 50):.3f}"
        )
        cuts = ", ".join(
            f"{t}: {statistics.median(self.acc_by_t[t]):.4f}/{sum(c >= t for c in junk_conf)}" for t in THRESHOLDS
        )
        print(f"  threshold: accuracy (median)/junk boxes kept: {cuts}")


def as_text(boxes: list[Box], threshold: float) -> str:
    """The page's text as the loader would make it with this confidence cut-off."""
    return "\n".join(normalise_line(x) for x in reading_order([b for b in boxes if b.confidence >= threshold]))


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


if __name__ == "__main__":
    main()
