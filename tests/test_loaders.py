"""Tests for ingest.loaders on real files written with the real libraries (python-docx, pypdf)."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path
from typing import Any

import docx
import pytest
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader, PdfWriter

from ingest import loaders
from ingest.loaders import (
    SUPPORTED_SUFFIXES,
    LoadError,
    OcrOptions,
    Part,
    RawDocument,
    decode_bytes,
    discover,
    load,
)

NOTICE = "关于进一步加强机关保密工作的通知\n各处室、直属单位：\n为贯彻落实《保密法》，现就有关事项通知如下。\n"


def _load_error(path: Path, **kwargs: Any) -> str:
    with pytest.raises(LoadError) as info:
        load(path, **kwargs)
    return str(info.value)


# --------------------------------------------------------------------------- PDF fixtures


def make_pdf(pages: list[str | None], title: str | None = None) -> bytes:
    """A minimal valid PDF, one page per entry (None = blank page), Helvetica text."""
    objs: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    }
    page_ids = [4 + 2 * i for i in range(len(pages))]
    kids = b" ".join(b"%d 0 R" % i for i in page_ids)
    objs[2] = b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % len(pages)
    for pid, text in zip(page_ids, pages):
        stream = b""
        if text:
            escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            stream = b"BT /F1 18 Tf 72 720 Td (" + escaped.encode("ascii") + b") Tj ET"
        objs[pid] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (pid + 1)
        )
        objs[pid + 1] = b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream"
    info_ref = b""
    if title is not None:
        info_id = max(objs) + 1
        objs[info_id] = b"<< /Title (" + title.encode("ascii") + b") >>"
        info_ref = b" /Info %d 0 R" % info_id
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    for oid in sorted(objs):
        offsets[oid] = len(out)
        out += b"%d 0 obj\n" % oid + objs[oid] + b"\nendobj\n"
    xref = len(out)
    size = max(objs) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for oid in range(1, size):
        out += b"%010d 00000 n \n" % offsets[oid]
    out += b"trailer\n<< /Size %d /Root 1 0 R" % size + info_ref + b" >>\n"
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def encrypt_pdf(data: bytes, user_password: str, owner_password: str | None) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    # RC4 works with pypdf alone; AES would need the 'cryptography' package.
    writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm="RC4-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


# --------------------------------------------------------------------------- text files and decoding


def test_gb18030_txt_comes_out_as_chinese(tmp_path: Path) -> None:
    path = tmp_path / "通知.txt"
    path.write_bytes(NOTICE.encode("gb18030"))
    doc = load(path)
    assert doc == RawDocument(path.resolve(), "txt", None, [Part(NOTICE, None)], "gb18030")


def test_gbk_with_gb18030_only_character(tmp_path: Path) -> None:
    # "€" and the rare 䶮 exist only in GB18030, which GB2312/GBK files often contain anyway.
    text = "经费预算：100€，人名：刘䶮。\n" + NOTICE
    path = tmp_path / "a.txt"
    path.write_bytes(text.encode("gb18030"))
    assert load(path).parts[0].text == text


def test_utf8_bom_is_stripped(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes(NOTICE.encode("utf-8-sig"))
    doc = load(path)
    assert doc.parts[0].text == NOTICE
    assert not doc.parts[0].text.startswith("\ufeff")
    assert doc.encoding == "utf-8-sig"


def test_utf16_le_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "u16.txt"
    path.write_bytes(b"\xff\xfe" + NOTICE.encode("utf-16-le"))
    doc = load(path)
    assert doc.parts[0].text == NOTICE
    assert doc.encoding == "utf-16"


def test_utf16_without_bom_is_recognised_from_nul_pattern() -> None:
    # Contains 一 (U+4E00), whose low byte is zero: NULs are not all at one parity.
    text = "第一条 总则\r\n第二条 适用范围 Scope 2024\r\n" * 3
    assert decode_bytes(text.encode("utf-16-le")) == (text, "utf-16-le")
    assert decode_bytes(text.encode("utf-16-be")) == (text, "utf-16-be")


def test_plain_utf8_and_ascii() -> None:
    assert decode_bytes(NOTICE.encode()) == (NOTICE, "utf-8")
    assert decode_bytes(b"plain ascii\n") == ("plain ascii\n", "utf-8")


def test_binary_junk_renamed_txt(tmp_path: Path) -> None:
    path = tmp_path / "photo.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    assert _load_error(path).startswith("binary file, not text")


def test_binary_without_nul_bytes_is_still_binary() -> None:
    junk = bytes(b for b in range(1, 256)) * 4
    with pytest.raises(LoadError, match="^binary file, not text"):
        decode_bytes(junk)


@pytest.mark.parametrize("content", [b"", b"   \n\t\r\n", b"\xef\xbb\xbf", "\u3000\u3000\n".encode()])
def test_empty_or_whitespace_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    assert _load_error(path).startswith("empty file")


def test_latin1_text_cannot_be_decoded_rather_than_garbled() -> None:
    with pytest.raises(LoadError, match="^cannot decode: not UTF-8, UTF-16 or GB18030"):
        decode_bytes("Café crème, naïve résumé, Noël".encode("latin-1"))


def test_damaged_utf8_is_reported_not_read_as_gb18030() -> None:
    data = NOTICE.encode() + b"\xff" + NOTICE.encode() * 3
    with pytest.raises(LoadError, match="^cannot decode: looks like UTF-8"):
        decode_bytes(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_decode_bytes_is_strict_or_refuses(data: bytes) -> None:
    # Whatever the bytes, the answer is exact text (re-decodable with the named codec) or a LoadError.
    try:
        text, encoding = decode_bytes(data)
    except LoadError:
        return
    assert data.decode(encoding) == text
    assert text.strip()


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1).filter(lambda t: t.strip()))
def test_utf8_text_round_trips(text: str) -> None:
    assert decode_bytes(text.encode("utf-8")) == (text, "utf-8")
    assert decode_bytes(text.encode("utf-8-sig")) == (text, "utf-8-sig")
    assert decode_bytes(text.encode("utf-16")) == (text, "utf-16")


def test_markdown_kept_verbatim_with_title_from_first_h1(tmp_path: Path) -> None:
    text = "```bash\n# 这是注释不是标题\n```\n\n## 小节\n\n# 公文处理办法\n\n正文第一段。\n"
    path = tmp_path / "办法.MD"
    path.write_text(text, encoding="utf-8")
    doc = load(path)
    assert doc.format == "md"
    assert doc.title == "公文处理办法"
    assert doc.parts == [Part(text, None)]


def test_markdown_without_h1_has_no_title(tmp_path: Path) -> None:
    path = tmp_path / "notes.markdown"
    path.write_text("## 只有二级标题\n内容\n", encoding="utf-8")
    assert load(path).title is None


# --------------------------------------------------------------------------- docx


def _sample_docx(path: Path, title: str | None = "档案管理通知") -> None:
    document = docx.Document()
    if title is not None:
        document.core_properties.title = title
    document.add_heading("关于加强档案管理的通知", level=1)
    document.add_paragraph("各单位：现将有关事项通知如下。")
    table = document.add_table(rows=3, cols=3)
    table.cell(0, 0).merge(table.cell(0, 1)).text = "联系方式"
    table.cell(0, 2).text = "备注"
    for col, value in enumerate(["单位", "联系人", "电话"]):
        table.cell(1, col).text = value
    for col, value in enumerate(["办公室", "张三", "1234"]):
        table.cell(2, col).text = value
    document.add_paragraph("表格之后的段落。")
    document.styles.add_style("标题 2", WD_STYLE_TYPE.PARAGRAPH)
    document.add_paragraph("一、工作要求", style="标题 2")
    document.add_paragraph("按时归档。")
    document.save(str(path))


def test_docx_headings_paragraphs_and_table_in_document_order(tmp_path: Path) -> None:
    path = tmp_path / "通知.docx"
    _sample_docx(path)
    doc = load(path)
    assert doc.format == "docx"
    assert doc.title == "档案管理通知"
    assert doc.encoding is None
    assert doc.parts == [
        Part(
            "# 关于加强档案管理的通知\n"
            "各单位：现将有关事项通知如下。\n"
            "联系方式 | 备注\n"  # the merged cell appears once
            "单位 | 联系人 | 电话\n"
            "办公室 | 张三 | 1234\n"
            "表格之后的段落。\n"
            "## 一、工作要求\n"
            "按时归档。",
            None,
        )
    ]


def test_docx_without_title_metadata_has_no_title(tmp_path: Path) -> None:
    path = tmp_path / "无题.docx"
    _sample_docx(path, title=None)
    assert load(path).title is None


def test_docx_title_style_and_tracked_changes(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_heading("年度工作总结", level=0)  # the "Title" style
    paragraph = document.add_paragraph("保留")
    # An unaccepted tracked insertion is part of the text, a tracked deletion is not.
    paragraph._p.append(
        parse_xml(f'<w:ins {nsdecls("w")} w:id="1" w:author="a"><w:r><w:t>新增内容</w:t></w:r></w:ins>')
    )
    paragraph._p.append(
        parse_xml(f'<w:del {nsdecls("w")} w:id="2" w:author="a"><w:r><w:delText>删除内容</w:delText></w:r></w:del>')
    )
    path = tmp_path / "总结.docx"
    document.save(str(path))
    assert load(path).parts[0].text == "# 年度工作总结\n保留新增内容"


@pytest.mark.parametrize(
    "content",
    [b"this is not a zip at all", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600],  # junk, an old .doc
)
def test_corrupt_docx(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "坏文件.docx"
    path.write_bytes(content)
    message = _load_error(path)
    assert message.startswith("not a valid .docx (bad zip")
    assert "save it as .docx" in message


def test_truncated_docx(tmp_path: Path) -> None:
    path = tmp_path / "cut.docx"
    _sample_docx(path)
    path.write_bytes(path.read_bytes()[:2000])
    assert _load_error(path).startswith("not a valid .docx")


def test_zip_that_is_not_a_word_document(tmp_path: Path) -> None:
    path = tmp_path / "table.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    assert "no Word document inside" in _load_error(path)


def test_docx_zip_bomb_is_refused_before_unpacking(tmp_path: Path) -> None:
    path = tmp_path / "bomb.docx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\0" * (20 * 1024 * 1024))
    assert path.stat().st_size < 100_000
    message = _load_error(path, max_uncompressed_bytes=5 * 1024 * 1024)
    assert message.startswith("refused .docx: it would unpack to 20.0 MB, above the limit of 5.0 MB")
    assert "zip bomb" in message


# --------------------------------------------------------------------------- pdf


def test_pdf_one_part_per_page_with_page_numbers(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(make_pdf(["Annual report page one", "Budget (second page)"], title="Annual Report 2024"))
    doc = load(path)
    assert doc.format == "pdf"
    assert doc.title == "Annual Report 2024"
    assert doc.encoding is None
    assert [(p.page, p.text.strip()) for p in doc.parts] == [
        (1, "Annual report page one"),
        (2, "Budget (second page)"),
    ]


def test_pdf_blank_pages_are_omitted(tmp_path: Path) -> None:
    path = tmp_path / "mixed.pdf"
    path.write_bytes(make_pdf([None, "Only the second page has text", None]))
    doc = load(path)
    assert doc.title is None
    assert [p.page for p in doc.parts] == [2]


def test_pdf_without_text_layer(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(make_pdf([None, None]))
    # Blank pages are seen to be blank after rendering: no OCR engine is loaded for them.
    assert _load_error(path).startswith("PDF has no text layer and OCR found no text on its pages")
    assert _load_error(path, ocr=OcrOptions(enabled=False)).startswith(
        "PDF has no text layer (scanned?) and OCR is turned off; turn OCR on with ASSISTANT_OCR=true"
    )


def test_encrypted_pdf_needs_password(tmp_path: Path) -> None:
    path = tmp_path / "secret.pdf"
    path.write_bytes(encrypt_pdf(make_pdf(["Confidential"]), "secret", None))
    message = _load_error(path)
    assert message.startswith("encrypted PDF")
    assert "decrypt it first" in message


def test_pdf_with_owner_password_only_is_read(tmp_path: Path) -> None:
    # "Encrypted" only to restrict editing: the empty user password opens it.
    path = tmp_path / "restricted.pdf"
    path.write_bytes(encrypt_pdf(make_pdf(["Restricted but readable", "Page two"]), "", "owner"))
    doc = load(path)
    assert [(p.page, p.text.strip()) for p in doc.parts] == [(1, "Restricted but readable"), (2, "Page two")]


def test_aes_pdf_without_crypto_library_says_what_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pypdf.errors import DependencyError

    def needs_cryptography(self: PdfReader, password: str) -> None:
        raise DependencyError("cryptography>=3.1 is required for AES algorithm")

    monkeypatch.setattr(PdfReader, "decrypt", needs_cryptography)
    path = tmp_path / "aes.pdf"
    path.write_bytes(encrypt_pdf(make_pdf(["x"]), "", "owner"))
    message = _load_error(path)
    assert message.startswith("encrypted PDF")
    assert "cryptography" in message


@pytest.mark.parametrize("keep", [0.5, 0.1, 0.98])
def test_truncated_pdf(tmp_path: Path, keep: float) -> None:
    data = make_pdf(["Page one text", "Page two text"])
    path = tmp_path / "cut.pdf"
    path.write_bytes(data[: int(len(data) * keep)])
    assert _load_error(path).startswith("corrupt PDF")


def test_not_a_pdf_at_all(tmp_path: Path) -> None:
    path = tmp_path / "fake.pdf"
    path.write_bytes("这其实是一个文本文件".encode())
    assert _load_error(path).startswith("corrupt PDF")


# --------------------------------------------------------------------------- html

PAGE = """<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>关于印发《机关保密工作规定》的通知</title>
<style>p { color: red }</style><script>var hidden = "脚本内容";</script>
</head><body><!-- 注释 -->
<h1>机关保密工作规定</h1>
<p>第一条　为了加强
机关保密工作，制定本规定。</p>
<p>示例代码：&lt;script&gt;alert(1)&lt;/script&gt;</p>
<h2>第二章　职责</h2>
<ul><li>一、明确责任</li><li>二、加强监督</li></ul>
<table><tr><th>单位</th><th>联系人</th></tr><tr><td>办公室</td><td>张三</td></tr></table>
第一行<br>第二行
<noscript>请启用脚本</noscript><template><p>模板</p></template>
</body></html>"""


def test_html_with_declared_gb2312_charset(tmp_path: Path) -> None:
    path = tmp_path / "notice.htm"
    path.write_bytes(PAGE.encode("gb18030"))
    doc = load(path)
    assert doc.format == "html"
    assert doc.encoding == "gb18030"
    assert doc.title == "关于印发《机关保密工作规定》的通知"
    assert doc.parts == [
        Part(
            "# 机关保密工作规定\n"
            "第一条　为了加强 机关保密工作，制定本规定。\n"
            "示例代码：<script>alert(1)</script>\n"  # escaped text comes out literally
            "## 第二章　职责\n"
            "一、明确责任\n"
            "二、加强监督\n"
            "单位 | 联系人\n"
            "办公室 | 张三\n"
            "第一行\n"
            "第二行",
            None,
        )
    ]
    for hidden in ("脚本内容", "color", "注释", "请启用脚本", "模板"):
        assert hidden not in doc.parts[0].text


def test_html_utf8_without_meta_and_title_from_h1(tmp_path: Path) -> None:
    path = tmp_path / "page.HTML"
    path.write_text("<body><h1>通知公告</h1><div>正文<b>加粗</b>内容</div></body>", encoding="utf-8")
    doc = load(path)
    assert doc.title == "通知公告"
    assert doc.encoding == "utf-8"
    assert doc.parts[0].text == "# 通知公告\n正文加粗内容"


def test_html_that_lies_about_its_charset(tmp_path: Path) -> None:
    path = tmp_path / "lie.html"
    path.write_bytes('<meta charset="utf-8"><p>实际上是GBK编码的网页</p>'.encode("gbk"))
    doc = load(path)
    assert doc.parts[0].text == "实际上是GBK编码的网页"
    assert doc.encoding == "gb18030"


def test_html_with_unclosed_head_keeps_body(tmp_path: Path) -> None:
    path = tmp_path / "sloppy.html"
    path.write_text("<html><head><title>标题</title><body><p>正文仍然保留</p>", encoding="utf-8")
    doc = load(path)
    assert doc.title == "标题"
    assert doc.parts[0].text == "正文仍然保留"


def test_html_placeholder_title_is_not_a_title(tmp_path: Path) -> None:
    path = tmp_path / "x.html"
    path.write_text("<title>无标题文档</title><p>内容</p>", encoding="utf-8")
    assert load(path).title is None


# --------------------------------------------------------------------------- load(): limits and errors


def test_file_too_large_is_refused_without_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"a" * (3 * 1024 * 1024))

    def no_open(self: Path, *args: object, **kwargs: object) -> object:
        raise AssertionError("the file must not be opened")

    monkeypatch.setattr(Path, "open", no_open)
    message = _load_error(path, max_bytes=2 * 1024 * 1024)
    assert message.startswith("file too large: 3.0 MB > limit 2.0 MB")
    assert "ASSISTANT_MAX_FILE_MB" in message


def test_default_size_limit_is_50_mb() -> None:
    assert loaders.DEFAULT_MAX_BYTES == 50 * 1024 * 1024
    assert loaders.DEFAULT_MAX_UNCOMPRESSED_BYTES == 200 * 1024 * 1024


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "locked.txt"
    path.write_text(NOTICE, encoding="utf-8")
    real_open = Path.open

    def deny(self: Path, *args: object, **kwargs: object) -> object:
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "open", deny)
    assert _load_error(path).startswith("cannot read file: permission denied")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read anything")
def test_unreadable_file_real_permissions(tmp_path: Path) -> None:
    path = tmp_path / "locked.txt"
    path.write_text(NOTICE, encoding="utf-8")
    path.chmod(0)
    try:
        assert _load_error(path).startswith("cannot read file: permission denied")
    finally:
        path.chmod(0o600)


def test_unsupported_missing_and_folder(tmp_path: Path) -> None:
    assert _load_error(tmp_path / "clip.mp4").startswith("unsupported format .mp4 (supported: .doc, .docx, ")
    assert _load_error(tmp_path / "gone.txt").startswith("no such file")
    folder = tmp_path / "folder.txt"
    folder.mkdir()
    assert _load_error(folder).startswith("is a folder")


def test_suffix_is_case_insensitive_and_source_resolved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "README.TXT").write_text("说明", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    doc = load(Path("README.TXT"))
    assert doc.source == (tmp_path / "README.TXT").resolve()
    assert doc.source.is_absolute()
    assert doc.format == "txt"


# --------------------------------------------------------------------------- discover()


def _touch(path: Path, text: str = "内容") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_discover_walks_sorted_and_reports_skipped(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    b = _touch(root / "b.txt")
    a = _touch(root / "a.md")
    c = _touch(root / "sub" / "c.PDF")
    d = _touch(root / "sub" / "deeper" / "d.docx")
    e = _touch(root / "z.html")
    _touch(root / "视频.mp4")
    _touch(root / "Makefile")
    _touch(root / ".hidden.txt")
    _touch(root / ".git" / "notes.txt")
    _touch(root / "~$通知.docx")  # Word's lock file
    missing = tmp_path / "nope"

    found, skipped = discover([root, missing])
    assert found == [a, b, c, d, e]
    supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
    assert skipped == [
        (root / "Makefile", f"unsupported format: no file extension (supported: {supported})"),
        (root / "视频.mp4", f"unsupported format .mp4 (supported: {supported})"),
        (missing, "no such file or folder"),
    ]
    assert discover([root, missing]) == (found, skipped)  # deterministic


def test_discover_single_files_and_duplicates(tmp_path: Path) -> None:
    a = _touch(tmp_path / "a.txt")
    found, skipped = discover([a, tmp_path, a])
    assert found == [a]
    assert skipped == []


def test_discover_terminates_on_symlink_loops(tmp_path: Path) -> None:
    root = tmp_path / "root"
    f = _touch(root / "sub" / "f.txt")
    try:
        (root / "sub" / "back").symlink_to(root, target_is_directory=True)
        (root / "self").symlink_to(root / "self")
        (root / "dangling.txt").symlink_to(root / "missing.txt")
    except (OSError, NotImplementedError):
        pytest.skip("symlinks not available")
    found, skipped = discover([root])
    assert found == [f]
    reasons = dict(skipped)
    assert reasons[root / "dangling.txt"].startswith("broken link")
    assert root / "self" in reasons


def test_discover_follows_a_symlinked_folder_once(tmp_path: Path) -> None:
    real = tmp_path / "real"
    f = _touch(real / "f.txt")
    root = tmp_path / "root"
    root.mkdir()
    try:
        (root / "link1").symlink_to(real, target_is_directory=True)
        (root / "link2").symlink_to(real, target_is_directory=True)
    except (OSError, NotImplementedError):
        pytest.skip("symlinks not available")
    found, _ = discover([root, real])
    assert found == [root / "link1" / "f.txt"]
    assert f.resolve() == found[0].resolve()


def test_discover_unreadable_folder_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "root"
    ok = _touch(root / "a" / "ok.txt")
    _touch(root / "b" / "secret.txt")
    real_scandir = os.scandir

    def scandir(path: object) -> object:
        if Path(path) == root / "b":  # type: ignore[arg-type]
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)
    found, skipped = discover([root])
    assert found == [ok]
    assert skipped == [(root / "b", "cannot read folder: permission denied; check its permissions")]
