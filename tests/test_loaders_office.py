"""Office formats on files made by real tools: .doc/.wps/.odt written by LibreOffice, .xlsx by openpyxl and XlsxWriter, .pptx by python-pptx."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest

from ingest.chunking import chunk_document
from ingest.documents import prepare_documents
from ingest.loaders import LoadError, discover, load, preconverted
from ingest.loaders.soffice import convert_to_docx, find_soffice

TITLE = "关于开展2024年度安全生产检查的通知"
SCOPE = "本次检查覆盖全市危险化学品企业、烟花爆竹经营单位和粉尘涉爆企业，共计312家。"
LEADER = "重点检查去年发生过事故的企业，检查组由王建国同志任组长。"
RARE = "繁體字測試：臺灣、資訊。生僻字𠀀（扩展B）也要保留。"


def needs_soffice(test):
    """A test that runs LibreOffice: e2e (each start costs ~3 s), skipped where it is not installed."""
    missing = pytest.mark.skipif(find_soffice() is None, reason="LibreOffice is not installed (scripts/setup.sh)")
    return pytest.mark.e2e(missing(test))


def _notice_docx(path: Path, *, empty: bool = False) -> Path:
    import docx

    document = docx.Document()
    if not empty:
        document.core_properties.title = TITLE
        document.add_heading(TITLE, 0)
        document.add_paragraph("各区县应急管理局、市直有关单位：")
        document.add_heading("一、检查范围", 1)
        document.add_paragraph(SCOPE)
        document.add_heading("（一）重点对象", 2)
        document.add_paragraph(LEADER)
        table = document.add_table(rows=3, cols=3)
        for r, row in enumerate(
            [["姓名", "职务", "电话"], ["张三", "科长", "13800000000"], ["李四", "副科长", "13900000000"]]
        ):
            for c, value in enumerate(row):
                table.cell(r, c).text = value
        document.add_heading("二、时间安排", 1)
        document.add_paragraph("检查时间为2024年3月1日至3月31日。" + RARE)
    document.save(str(path))
    return path


def _soffice(target: str, outdir: Path, *sources: Path) -> None:
    """Have LibreOffice write `target` files (one start for all sources), with a profile of its own."""
    soffice = find_soffice()
    assert soffice is not None
    profile = (outdir / ".profile").as_uri()
    subprocess.run(
        [soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", target, "--outdir", str(outdir)]
        + [str(s) for s in sources],
        check=True,
        capture_output=True,
        timeout=180,
    )


# LibreOffice's own Python bridge saves a password-protected .doc (the command line cannot).
_ENCRYPT = textwrap.dedent(
    """
    import os, subprocess, sys, time, uno
    from com.sun.star.beans import PropertyValue
    soffice, src, dst, profile = sys.argv[1:5]
    pipe = "assistant-test-%d" % os.getpid()
    office = subprocess.Popen([soffice, "--headless", "--norestore", "-env:UserInstallation=" + profile,
                               "--accept=pipe,name=%s;urp;" % pipe], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    for _ in range(300):
        try:
            ctx = resolver.resolve("uno:pipe,name=%s;urp;StarOffice.ComponentContext" % pipe)
            break
        except Exception:
            time.sleep(0.2)
    desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    def prop(name, value):
        p = PropertyValue(); p.Name = name; p.Value = value; return p
    doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(src), "_blank", 0, (prop("Hidden", True),))
    doc.storeToURL(uno.systemPathToFileUrl(dst), (prop("FilterName", "MS Word 97"), prop("Password", "1234")))
    doc.close(True)
    try:
        desktop.terminate()
    except Exception:
        pass
    office.wait(timeout=60)
    """
)


def _gbk_rtf(text: str) -> bytes:
    """RTF as Chinese Word and WPS write it: code page 936 and each GBK byte as \\'xx (no \\u escapes)."""
    body = "".join(c if ord(c) < 128 else "".join(f"\\'{b:02x}" for b in c.encode("gbk")) for c in text)
    return (
        "{\\rtf1\\ansi\\ansicpg936\\deff0{\\fonttbl{\\f0\\fnil\\fcharset134 \\'cb\\'ce\\'cc\\'e5;}}"
        f"\\f0\\fs24 {body}\\par}}"
    ).encode("ascii")


@pytest.fixture(scope="session")
def word_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The notice as .doc (and an empty .doc) and as .odt, written by LibreOffice; .wps is the .doc renamed.

    LibreOffice cannot write Kingsoft's .wps; WPS itself saves Word-format content under .wps, which is
    what most offices hold, so the .doc renamed stands for it.
    """
    if find_soffice() is None:
        pytest.skip("LibreOffice is not installed (scripts/setup.sh)")
    folder = tmp_path_factory.mktemp("word")
    notice = _notice_docx(folder / "通知.docx")
    empty = _notice_docx(folder / "空白.docx", empty=True)
    _soffice("doc", folder, notice, empty)
    _soffice("odt", folder, notice)
    shutil.copy(folder / "通知.doc", folder / "通知.wps")
    (folder / "通知.rtf").write_bytes(_gbk_rtf(f"{TITLE}\\par {LEADER}"))
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
                _ENCRYPT,
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
    assert hashlib.sha256(skipped.read_bytes()).hexdigest() not in batch.done  # the skipped file was not converted


@needs_soffice
def test_doc_chunks_carry_the_heading_path(loaded) -> None:
    (doc,) = prepare_documents(loaded["doc"])
    assert doc.title == TITLE and doc.format == "doc"
    chunks = chunk_document(doc.doc_id, doc.text, size=120, overlap=0)
    leader = next(c for c in chunks if "王建国" in c.text)
    assert leader.section == "一、检查范围 > （一）重点对象"


@needs_soffice
def test_gbk_rtf_as_chinese_word_writes_it(loaded) -> None:
    raw = loaded["rtf"]
    assert raw.format == "rtf"
    assert raw.parts[0].text.split("\n") == [TITLE, LEADER]


def test_doc_that_is_really_a_docx_or_a_web_page_is_read_as_what_it_is(tmp_path: Path) -> None:
    # Office systems export "Word" files that are web pages; a .docx renamed .doc is common too.
    disguised = tmp_path / "通知.doc"
    shutil.copy(_notice_docx(tmp_path / "n.docx"), disguised)
    raw = load(disguised)
    assert raw.format == "doc" and "# 一、检查范围" in raw.parts[0].text
    page = tmp_path / "导出.doc"
    page.write_text(f"<html><head><title>{TITLE}</title></head><body><p>{LEADER}</p></body></html>", encoding="utf-8")
    raw = load(page)
    assert raw.format == "doc" and LEADER in raw.parts[0].text


def _load_error(path: Path) -> str:
    with pytest.raises(LoadError) as info:
        load(path)
    return str(info.value)


def test_bad_word_files_are_refused_with_what_to_do(tmp_path: Path) -> None:
    garbage = tmp_path / "乱码.doc"
    garbage.write_bytes(os.urandom(4096))
    assert _load_error(garbage).startswith("not a valid Word 97–2003 .doc: the file is not a Word/WPS document")
    assert "save it as .docx" in _load_error(garbage)
    text = tmp_path / "文本.wps"
    text.write_text("这只是一个文本文件", encoding="utf-8")
    assert _load_error(text).startswith("not a valid WPS .wps")
    damaged = tmp_path / "损坏.doc"
    damaged.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    assert _load_error(damaged).startswith("not a valid Word 97–2003 .doc (damaged compound file")
    rtf = tmp_path / "假.rtf"
    rtf.write_text("不是 RTF", encoding="utf-8")
    assert _load_error(rtf).startswith("not a valid .rtf: the file does not start with {\\rtf")
    odt = tmp_path / "坏.odt"
    odt.write_bytes(b"PK\x03\x04 not really a zip")
    assert _load_error(odt).startswith("not a valid .odt (bad zip")


@needs_soffice
def test_password_protected_doc_is_refused_before_libreoffice(word_files, monkeypatch) -> None:
    if "encrypted_doc" not in word_files:
        pytest.skip("python3-uno is needed to write a password-protected .doc (scripts/setup.sh --dev)")
    monkeypatch.setenv("ASSISTANT_SOFFICE", "no-such-soffice")  # proves LibreOffice is not needed to tell
    reason = _load_error(word_files["encrypted_doc"])
    assert reason.startswith("the document is password-protected; open it in Word/WPS with its password")


@needs_soffice
def test_doc_without_text_and_truncated_doc(word_files, tmp_path: Path) -> None:
    assert _load_error(word_files["empty_doc"]) == (
        "no text found: the Word 97–2003 .doc has no paragraphs or tables with text"
    )
    truncated = tmp_path / "截断.doc"
    truncated.write_bytes(word_files["doc"].read_bytes()[:5000])
    assert _load_error(truncated).startswith(("not a valid Word 97–2003 .doc", "cannot read this Word 97–2003 .doc"))


def _odt_linking_an_image(path: Path, url: str) -> Path:
    """A hostile .odt: one paragraph and an image that LibreOffice would fetch from `url` while loading."""
    ns = (
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
        'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
        'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" xmlns:xlink="http://www.w3.org/1999/xlink"'
    )
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns} office:version="1.2"><office:body>'
        f'<office:text><text:p>{LEADER}<draw:frame draw:name="i1" svg:width="2cm" svg:height="2cm">'
        f'<draw:image xlink:href="{url}" xlink:type="simple" xlink:show="embed" xlink:actuate="onLoad"/>'
        "</draw:frame></text:p></office:text></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text", compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", content)
        archive.writestr("META-INF/manifest.xml", manifest)
    return path


@needs_soffice
def test_libreoffice_does_not_fetch_what_a_document_links_to(tmp_path: Path) -> None:
    import socket

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(5)
        server.settimeout(0.5)
        port = server.getsockname()[1]
        raw = load(_odt_linking_an_image(tmp_path / "外链.odt", f"http://127.0.0.1:{port}/track.png"))
        assert raw.parts[0].text == LEADER
        with pytest.raises(TimeoutError):  # without the profile setting, LibreOffice sent "OPTIONS /track.png"
            server.accept()


def test_missing_libreoffice_says_how_to_install_it(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ASSISTANT_SOFFICE", "no-such-soffice")
    path = tmp_path / "通知.rtf"
    path.write_bytes(_gbk_rtf(TITLE))
    reason = _load_error(path)
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
        convert_to_docx([(".doc", b"x")], timeout=2)
    assert time.monotonic() - started < 30
    child = int(pid_file.read_text())
    for _ in range(50):
        if not Path(f"/proc/{child}").exists() or "Z" in Path(f"/proc/{child}/stat").read_text().split()[2]:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the converter's child process was left running")


# --------------------------------------------------------------------------- .xlsx


def _duty_workbook(path: Path) -> Path:
    """Two sheets as offices keep them: a merged title row, a header, a 部门 merged down, gaps, a formula."""
    import openpyxl

    book = openpyxl.Workbook()
    duty = book.active
    duty.title = "值班表"
    duty["B2"] = "2024年春节值班安排"
    duty.merge_cells("B2:E2")
    # row 3 left empty, column A left empty
    for column, name in zip("BCDE", ["部门", "姓名", "职务", "天数"]):
        duty[f"{column}4"] = name
    duty["B5"] = "办公室"
    duty.merge_cells("B5:B6")
    duty["C5"], duty["D5"], duty["E5"] = "张三", "科长", 3
    duty["C6"], duty["D6"], duty["E6"] = "李四", "副科长", 2.5
    duty["B7"], duty["C7"], duty["E7"] = "财务科", "王五", 1
    duty["C9"] = "合计"
    duty["E9"] = "=SUM(E5:E7)"
    phones = book.create_sheet("通讯录")
    phones.append(["单位", "电话"])
    phones.append(["市应急管理局", "0571-12345678"])
    book.create_sheet("空表")
    book.save(str(path))
    return path


def test_xlsx_sheets_rows_with_headers_and_merged_cells(tmp_path: Path) -> None:
    raw = load(_duty_workbook(tmp_path / "值班.xlsx"))
    assert raw.format == "xlsx" and raw.title == "2024年春节值班安排"
    assert raw.parts[0].text.split("\n") == [
        "# 值班表",
        "2024年春节值班安排",
        "部门：办公室，姓名：张三，职务：科长，天数：3。",
        "部门：办公室，姓名：李四，职务：副科长，天数：2.5。",  # 办公室 is merged down over both rows
        "部门：财务科，姓名：王五，天数：1。",
        # openpyxl saves formulas without a calculated value, and data_only reads only that value:
        # a workbook never opened in Excel/WPS has none, so the total is left out rather than guessed.
        "姓名：合计。",
        "# 通讯录",
        "单位：市应急管理局，电话：0571-12345678。",
    ]


@needs_soffice
def test_xlsx_formula_value_after_libreoffice_calc_saved_it(tmp_path: Path) -> None:
    # The workbook as it is once an office program has opened and saved it: the total is calculated.
    source = _duty_workbook(tmp_path / "值班.xlsx")
    saved = tmp_path / "saved"
    saved.mkdir()
    with contextlib.suppress(subprocess.CalledProcessError):  # without Calc, LibreOffice cannot load it
        _soffice("xlsx", saved, source)
    if not (saved / "值班.xlsx").exists():
        pytest.skip("LibreOffice Calc is not installed (apt-get install libreoffice-calc-nogui)")
    assert "姓名：合计，天数：6.5。" in load(saved / "值班.xlsx").parts[0].text.split("\n")


def test_xlsx_formula_reads_its_saved_value(tmp_path: Path) -> None:
    import datetime

    import xlsxwriter  # writes a formula together with its calculated value, as Excel does

    path = tmp_path / "经费.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("经费")
    sheet.write_row(0, 0, ["项目", "金额（万元）", "日期"])
    sheet.write_row(1, 0, ["培训", 12.5])
    sheet.write_datetime(1, 2, datetime.datetime(2024, 3, 1), book.add_format({"num_format": "yyyy-mm-dd"}))
    sheet.write_row(2, 0, ["差旅", 7.5])
    sheet.write(3, 0, "合计")
    sheet.write_formula(3, 1, "=SUM(B2:B3)", None, 20)
    book.close()
    lines = load(path).parts[0].text.split("\n")
    assert lines == [
        "# 经费",
        "项目：培训，金额（万元）：12.5，日期：2024-03-01。",
        "项目：差旅，金额（万元）：7.5。",
        "项目：合计，金额（万元）：20。",
    ]


def test_xlsx_chunks_are_filed_under_their_sheet(tmp_path: Path) -> None:
    (doc,) = prepare_documents(load(_duty_workbook(tmp_path / "值班.xlsx")))
    chunks = chunk_document(doc.doc_id, doc.text, size=60, overlap=0)
    phone = next(c for c in chunks if "0571" in c.text)
    assert phone.section == "通讯录"
    assert next(c for c in chunks if "王五" in c.text).section.startswith("值班表")


@pytest.mark.slow
def test_large_sheet_is_streamed_merged_ranges_included(tmp_path: Path) -> None:
    import openpyxl

    path = tmp_path / "台账.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["序号", "单位", "地址", "状态"])
    for i in range(1, 30_001):
        sheet.append([i, f"单位{i}", f"杭州市西湖区文三路{i}号", "已检查"])
    sheet["B30002"] = "末尾单位"
    sheet.merge_cells("B30002:B30003")  # the last rows: found after the whole sheet was scanned
    sheet["C30003"] = "最后一行"
    book.save(str(path))
    # Measured in a fresh process: reading the merged ranges with lxml's iterparse held the whole sheet
    # (+40 MB for these 30,000 rows, +480 MB for 50,000 wider ones); streamed, the growth is what the text needs.
    script = (
        "import resource, sys, openpyxl, pptx, docx; from pathlib import Path; from ingest.loaders import load; "
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; "
        "lines = load(Path(sys.argv[1])).parts[0].text.split('\\n'); "
        "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024); print(lines[-1])"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    ).stdout.split("\n")
    assert out[1] == "单位：末尾单位，地址：最后一行。"
    assert int(out[0]) < 20, f"reading grew the process by {out[0]} MB"


def test_bad_xlsx_files(tmp_path: Path) -> None:
    import openpyxl

    corrupt = tmp_path / "损坏.xlsx"
    corrupt.write_bytes(b"PK\x03\x04 broken")
    assert _load_error(corrupt).startswith("not a valid .xlsx (bad zip")
    assert "save it again as .xlsx" in _load_error(corrupt)
    protected = tmp_path / "加密.xlsx"
    protected.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    assert _load_error(protected).startswith("the workbook is password-protected or an old Excel 97–2003 .xls")
    wrong = tmp_path / "其实是文档.xlsx"
    shutil.copy(_notice_docx(tmp_path / "n.docx"), wrong)
    assert _load_error(wrong).startswith("not a valid .xlsx: no Excel workbook inside the zip")
    empty = tmp_path / "空.xlsx"
    book = openpyxl.Workbook()
    book.create_sheet("Sheet2")
    book.save(str(empty))
    assert _load_error(empty) == "no text found: the workbook's sheets have no cells with values"


# --------------------------------------------------------------------------- .pptx


def _deck(path: Path) -> Path:
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    deck.core_properties.title = "2024年安全生产工作汇报"
    first = deck.slides.add_slide(deck.slide_layouts[0])
    first.shapes.title.text = "2024年安全生产工作汇报"
    first.placeholders[1].text = "市应急管理局"
    second = deck.slides.add_slide(deck.slide_layouts[5])  # title only
    second.shapes.title.text = "检查结果"
    box = second.shapes.add_textbox(Inches(0.5), Inches(1.5), Inches(9), Inches(1))
    box.text_frame.text = "共检查企业312家，发现隐患85处。"
    box.text_frame.add_paragraph().text = "已整改78处。"
    table = second.shapes.add_table(3, 2, Inches(0.5), Inches(3), Inches(6), Inches(1.5)).table
    for r, row in enumerate([["区县", "隐患数"], ["西湖区", "12"], ["上城区", "9"]]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    second.notes_slide.notes_text_frame.text = "整改率达到91.8%，剩余隐患限期一个月内完成。"
    third = deck.slides.add_slide(deck.slide_layouts[6])  # blank: no title
    third.shapes.add_textbox(Inches(1), Inches(1), Inches(8), Inches(1)).text_frame.text = "谢谢！"
    deck.slides.add_slide(deck.slide_layouts[6])  # an empty slide
    deck.save(str(path))
    return path


def test_pptx_slides_are_pages_with_titles_tables_and_notes(tmp_path: Path) -> None:
    raw = load(_deck(tmp_path / "汇报.pptx"))
    assert raw.format == "pptx" and raw.title == "2024年安全生产工作汇报"
    assert [p.page for p in raw.parts] == [1, 2, 3]  # the empty fourth slide has nothing to index
    assert raw.parts[0].text == "# 2024年安全生产工作汇报\n市应急管理局"
    assert raw.parts[1].text.split("\n") == [
        "# 检查结果",
        "共检查企业312家，发现隐患85处。",
        "已整改78处。",
        "区县：西湖区，隐患数：12。",
        "区县：上城区，隐患数：9。",
        "备注：整改率达到91.8%，剩余隐患限期一个月内完成。",
    ]
    assert raw.parts[2].text == "# 第3页\n谢谢！"


def test_pptx_chunks_keep_slide_numbers_and_titles(tmp_path: Path) -> None:
    (doc,) = prepare_documents(load(_deck(tmp_path / "汇报.pptx")))
    chunks = chunk_document(doc.doc_id, doc.text, size=80, overlap=0, page_starts=doc.page_starts)
    notes = next(c for c in chunks if "整改率" in c.text)
    assert (notes.page, notes.section) == (2, "检查结果")
    assert next(c for c in chunks if "谢谢" in c.text).page == 3


def test_bad_pptx_files(tmp_path: Path) -> None:
    from pptx import Presentation

    corrupt = tmp_path / "损坏.pptx"
    corrupt.write_bytes(b"garbage bytes, not a zip")
    assert _load_error(corrupt).startswith("not a valid .pptx (bad zip")
    empty = tmp_path / "空.pptx"
    deck = Presentation()
    deck.slides.add_slide(deck.slide_layouts[6])
    deck.save(str(empty))
    assert _load_error(empty).startswith("no text found: the presentation's slides have no text")
    with zipfile.ZipFile(empty) as archive:
        assert "ppt/presentation.xml" in archive.namelist()  # a real deck, refused only for having no text


# --------------------------------------------------------------------------- listed everywhere


def test_new_formats_are_discovered_and_uploadable(tmp_path: Path) -> None:
    from assistant.app.ui.uploads import UPLOAD_TYPES  # imports Gradio (seconds): only here

    names = ["a.doc", "b.WPS", "c.rtf", "d.odt", "e.xlsx", "f.pptx"]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    found, skipped = discover([tmp_path])
    assert [p.name for p in found] == names and skipped == []
    assert {".doc", ".wps", ".rtf", ".odt", ".xlsx", ".pptx"} <= set(UPLOAD_TYPES)


# --------------------------------------------------------------------------- end to end


@needs_soffice
def test_doc_and_xlsx_answer_questions_in_a_real_knowledge_base(word_files, tmp_path: Path, e5_embedder) -> None:
    from conftest import models_dir

    from assistant.api import Assistant
    from assistant.settings import Settings

    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(word_files["doc"], folder / "通知.doc")
    _duty_workbook(folder / "值班.xlsx")
    kb = Assistant(Settings.load(tmp_path / "home", models=str(models_dir())), embedder=e5_embedder)
    try:
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
    finally:
        kb.close()
