"""Scanned OFD pages: ImageObjects found through the resource files and drawn into one page picture for OCR."""

from __future__ import annotations

import io
import math
import posixpath
import warnings
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from ingest.loaders.base import LoadError
from ingest.loaders.image import MAX_PIXELS
from ingest.loaders.ocr import RENDER_DPI
from ingest.loaders.ofd_parts import floats, parse_xml, resolve, tag

# The formats GB/T 33190 names for images (BMP, JPEG, PNG, TIFF), and GIF. Naming them keeps Pillow from
# trying its other plugins on untrusted bytes (its EPS plugin, for one, runs Ghostscript).
_FORMATS = ("PNG", "JPEG", "TIFF", "BMP", "GIF")
# Bilevel scans are often stored as JBIG2 (.jb2), which Pillow cannot decode: recognised to say so plainly.
_JBIG2_MAGIC = b"\x97JB2\r\n\x1a\n"
_JBIG2_NAMES = (".jb2", ".jbig2", ".gbig2")
_JBIG2_FORMATS = frozenset({"JB2", "JBIG2", "GBIG2"})
# Bytes that start like an image format yet cannot be opened are a damaged image, not a foreign file.
_SIGNATURES = (
    (b"\x89PNG", "PNG"),
    (b"\xff\xd8", "JPEG"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
    (b"GIF8", "GIF"),
)
_PX_PER_MM = RENDER_DPI / 25.4  # the page picture has the resolution PDF pages are rendered at for OCR

# Reads a member of the zip: its bytes, or None when the package has no such member.
ReadMember = Callable[[str], bytes | None]


class PageProblem(Exception):
    """Why an image of a scanned page (or the whole page) could not be drawn; the message is user-facing."""


@dataclass(frozen=True)
class Media:
    """A MultiMedia resource: its file inside the zip and the Format it declares (upper case, may be empty)."""

    path: str
    format: str


@dataclass(frozen=True)
class Placement:
    """An ImageObject: the resource it draws and where (Boundary "x y w h" and CTM "a b c d e f", in millimetres)."""

    resource: str
    boundary: tuple[float, float, float, float]
    ctm: tuple[float, float, float, float, float, float]


def placements(root: object) -> list[Placement]:
    """Every ImageObject of a page or template in drawing order (later ones are drawn over earlier ones)."""
    out = []
    for obj in root.iter(tag("ImageObject")):  # type: ignore[attr-defined]
        resource = (obj.get("ResourceID") or "").strip()
        x, y, w, h = floats(obj.get("Boundary"), 4)
        if not resource or w <= 0 or h <= 0:
            continue  # draws nothing
        a, b, c, d, e, f = floats(obj.get("CTM"), 6)
        if abs(a * d - b * c) < 1e-9:
            # The CTM maps the image's unit square into the Boundary; without a usable one, fill the Boundary
            # (what viewers do, and what writers mean: they almost always write "w 0 0 h 0 0").
            a, b, c, d, e, f = w, 0.0, 0.0, h, 0.0, 0.0
        out.append(Placement(resource, (x, y, w, h), (a, b, c, d, e, f)))
    return out


def resource_locs(root: object, element: str, part_path: str) -> list[str]:
    """The resource files a part names (PublicRes / DocumentRes of Document.xml, PageRes of a page), as zip paths."""
    folder = posixpath.dirname(part_path)
    return [resolve(folder, e.text.strip()) for e in root.iter(tag(element)) if e.text and e.text.strip()]  # type: ignore[attr-defined]


def media_in(res_path: str, data: bytes | None, names: set[str]) -> tuple[dict[str, Media], str | None]:
    """The MultiMedia entries of one resource file by ID, and why the file could not be read (None when it could).

    MediaFile is relative to the file's BaseLoc, which is relative to the resource file's own folder (GB/T 33190
    ST_Loc). Some writers put the path from the resource file's folder instead; that one is taken when only it exists.
    """
    if data is None:
        return {}, f"the resource file {res_path} is missing from the zip"
    try:
        root = parse_xml(data, f"the resource file {res_path}")
    except LoadError:
        return {}, f"the resource file {res_path} is not well-formed XML"
    res_dir = posixpath.dirname(res_path)
    base = (root.get("BaseLoc") or "").strip()  # type: ignore[attr-defined]
    base_dir = resolve(res_dir, base) if base else res_dir
    found: dict[str, Media] = {}
    for media in root.iter(tag("MultiMedia")):  # type: ignore[attr-defined]
        loc = (media.findtext(tag("MediaFile")) or "").strip()
        rid = (media.get("ID") or "").strip()
        if not loc or not rid:
            continue
        path = resolve(base_dir, loc)
        if path not in names and not loc.startswith("/") and resolve(res_dir, loc) in names:
            path = resolve(res_dir, loc)
        found[rid] = Media(path, (media.get("Format") or "").strip().upper())
    return found, None


def page_box(content: object, document: object) -> tuple[float, float, float, float] | None:
    """The page's PhysicalBox in millimetres: its own Area, else the document's default PageArea."""
    own = f"{tag('Area')}/{tag('PhysicalBox')}"
    default = f"{tag('CommonData')}/{tag('PageArea')}/{tag('PhysicalBox')}"
    for root, where in ((content, own), (document, default)):
        x, y, w, h = floats(root.findtext(where), 4)  # type: ignore[attr-defined]
        if w > 0 and h > 0:
            return x, y, w, h
    return None


def draw_page(
    images: list[Placement],
    media: dict[str, Media],
    read: ReadMember,
    box: tuple[float, float, float, float] | None,
    resource_problems: list[str],
) -> tuple[Image.Image | None, list[str]]:
    """The page as a grey picture at the PDF render resolution with each image in its place, and what could not be drawn.

    The picture is None when no image could be drawn. Raises PageProblem when the page itself is too large.
    """
    if box is None:  # no PhysicalBox anywhere: the images' own extent is the page
        x0 = min(p.boundary[0] for p in images)
        y0 = min(p.boundary[1] for p in images)
        x1 = max(p.boundary[0] + p.boundary[2] for p in images)
        y1 = max(p.boundary[1] + p.boundary[3] for p in images)
        box = (x0, y0, x1 - x0, y1 - y0)
    size = (max(1, round(box[2] * _PX_PER_MM)), max(1, round(box[3] * _PX_PER_MM)))
    if size[0] * size[1] > MAX_PIXELS:
        raise PageProblem(f"the page is too large to OCR ({box[2]:.0f}×{box[3]:.0f} mm)")
    canvas = Image.new("L", size, 255)
    problems: list[str] = []
    budget = MAX_PIXELS  # all images of one page together: a page is at most one 600 dpi A3 scan
    drawn = 0
    for placement in images:
        try:
            budget -= _draw(canvas, placement, media, read, (box[0], box[1]), budget, resource_problems)
            drawn += 1
        except PageProblem as exc:
            problems.append(str(exc))
    return (canvas if drawn else None), problems


def _draw(
    canvas: Image.Image,
    placement: Placement,
    media: dict[str, Media],
    read: ReadMember,
    origin: tuple[float, float],
    budget: int,
    resource_problems: list[str],
) -> int:
    """Draw one image into the page picture; returns the pixels it decoded."""
    found = media.get(placement.resource)
    if found is None:
        why = f" ({'; '.join(resource_problems)})" if resource_problems else ""
        raise PageProblem(
            f"the image resource {placement.resource} is declared in no resource file (DocumentRes, PublicRes){why}"
        )
    data = read(found.path)
    if data is None:
        raise PageProblem(f"the image {found.path} is missing from the zip")
    a, b, c, d, e, f = placement.ctm
    # The CTM maps the image's unit square onto the page: its two axes' lengths give the image's size there.
    target = (max(1, round(math.hypot(a, b) * _PX_PER_MM)), max(1, round(math.hypot(c, d) * _PX_PER_MM)))
    image, pixels = _decode(data, found, target, budget)
    image = image.resize(target, Image.Resampling.LANCZOS, reducing_gap=2.0)
    ox = (placement.boundary[0] + e - origin[0]) * _PX_PER_MM
    oy = (placement.boundary[1] + f - origin[1]) * _PX_PER_MM
    if abs(b) < 1e-9 and abs(c) < 1e-9 and a > 0 and d > 0:  # upright: the usual scan
        canvas.paste(image, (round(ox), round(oy)))
        return pixels
    # Rotated, sheared or flipped: map every page pixel of the image's extent back into the image.
    m11, m12 = a * _PX_PER_MM / target[0], c * _PX_PER_MM / target[1]
    m21, m22 = b * _PX_PER_MM / target[0], d * _PX_PER_MM / target[1]
    corners = [(ox + m11 * u + m12 * v, oy + m21 * u + m22 * v) for u in (0, target[0]) for v in (0, target[1])]
    left = max(0, math.floor(min(x for x, _ in corners)))
    top = max(0, math.floor(min(y for _, y in corners)))
    right = min(canvas.width, math.ceil(max(x for x, _ in corners)))
    bottom = min(canvas.height, math.ceil(max(y for _, y in corners)))
    if right <= left or bottom <= top:
        return pixels  # drawn off the page
    det = m11 * m22 - m12 * m21
    i11, i12, i21, i22 = m22 / det, -m12 / det, -m21 / det, m11 / det
    dx, dy = left - ox, top - oy
    coeffs = (i11, i12, i11 * dx + i12 * dy, i21, i22, i21 * dx + i22 * dy)
    out = (right - left, bottom - top)
    placed = image.transform(out, Image.Transform.AFFINE, coeffs, Image.Resampling.BILINEAR, fillcolor=255)
    mask = Image.new("L", image.size, 255).transform(out, Image.Transform.AFFINE, coeffs, fillcolor=0)
    canvas.paste(placed, (left, top), mask)
    return pixels


def _decode(data: bytes, media: Media, target: tuple[int, int], budget: int) -> tuple[Image.Image, int]:
    """An image resource decoded to grey (white under transparent parts), refusing bombs before decoding."""
    name = media.path
    if data.startswith(_JBIG2_MAGIC) or media.format in _JBIG2_FORMATS or name.lower().endswith(_JBIG2_NAMES):
        raise PageProblem(f"the image {name} is JBIG2, which cannot be decoded here")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=_FORMATS)
            pixels = image.width * image.height
            if pixels > min(MAX_PIXELS, budget):
                raise PageProblem(
                    f"the image {name} is too large: {image.width}×{image.height} pixels "
                    f"({'limit' if pixels > MAX_PIXELS else 'with the other images of the page, over the limit'} "
                    f"{MAX_PIXELS:,}); scan at 300 dpi or less"
                )
            image.draft("L", target)  # a JPEG is decoded at a reduced scale when the page needs fewer pixels
            image.load()
    except UnidentifiedImageError:
        kind = next((k for magic, k in _SIGNATURES if data.startswith(magic)), None)
        if kind is not None:  # the right signature, then nothing Pillow can make sense of
            raise PageProblem(f"the image {name} is damaged (a {kind} header that cannot be read)") from None
        raise PageProblem(f"the image {name} is not a PNG, JPEG, TIFF, BMP or GIF image") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PageProblem(f"the image {name} is too large ({exc}); scan at 300 dpi or less") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        # Pillow reports truncated and damaged data as OSError/SyntaxError, with varied messages.
        raise PageProblem(f"the image {name} is damaged ({exc})") from None
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        grey = Image.new("L", image.size, 255)
        grey.paste(rgba.convert("L"), mask=rgba.getchannel("A"))
        return grey, pixels
    return image.convert("L"), pixels
