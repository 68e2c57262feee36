"""Time reading PowerPoint 97–2003 .ppt (LibreOffice Impress conversion to .pptx included) with ingest.loaders.load.

Usage: python -m bench.ppt_speed [--rounds 3]

Writes three kinds of deck with python-pptx — 3 slides of Chinese text, a table and notes; 40 slides
each with a 800×600 photo-like picture; ten different 2-slide decks — has LibreOffice save them as
.ppt (one start), then per round times load() of the small deck and of the large one (one
LibreOffice start each) and of the ten inside one `preconverted` batch. Prints each round and the
range. Needs LibreOffice with Impress (scripts/setup.sh).
"""

from __future__ import annotations

import argparse
import io
import subprocess
import tempfile
import time
from pathlib import Path

from ingest.loaders import load, preconverted
from ingest.loaders.soffice import find_soffice


def _small(path: Path) -> None:
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    deck.core_properties.title = "2024年安全生产工作汇报"
    first = deck.slides.add_slide(deck.slide_layouts[0])
    first.shapes.title.text = "2024年安全生产工作汇报"
    first.placeholders[1].text = "市应急管理局"
    second = deck.slides.add_slide(deck.slide_layouts[5])
    second.shapes.title.text = "检查结果"
    second.shapes.add_textbox(Inches(0.5), Inches(1.5), Inches(9), Inches(1)).text_frame.text = "共检查企业312家。"
    table = second.shapes.add_table(3, 2, Inches(0.5), Inches(3), Inches(6), Inches(1.5)).table
    for r, row in enumerate([["区县", "隐患数"], ["西湖区", "12"], ["上城区", "9"]]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    second.notes_slide.notes_text_frame.text = "整改率达到91.8%。"
    third = deck.slides.add_slide(deck.slide_layouts[6])
    third.shapes.add_textbox(Inches(1), Inches(1), Inches(8), Inches(1)).text_frame.text = "谢谢！"
    deck.save(str(path))


def _large(path: Path, slides: int = 40) -> None:
    import numpy as np
    from PIL import Image
    from pptx import Presentation
    from pptx.util import Inches

    rng = np.random.default_rng(0)
    deck = Presentation()
    for n in range(1, slides + 1):
        slide = deck.slides.add_slide(deck.slide_layouts[5])
        slide.shapes.title.text = f"第{n}部分 工作进展"
        body = slide.shapes.add_textbox(Inches(0.5), Inches(1.3), Inches(5), Inches(2)).text_frame
        body.text = "全面落实安全生产责任制，" * 3
        for k in range(4):
            body.add_paragraph().text = f"要点{k}：加强隐患排查治理，推进重点行业专项整治。"
        table = slide.shapes.add_table(4, 3, Inches(0.5), Inches(4), Inches(5), Inches(1.5)).table
        for r in range(4):
            for c in range(3):
                table.cell(r, c).text = ["区县", "隐患", "整改"][c] if r == 0 else f"{r}{c}"
        picture = io.BytesIO()  # noise: compresses like a photograph, not like a flat drawing
        Image.fromarray((rng.random((600, 800, 3)) * 255).astype("uint8")).save(picture, "JPEG", quality=85)
        picture.seek(0)
        slide.shapes.add_picture(picture, Inches(6), Inches(1.5), Inches(3.5))
        slide.notes_slide.notes_text_frame.text = "本页数据截至年底。"
    deck.save(str(path))


def _pair(path: Path, i: int) -> None:
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[5])
    slide.shapes.title.text = f"第{i}号汇报"
    slide.shapes.add_textbox(Inches(1), Inches(2), Inches(8), Inches(1)).text_frame.text = f"共检查企业{300 + i}家。"
    second = deck.slides.add_slide(deck.slide_layouts[1])
    second.shapes.title.text = "下一步"
    second.placeholders[1].text = "继续整改"
    deck.save(str(path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    soffice = find_soffice()
    if soffice is None:
        raise SystemExit("LibreOffice is not installed (scripts/setup.sh)")
    with tempfile.TemporaryDirectory(prefix="ppt-speed-") as tmp:
        folder = Path(tmp)
        sources = [folder / "small.pptx", folder / "large.pptx"] + [folder / f"pair{i}.pptx" for i in range(10)]
        _small(sources[0])
        _large(sources[1])
        for i, path in enumerate(sources[2:]):
            _pair(path, i)
        profile = (folder / ".profile").as_uri()
        command = [soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "ppt"]
        subprocess.run([*command, "--outdir", str(folder), *map(str, sources)], check=True, capture_output=True)
        small, large = folder / "small.ppt", folder / "large.ppt"
        pairs = [folder / f"pair{i}.ppt" for i in range(10)]
        times: dict[str, list[float]] = {"small": [], "large": [], "ten": []}
        for run in range(args.rounds):
            started = time.perf_counter()
            slides = len(load(small).parts)
            times["small"].append(time.perf_counter() - started)
            started = time.perf_counter()
            large_slides = len(load(large).parts)
            times["large"].append(time.perf_counter() - started)
            started = time.perf_counter()
            with preconverted(pairs) as batch:
                for path in pairs:
                    load(path)
            times["ten"].append(time.perf_counter() - started)
            print(
                f"round {run + 1}: {slides}-slide .ppt ({small.stat().st_size // 1024} KB) {times['small'][-1]:.2f} s; "
                f"{large_slides}-slide .ppt with pictures ({large.stat().st_size / 2**20:.1f} MB) "
                f"{times['large'][-1]:.2f} s; ten 2-slide .ppt in one batch {times['ten'][-1]:.2f} s "
                f"({batch.starts} LibreOffice start)",
                flush=True,
            )
        for name, values in times.items():
            print(f"{name}: {min(values):.2f}–{max(values):.2f} s")


if __name__ == "__main__":
    main()
