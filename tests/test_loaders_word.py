"""Word-processor formats on files LibreOffice wrote: .doc, .wps, .odt (and a GBK .rtf), bad ones, batching, safety, end to end."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from office_files import (
    ENCRYPT_SCRIPT,
    LEADER,
    RARE,
    SCOPE,
    TITLE,
    duty_workbook,
    gbk_rtf,
    load_error,
    needs_soffice,
    notice_docx,
    odt_linking_an_image,
    soffice_convert,
)

from ingest.chunking import chunk_document
from ingest.documents import prepare_documents
from ingest.loaders import LoadError, load, preconverted
from ingest.loaders.soffice import convert, find_soffice


@pytest.fixture(scope="session")
def word_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The notice as .doc (and an empty .doc) and as .odt, written by LibreOffice; .wps is the .doc renamed.

    LibreOffice cannot write Kingsoft's .wps; WPS itself saves Word-format content under .wps, which is
    what most offices hold, so the .doc renamed stands for it.
    """
    if find_soffice() is None:
        pytest.skip("LibreOffice is not installed (scripts/setup.sh)")
    folder = tmp_path_factory.mktemp("word")
    notice = notice_docx(folder / "通知.docx")
    empty = notice_docx(folder / "空白.docx", empty=True)
    soffice_convert("doc", folder, notice, empty)
    soffice_convert("odt", folder, notice)
    shutil.copy(folder / "通知.doc", folder / "通知.wps")
    (folder / "通知.rtf").write_bytes(gbk_rtf(f"{TITLE}\\par {LEADER}"))
    files = {
        "docx": notice,
        "doc": folder / "通知.doc",
        "wps": folder / "通知.wps",
        "odt": folder / "通知.odt",
        "rtf": folder / "通知.rtf",
        "empty_doc": folder / "空白.doc",
    }
    # Debian's python3 has LibreOffice's bridge (python3-uno); the project's venv does not.
    uno_python = "/usr/bin/python3"
    if (
        Path(uno_python).exists()
        and subprocess.run([uno_python, "-c", "import uno"], capture_output=True).returncode == 0
    ):
        encrypted = folder / "加密.doc"
        subprocess.run(
            [
                uno_python,
                "-c",
                ENCRYPT_SCRIPT,
                find_soffice() or "soffice",
                str(notice),
                str(encrypted),
                (folder / ".uno").as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=180,
        )
        files["encrypted_doc"] = encrypted
    return files


@pytest.fixture(scope="session")
def loaded(word_files: dict[str, Path]) -> dict[str, object]:
    """Each LibreOffice-read file loaded once (a LibreOffice start costs seconds)."""
    return {kind: load(word_files[kind]) for kind in ("doc", "wps", "odt", "rtf")}


# --------------------------------------------------------------------------- .doc .wps .odt .rtf


@needs_soffice
@pytest.mark.parametrize("kind", ["doc", "wps", "odt"])
def test_word_formats_keep_chinese_headings_and_tables(kind: str, word_files, loaded) -> None:
    raw = loaded[kind]
    assert raw.format == kind and raw.title == TITLE and raw.source == word_files[kind].resolve()
    lines = raw.parts[0].text.split("\n")
    # Heading styles survive the conversion as markdown headings, the table as cell rows.
    assert lines[:8] == [
        f"# {TITLE}",
        "各区县应急管理局、市直有关单位：",
        "# 一、检查范围",
        SCOPE,
        "## （一）重点对象",
        LEADER,
        "姓名 | 职务 | 电话",
        "张三 | 科长 | 13800000000",
    ]
    assert lines[-2:] == ["# 二、时间安排", "检查时间为2024年3月1日至3月31日。" + RARE]


@needs_soffice
def test_doc_is_read_exactly_as_its_docx_original(word_files, loaded) -> None:
    original = load(word_files["docx"])
    assert loaded["doc"].parts == original.parts


@needs_soffice
def test_a_folder_of_word_files_is_converted_with_one_libreoffice_start(word_files, loaded, tmp_path: Path) -> None:
    skipped = tmp_path / "已入库.doc"  # queued first but never loaded (the indexer found it unchanged)
    shutil.copy(word_files["empty_doc"], skipped)
    kinds = ["doc", "wps", "odt", "rtf"]
    with preconverted([skipped, *(word_files[k] for k in kinds), word_files["docx"]]) as batch:
        raws = {k: load(word_files[k]) for k in kinds}
    assert batch.starts == 1
    assert raws == loaded  # the same result as one start per file
    assert (
        f"docx:{hashlib.sha256(skipped.read_bytes()).hexdigest()}" not in batch.done
    )  # the skipped file was not converted


@needs_soffice
def test_a_batch_holds_no_more_bytes_than_its_budget(word_files, loaded, monkeypatch) -> None:
    from ingest.loaders import batch as batches

    monkeypatch.setattr(batches, "BATCH_BYTES", word_files["doc"].stat().st_size + 1)
    with preconverted([word_files["doc"], word_files["odt"]]) as batch:
        raws = {k: load(word_files[k]) for k in ("doc", "odt")}
    assert batch.starts == 2 and raws == {k: loaded[k] for k in ("doc", "odt")}


@needs_soffice
def test_doc_chunks_carry_the_heading_path(loaded) -> None:
    (doc,) = prepare_documents(loaded["doc"])
    assert doc.title == TITLE and doc.format == "doc"
    chunks = chunk_document(doc.doc_id, doc.text, size=120, overlap=0)
    leader = next(c for c in chunks if "王建国" in c.text)
    assert leader.section == "一、检查范围 > （一）重点对象"


@needs_soffice
def testgbk_rtf_as_chinese_word_writes_it(loaded) -> None:
    raw = loaded["rtf"]
    assert raw.format == "rtf"
    assert raw.parts[0].text.split("\n") == [TITLE, LEADER]


def test_doc_that_is_really_a_docx_or_a_web_page_is_read_as_what_it_is(tmp_path: Path) -> None:
    # Office systems export "Word" files that are web pages; a .docx renamed .doc is common too.
    disguised = tmp_path / "通知.doc"
    shutil.copy(notice_docx(tmp_path / "n.docx"), disguised)
    raw = load(disguised)
    assert raw.format == "doc" and "# 一、检查范围" in raw.parts[0].text
    page = tmp_path / "导出.doc"
    page.write_text(f"<html><head><title>{TITLE}</title></head><body><p>{LEADER}</p></body></html>", encoding="utf-8")
    raw = load(page)
    assert raw.format == "doc" and LEADER in raw.parts[0].text


def test_bad_word_files_are_refused_with_what_to_do(tmp_path: Path) -> None:
    garbage = tmp_path / "乱码.doc"
    garbage.write_bytes(os.urandom(4096))
    assert load_error(garbage).startswith("not a valid Word 97–2003 .doc: the file is not a Word/WPS document")
    assert "save it as .docx" in load_error(garbage)
    text = tmp_path / "文本.wps"
    text.write_text("这只是一个文本文件", encoding="utf-8")
    assert load_error(text).startswith("not a valid WPS .wps")
    damaged = tmp_path / "损坏.doc"
    damaged.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    assert load_error(damaged).startswith("not a valid Word 97–2003 .doc (damaged compound file")
    rtf = tmp_path / "假.rtf"
    rtf.write_text("不是 RTF", encoding="utf-8")
    assert load_error(rtf).startswith("not a valid .rtf: the file does not start with {\\rtf")
    odt = tmp_path / "坏.odt"
    odt.write_bytes(b"PK\x03\x04 not really a zip")
    assert load_error(odt).startswith("not a valid .odt (bad zip")


@needs_soffice
def test_password_protected_doc_is_refused_before_libreoffice(word_files, monkeypatch) -> None:
    if "encrypted_doc" not in word_files:
        pytest.skip("python3-uno is needed to write a password-protected .doc (scripts/setup.sh --dev)")
    monkeypatch.setenv("ASSISTANT_SOFFICE", "no-such-soffice")  # proves LibreOffice is not needed to tell
    reason = load_error(word_files["encrypted_doc"])
    assert reason.startswith("the document is password-protected; open it in Word/WPS with its password")


@needs_soffice
def test_doc_without_text_and_truncated_doc(word_files, tmp_path: Path) -> None:
    assert load_error(word_files["empty_doc"]) == (
        "no text found: the Word 97–2003 .doc has no paragraphs or tables with text"
    )
    truncated = tmp_path / "截断.doc"
    truncated.write_bytes(word_files["doc"].read_bytes()[:5000])
    assert load_error(truncated).startswith(("not a valid Word 97–2003 .doc", "cannot read this Word 97–2003 .doc"))


@needs_soffice
def test_libreoffice_does_not_fetch_what_a_document_links_to(tmp_path: Path) -> None:
    import socket

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(5)
        server.settimeout(0.5)
        port = server.getsockname()[1]
        raw = load(odt_linking_an_image(tmp_path / "外链.odt", f"http://127.0.0.1:{port}/track.png"))
        assert raw.parts[0].text == LEADER
        with pytest.raises(TimeoutError):  # without the profile setting, LibreOffice sent "OPTIONS /track.png"
            server.accept()


def test_missing_libreoffice_says_how_to_install_it(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ASSISTANT_SOFFICE", "no-such-soffice")
    path = tmp_path / "通知.rtf"
    path.write_bytes(gbk_rtf(TITLE))
    reason = load_error(path)
    assert reason.startswith("reading this format needs LibreOffice, which is not installed")
    assert "apt-get install --no-install-recommends libreoffice-writer-nogui" in reason


def test_a_hanging_converter_is_killed_at_the_time_limit(tmp_path: Path, monkeypatch) -> None:
    # Stands in for a LibreOffice that never finishes: it starts a child (as soffice starts soffice.bin).
    pid_file = tmp_path / "child.pid"
    fake = tmp_path / "fake-soffice"
    fake.write_text(f"#!/bin/sh\nsleep 300 &\necho $! > {pid_file}\nwait\n", encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv("ASSISTANT_SOFFICE", str(fake))
    started = time.monotonic()
    with pytest.raises(LoadError, match="^LibreOffice did not finish converting within 2 s"):
        convert([(".doc", b"x")], "docx", timeout=2)
    assert time.monotonic() - started < 30
    child = int(pid_file.read_text())
    for _ in range(50):
        if not Path(f"/proc/{child}").exists() or "Z" in Path(f"/proc/{child}/stat").read_text().split()[2]:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the converter's child process was left running")


# --------------------------------------------------------------------------- end to end


@needs_soffice
def test_doc_and_xlsx_answer_questions_in_a_real_knowledge_base(word_files, tmp_path: Path, fresh_kb) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(word_files["doc"], folder / "通知.doc")
    duty_workbook(folder / "值班.xlsx")
    kb = fresh_kb
    report = kb.ingest([folder])
    assert report.failed == [] and sorted(Path(s).name for s in report.added) == ["值班.xlsx", "通知.doc"]
    formats = {Path(d.source).suffix: d for d in kb.documents()}
    assert formats[".doc"].title == TITLE and formats[".xlsx"].title == "2024年春节值班安排"

    # Only the .doc knows who leads the inspection; only the workbook knows 李四's days on duty.
    answer = kb.ask("安全生产检查组的组长是谁？")
    assert not answer.refused
    cited = [c for c in answer.citations if c.source.endswith("通知.doc")]
    assert cited and any("王建国" in c.quote for c in cited)

    answer = kb.ask("李四春节值班几天？")
    assert not answer.refused
    cited = [c for c in answer.citations if c.source.endswith("值班.xlsx")]
    assert cited and any("李四" in c.quote and "2.5" in c.quote for c in cited)
