"""Per-format reading through ingest.loaders.load: what is read and files or pages per minute; and a long scanned PDF's peak memory.

Usage: python -m bench.formats [--rounds 3] [--copies 4] [--only txt,docx,...] | python -m bench.formats --scan-pages 1000 [--ocr-pages 2]

Every sample file is made by the builders the tests use (python-docx, LibreOffice, openpyxl, xlwt, python-pptx,
Pillow's PDF writer, the OFD builders) from Chinese office text, then loaded the way an ingestion does: inside
`preconverted` (LibreOffice batches) and through `load()`, OCR on with its defaults. Rounds alternate the formats,
so load from other work falls on all of them; rates are medians of rounds. Embedding is not timed.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from bench.format_samples import SAMPLES, build, scans
from bench.ocr_pages import image_pdf
from ingest.loaders import OcrOptions, RawDocument, load, preconverted
from ingest.loaders.ocr_engine import get_engine

ROOT = Path(__file__).resolve().parent.parent
PAGED = {"pdf", "ofd", "image", "ppt", "pptx"}  # formats whose parts carry page (slide) numbers


def pages_of(doc: RawDocument) -> int:
    return max((p.page or 0) for p in doc.parts) if doc.format in PAGED else 0


def measure(names: list[str] | None = None, rounds: int = 3, copies: int = 4) -> list[list[str]]:
    """The table's rows: format, what is read, the sample as read, files/min, pages/min, loader."""
    samples = [s for s in SAMPLES if names is None or s.name in names]
    seconds: dict[str, list[float]] = {s.name: [] for s in samples}
    docs: dict[str, list[RawDocument]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        files = build(samples, Path(tmp), copies)
        if any(s.ocr for s in samples):
            get_engine()  # loaded once per process, before the clock starts
        for s in samples:  # libraries are imported on first use: not what a file costs (OCR's pages are timed alone)
            if not s.ocr:
                load(files[s.name][0])
        for _ in range(rounds):
            for s in samples:
                started = time.perf_counter()
                with preconverted(files[s.name]):
                    docs[s.name] = [load(p, ocr=OcrOptions()) for p in files[s.name]]
                seconds[s.name].append(time.perf_counter() - started)
    rows = []
    for s in samples:
        doc, n = docs[s.name][0], len(docs[s.name])
        secs = statistics.median(seconds[s.name])
        chars = sum(len(p.text) for p in doc.parts)
        pages = pages_of(doc)
        unit = "slides" if doc.format in ("ppt", "pptx") else "pages"
        what = f"{pages} {unit if pages > 1 else unit[:-1]}, " if pages else ""
        what += f"{chars:,} chars, title {'yes' if doc.title else 'no'}"
        rows.append(
            [
                s.name,
                s.reads,
                what,
                rate(n * 60 / secs),
                rate(pages * n * 60 / secs) if pages else "–",
                f"`{s.loader}`",
            ]
        )
    return rows


def rate(per_minute: float) -> str:
    return f"{per_minute:,.0f}" if per_minute >= 100 else f"{per_minute:.1f}"


def markdown(rows: list[list[str]]) -> str:
    head = ["format", "what is read", "sample file (as read)", "files/min", "pages/min", "loader"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def scanned_pdf(path: Path, pages: int) -> Path:
    """A `pages`-page scan: one rendered corpus page written by image_pdf, copied page by page with pypdf.

    Each copy is read from the one-page file afresh, so every page has an image object of its own, as a scan has.
    """
    from pypdf import PdfReader, PdfWriter

    one = image_pdf(scans(1))
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_page(PdfReader(io.BytesIO(one)).pages[0])
    with path.open("wb") as fh:
        writer.write(fh)
    return path


def scan_child(path: Path, ocr_pages: int) -> None:
    """In its own process: load() the scan with the OCR page limit, print seconds, parts and peak RSS as JSON."""
    started = time.perf_counter()
    doc = load(path, max_bytes=path.stat().st_size + 1, ocr=OcrOptions(max_pages=ocr_pages))
    print(json.dumps({"seconds": time.perf_counter() - started, "parts": len(doc.parts), "peak_rss_mb": peak_rss_mb()}))


def scan_scale(pages: int, ocr_pages: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for n in (1, pages):
            path = scanned_pdf(Path(tmp) / f"scan{n}.pdf", n)
            done = subprocess.run(
                [sys.executable, "-m", "bench.formats", "--scan-child", str(path), "--ocr-pages", str(ocr_pages)],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            )
            got = json.loads(done.stdout.strip().splitlines()[-1])
            print(
                f"{n:>5} pages, {path.stat().st_size / 1e6:,.1f} MB file, OCR of the first {min(n, ocr_pages)}: "
                f"load() {got['seconds']:.1f} s, {got['parts']} parts, peak RSS {got['peak_rss_mb']:,.0f} MB"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--copies", type=int, default=4, help="files per round of each format without OCR")
    parser.add_argument("--only", help="comma-separated format names, e.g. txt,docx,'pdf (scanned)'")
    parser.add_argument("--scan-pages", type=int, help="instead: peak RSS of a scanned PDF of this many pages vs 1")
    parser.add_argument("--ocr-pages", type=int, default=2, help="with --scan-pages: the OCR page limit")
    parser.add_argument("--scan-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scan_child:
        return scan_child(args.scan_child, args.ocr_pages)
    print(f"`python -m bench.formats {' '.join(sys.argv[1:])}`".replace("  ", " "))
    print(f"{datetime.now():%Y-%m-%d %H:%M}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    if args.scan_pages:
        return scan_scale(args.scan_pages, args.ocr_pages)
    rows = measure(args.only.split(",") if args.only else None, args.rounds, args.copies)
    print(markdown(rows))
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
