"""Scanned pages as image files (.png, .jpg, .tif including multi-page TIFF): one OCR'd part per page."""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Iterator
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from ingest.loaders.base import LoadError, Part, RawDocument
from ingest.loaders.ocr import OFF_HINT, FileOcr, OcrOptions, is_blank

# A page scanned at 600 dpi on A3 is ~70 million pixels; anything far beyond is a decompression bomb.
MAX_PIXELS = 100_000_000
_RESAVE = "the file may be truncated or not really an image — open it in an image viewer and save it again"


@contextlib.contextmanager
def _image_errors() -> Iterator[None]:
    """Pillow's many ways of saying "damaged" turned into one clear LoadError."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except UnidentifiedImageError:
        raise LoadError(f"not a readable image: the format is not recognised; {_RESAVE}") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise LoadError(f"image too large ({exc}); scan at 300 dpi or less, or split it") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        # Pillow reports truncated and damaged data as OSError/SyntaxError, with varied messages.
        raise LoadError(f"corrupt image ({exc}); {_RESAVE}") from None


def _frames(image: Image.Image) -> Iterator[Image.Image]:
    """The image's pages one at a time, decoded (a 50-page TIFF is never all in memory at once)."""
    for index in range(getattr(image, "n_frames", 1)):
        with _image_errors():
            image.seek(index)
            image.load()  # decode now: a truncated page fails here with a clear reason
            frame = image.copy()
        yield frame


def load_image(path: Path, data: bytes, options: OcrOptions) -> RawDocument:
    """OCR each page of an image file into a part with its page number (a single image is page 1)."""
    if not options.enabled:
        raise LoadError(f"image files are read by OCR, which is turned off; {OFF_HINT}")
    with _image_errors():
        image = Image.open(io.BytesIO(data))
    if image.width * image.height > MAX_PIXELS:
        raise LoadError(
            f"image too large: {image.width}×{image.height} pixels (limit {MAX_PIXELS:,}); "
            "scan at 300 dpi or less, or split it"
        )
    count = getattr(image, "n_frames", 1)
    ocr = FileOcr(path, options, total=count)
    parts = []
    for number, frame in enumerate(_frames(image), 1):
        if is_blank(frame):
            continue
        text = ocr.read_page(number, frame)
        if text and text.strip():
            parts.append(Part(text, number))
    if not parts:
        raise LoadError(
            f"OCR found no text in the image ({count} page(s)); if it is a scan, "
            "scan it again at 200–300 dpi with more contrast"
        )
    return RawDocument(path, "image", None, parts, None, ocr.warnings())
