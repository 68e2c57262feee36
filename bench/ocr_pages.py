"""Scanned-page fixtures: known Chinese text drawn with the WenQuanYi font, as a scanner would deliver it (image, PDF, OFD)."""

from __future__ import annotations

import io
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_PATHS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
)
# A4 at 150 dpi: what office scanners default to; 三号 (16 pt) body text is then ~33 px high.
PAGE_SIZE = (1240, 1754)
FONT_PX = 32
MARGIN = 110


def font_path() -> Path | None:
    """The first installed WenQuanYi font, or None (the tests that need it are then skipped)."""
    return next((p for p in FONT_PATHS if p.exists()), None)


def wrap(text: str, chars_per_line: int) -> list[str]:
    """Break text into lines of at most `chars_per_line` characters, keeping its own line breaks."""
    lines: list[str] = []
    for para in text.splitlines():
        para = para.strip()
        while para:
            lines.append(para[:chars_per_line])
            para = para[chars_per_line:]
    return lines


def render_page(
    lines: list[str], *, columns: int = 1, font_px: int = FONT_PX, noise: bool = False, seed: int = 0
) -> Image.Image:
    """Draw `lines` on a white A4 page, top to bottom, filling column 1 before column 2.

    With `noise`, the page is tilted slightly, blurred and speckled like a real scan.
    """
    path = font_path()
    if path is None:
        raise RuntimeError("no WenQuanYi font: apt-get install fonts-wqy-microhei")
    font = ImageFont.truetype(str(path), font_px)
    page = Image.new("L", PAGE_SIZE, 255)
    draw = ImageDraw.Draw(page)
    line_h = int(font_px * 1.8)
    col_w = (PAGE_SIZE[0] - 2 * MARGIN) // columns
    per_col = (PAGE_SIZE[1] - 2 * MARGIN) // line_h
    for i, line in enumerate(lines[: per_col * columns]):
        col, row = divmod(i, per_col)
        draw.text((MARGIN + col * col_w, MARGIN + row * line_h), line, font=font, fill=0)
    if noise:
        rng = random.Random(seed)
        page = page.rotate(rng.uniform(-0.8, 0.8), resample=Image.Resampling.BICUBIC, fillcolor=255)
        page = page.filter(ImageFilter.GaussianBlur(0.6))
        pixels = page.load()
        assert pixels is not None
        for _ in range(4000):  # dust specks
            x, y = rng.randrange(PAGE_SIZE[0]), rng.randrange(PAGE_SIZE[1])
            pixels[x, y] = rng.randrange(0, 120)
    return page


def chars_per_line(columns: int = 1, font_px: int = FONT_PX) -> int:
    """How many full-width characters fit on one line of a column (with a gap between columns)."""
    col_w = (PAGE_SIZE[0] - 2 * MARGIN) // columns
    return (col_w - (font_px * 2 if columns > 1 else 0)) // font_px


def lines_per_page(font_px: int = FONT_PX) -> int:
    """How many lines one column holds."""
    return (PAGE_SIZE[1] - 2 * MARGIN) // int(font_px * 1.8)


def image_pdf(pages: list[Image.Image], dpi: int = 150) -> bytes:
    """An image-only PDF (no text layer), one page per image: what a scanner without OCR produces."""
    buf = io.BytesIO()
    rgb = [p.convert("RGB") for p in pages]
    rgb[0].save(buf, format="PDF", save_all=True, append_images=rgb[1:], resolution=dpi)
    return buf.getvalue()


def multipage_tiff(pages: list[Image.Image]) -> bytes:
    """A multi-page TIFF (group 4 fax compression when bilevel, as scanners write them)."""
    buf = io.BytesIO()
    pages[0].save(buf, format="TIFF", save_all=True, append_images=pages[1:], compression="tiff_deflate")
    return buf.getvalue()


def char_accuracy(expected: str, got: str) -> float:
    """1 - edit distance / length of the expected text, whitespace ignored (a character-level score)."""
    a = "".join(expected.split())
    b = "".join(got.split())
    if not a:
        return 1.0 if not b else 0.0
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return max(0.0, 1.0 - prev[-1] / len(a))


OFD_NS = "http://www.ofdspec.org/2016"


def scanned_ofd_members(pages: list[Image.Image | str], *, title: str = "扫描件", dpi: int = 150) -> dict[str, bytes]:
    """The parts of an OFD (GB/T 33190) as a scanner writes it, by zip path.

    OFD.xml → Doc_0/Document.xml (pages, DocumentRes.xml) → Doc_0/Pages/Page_N/Content.xml, where an image
    page draws one ImageObject over its whole PhysicalBox; its ResourceID names a MultiMedia in
    Doc_0/DocumentRes.xml (BaseLoc "Res") whose MediaFile is Doc_0/Res/image_N.png. A str page is the XML of
    a text page's TextObjects instead (for documents mixing text and scanned pages).
    """
    members = {
        "OFD.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="{OFD_NS}" Version="1.0" DocType="OFD">'
            f"<ofd:DocBody><ofd:DocInfo><ofd:DocID>scan</ofd:DocID><ofd:Title>{title}</ofd:Title></ofd:DocInfo>"
            "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"
        ).encode()
    }
    media: list[str] = []
    for i, page in enumerate(pages):
        if isinstance(page, str):
            area, layer = "", page
        else:
            w, h = (round(n * 25.4 / dpi, 3) for n in page.size)  # pixels at `dpi` → millimetres
            rid = 1000 + i
            area = f"<ofd:Area><ofd:PhysicalBox>0 0 {w} {h}</ofd:PhysicalBox></ofd:Area>"
            layer = (
                f'<ofd:ImageObject ID="{2000 + i}" Boundary="0 0 {w} {h}" CTM="{w} 0 0 {h} 0 0" ResourceID="{rid}"/>'
            )
            media.append(
                f'<ofd:MultiMedia ID="{rid}" Type="Image" Format="PNG"><ofd:MediaFile>image_{i}.png</ofd:MediaFile>'
                "</ofd:MultiMedia>"
            )
            buf = io.BytesIO()
            page.save(buf, format="PNG")
            members[f"Doc_0/Res/image_{i}.png"] = buf.getvalue()
        members[f"Doc_0/Pages/Page_{i}/Content.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page xmlns:ofd="{OFD_NS}">{area}<ofd:Content>'
            f'<ofd:Layer ID="{3000 + i}">{layer}</ofd:Layer></ofd:Content></ofd:Page>'
        ).encode()
    page_refs = "".join(f'<ofd:Page ID="{10 + i}" BaseLoc="Pages/Page_{i}/Content.xml"/>' for i in range(len(pages)))
    members["Doc_0/Document.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document xmlns:ofd="{OFD_NS}"><ofd:CommonData>'
        "<ofd:MaxUnitID>9999</ofd:MaxUnitID><ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea>"
        "<ofd:DocumentRes>DocumentRes.xml</ofd:DocumentRes>"
        f"</ofd:CommonData><ofd:Pages>{page_refs}</ofd:Pages></ofd:Document>"
    ).encode()
    members["Doc_0/DocumentRes.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:Res xmlns:ofd="{OFD_NS}" BaseLoc="Res">'
        f"<ofd:MultiMedias>{''.join(media)}</ofd:MultiMedias></ofd:Res>"
    ).encode()
    return members


def zip_members(members: dict[str, bytes]) -> bytes:
    """A zip of the given members (an OFD package)."""
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buf.getvalue()


def scanned_ofd(pages: list[Image.Image | str], **kwargs) -> bytes:
    """An OFD whose image pages are scans (see scanned_ofd_members)."""
    return zip_members(scanned_ofd_members(pages, **kwargs))
