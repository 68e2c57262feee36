"""The files the chat's export buttons download: an answer as .docx and as Markdown, in a folder Gradio may serve."""

from __future__ import annotations

import re
import shutil
import tempfile
import time
import uuid
import weakref
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.conversations.export import docx_bytes, markdown_of


class ExportFiles:
    """Each answer's two files, written when it is shown, under a temp folder (Gradio serves files there)."""

    def __init__(self, keep_seconds: float = 3600.0):
        self.folder = Path(tempfile.mkdtemp(prefix="assistant-exports-"))
        self.keep_seconds = keep_seconds
        # The files are only for this process's browsers: gone when it is (each UI built left one folder behind).
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.folder, ignore_errors=True)

    def close(self) -> None:
        """Delete the folder and every file in it now."""
        self._cleanup()

    def buttons(self, answer: dict[str, Any] | None) -> tuple[Any, Any]:
        """(Word, Markdown) download button updates for an answer (JSON); disabled without one."""
        if not answer:
            return gr.update(value=None, interactive=False), gr.update(value=None, interactive=False)
        self._forget_old()
        folder = self.folder / uuid.uuid4().hex
        folder.mkdir()
        stem = re.sub(r'[\\/:*?"<>|\s]+', "_", answer.get("question", ""))[:24].strip("_") or "answer"
        word, md = folder / f"答案_{stem}.docx", folder / f"答案_{stem}.md"
        word.write_bytes(docx_bytes(answer))
        md.write_text(markdown_of(answer), encoding="utf-8")
        return gr.update(value=str(word), interactive=True), gr.update(value=str(md), interactive=True)

    def _forget_old(self) -> None:
        # Every answer gets its files ready for the buttons; a browser fetches them soon or not at all.
        cutoff = time.time() - self.keep_seconds
        for folder in self.folder.iterdir():
            if folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)


__all__ = ["ExportFiles"]
