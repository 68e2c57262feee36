"""The known 公文 lines the OCR tests render and read back (scanned PDF, TIFF and OFD alike), and what they require."""

from __future__ import annotations

import pytest

from bench.ocr_pages import font_path

needs_font = pytest.mark.skipif(font_path() is None, reason="no WenQuanYi font (apt-get install fonts-wqy-microhei)")

NOTICE = [
    "上海市人民政府办公厅文件",
    "沪府办发〔2023〕12号",
    "关于做好元旦春节期间安全生产工作的通知",
    "各区人民政府，市政府各委、办、局：",
    "节日期间各单位要落实领导带班和值班制度。",
]
SECOND = [
    "二、加强值班值守",
    "值班人员遇到突发事件要第一时间报告。",
    "联系电话：021-63211234。",
]
# Character accuracy required. These short pages come back with at most a character or two wrong (the
# noisy SECOND loses its leading "二、", 0.953); bench/ocr_bench.py measures ~0.997 on full corpus pages.
ACCURACY = 0.95


def ingest_scan_and_ask(kb, folder, name: str, data: bytes) -> None:
    """Ingest a two-page scan (NOTICE, then SECOND) into `kb` and check, as a user would, that per-page OCR progress
    reaches the caller and that the answer to SECOND's question cites page 2 of that file."""
    folder.mkdir()
    (folder / name).write_bytes(data)
    progress: list[str] = []
    report = kb.ingest([folder], progress=lambda done, total, source: progress.append(source))
    assert len(report.added) == 1 and not report.failed, report
    assert any("OCR page 2 of 2" in s for s in progress)  # per-page progress reaches the caller
    answer = kb.ask("值班人员遇到突发事件要怎么做？")
    assert not answer.refused
    cited = [c for c in answer.citations if "第一时间报告" in c.quote]
    assert cited and cited[0].page == 2 and cited[0].source.endswith(name)
