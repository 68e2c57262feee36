"""OFD (GB/T 33190) files built here from the standard's structure: text laid out again, pages kept, bad files refused."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from ingest.documents import prepare_documents
from ingest.loaders import LoadError, discover, load

NS = "http://www.ofdspec.org/2016"
SIZE = 5.6  # 三号 font, in mm: the body size of a 公文
LEFT, RIGHT = 28.0, 184.0  # the type area of an A4 公文 page
PER_LINE = int((RIGHT - LEFT) // SIZE)  # 27 characters per line

BODY_1 = (
    "为进一步加强机关值班工作，确保政令畅通、信息及时，经研究，现就有关事项通知如下。"
    "各单位要严格执行领导干部带班和工作人员值班制度，节假日期间由办公室副主任带班。"
)
BODY_2 = "值班人员要坚守岗位，认真做好值班记录，遇有重大突发事件要第一时间报告。"


def _text_object(oid: int, x: float, y: float, text: str, size: float = SIZE) -> str:
    width = size * len(text)
    return (
        f'<ofd:TextObject ID="{oid}" Boundary="{x} {y} {width} {size * 1.2}" Font="1" Size="{size}">'
        f'<ofd:TextCode X="0" Y="{size}">{text}</ofd:TextCode></ofd:TextObject>'
    )


def _paragraph(text: str, y: float, first_id: int) -> tuple[list[str], float]:
    """A 公文 paragraph: indented two characters, wrapped at the type area's right edge."""
    objects, line, x = [], 0, LEFT + 2 * SIZE
    rest = text
    while rest:
        room = int((RIGHT - x) // SIZE)
        piece, rest = rest[:room], rest[room:]
        objects.append(_text_object(first_id + line, x, y, piece))
        y += SIZE * 1.8
        x = LEFT
        line += 1
    return objects, y


def build_ofd(
    path: Path, pages: list[list[str]], *, title: str = "关于加强机关值班工作的通知", letterhead: bool = True
) -> Path:
    """Write an OFD: OFD.xml -> Doc_0/Document.xml -> one Content.xml per page (+ a letterhead template)."""
    files = {
        "OFD.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="{NS}" Version="1.0" DocType="OFD">'
            f"<ofd:DocBody><ofd:DocInfo><ofd:DocID>a1</ofd:DocID><ofd:Title>{title}</ofd:Title></ofd:DocInfo>"
            "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"
        )
    }
    page_refs = "".join(f'<ofd:Page ID="{10 + i}" BaseLoc="Pages/Page_{i}/Content.xml"/>' for i in range(len(pages)))
    template = '<ofd:TemplatePage ID="2" BaseLoc="Tpls/Tpl_0/Content.xml"/>' if letterhead else ""
    files["Doc_0/Document.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document xmlns:ofd="{NS}"><ofd:CommonData>'
        f"<ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea>{template}"
        f"</ofd:CommonData><ofd:Pages>{page_refs}</ofd:Pages></ofd:Document>"
    )
    if letterhead:
        files["Doc_0/Tpls/Tpl_0/Content.xml"] = (
            f'<ofd:Page xmlns:ofd="{NS}"><ofd:Content><ofd:Layer ID="3">'
            f"{_text_object(4, 45.0, 35.0, '**市人民政府办公室文件', 12.0)}</ofd:Layer></ofd:Content></ofd:Page>"
        )
    for i, paragraphs in enumerate(pages):
        objects: list[str] = []
        y = 70.0
        for text in paragraphs:
            if text.endswith("号") or text.startswith("关于"):  # 文号 and title: centred lines of their own
                objects.append(_text_object(100 + len(objects), 60.0, y, text))
                y += SIZE * 2
                continue
            more, y = _paragraph(text, y, 100 + len(objects))
            objects.extend(more)
        use = '<ofd:Template TemplateID="2" ZOrder="Background"/>' if letterhead and i == 0 else ""
        files[f"Doc_0/Pages/Page_{i}/Content.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page xmlns:ofd="{NS}">{use}<ofd:Content>'
            f'<ofd:Layer ID="{50 + i}">{"".join(objects)}</ofd:Layer></ofd:Content></ofd:Page>'
        )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text.encode("utf-8"))
    return path


def notice(tmp_path: Path) -> Path:
    return build_ofd(
        tmp_path / "值班通知.ofd",
        [["沪府办发〔2023〕12号", "关于加强机关值班工作的通知", BODY_1], [BODY_2]],
    )


def test_ofd_text_is_read_page_by_page_with_wrapped_lines_joined_into_paragraphs(tmp_path):
    raw = load(notice(tmp_path))
    assert raw.format == "ofd" and raw.title == "关于加强机关值班工作的通知"
    assert [p.page for p in raw.parts] == [1, 2]
    first = raw.parts[0].text.split("\n")
    # The letterhead from the page template comes first, then the 文号, the title and the body.
    assert first[:3] == ["**市人民政府办公室文件", "沪府办发〔2023〕12号", "关于加强机关值班工作的通知"]
    assert BODY_1 in first  # wrapped over three lines, read back as one paragraph
    assert len(BODY_1) > 2 * PER_LINE
    assert raw.parts[1].text == BODY_2


def test_ofd_pages_become_page_numbers_of_the_cleaned_document(tmp_path):
    (doc,) = prepare_documents(load(notice(tmp_path)))
    at = doc.text.index("值班人员要坚守岗位")
    pages = [page for start, page in doc.page_starts or [] if start <= at]
    assert pages[-1] == 2


def test_ofd_files_are_found_in_folders(tmp_path):
    notice(tmp_path)
    found, skipped = discover([tmp_path])
    assert [p.suffix for p in found] == [".ofd"] and not skipped


def _zip(path: Path, members: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return path


@pytest.mark.parametrize(
    "members, reason",
    [
        ({"Doc_0/Document.xml": "<x/>"}, "no OFD entry file inside the zip"),
        ({"OFD.xml": f'<ofd:OFD xmlns:ofd="{NS}"><ofd:DocBody/></ofd:OFD>'}, "names no document root"),
        ({"OFD.xml": "<ofd:OFD"}, "not well-formed XML"),
        (
            {
                "OFD.xml": f'<ofd:OFD xmlns:ofd="{NS}"><ofd:DocBody><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>'
            },
            "the document root (Doc_0/Document.xml) is missing",
        ),
    ],
)
def test_broken_ofd_files_are_refused_with_the_reason(tmp_path, members, reason):
    with pytest.raises(LoadError, match="not a valid .ofd") as info:
        load(_zip(tmp_path / "bad.ofd", members))
    assert reason in str(info.value) and "export it again" in str(info.value)


def test_an_ofd_that_is_not_a_zip_or_has_no_text_is_refused(tmp_path):
    path = tmp_path / "scan.ofd"
    path.write_bytes(b"%PDF-1.7 not an ofd at all")
    with pytest.raises(LoadError, match=r"not a valid .ofd \(bad zip"):
        load(path)
    empty = build_ofd(tmp_path / "image-only.ofd", [[]], letterhead=False)
    with pytest.raises(LoadError, match="no text layer"):
        load(empty)


def test_an_ofd_zip_bomb_is_refused_before_parsing(tmp_path):
    path = tmp_path / "bomb.ofd"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("OFD.xml", "<a/>")
        archive.writestr("Doc_0/big.xml", b"0" * (3 * 1024 * 1024))
    with pytest.raises(LoadError, match="zip bomb"):
        load(path, max_uncompressed_bytes=1024 * 1024)


@pytest.mark.e2e
def test_an_ofd_notice_is_ingested_and_answers_with_its_page(tmp_path, fresh_kb):
    folder = tmp_path / "docs"
    folder.mkdir()
    notice(folder)
    kb = fresh_kb
    report = kb.ingest([folder])
    assert len(report.added) == 1 and not report.failed
    answer = kb.ask("节假日期间由谁带班？")
    assert not answer.refused and not answer.partial  # a post answers "由谁"
    cited = [c for c in answer.citations if "办公室副主任带班" in c.quote]
    assert cited and cited[0].page == 1 and cited[0].source.endswith("值班通知.ofd")
    answer = kb.ask("值班人员遇到重大突发事件要怎么做？")
    assert any(c.page == 2 and "第一时间报告" in c.quote for c in answer.citations)
