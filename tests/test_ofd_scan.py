"""Scanned OFD pages (an ImageObject, no TextObject) built from the standard's structure and OCR'd like scanned PDF pages."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from conftest import HashEmbedder, models_dir
from ocr_samples import ACCURACY, NOTICE, SECOND, ingest_scan_and_ask, needs_font
from PIL import Image, ImageDraw

from bench.ocr_pages import (
    MARGIN,
    char_accuracy,
    render_page,
    scanned_ofd,
    scanned_ofd_members,
    zip_members,
)
from ingest.loaders import LoadError, OcrOptions, load
from ingest.loaders.ocr_engine import Box
from ingest.loaders.ofd_images import Media, Placement, draw_page

TEXT_PAGE = "第一页有文字层：会议定于十二月五日召开，请各单位按时参加。"


def slip(lines: list[str], noise: bool = False) -> Image.Image:
    """A scanned page of these lines, cropped below the last one: few pixels, so the real engine is quick."""
    page = render_page(lines, noise=noise)
    return page.crop((0, 0, page.width, 2 * MARGIN + len(lines) * 58))


def text_layer(text: str, y: float = 30.0) -> str:
    """A text page's layer: one TextObject per 25 characters (三号, 5.6 mm), as an OFD writer places them."""
    rows = [text[i : i + 25] for i in range(0, len(text), 25)]
    return "".join(
        f'<ofd:TextObject ID="{500 + n}" Boundary="28 {y + 10 * n} 150 7" Font="1" Size="5.6">'
        f'<ofd:TextCode X="0" Y="5.6">{row}</ofd:TextCode></ofd:TextObject>'
        for n, row in enumerate(rows)
    )


def png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def write(tmp_path: Path, members: dict[str, bytes], name: str = "scan.ofd") -> Path:
    path = tmp_path / name
    path.write_bytes(zip_members(members))
    return path


def marked_page(
    box: tuple[int, int, int, int] = (100, 200, 300, 260), size: tuple[int, int] = (1240, 600)
) -> Image.Image:
    """A white page with one black rectangle: where it lands in the page picture shows how the image was placed."""
    page = Image.new("L", size, 255)
    ImageDraw.Draw(page).rectangle(box, fill=0)
    return page


class RecordingEngine:
    """Returns one fixed line and keeps every page picture it was given."""

    name = "recording"

    def __init__(self) -> None:
        self.images: list[np.ndarray] = []

    def read(self, image: np.ndarray) -> list[Box]:
        self.images.append(image)
        return [Box("会议纪要正文", 0.99, 100, 100, 400, 130), Box("噪点", 0.3, 100, 200, 150, 230)]


@pytest.fixture
def engine(monkeypatch) -> RecordingEngine:
    recording = RecordingEngine()
    monkeypatch.setattr("ingest.loaders.ocr.get_engine", lambda name: recording)
    return recording


@pytest.fixture
def no_engine(monkeypatch) -> None:
    def refuse(name):
        raise AssertionError("the OCR engine must not be loaded here")

    monkeypatch.setattr("ingest.loaders.ocr.get_engine", refuse)


# --------------------------------------------------------------------------- finding and drawing the images


def test_a_scanned_page_is_drawn_from_its_resource_and_ocrd_once(tmp_path: Path, engine: RecordingEngine) -> None:
    doc = load(write(tmp_path, scanned_ofd_members([marked_page()])))
    assert doc.format == "ofd" and [(p.page, p.text) for p in doc.parts] == [(1, "会议纪要正文")]
    assert any("dropped 1 of 2" in w for w in doc.warnings)  # the confidence cut-off of PDF pages
    (picture,) = engine.images
    assert picture.shape[:2] == (600, 1240)  # the page at 150 dpi, as PDF pages are rendered
    grey = picture[:, :, 0]
    assert grey[205:255, 105:295].max() < 60 and grey[300:, :].min() > 200 and grey[:, 400:].min() > 200


def _public_res(m: dict[str, bytes]) -> None:
    """The image declared in PublicRes.xml (BaseLoc absolute) instead of DocumentRes.xml."""
    m["Doc_0/PublicRes.xml"] = m.pop("Doc_0/DocumentRes.xml").replace(b'BaseLoc="Res"', b'BaseLoc="/Doc_0/Res"')
    m["Doc_0/Document.xml"] = m["Doc_0/Document.xml"].replace(
        b"<ofd:DocumentRes>DocumentRes.xml</ofd:DocumentRes>", b"<ofd:PublicRes>PublicRes.xml</ofd:PublicRes>"
    )


def _absolute_media_file(m: dict[str, bytes]) -> None:
    m["Doc_0/DocumentRes.xml"] = m["Doc_0/DocumentRes.xml"].replace(b' BaseLoc="Res"', b"")
    m["Doc_0/DocumentRes.xml"] = m["Doc_0/DocumentRes.xml"].replace(b">image_0.png<", b">/Doc_0/Res/image_0.png<")


def _page_res(m: dict[str, bytes]) -> None:
    """The image declared in the page's own resource file, beside its Content.xml."""
    m["Doc_0/Pages/Page_0/PageRes.xml"] = m.pop("Doc_0/DocumentRes.xml")
    m["Doc_0/Pages/Page_0/Res/image_0.png"] = m.pop("Doc_0/Res/image_0.png")
    m["Doc_0/Document.xml"] = m["Doc_0/Document.xml"].replace(
        b"<ofd:DocumentRes>DocumentRes.xml</ofd:DocumentRes>", b""
    )
    m["Doc_0/Pages/Page_0/Content.xml"] = m["Doc_0/Pages/Page_0/Content.xml"].replace(
        b"<ofd:Area>", b"<ofd:PageRes>PageRes.xml</ofd:PageRes><ofd:Area>"
    )


def _base_loc_repeated(m: dict[str, bytes]) -> None:
    """A writer that puts the BaseLoc folder into MediaFile again: the path from the resource file's folder is used."""
    m["Doc_0/DocumentRes.xml"] = m["Doc_0/DocumentRes.xml"].replace(b">image_0.png<", b">Res/image_0.png<")


@pytest.mark.parametrize("layout", [_public_res, _absolute_media_file, _page_res, _base_loc_repeated])
def test_the_image_is_found_wherever_the_standard_lets_it_be_declared(tmp_path, engine, layout) -> None:
    members = scanned_ofd_members([marked_page()])
    layout(members)
    doc = load(write(tmp_path, members))
    assert [p.page for p in doc.parts] == [1] and len(engine.images) == 1


def test_several_images_on_a_page_are_drawn_into_one_picture_and_read_once(tmp_path, engine) -> None:
    # A page stored as two strips (top and bottom half), the lower one first in the layer: each lands in its place.
    members = scanned_ofd_members([marked_page((100, 100, 300, 150), (1240, 300))])
    members["Doc_0/Res/lower.png"] = png_bytes(marked_page((700, 100, 900, 150), (1240, 300)))
    members["Doc_0/DocumentRes.xml"] = members["Doc_0/DocumentRes.xml"].replace(
        b"</ofd:MultiMedias>",
        b'<ofd:MultiMedia ID="77" Type="Image" Format="PNG"><ofd:MediaFile>lower.png</ofd:MediaFile></ofd:MultiMedia>'
        b"</ofd:MultiMedias>",
    )
    h = 300 * 25.4 / 150  # mm
    content = members["Doc_0/Pages/Page_0/Content.xml"].decode()
    content = content.replace(
        '<ofd:Layer ID="3000">',
        f'<ofd:Layer ID="3000"><ofd:ImageObject ID="9" Boundary="0 {h} 209.97 {h}" CTM="209.97 0 0 {h} 0 0" ResourceID="77"/>',
    )
    content = content.replace(f"0 0 209.973 {round(h, 3)}</ofd:PhysicalBox>", f"0 0 209.973 {2 * h}</ofd:PhysicalBox>")
    members["Doc_0/Pages/Page_0/Content.xml"] = content.encode()
    load(write(tmp_path, members))
    (picture,) = engine.images
    grey = picture[:, :, 0]
    assert picture.shape[:2] == (600, 1240)
    assert grey[105:145, 105:295].max() < 60 and grey[405:445, 705:895].max() < 60  # upper strip, lower strip


def test_a_rotated_image_is_drawn_as_its_ctm_turns_it() -> None:
    # 200×100 px, left half black; the CTM turns it a quarter clockwise into a 100×200 px box, so the left half
    # of the image becomes the top half of the box.
    image = Image.new("L", (200, 100), 255)
    ImageDraw.Draw(image).rectangle((0, 0, 99, 99), fill=0)
    data = png_bytes(image)
    w, h = 200 * 25.4 / 150, 100 * 25.4 / 150
    turned = Placement("1", (0.0, 0.0, h, w), (0.0, w, -h, 0.0, h, 0.0))
    picture, problems = draw_page([turned], {"1": Media("a.png", "PNG")}, lambda name: data, (0, 0, h, w), [])
    assert picture is not None and not problems and picture.size == (100, 200)
    grey = np.asarray(picture)
    assert grey[5:95, 5:95].max() < 60 and grey[105:195, 5:95].min() > 200


# --------------------------------------------------------------------------- the rules of scanned PDF pages


def test_scanned_ofd_with_ocr_off_says_it_is_a_scan_and_how_to_turn_ocr_on(tmp_path, no_engine) -> None:
    path = write(tmp_path, scanned_ofd_members([marked_page()]))
    with pytest.raises(LoadError) as info:
        load(path, ocr=OcrOptions(enabled=False))
    assert "scanned images" in str(info.value) and "ASSISTANT_OCR=true" in str(info.value)


def test_mixed_ofd_with_ocr_off_keeps_the_text_page_and_names_the_scanned_one(tmp_path, no_engine) -> None:
    doc = load(
        write(tmp_path, scanned_ofd_members([text_layer(TEXT_PAGE), marked_page()])), ocr=OcrOptions(enabled=False)
    )
    assert [p.page for p in doc.parts] == [1] and "会议定于十二月五日召开" in doc.parts[0].text
    assert doc.warnings == (
        "page 2: scanned, not read because OCR is off; turn OCR on with ASSISTANT_OCR=true (or ocr = true in the settings file)",
    )


def test_page_limit_and_progress_count_scanned_pages_and_skipped_images_are_never_opened(tmp_path, engine) -> None:
    members = scanned_ofd_members([marked_page(), text_layer(TEXT_PAGE), marked_page(), marked_page()])
    del members["Doc_0/Res/image_3.png"]  # over the limit: never looked at, so no complaint about it
    last = members["Doc_0/Pages/Page_3/Content.xml"]  # ...but its stamped page number is kept, as on a PDF page
    members["Doc_0/Pages/Page_3/Content.xml"] = last.replace(
        b"</ofd:Layer>", text_layer("— 4 —").encode() + b"</ofd:Layer>"
    )
    seen: list[tuple[int, int]] = []
    doc = load(write(tmp_path, members), ocr=OcrOptions(max_pages=2, progress=lambda d, t: seen.append((d, t))))
    assert [p.page for p in doc.parts] == [1, 2, 3, 4] and doc.parts[3].text == "— 4 —" and len(engine.images) == 2
    assert seen == [(1, 2), (2, 2)]
    (limit,) = [w for w in doc.warnings if "page limit" in w]
    assert "page 4" in limit and "ASSISTANT_OCR_MAX_PAGES" in limit
    assert not any("missing" in w for w in doc.warnings)


def test_a_scan_with_a_page_number_in_its_text_layer_is_still_ocrd(tmp_path, engine) -> None:
    members = scanned_ofd_members([marked_page()])
    page = members["Doc_0/Pages/Page_0/Content.xml"]
    members["Doc_0/Pages/Page_0/Content.xml"] = page.replace(
        b"</ofd:Layer>", text_layer("— 1 —", 90).encode() + b"</ofd:Layer>"
    )
    path = write(tmp_path, members)
    assert [p.text for p in load(path).parts] == ["会议纪要正文"] and len(engine.images) == 1
    doc = load(path, ocr=OcrOptions(enabled=False))  # OCR off: the scrap is all there is, and the page is named
    assert [p.text for p in doc.parts] == ["— 1 —"] and "not read because OCR is off" in doc.warnings[0]


def test_a_blank_scanned_page_never_reaches_the_engine(tmp_path, no_engine) -> None:
    with pytest.raises(LoadError, match="OCR found no text on its scanned pages"):
        load(write(tmp_path, scanned_ofd_members([Image.new("L", (1240, 600), 250)])))


# --------------------------------------------------------------------------- broken and hostile image resources


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda m: m.pop("Doc_0/Res/image_0.png"), "the image Doc_0/Res/image_0.png is missing from the zip"),
        (
            lambda m: m.update({"Doc_0/Res/image_0.png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 64}),
            "Doc_0/Res/image_0.png is damaged",
        ),
        (
            lambda m: m.update({"Doc_0/Res/image_0.png": m["Doc_0/Res/image_0.png"][:300]}),
            "Doc_0/Res/image_0.png is damaged",
        ),
        (
            lambda m: m.update({"Doc_0/Res/image_0.png": "不是图片".encode() * 30}),
            "is not a PNG, JPEG, TIFF, BMP or GIF image",
        ),
        (
            lambda m: m.update({"Doc_0/Res/image_0.png": b"\x97JB2\r\n\x1a\n\x01" + b"\x00" * 40}),
            "is JBIG2, which cannot be decoded here",
        ),
        (
            lambda m: m.update({"Doc_0/DocumentRes.xml": m["Doc_0/DocumentRes.xml"].replace(b'ID="1000"', b'ID="5"')}),
            "the image resource 1000 is declared in no resource file",
        ),
        (lambda m: m.pop("Doc_0/DocumentRes.xml"), "the resource file Doc_0/DocumentRes.xml is missing from the zip"),
        (lambda m: m.update({"Doc_0/DocumentRes.xml": b"<ofd:Res"}), "Doc_0/DocumentRes.xml is not well-formed XML"),
        (lambda m: m.update({"Doc_0/Res/image_0.png": png_bytes(Image.new("1", (11000, 9500), 1))}), "is too large"),
    ],
    ids=[
        "missing",
        "damaged",
        "truncated",
        "not-an-image",
        "jbig2",
        "undeclared",
        "no-res-file",
        "bad-res-xml",
        "bomb",
    ],
)
def test_a_broken_image_resource_is_refused_with_the_reason(tmp_path, no_engine, damage, reason) -> None:
    members = scanned_ofd_members([marked_page()])
    damage(members)
    with pytest.raises(LoadError) as info:
        load(write(tmp_path, members))
    message = str(info.value)
    assert "page 1: " in message and reason in message and "export it again" in message, message


def test_a_page_too_large_to_draw_is_refused_before_any_pixel(tmp_path, no_engine) -> None:
    members = scanned_ofd_members([marked_page()])
    page = members["Doc_0/Pages/Page_0/Content.xml"]
    members["Doc_0/Pages/Page_0/Content.xml"] = page.replace(
        b"0 0 209.973 101.6</ofd:PhysicalBox>", b"0 0 99000 99000</ofd:PhysicalBox>"
    )
    with pytest.raises(LoadError, match="page 1: the page is too large to OCR"):
        load(write(tmp_path, members))


def test_a_broken_scanned_page_does_not_lose_the_other_pages(tmp_path, engine) -> None:
    members = scanned_ofd_members([text_layer(TEXT_PAGE), marked_page(), marked_page()])
    del members["Doc_0/Res/image_1.png"]
    doc = load(write(tmp_path, members))
    assert [p.page for p in doc.parts] == [1, 3] and len(engine.images) == 1
    (broken,) = [w for w in doc.warnings if "missing" in w]
    assert broken.startswith(
        "page 2: the image Doc_0/Res/image_1.png is missing from the zip — the scanned page was not read"
    )


# --------------------------------------------------------------------------- settings through a knowledge base


def test_turning_ocr_on_rereads_an_ofd_whose_scanned_page_was_skipped(tmp_path, engine) -> None:
    from assistant.api import Assistant
    from assistant.settings import Settings

    path = write(tmp_path, scanned_ofd_members([text_layer(TEXT_PAGE), marked_page()]), "mixed.ofd")

    def ingest(**settings):
        kb = Assistant(Settings.load(tmp_path / "home", models=str(models_dir()), **settings), embedder=HashEmbedder())
        try:
            return kb.ingest([path])
        finally:
            kb.close()

    report = ingest(ocr=False)
    assert len(report.added) == 1 and not engine.images
    assert "page 2" in report.warnings[0][1] and "ASSISTANT_OCR=true" in report.warnings[0][1]
    assert len(ingest(ocr=False).unchanged) == 1
    report = ingest()  # OCR on: the file's tag names the OCR settings, so it is read again, scanned page included
    assert len(report.updated) == 1 and len(engine.images) == 1


# --------------------------------------------------------------------------- the real engine


@needs_font
@pytest.mark.e2e
def test_a_scanned_ofd_is_read_by_ocr_with_its_page_numbers(tmp_path: Path) -> None:
    path = tmp_path / "notice.ofd"
    path.write_bytes(scanned_ofd([slip(NOTICE, noise=True), slip(SECOND)]))
    doc = load(path)
    pages = {p.page: p.text for p in doc.parts}
    assert doc.format == "ofd" and sorted(pages) == [1, 2]
    assert char_accuracy("".join(NOTICE), pages[1]) >= ACCURACY, pages[1]
    assert char_accuracy("".join(SECOND), pages[2]) >= ACCURACY, pages[2]
    assert "沪府办发〔2023〕12号" in pages[1]  # the engine reads 【2023】; put right as on PDF pages


@needs_font
@pytest.mark.e2e
def test_a_mixed_ofd_reads_its_text_page_as_text_and_ocrs_its_scanned_page_in_order(tmp_path: Path) -> None:
    path = tmp_path / "mixed.ofd"
    path.write_bytes(scanned_ofd([text_layer(TEXT_PAGE), slip(SECOND)]))
    doc = load(path)
    assert [p.page for p in doc.parts] == [1, 2]
    assert doc.parts[0].text == TEXT_PAGE  # the text layer, verbatim (its two runs joined back into one paragraph)
    assert char_accuracy("".join(SECOND), doc.parts[1].text) >= ACCURACY, doc.parts[1].text


@needs_font
@pytest.mark.e2e
def test_a_scanned_ofd_is_ingested_and_answers_from_its_scanned_page(tmp_path: Path, fresh_kb) -> None:
    ingest_scan_and_ask(fresh_kb, tmp_path / "docs", "值班通知.ofd", scanned_ofd([slip(NOTICE), slip(SECOND)]))


def test_the_builder_writes_the_standards_structure() -> None:
    members = scanned_ofd_members([marked_page()])
    assert sorted(members) == sorted(
        [
            "OFD.xml",
            "Doc_0/Document.xml",
            "Doc_0/DocumentRes.xml",
            "Doc_0/Pages/Page_0/Content.xml",
            "Doc_0/Res/image_0.png",
        ]
    )
    assert b'<ofd:ImageObject ID="2000" Boundary="0 0 209.973 101.6"' in members["Doc_0/Pages/Page_0/Content.xml"]
