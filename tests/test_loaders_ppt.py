"""PowerPoint 97–2003 .ppt on decks LibreOffice Impress wrote from python-pptx: slides, bad files, a missing Impress, batching, safety, end to end."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest
from office_files import (
    LEADER,
    deck,
    duty_workbook_xls,
    load_error,
    needs_impress,
    notice_docx,
    odp_linking_an_image,
    soffice_convert,
)

from ingest.chunking import chunk_document
from ingest.documents import prepare_documents
from ingest.loaders import LoadError, discover, load, preconverted
from ingest.loaders.soffice import convert, find_soffice, impress_installed

RESAVE = "open it in PowerPoint/WPS and save it as .pptx"
PASSWORD = (
    "the presentation is password-protected; open it in PowerPoint/WPS with its password, "
    "remove the password and save a copy"
)
# The CurrentUserAtom at the start of the "Current User" stream ([MS-PPT] 2.3.2): record header
# (version 0, type 0x0FF6, length 0x24), size 0x14, then headerToken — 0xE391C05F for a deck that
# is not encrypted, 0xF3D1C4DF for one PowerPoint saved with a password.
PLAIN_ATOM = bytes.fromhex("0000f60f24000000140000005fc091e3")
ENCRYPTED_TOKEN = bytes.fromhex("dfc4d1f3")


@pytest.fixture(scope="session")
def ppt_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The deck of office_files.deck as .pptx (python-pptx) and as .ppt (LibreOffice Impress), and a .ppt of one empty slide."""
    soffice = find_soffice()
    if soffice is None or impress_installed(soffice) is False:
        pytest.skip("LibreOffice Impress is not installed (scripts/setup.sh installs libreoffice-impress-nogui)")
    from pptx import Presentation

    folder = tmp_path_factory.mktemp("ppt")
    source = deck(folder / "汇报.pptx")
    blank = Presentation()
    blank.slides.add_slide(blank.slide_layouts[6])
    blank.save(str(folder / "空白.pptx"))
    soffice_convert("ppt", folder, source, folder / "空白.pptx")
    assert (folder / "汇报.ppt").read_bytes().startswith(b"\xd0\xcf\x11\xe0")  # a real compound file
    return {"pptx": source, "ppt": folder / "汇报.ppt", "empty": folder / "空白.ppt"}


@pytest.fixture(scope="session")
def loaded_ppt(ppt_files: dict[str, Path]):
    """The .ppt loaded once (a LibreOffice start costs seconds)."""
    return load(ppt_files["ppt"])


# --------------------------------------------------------------------------- slides


@needs_impress
def test_ppt_slides_are_pages_with_titles_tables_and_notes(ppt_files, loaded_ppt) -> None:
    raw = loaded_ppt
    assert raw.format == "ppt" and raw.title == "2024年安全生产工作汇报" and raw.source == ppt_files["ppt"].resolve()
    assert [p.page for p in raw.parts] == [1, 2, 3]  # slide numbers; the empty fourth slide has nothing to index
    assert raw.parts[0].text == "# 2024年安全生产工作汇报\n市应急管理局"
    assert raw.parts[1].text.split("\n") == [
        "# 检查结果",
        "共检查企业312家，发现隐患85处。",
        "已整改78处。",
        "区县：西湖区，隐患数：12。",
        "区县：上城区，隐患数：9。",
        "备注：整改率达到91.8%，剩余隐患限期一个月内完成。",
    ]
    assert raw.parts[2].text == "# 第3页\n谢谢！"  # an untitled slide is headed by its number
    assert raw.parts == load(ppt_files["pptx"]).parts  # exactly what the .pptx it was saved from gives


@needs_impress
def test_ppt_chunks_keep_slide_numbers_and_titles(loaded_ppt) -> None:
    (doc,) = prepare_documents(loaded_ppt)
    assert doc.format == "ppt" and doc.title == "2024年安全生产工作汇报"
    chunks = chunk_document(doc.doc_id, doc.text, size=80, overlap=0, page_starts=doc.page_starts)
    notes = next(c for c in chunks if "整改率" in c.text)
    assert (notes.page, notes.section) == (2, "检查结果")
    assert next(c for c in chunks if "上城区" in c.text).page == 2
    assert next(c for c in chunks if "谢谢" in c.text).page == 3


def test_ppt_is_discovered_and_uploadable(tmp_path: Path) -> None:
    from assistant.app.ui.uploads import UPLOAD_TYPES, upload_rejection  # imports Gradio (seconds): only here

    old_deck = tmp_path / "汇报.PPT"
    old_deck.write_bytes(b"x")
    assert discover([tmp_path]) == ([old_deck], [])
    assert ".ppt" in UPLOAD_TYPES and upload_rejection(old_deck.name, 1024, max_mb=50) is None


# --------------------------------------------------------------------------- bad files


def test_files_that_are_not_ppt_decks_are_refused_with_what_to_do(tmp_path: Path) -> None:
    damaged = tmp_path / "损坏.ppt"
    damaged.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1024)
    assert load_error(damaged).startswith("not a valid PowerPoint 97–2003 .ppt (damaged compound file")
    assert load_error(damaged).endswith(RESAVE)
    garbage = tmp_path / "乱码.ppt"
    garbage.write_bytes(os.urandom(4096))
    text = tmp_path / "文本.ppt"
    text.write_text("这只是一个文本文件", encoding="utf-8")
    for path in (garbage, text):
        assert load_error(path) == (
            f"not a valid PowerPoint 97–2003 .ppt: the file is not a PowerPoint deck (unknown content); {RESAVE}"
        )
    workbook = tmp_path / "其实是表格.ppt"
    shutil.copy(duty_workbook_xls(tmp_path / "值班.xls"), workbook)
    assert (
        load_error(workbook)
        == "not a PowerPoint deck: the file is an Excel 97–2003 workbook named .ppt; rename it .xls"
    )
    document = tmp_path / "其实是文档.ppt"
    shutil.copy(notice_docx(tmp_path / "通知.docx"), document)
    assert load_error(document).startswith("not a PowerPoint deck: the file is a zip archive without a presentation")


def test_a_pptx_named_ppt_is_read_as_what_it_is(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ASSISTANT_SOFFICE", "no-such-soffice")  # read without LibreOffice
    disguised = tmp_path / "汇报.ppt"
    shutil.copy(deck(tmp_path / "原件.pptx"), disguised)
    raw = load(disguised)
    assert raw.format == "ppt" and [p.page for p in raw.parts] == [1, 2, 3] and "西湖区" in raw.parts[1].text


@needs_impress
def test_damaged_and_password_protected_ppt_get_a_clear_reason(ppt_files, tmp_path: Path, monkeypatch) -> None:
    good = ppt_files["ppt"].read_bytes()
    truncated = tmp_path / "截断.ppt"
    truncated.write_bytes(good[: len(good) // 3])
    assert load_error(truncated).startswith("not a valid PowerPoint 97–2003 .ppt (damaged compound file")
    # The slides' stream zeroed inside an intact compound file: only LibreOffice can find out, and says so.
    import olefile

    with olefile.OleFileIO(str(ppt_files["ppt"])) as ole:
        slides = ole.openstream("PowerPoint Document").read()
    start = good.index(slides[:4096])
    zeroed = tmp_path / "内容损坏.ppt"
    zeroed.write_bytes(good[:start] + bytes(len(slides)) + good[start + len(slides) :])
    assert load_error(zeroed) == (
        "cannot read this PowerPoint 97–2003 .ppt: LibreOffice could not open it (damaged or password-protected); "
        + RESAVE
    )
    # LibreOffice cannot save a .ppt with a password; PowerPoint marks one in the Current User atom, as here.
    assert good.count(PLAIN_ATOM) == 1
    protected = tmp_path / "加密.ppt"
    at = good.index(PLAIN_ATOM) + 12
    protected.write_bytes(good[:at] + ENCRYPTED_TOKEN + good[at + 4 :])
    monkeypatch.setenv("ASSISTANT_SOFFICE", "no-such-soffice")  # proves LibreOffice is not needed to tell
    assert load_error(protected) == PASSWORD


@needs_impress
def test_a_ppt_under_another_office_name_says_to_rename_it(ppt_files, tmp_path: Path) -> None:
    as_pptx = tmp_path / "汇报.pptx"
    shutil.copy(ppt_files["ppt"], as_pptx)
    assert load_error(as_pptx) == "not a .pptx: the file is a PowerPoint 97–2003 deck named .pptx; rename it .ppt"
    as_xls = tmp_path / "汇报.xls"
    shutil.copy(ppt_files["ppt"], as_xls)
    assert (
        load_error(as_xls) == "not an Excel workbook: the file is a PowerPoint 97–2003 deck named .xls; rename it .ppt"
    )


@needs_impress
def test_a_ppt_without_text(ppt_files) -> None:
    assert load_error(ppt_files["empty"]) == "no text found: the presentation's slides have no text (pictures only?)"


# --------------------------------------------------------------------------- LibreOffice or Impress missing


def _program_folder(root: Path, *libraries: str) -> Path:
    """A LibreOffice program folder laid out as Debian's, with only the given libraries, and a launcher that
    records that it was started (it must not be, when Impress is missing)."""
    program = root / "program"
    program.mkdir(parents=True)
    (program / "soffice.bin").write_bytes(b"")
    for name in libraries:
        (program / name).write_bytes(b"")
    launcher = program / "soffice"
    launcher.write_text(f"#!/bin/sh\ntouch {root / 'started'}\nexit 1\n", encoding="utf-8")
    launcher.chmod(0o755)
    return launcher


def test_impress_is_found_by_its_libraries_next_to_soffice_bin(tmp_path: Path) -> None:
    assert impress_installed(str(_program_folder(tmp_path / "full", "libslideshowlo.so", "libsdfiltlo.so"))) is True
    assert impress_installed(str(_program_folder(tmp_path / "writer-only", "libswlo.so"))) is False
    assert impress_installed(str(_program_folder(tmp_path / "no-draw", "libslideshowlo.so"))) is False
    wrapper = tmp_path / "bin" / "soffice"  # a launcher outside any program folder: cannot tell
    wrapper.parent.mkdir()
    wrapper.write_text("#!/bin/sh\nexit 1\n", encoding="utf-8")
    wrapper.chmod(0o755)
    assert impress_installed(str(wrapper)) is None
    linked = tmp_path / "link-to-soffice"  # /usr/bin/soffice is a link into the program folder
    linked.symlink_to(tmp_path / "writer-only" / "program" / "soffice")
    assert impress_installed(str(linked)) is False


def test_missing_impress_says_what_to_install_without_starting_libreoffice(tmp_path: Path, monkeypatch) -> None:
    launcher = _program_folder(tmp_path, "libswlo.so", "libsclo.so")  # Writer and Calc, no Impress
    monkeypatch.setenv("ASSISTANT_SOFFICE", str(launcher))
    with pytest.raises(LoadError) as info:
        convert([(".ppt", b"\xd0\xcf\x11\xe0")], "pptx")
    reason = str(info.value)
    assert reason.startswith("reading this format needs LibreOffice Impress, which is not installed")
    assert "apt-get install --no-install-recommends libreoffice-impress-nogui" in reason
    assert not (tmp_path / "started").exists()


def test_missing_libreoffice_says_to_install_impress(monkeypatch) -> None:
    monkeypatch.setenv("ASSISTANT_SOFFICE", "no-such-soffice")
    with pytest.raises(LoadError) as info:
        convert([(".ppt", b"\xd0\xcf\x11\xe0")], "pptx")
    assert str(info.value).startswith("reading this format needs LibreOffice with Impress, which is not installed")
    assert "libreoffice-impress-nogui" in str(info.value)


@needs_impress
def test_a_real_ppt_without_impress_gets_the_install_hint(ppt_files, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ASSISTANT_SOFFICE", str(_program_folder(tmp_path, "libswlo.so")))
    reason = load_error(ppt_files["ppt"])
    assert reason.startswith("reading this format needs LibreOffice Impress") and "libreoffice-impress-nogui" in reason


# --------------------------------------------------------------------------- batching and safety


@needs_impress
def test_ppt_files_share_a_libreoffice_start_and_word_files_get_their_own(ppt_files, loaded_ppt, tmp_path) -> None:
    soffice_convert("doc", tmp_path, notice_docx(tmp_path / "通知.docx"))
    word = tmp_path / "通知.doc"
    with preconverted([ppt_files["ppt"], word, ppt_files["empty"]]) as batch:
        raw = load(ppt_files["ppt"])
        assert batch.starts == 1  # both .ppt files converted in that one start
        assert load(word).format == "doc"
        with pytest.raises(LoadError, match="^no text found"):
            load(ppt_files["empty"])
    assert batch.starts == 2  # one start per target format: .pptx, then .docx
    assert raw == loaded_ppt


@needs_impress
def test_libreoffice_does_not_fetch_what_a_ppt_links_to(tmp_path: Path) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        port = server.getsockname()[1]
        # Saved while nothing listens (the link is refused), so only the conversion under test could connect.
        soffice_convert(
            "ppt", tmp_path, odp_linking_an_image(tmp_path / "外链.odp", f"http://127.0.0.1:{port}/track.png")
        )
        linked = tmp_path / "外链.ppt"
        assert "track.png".encode("utf-16-le") in linked.read_bytes()  # the .ppt keeps the link
        server.listen(5)
        server.settimeout(0.5)
        raw = load(linked)
        assert raw.parts[0].text == f"# 第1页\n{LEADER}"
        with pytest.raises(TimeoutError):  # a plain `soffice --convert-to pptx` sent "OPTIONS /track.png" here
            server.accept()


# --------------------------------------------------------------------------- end to end


@needs_impress
def test_ppt_answers_questions_with_slide_citations_in_a_real_knowledge_base(ppt_files, tmp_path, fresh_kb) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(ppt_files["ppt"], folder / "汇报.ppt")
    kb = fresh_kb
    report = kb.ingest([folder])
    assert report.failed == [] and [Path(s).name for s in report.added] == ["汇报.ppt"]
    (doc,) = kb.documents()
    assert doc.title == "2024年安全生产工作汇报"

    # The rate is only in the speaker notes of slide 2.
    answer = kb.ask("隐患整改率达到了多少？")
    assert not answer.refused
    cited = [c for c in answer.citations if "91.8%" in c.quote]
    assert cited and all(c.source.endswith("汇报.ppt") and c.page == 2 for c in cited)

    answer = kb.ask("西湖区发现了多少处隐患？")
    assert not answer.refused
    assert any("西湖区" in c.quote and "12" in c.quote and c.page == 2 for c in answer.citations)
