"""OCR of scanned PDFs and images: real pages drawn from known Chinese text, read back by the real engine."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import HashEmbedder, models_dir
from ocr_samples import ACCURACY, NOTICE, SECOND, ingest_scan_and_ask, needs_font

from bench.ocr_pages import char_accuracy, image_pdf, lines_per_page, multipage_tiff, render_page
from ingest.loaders import LoadError, OcrOptions, load
from ingest.loaders.ocr_engine import Box
from ingest.loaders.ocr_fix import fix_doc_numbers, normalise_line
from ingest.loaders.ocr_layout import reading_order


def scanned_lines(lines: list[str], **kwargs) -> bytes:
    """One page as PNG bytes."""
    buf = io.BytesIO()
    render_page(lines, **kwargs).save(buf, format="PNG")
    return buf.getvalue()


# --------------------------------------------------------------------------- a stand-in engine for the plumbing


class FakeEngine:
    """Returns fixed boxes, and counts its calls: for the page limit, confidence and 'never loaded' checks."""

    name = "fake"

    def __init__(self, boxes: list[Box]):
        self.boxes = boxes
        self.calls = 0

    def read(self, image):
        self.calls += 1
        return self.boxes


@pytest.fixture
def fake_engine(monkeypatch):
    engine = FakeEngine([Box("会议纪要正文", 0.99, 100, 100, 400, 130), Box("噪点", 0.3, 100, 200, 150, 230)])
    monkeypatch.setattr("ingest.loaders.ocr.get_engine", lambda name: engine)
    return engine


@pytest.fixture
def no_engine(monkeypatch):
    """Fail the test if anything asks for the OCR engine."""

    def refuse(name):
        raise AssertionError("the OCR engine must not be loaded here")

    monkeypatch.setattr("ingest.loaders.ocr.get_engine", refuse)


# --------------------------------------------------------------------------- normalisation and reading order


@pytest.mark.parametrize(
    ("raw", "fixed"),
    [
        ("沪府办发【2023】12号", "沪府办发〔2023〕12号"),
        ("根据国办发[2021] 7号文件", "根据国办发〔2021〕7号文件"),
        ("京政发（2019）3号", "京政发〔2019〕3号"),
        ("沪府办发〔2023〕12号", "沪府办发〔2023〕12号"),
        ("【重要】2023年工作要点", "【重要】2023年工作要点"),  # not a 文号: left alone
        ("见附件【2023】", "见附件【2023】"),
    ],
)
def test_doc_number_brackets_are_normalised(raw: str, fixed: str) -> None:
    assert fix_doc_numbers(raw) == fixed


def test_stray_specks_at_line_ends_are_removed() -> None:
    assert normalise_line("·突出政治过硬_") == "突出政治过硬"
    assert normalise_line("一·二") == "一·二"


def box(text: str, x0: float, y0: float, width: float | None = None, h: float = 30) -> Box:
    return Box(text, 0.99, x0, y0, x0 + (width if width is not None else 30 * len(text)), y0 + h)


def test_boxes_are_read_in_lines_top_to_bottom_then_left_to_right() -> None:
    # Two boxes on one (slightly tilted) line, given in the wrong order, then a second line.
    boxes = [box("第二行", 100, 160, 600), box("右半", 400, 103), box("左半", 100, 100)]
    assert reading_order(boxes) == ["左半右半", "第二行"]


def test_latin_words_in_separate_boxes_keep_a_space() -> None:
    assert reading_order([box("GB/T", 100, 100, 120), box("9704", 260, 100, 120)]) == ["GB/T 9704"]


def test_two_columns_are_read_one_after_the_other_under_a_full_width_title() -> None:
    title = box("通知标题横跨两栏的标题文字", 100, 50, 800)
    left = [box(f"左栏第{i}行。", 100, 120 + 60 * i, 350) for i in range(5)]
    right = [box(f"右栏第{i}行。", 550, 120 + 60 * i, 350) for i in range(5)]
    order = reading_order([*reversed(right), title, *left])
    assert order[0] == title.text
    assert order[1:6] == [b.text for b in left] and order[6:] == [b.text for b in right]


def test_a_form_of_labels_and_values_is_not_taken_for_two_columns() -> None:
    rows = [("姓名：", "张三"), ("单位：", "市委办公厅"), ("职务：", "科员"), ("电话：", "12345")]
    boxes = [b for i, (k, v) in enumerate(rows) for b in (box(k, 100, 100 + 60 * i), box(v, 700, 100 + 60 * i))]
    assert reading_order(boxes) == [k + v for k, v in rows]


def test_wrapped_lines_become_one_paragraph_and_sentence_ends_break() -> None:
    lines = [
        box("会议要求各单位认真落实", 100, 100, 900),  # reaches the right edge, no sentence end: wraps
        box("值班制度。", 100, 150, 150),
        box("节日期间不得擅离岗位，", 160, 200, 840),  # indented: a new paragraph
        box("确保安全。", 100, 250, 150),
    ]
    assert reading_order(lines) == ["会议要求各单位认真落实值班制度。", "节日期间不得擅离岗位，确保安全。"]


# --------------------------------------------------------------------------- plumbing with a stand-in engine


@needs_font
def test_scanned_pdf_with_ocr_off_is_refused_with_how_to_turn_it_on(tmp_path: Path, no_engine) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(image_pdf([render_page(NOTICE)]))
    with pytest.raises(LoadError) as info:
        load(path, ocr=OcrOptions(enabled=False))
    assert "no text layer" in str(info.value) and "ASSISTANT_OCR=true" in str(info.value)


@needs_font
def test_image_with_ocr_off_is_refused(tmp_path: Path, no_engine) -> None:
    path = tmp_path / "scan.png"
    path.write_bytes(scanned_lines(NOTICE))
    with pytest.raises(LoadError, match="OCR, which is turned off.*ASSISTANT_OCR=true"):
        load(path, ocr=OcrOptions(enabled=False))


def test_blank_pages_need_no_ocr(tmp_path: Path, no_engine) -> None:
    path = tmp_path / "blank.pdf"
    path.write_bytes(image_pdf([render_page([]), render_page([])]))
    with pytest.raises(LoadError, match="OCR found no text"):
        load(path)


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("junk.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "corrupt image|not a readable image"),
        ("text.jpg", "这不是图片".encode() * 20, "not a readable image"),
    ],
)
def test_corrupt_images_are_refused_with_a_reason(
    tmp_path: Path, no_engine, name: str, data: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(LoadError, match=reason) as info:
        load(path)
    assert "save it again" in str(info.value)


@needs_font
def test_truncated_png_is_refused(tmp_path: Path, no_engine) -> None:
    data = scanned_lines(NOTICE)
    path = tmp_path / "cut.png"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(LoadError, match="corrupt image"):
        load(path)


@needs_font
def test_page_limit_reads_the_first_pages_and_warns_about_the_rest(tmp_path: Path, fake_engine: FakeEngine) -> None:
    path = tmp_path / "long.tif"
    path.write_bytes(multipage_tiff([render_page([f"第{i}页"]) for i in range(1, 5)]))
    seen: list[tuple[int, int]] = []
    doc = load(path, ocr=OcrOptions(max_pages=2, progress=lambda done, total: seen.append((done, total))))
    assert [p.page for p in doc.parts] == [1, 2] and fake_engine.calls == 2
    assert seen == [(1, 2), (2, 2)]  # one progress call per OCR'd page
    limit = next(w for w in doc.warnings if "page limit" in w)
    assert "pages 3, 4" in limit and "ASSISTANT_OCR_MAX_PAGES" in limit


@needs_font
def test_scanned_pdf_pages_over_the_limit_are_not_even_rendered(
    tmp_path: Path, fake_engine: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A 1,000-page scan with the default limit of 50 should not render 950 pages only to skip them.
    import pypdfium2 as pdfium

    rendered: list[int] = []
    render = pdfium.PdfPage.render
    monkeypatch.setattr(pdfium.PdfPage, "render", lambda page, **kw: rendered.append(1) or render(page, **kw))
    path = tmp_path / "long.pdf"
    path.write_bytes(image_pdf([render_page([f"第{i}页"]) for i in range(1, 5)]))
    doc = load(path, ocr=OcrOptions(max_pages=2))
    assert [p.page for p in doc.parts] == [1, 2] and fake_engine.calls == 2 and len(rendered) == 2
    assert "pages 3, 4" in next(w for w in doc.warnings if "page limit" in w)


@needs_font
def test_low_confidence_lines_are_dropped_and_counted(tmp_path: Path, fake_engine: FakeEngine) -> None:
    path = tmp_path / "scan.png"
    path.write_bytes(scanned_lines(["任意"]))
    doc = load(path)
    assert doc.parts[0].text == "会议纪要正文" and doc.parts[0].page == 1
    assert any("dropped 1 of 2" in w for w in doc.warnings)


@needs_font
def test_a_scan_with_a_scrap_of_text_layer_is_still_ocrd(tmp_path: Path, fake_engine: FakeEngine) -> None:
    from pypdf import PdfReader, PdfWriter
    from test_loaders import make_pdf

    # A scanner app stamps "Page 1" as text over the image: the page is still a scan.
    writer = PdfWriter(clone_from=io.BytesIO(image_pdf([render_page(NOTICE)])))
    writer.pages[0].merge_page(PdfReader(io.BytesIO(make_pdf(["Page 1"]))).pages[0])
    path = tmp_path / "stamped.pdf"
    with path.open("wb") as fh:
        writer.write(fh)
    doc = load(path)
    assert fake_engine.calls == 1 and [p.text for p in doc.parts] == ["会议纪要正文"]
    # OCR off: the scrap is all there is, and the warning says the page was not read.
    doc = load(path, ocr=OcrOptions(enabled=False))
    assert [p.text.strip() for p in doc.parts] == ["Page 1"] and "not read because OCR is off" in doc.warnings[0]


def test_settings_refuse_a_page_limit_below_one() -> None:
    from assistant.errors import SettingsError
    from assistant.settings import Settings

    with pytest.raises(SettingsError, match="ASSISTANT_OCR_MAX_PAGES"):
        Settings.load(None, env={"ASSISTANT_OCR_MAX_PAGES": "0"})


@needs_font
def test_knowledge_base_settings_reach_the_loader(tmp_path: Path, no_engine) -> None:
    from assistant.api import Assistant
    from assistant.settings import Settings

    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "scan.pdf").write_bytes(image_pdf([render_page(NOTICE)]))
    kb = Assistant(Settings.load(tmp_path / "home", models=str(models_dir()), ocr=False), embedder=HashEmbedder())
    try:
        report = kb.ingest([tmp_path / "docs"])
    finally:
        kb.close()
    assert len(report.failed) == 1 and "ASSISTANT_OCR=true" in report.failed[0][1]


@needs_font
def test_turning_ocr_on_rereads_a_pdf_whose_scanned_page_was_skipped(tmp_path: Path, fake_engine: FakeEngine) -> None:
    from pypdf import PdfReader, PdfWriter
    from test_loaders import make_pdf

    from assistant.api import Assistant
    from assistant.settings import Settings

    writer = PdfWriter()
    for data in (make_pdf(["Minutes of the records meeting"]), image_pdf([render_page(SECOND)])):
        writer.add_page(PdfReader(io.BytesIO(data)).pages[0])
    path = tmp_path / "mixed.pdf"
    with path.open("wb") as fh:
        writer.write(fh)
    home = tmp_path / "home"

    def ingest(**settings):
        kb = Assistant(Settings.load(home, models=str(models_dir()), **settings), embedder=HashEmbedder())
        try:
            return kb.ingest([path])
        finally:
            kb.close()

    report = ingest(ocr=False)
    assert len(report.added) == 1 and fake_engine.calls == 0
    assert report.warnings and "page 2" in report.warnings[0][1] and "ASSISTANT_OCR=true" in report.warnings[0][1]
    report = ingest(ocr=False)
    assert len(report.unchanged) == 1
    report = ingest()  # OCR on: the file's tag changed, so it is read again, scanned page included
    assert len(report.updated) == 1 and fake_engine.calls == 1
    assert any("dropped 1 of 2" in w for _, w in report.warnings)


# --------------------------------------------------------------------------- the real engine on rendered scans


def text_of(doc) -> dict[int, str]:
    return {p.page: p.text for p in doc.parts}


@needs_font
@pytest.mark.e2e
def test_png_and_jpg_scans_are_read(tmp_path: Path) -> None:
    png = tmp_path / "notice.png"
    png.write_bytes(scanned_lines(NOTICE))
    jpg = tmp_path / "notice.jpg"
    render_page(NOTICE, noise=True).save(jpg, format="JPEG", quality=75)
    for path in (png, jpg):
        doc = load(path)
        assert doc.format == "image" and [p.page for p in doc.parts] == [1]
        assert char_accuracy("".join(NOTICE), doc.parts[0].text) >= ACCURACY, doc.parts[0].text
        assert "沪府办发〔2023〕12号" in doc.parts[0].text  # the engine reads 【2023】; normalised


@needs_font
@pytest.mark.e2e
def test_multipage_tiff_keeps_page_numbers_and_skips_blank_pages(tmp_path: Path) -> None:
    path = tmp_path / "scan.tiff"
    path.write_bytes(multipage_tiff([render_page(NOTICE), render_page([]), render_page(SECOND)]))
    pages = text_of(load(path))
    assert sorted(pages) == [1, 3]
    assert char_accuracy("".join(SECOND), pages[3]) >= ACCURACY, pages[3]


@needs_font
@pytest.mark.e2e
def test_image_only_pdf_is_ocrd_page_by_page(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    # The scanner-like noise goes on the long page: on SECOND it makes the detector miss the leading "二、".
    path.write_bytes(image_pdf([render_page(NOTICE, noise=True), render_page(SECOND)]))
    doc = load(path)
    pages = text_of(doc)
    assert doc.format == "pdf" and sorted(pages) == [1, 2]
    assert char_accuracy("".join(NOTICE), pages[1]) >= ACCURACY, pages[1]
    assert char_accuracy("".join(SECOND), pages[2]) >= ACCURACY, pages[2]
    assert "〔2023〕" in pages[1] and "【" not in pages[1]


@needs_font
@pytest.mark.e2e
def test_two_column_scan_is_read_column_by_column(tmp_path: Path) -> None:
    # Lines as wide as a column, as in a two-column bulletin; the gutter is then ~3 characters.
    left = ["第一栏第一行文字到此为止。", "第一栏第二行文字到此为止。", "第一栏第三行文字到此为止。"]
    right = ["第二栏第一行文字到此为止。", "第二栏第二行文字到此为止。", "第二栏第三行文字到此为止。"]
    page = render_page(left + [""] * (lines_per_page() - 3) + right, columns=2)  # fill the first column
    path = tmp_path / "columns.png"
    page.save(path)
    text = load(path).parts[0].text
    positions = [text.find(line) for line in left + right]
    assert -1 not in positions and positions == sorted(positions), text


def text_layer_page(tmp_path: Path, body: str) -> bytes:
    """A PDF page with a real Chinese text layer, printed by Chromium from HTML."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("no chromium to print a text PDF (scripts/install-browser.sh)")
    html = tmp_path / "page.html"
    html.write_text(
        '<html><head><meta charset="utf-8"><style>body{font-family:"WenQuanYi Micro Hei";font-size:16pt}</style>'
        f"</head><body><p>{body}</p></body></html>",
        encoding="utf-8",
    )
    out = tmp_path / "page.pdf"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-pdf-header-footer"]
    subprocess.run([chromium, *flags, f"--print-to-pdf={out}", html.as_uri()], capture_output=True, timeout=120)
    return out.read_bytes()


def mixed_pdf(tmp_path: Path) -> Path:
    """Page 1 with a text layer (Chromium), page 2 a scan of SECOND (Pillow), joined by pypdf."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for data in (
        text_layer_page(tmp_path, "第一页有文字层：会议定于十二月五日召开。"),
        image_pdf([render_page(SECOND)]),
    ):
        for page in PdfReader(io.BytesIO(data)).pages:
            writer.add_page(page)
    path = tmp_path / "mixed.pdf"
    with path.open("wb") as fh:
        writer.write(fh)
    return path


@needs_font
@pytest.mark.e2e
def test_mixed_pdf_reads_text_pages_as_text_and_ocrs_the_scanned_one(tmp_path: Path) -> None:
    path = mixed_pdf(tmp_path)
    pages = text_of(load(path))
    assert sorted(pages) == [1, 2]
    assert "会议定于十二月五日召开" in pages[1]  # the text layer, verbatim
    assert char_accuracy("".join(SECOND), pages[2]) >= ACCURACY, pages[2]
    # OCR off: the text page is still read, and the skipped scan is named.
    doc = load(path, ocr=OcrOptions(enabled=False))
    assert [p.page for p in doc.parts] == [1]
    assert any("page 2" in w and "OCR is off" in w for w in doc.warnings)


@needs_font
@pytest.mark.e2e
def test_a_scanned_pdf_is_ingested_and_answers_from_its_scanned_page(tmp_path: Path, fresh_kb) -> None:
    scan = image_pdf([render_page(NOTICE), render_page(SECOND, noise=True)])
    ingest_scan_and_ask(fresh_kb, tmp_path / "docs", "值班通知.pdf", scan)
