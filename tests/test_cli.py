"""The command line, run as a user would: real model, real Chroma, a temporary home."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import BEIR_PASSAGES, BEIR_QUERIES, CORPUS, ROOT, models_dir, write_beir

pytestmark = pytest.mark.e2e


def run(home, *args, check=True):
    env = {**os.environ, "ASSISTANT_MODELS": str(models_dir()), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "assistant", *args, "--home", str(home)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=600,
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    home = tmp_path_factory.mktemp("cli-home")
    proc = run(home, "ingest", str(CORPUS / "002_8249a0a6eaf71200.txt"), str(CORPUS / "003_3979e3c1054974f1.txt"))
    assert "added 2" in proc.stdout
    assert "%" in proc.stderr or "file" in proc.stderr  # the progress bar goes to stderr
    assert "chars/s" in proc.stderr and "ETA " in proc.stderr  # the embedding rate and the time left, as it goes
    return home


def test_ask_json_is_utf8_not_escaped_and_citations_resolve(home):
    proc = run(home, "ask", "机关是怎样落实在职党员“双报到”制度的？", "--json")
    assert "\\u" not in proc.stdout and "双报到" in proc.stdout
    answer = json.loads(proc.stdout)
    assert answer["refused"] is False and answer["citations"]
    first = answer["citations"][0]
    assert {"n", "title", "source", "section", "text", "quote", "start", "end"} <= set(first)
    assert first["quote"] in first["text"]


def test_ask_plain_text_lists_sources(home):
    out = run(home, "ask", "How do offices run the 双报到 system?").stdout
    assert out.startswith("According to the documents") and "[1] 《" in out


def test_retrieve_json_with_k(home):
    passages = json.loads(run(home, "retrieve", "党支部标准化建设", "--k", "3", "--json").stdout)
    assert len(passages) == 3
    assert all({"text", "title", "source", "section", "start", "end", "score", "chunk_id"} <= set(p) for p in passages)


def test_eval_on_a_small_question_file(home, tmp_path):
    qs = tmp_path / "qs.jsonl"
    qs.write_text(
        "\n".join(
            json.dumps(x, ensure_ascii=False)
            for x in [
                {"question": "市政府办公室党员到哪个社区报到？", "gold": ["南河道社区"], "answerable": True},
                {"question": "红烧肉怎么做？", "gold": [], "answerable": False},
            ]
        ),
        encoding="utf-8",
    )
    out = run(home, "eval", str(qs)).stdout
    assert "hit@1" in out and "refusal accuracy (unanswerable): 1/1" in out
    report = json.loads(run(home, "eval", str(qs), "--json").stdout)
    assert report["rankings"][0]["hit5"] == 1.0


def test_eval_on_a_beir_folder_leaves_the_users_knowledge_base_alone(home, tmp_path):
    before = json.loads(run(home, "list", "--json").stdout)
    assert len(before) == 2
    beir = write_beir(tmp_path / "tiny-set", BEIR_PASSAGES, BEIR_QUERIES)
    first = run(home, "eval", str(beir), "--json")
    report = json.loads(first.stdout)
    assert report["questions"] == 2 and report["rankings"][0]["hit5"] == 1.0
    # the user's knowledge base lists exactly what it did before
    assert json.loads(run(home, "list", "--json").stdout) == before
    assert "beir-tiny-set" in first.stderr  # says where the benchmark was indexed
    # the benchmark's own knowledge base holds the passages; a second run reuses them as they are
    bench = json.loads(run(home, "--kb", "beir-tiny-set", "list", "--json").stdout)
    assert len(bench) == len(BEIR_PASSAGES) and {d["source"] for d in bench} == {"beir:tiny-set"}
    assert json.loads(run(home, "eval", str(beir), "--json").stdout)["rankings"] == report["rankings"]
    assert json.loads(run(home, "--kb", "beir-tiny-set", "list", "--json").stdout) == bench
    # naming the user's knowledge base explicitly is refused, and changes nothing
    refused = run(home, "--kb", "default", "eval", str(beir), check=False)
    assert refused.returncode == 2 and "holds 2 document source(s) of its own" in refused.stderr
    assert json.loads(run(home, "list", "--json").stdout) == before


def test_errors_are_clear_and_exit_nonzero(home, tmp_path):
    empty = run(home, "ask", "  ", check=False)
    assert empty.returncode == 2 and "empty" in empty.stderr and "Traceback" not in empty.stderr
    missing = run(home, "ingest", str(tmp_path / "nope.txt"), check=False)
    assert missing.returncode == 1 and "no such file" in missing.stdout
    bad = run(home, "eval", str(tmp_path / "nope.jsonl"), check=False)
    assert bad.returncode == 2 and "no such file" in bad.stderr


def test_filter_flags_restrict_retrieve_and_ask_and_citations_name_the_office(home):
    # 003 is the report of the **市人民政府办公室党总支部 (经验材料); 002 is a talk naming 市政府办公室.
    typed = json.loads(run(home, "retrieve", "党支部标准化建设", "--type", "经验材料", "--json").stdout)
    assert typed and all(p["source"].endswith("003_3979e3c1054974f1.txt") for p in typed)
    office = json.loads(run(home, "retrieve", "政治机关", "--office", "市人民政府办公室党总支部", "--json").stdout)
    assert office and all(p["office"] == "市政府办公室党总支" for p in office)
    out = run(home, "ask", "党建品牌叫什么名字？", "--office", "市政府办公室党总支").stdout
    assert "》 市政府办公室党总支 — " in out  # the citation line names the issuing office
    nothing = run(home, "retrieve", "政治机关", "--since", "2023-01-01")
    assert nothing.stdout == "" and "no document matches the filters" in nothing.stderr
    bad = run(home, "ask", "政治机关", "--until", "2023/1/1", check=False)
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr


def test_ask_export_writes_docx_and_markdown_and_refuses_a_bad_path_before_asking(home, tmp_path):
    from tests.test_conversations import docx_parts

    question = "市政府办公室党员到哪个社区报到？"
    proc = run(home, "ask", question, "--export", str(tmp_path / "答案.docx"))
    assert "exported to" in proc.stderr and "[1] 《" in proc.stdout
    body, notes = docx_parts((tmp_path / "答案.docx").read_bytes())
    assert question in body and notes and all("文件标题：《" in n and "引文：“" in n for n in notes)
    run(home, "ask", question, "--export", str(tmp_path / "答案.md"))
    assert "[^1]:" in (tmp_path / "答案.md").read_text(encoding="utf-8")
    bad = run(home, "ask", question, "--export", str(tmp_path / "no" / "a.docx"), check=False)
    assert bad.returncode == 2 and "does not exist; create it first" in bad.stderr and not bad.stdout
    bad = run(home, "ask", question, "--export", str(tmp_path / "a.pdf"), check=False)
    assert bad.returncode == 2 and "name the file with .docx or .md" in bad.stderr


def test_feedback_export_is_read_by_eval(home, tmp_path):
    """Answers rated as the chat rates them become a question file that `eval` runs as a regression test."""
    from assistant.conversations.store import Turn, open_store
    from assistant.settings import Settings

    fresh = tmp_path / "fresh-home"
    none = run(fresh, "feedback", "export", str(tmp_path / "f.jsonl"), check=False)
    assert none.returncode == 2 and "rate answers with 👍/👎 in the chat" in none.stderr

    store = open_store(Settings.load(home).kb_dir)
    conversation = store.create("tester")
    for question in ("市政府办公室党员到哪个社区报到？", "红烧肉怎么做？"):
        answer = json.loads(run(home, "ask", question, "--json").stdout)
        store.append(
            "tester", conversation.id, Turn(question, question, answer["text"], answer=answer, mode="extractive")
        )
    store.rate("tester", conversation.id, 0, "up", "对的")
    store.rate("tester", conversation.id, 1, "up")
    out = tmp_path / "feedback.jsonl"
    proc = run(home, "feedback", "export", str(out))
    assert "wrote 2 question(s)" in proc.stdout
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert lines[0]["answerable"] is True and lines[0]["gold"] and lines[1]["answerable"] is False
    report = json.loads(run(home, "eval", str(out), "--json").stdout)
    assert report["rankings"][0]["n"] == 1 and report["rankings"][0]["hit1"] == 1.0
    assert report["refused_unanswerable"] == 1 and report["false_refusals"] == 0
    assert "👍 [extractive] 市政府办公室党员到哪个社区报到？ — 对的" in run(home, "feedback", "list").stdout
