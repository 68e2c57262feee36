"""Uploads to the knowledge base: checked (name, type, size, count), kept under their own names, ingested."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

UPLOAD_TYPES = (
    *(".txt", ".md", ".docx", ".pdf", ".ofd", ".html", ".htm"),
    *(".doc", ".wps", ".rtf", ".odt", ".xls", ".xlsx", ".ppt", ".pptx"),  # office formats (issue 14 §2)
    *(".png", ".jpg", ".jpeg", ".tif", ".tiff"),  # scanned pages, read by OCR
)
RESULT_HEADERS = ["文件 File", "结果 Result", "说明 Details"]
RESULT_LABELS = {
    "added": "已添加 added",
    "updated": "已更新 updated",
    "unchanged": "未变化 unchanged",
    "failed": "失败 failed",
    "skipped": "已跳过 skipped",
    "rejected": "未导入 rejected",
}


def upload_name(name: str) -> str:
    """The uploaded file's own name, without any folder part a browser might send."""
    name = Path(str(name).replace("\\", "/")).name.strip()
    return "" if name in ("", ".", "..") else name


def too_many_files(count: int, max_files: int) -> str | None:
    """The message when an upload holds more files than allowed (None when within the limit)."""
    if count <= max_files:
        return None
    return f"一次最多上传 {max_files} 个文件，本次选择了 {count} 个。请分批上传。 At most {max_files} files per upload ({count} chosen)."


def upload_rejection(name: str, size: int, max_mb: int) -> tuple[str, str] | None:
    """Why an uploaded file is refused, as (kind, reason) with kind "name", "type" or "size"; None if accepted.

    `name` is the file's own name (see upload_name); the browser chat and the HTTP API apply the same rules.
    """
    if not name or name.startswith("."):
        return "name", "文件名无效 invalid file name"
    suffix = Path(name).suffix.lower()
    if suffix not in UPLOAD_TYPES:
        return "type", f"不支持的格式（支持 {' '.join(UPLOAD_TYPES)}） unsupported format"
    if size > max_mb * 1024 * 1024:
        return "size", f"文件过大：{size / 1048576:.1f} MB，上限 {max_mb} MB。 File too large (limit {max_mb} MB)."
    return None


def ingest_uploads(
    kb: Any,
    files: Sequence[Any] | None,
    *,
    max_mb: int,
    max_files: int,
    progress: Callable[[int, int, str], None] | None = None,
) -> tuple[str, list[list[str]]]:
    """Copy uploaded files into <kb_dir>/uploads (keeping their names), ingest them, report per file.

    Returns:
        A one-line summary and the rows (file, result, details) of the per-file table.
    """
    paths = [getattr(f, "name", f) for f in (files or []) if f]
    if not paths:
        return "请先选择要上传的文件。Choose files to upload first.", []
    if too_many := too_many_files(len(paths), max_files):
        return too_many, []
    folder = Path(kb.settings.kb_dir) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    rows: list[list[str]] = []
    targets: dict[str, str] = {}  # resolved destination -> shown name
    for p in paths:
        src = Path(p)
        name = upload_name(src.name)
        # The size is read only for a valid name and type, as before (a hidden file may be unreadable).
        refused = upload_rejection(name, 0, max_mb) or upload_rejection(name, src.stat().st_size, max_mb)
        if refused:
            rows.append([name or str(src), RESULT_LABELS["rejected"], refused[1]])
            continue
        dest = folder / name
        if dest.resolve() in {Path(t) for t in targets}:
            rows.append([name, RESULT_LABELS["rejected"], "同名文件已在本次上传中 duplicate name in this upload"])
            continue
        # Gradio's temporary copy disappears; the knowledge base keeps its own, under the original name.
        shutil.copyfile(src, dest)
        targets[str(dest.resolve())] = name
    if not targets:
        return "没有可导入的文件。Nothing to ingest.", rows
    report = kb.ingest([Path(t) for t in targets], progress=progress)
    chunks: dict[str, int] = {}
    docs: dict[str, int] = {}
    for d in kb.documents():
        chunks[d.source] = chunks.get(d.source, 0) + d.n_chunks
        docs[d.source] = docs.get(d.source, 0) + 1

    def detail(source: str) -> str:
        n_docs = docs.get(source, 0)
        text = f"{chunks.get(source, 0)} 个片段 chunks"
        return text + (f"，{n_docs} 篇文档 documents" if n_docs > 1 else "")

    outcome: dict[str, list[str]] = {}
    for kind in ("added", "updated", "unchanged"):
        for source in getattr(report, kind):
            outcome[source] = [RESULT_LABELS[kind], detail(source)]
    for source, warning in report.warnings:  # e.g. the OCR page limit: read, but not wholly
        if source in outcome:
            outcome[source][1] += f"；{warning}"
    for kind in ("failed", "skipped"):
        for source, reason in getattr(report, kind):
            outcome[str(Path(source).resolve())] = [RESULT_LABELS[kind], reason]
    for target, name in targets.items():
        rows.append([name, *outcome.get(target, [RESULT_LABELS["failed"], "未处理 not processed"])])
    summary = (
        f"已添加 {len(report.added)}，已更新 {len(report.updated)}，未变化 {len(report.unchanged)}，"
        f"失败 {len(report.failed) + len(report.skipped) + sum(r[1] == RESULT_LABELS['rejected'] for r in rows)}"
        f"（用时 {report.seconds:.1f} 秒）。 added {len(report.added)}, updated {len(report.updated)}, "
        f"unchanged {len(report.unchanged)}."
    )
    return summary, rows


__all__ = [
    "RESULT_HEADERS",
    "RESULT_LABELS",
    "UPLOAD_TYPES",
    "ingest_uploads",
    "too_many_files",
    "upload_name",
    "upload_rejection",
]
