"""Office test files made by real tools (python-docx, LibreOffice, openpyxl, xlwt, python-pptx) and the checks they share."""

from __future__ import annotations

import subprocess
import textwrap
import zipfile
from pathlib import Path

import pytest

from ingest.loaders import LoadError, load
from ingest.loaders.soffice import find_soffice, impress_installed

TITLE = "关于开展2024年度安全生产检查的通知"
SCOPE = "本次检查覆盖全市危险化学品企业、烟花爆竹经营单位和粉尘涉爆企业，共计312家。"
LEADER = "重点检查去年发生过事故的企业，检查组由王建国同志任组长。"
RARE = "繁體字測試：臺灣、資訊。生僻字𠀀（扩展B）也要保留。"


def needs_soffice(test):
    """A test that runs LibreOffice: e2e (each start costs ~3 s), skipped where it is not installed."""
    missing = pytest.mark.skipif(find_soffice() is None, reason="LibreOffice is not installed (scripts/setup.sh)")
    return pytest.mark.e2e(missing(test))


def needs_impress(test):
    """A test that has LibreOffice Impress convert .ppt: e2e, skipped where LibreOffice or its Impress part is missing."""
    soffice = find_soffice()
    missing = pytest.mark.skipif(
        soffice is None or impress_installed(soffice) is False,
        reason="LibreOffice Impress is not installed (scripts/setup.sh installs libreoffice-impress-nogui)",
    )
    return pytest.mark.e2e(missing(test))


def notice_docx(path: Path, *, empty: bool = False) -> Path:
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


def soffice_convert(target: str, outdir: Path, *sources: Path) -> None:
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


# LibreOffice's own Python bridge saves a password-protected .doc (the command line cannot); an optional
# fifth argument names another export filter ("MS Excel 97" for a .xls, which needs LibreOffice Calc).
ENCRYPT_SCRIPT = textwrap.dedent(
    """
    import os, subprocess, sys, time, uno
    from com.sun.star.beans import PropertyValue
    soffice, src, dst, profile = sys.argv[1:5]
    export_filter = sys.argv[5] if len(sys.argv) > 5 else "MS Word 97"
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
    doc.storeToURL(uno.systemPathToFileUrl(dst), (prop("FilterName", export_filter), prop("Password", "1234")))
    doc.close(True)
    try:
        desktop.terminate()
    except Exception:
        pass
    office.wait(timeout=60)
    """
)


def gbk_rtf(text: str) -> bytes:
    """RTF as Chinese Word and WPS write it: code page 936 and each GBK byte as \\'xx (no \\u escapes)."""
    body = "".join(c if ord(c) < 128 else "".join(f"\\'{b:02x}" for b in c.encode("gbk")) for c in text)
    return (
        "{\\rtf1\\ansi\\ansicpg936\\deff0{\\fonttbl{\\f0\\fnil\\fcharset134 \\'cb\\'ce\\'cc\\'e5;}}"
        f"\\f0\\fs24 {body}\\par}}"
    ).encode("ascii")


def password_protected_copy(source: Path, target: Path, export_filter: str) -> Path:
    """`source` saved by LibreOffice with the password 1234 (ENCRYPT_SCRIPT); skips the test where that cannot be done."""
    uno_python = "/usr/bin/python3"  # Debian's python3 has LibreOffice's bridge (python3-uno); the venv does not
    soffice = find_soffice()
    if (
        soffice is None
        or not Path(uno_python).exists()
        or subprocess.run([uno_python, "-c", "import uno"], capture_output=True).returncode != 0
    ):
        pytest.skip("LibreOffice or its Python bridge is not installed (scripts/setup.sh --dev)")
    done = subprocess.run(
        [uno_python, "-c", ENCRYPT_SCRIPT, soffice, str(source), str(target), (target.parent / ".uno").as_uri()]
        + [export_filter],
        capture_output=True,
        timeout=180,
    )
    if done.returncode != 0 or not target.exists():
        pytest.skip(
            f"LibreOffice could not save with {export_filter!r} (for .xls: apt-get install libreoffice-calc-nogui)"
        )
    return target


def load_error(path: Path) -> str:
    with pytest.raises(LoadError) as info:
        load(path)
    return str(info.value)


# The OpenDocument namespaces the hostile .odt and .odp below use.
_ODF_NAMESPACES = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
    'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" xmlns:xlink="http://www.w3.org/1999/xlink"'
)


def odt_linking_an_image(path: Path, url: str) -> Path:
    """A hostile .odt: one paragraph and an image that LibreOffice would fetch from `url` while loading."""
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODF_NAMESPACES} office:version="1.2"><office:body>'
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


def duty_workbook(path: Path) -> Path:
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


def duty_workbook_xls(path: Path) -> Path:
    """duty_workbook as an Excel 97–2003 .xls (xlwt writes BIFF8, as Excel and WPS do): the same cells, merges and formula."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    duty = book.add_sheet("值班表")  # rows and columns count from 0: B2 is (1, 1)
    duty.write_merge(1, 1, 1, 4, "2024年春节值班安排")  # B2:E2
    for column, name in enumerate(["部门", "姓名", "职务", "天数"], 1):
        duty.write(3, column, name)
    duty.write_merge(4, 5, 1, 1, "办公室")  # B5:B6
    for row, values in ((4, ["张三", "科长", 3]), (5, ["李四", "副科长", 2.5]), (6, ["王五", None, 1])):
        for column, value in enumerate(values, 2):
            if value is not None:
                duty.write(row, column, value)
    duty.write(6, 1, "财务科")
    duty.write(8, 2, "合计")
    duty.write(8, 4, xlwt.Formula("SUM(E5:E7)"))  # xlwt, like openpyxl, saves no calculated value
    phones = book.add_sheet("通讯录")
    for column, (name, value) in enumerate([("单位", "市应急管理局"), ("电话", "0571-12345678")]):
        phones.write(0, column, name)
        phones.write(1, column, value)
    book.add_sheet("空表")
    book.save(str(path))
    return path


def deck(path: Path) -> Path:
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


def odp_linking_an_image(path: Path, url: str) -> Path:
    """A hostile presentation (.odp, for LibreOffice to save as .ppt): one slide of text and an image linked from `url`."""
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODF_NAMESPACES} office:version="1.2"><office:body>'
        '<office:presentation><draw:page draw:name="p1">'
        f'<draw:frame svg:x="1cm" svg:y="1cm" svg:width="20cm" svg:height="2cm"><draw:text-box><text:p>{LEADER}</text:p>'
        '</draw:text-box></draw:frame><draw:frame svg:x="1cm" svg:y="5cm" svg:width="4cm" svg:height="4cm">'
        f'<draw:image xlink:href="{url}" xlink:type="simple" xlink:show="embed" xlink:actuate="onLoad"/></draw:frame>'
        "</draw:page></office:presentation></office:body></office:document-content>"
    )
    mime = "application/vnd.oasis.opendocument.presentation"
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{mime}"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", mime, compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", content)
        archive.writestr("META-INF/manifest.xml", manifest)
    return path
