"""Scanned OFD pages against the same scans as image-only PDF pages: seconds per page through load(), character accuracy.

    PYTHONPATH=. .venv/bin/python bench/ofd_scan_bench.py --pages 4

Each page is a full A4 page of corpus text drawn with WenQuanYi at 150 dpi (every other one tilted, blurred
and speckled), written once as a one-page scanned OFD (an ImageObject drawing a PNG, as a scanner writes it)
and once as a one-page image-only PDF. The two are loaded in turn, page by page, so the load other users put
on a shared machine falls on both alike; the OCR engine is loaded before the clock starts.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ocr_bench import corpus_pages  # noqa: E402
from bench.ocr_pages import char_accuracy, image_pdf, render_page, scanned_ofd  # noqa: E402
from ingest.loaders import load  # noqa: E402
from ingest.loaders.ocr_engine import get_engine  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=4)
    args = parser.parse_args()
    get_engine()
    secs: dict[str, list[float]] = {"ofd": [], "pdf": []}
    acc: dict[str, list[float]] = {"ofd": [], "pdf": []}
    with tempfile.TemporaryDirectory() as folder:
        for i, lines in enumerate(corpus_pages(args.pages)):
            page = render_page(lines, noise=i % 2 == 1, seed=i)
            files = {"ofd": scanned_ofd([page]), "pdf": image_pdf([page])}
            for kind, data in files.items():
                path = Path(folder) / f"page{i}.{kind}"
                path.write_bytes(data)
                started = time.perf_counter()
                doc = load(path)
                secs[kind].append(time.perf_counter() - started)
                acc[kind].append(char_accuracy("\n".join(lines), "\n".join(p.text for p in doc.parts)))
    chars = sum(len("".join(lines)) for lines in corpus_pages(args.pages))
    print(f"{args.pages} A4 pages, {chars} characters, every other one noisy")
    for kind in secs:
        print(
            f"{kind}: median {statistics.median(secs[kind]):.1f} s/page (min {min(secs[kind]):.1f}, "
            f"max {max(secs[kind]):.1f}); character accuracy median {statistics.median(acc[kind]):.4f} "
            f"(per page {' '.join(f'{a:.3f}' for a in acc[kind])})"
        )


if __name__ == "__main__":
    main()
