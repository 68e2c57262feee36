"""The browser chat (Gradio 6): questions with checkable citations, a sources panel, uploads, the /ask API."""

from __future__ import annotations

import html
import ipaddress
import logging
import os
import re
import shutil
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

# Gradio reads this when it is imported: no usage statistics leave an offline machine.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

import gradio as gr  # noqa: E402  (the environment variable must be set first)

from assistant.chat_models import BackendError  # noqa: E402
from assistant.errors import AssistantError, ModelError, QuestionError, SettingsError  # noqa: E402
from assistant.followup import rewrite_followup  # noqa: E402,F401  (part of this module's API)
from assistant.results import Answer, Citation  # noqa: E402

log = logging.getLogger("assistant.ui")

EXAMPLES = [
    "机关是怎样落实在职党员“双报到”制度的？",
    "How do offices run the 双报到 system?",
    "办公室怎样做好保密工作？",
    "办公室如何开展督查督办工作？",
    "机关是如何开展清廉机关建设的？",
]
UPLOAD_TYPES = (".txt", ".md", ".docx", ".pdf", ".html", ".htm")
CONTEXT_CHARS = 300  # characters of the document shown before and after a passage


# -- settings of the server -----------------------------------------------------------------
@dataclass(frozen=True)
class ServerOptions:
    """What the web server needs, taken from the knowledge base's Settings (ASSISTANT_HOST, …)."""

    host: str = "127.0.0.1"
    port: int = 7860
    user: str = ""
    password: str = ""
    max_upload_mb: int = 50
    max_upload_files: int = 20

    @classmethod
    def from_settings(cls, settings: Any) -> "ServerOptions":
        return cls(host=settings.host, port=settings.port, user=settings.ui_user, password=settings.ui_password,
                   max_upload_mb=settings.max_upload_mb, max_upload_files=settings.max_upload_files)

    @property
    def auth(self) -> tuple[str, str] | None:
        return (self.user, self.password) if self.user else None


def is_loopback(host: str) -> bool:
    """True when a server bound to `host` is reachable only from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposure_warning(host: str, auth: tuple[str, str] | None) -> str | None:
    """The warning to show when the server is reachable from other machines without a password."""
    if auth is not None or is_loopback(host):
        return None
    return (f"服务器监听 {host}，且未设置密码：同一网络中的任何人都能查看并修改知识库。"
            "请设置 ASSISTANT_UI_USER 和 ASSISTANT_UI_PASSWORD。"
            f" The server listens on {host} without a password: anyone on the network can read and change"
            " the knowledge base. Set ASSISTANT_UI_USER and ASSISTANT_UI_PASSWORD.")


_CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")


def _is_english(text: str) -> bool:
    """True when a question has more Latin letters than Chinese characters: the page answers it in English."""
    return len(re.findall(r"[A-Za-z]", text)) > len("".join(_CJK_RUN.findall(text)))


# -- HTML of the sources panel (everything from documents or users is escaped first) ----------
def esc(text: Any) -> str:
    """Text made safe to place inside HTML (element content or a quoted attribute)."""
    return html.escape("" if text is None else str(text), quote=True)


def highlight(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """`text` escaped, with the given character spans wrapped in <mark> (added after escaping)."""
    spans = sorted((max(0, s), min(len(text), e)) for s, e in spans if e > s)
    out, pos = [], 0
    for s, e in spans:
        if e <= pos:
            continue
        s = max(s, pos)
        out.append(esc(text[pos:s]))
        out.append(f"<mark>{esc(text[s:e])}</mark>")
        pos = e
    out.append(esc(text[pos:]))
    return "".join(out)


def _quote_span(citation: Citation) -> tuple[int, int] | None:
    """Where the citation's quote lies inside its passage text."""
    s, e = citation.start - citation.passage_start, citation.end - citation.passage_start
    if 0 <= s < e <= len(citation.text) and citation.text[s:e] == citation.quote:
        return s, e
    at = citation.text.find(citation.quote) if citation.quote else -1
    return (at, at + len(citation.quote)) if at >= 0 else None


def file_label(source: str, page: int | None = None) -> str:
    name = Path(source).name if source else ""
    return f"{name}，第 {page} 页 (p. {page})" if page else name


def _context_html(doc_text: str | None, start: int, end: int, passage_html: str, chars: int) -> str:
    if not doc_text or not 0 <= start <= end <= len(doc_text):
        return ""
    before_at = max(0, start - chars)
    after_to = min(len(doc_text), end + chars)
    before = ("…" if before_at > 0 else "") + doc_text[before_at:start]
    after = doc_text[end:after_to] + ("…" if after_to < len(doc_text) else "")
    return (
        '<details class="src-ctx"><summary>查看上下文 · Show surrounding text</summary>'
        f'<div class="src-ctx-text">{esc(before)}<span class="src-in">{passage_html}</span>{esc(after)}</div></details>'
    )


def _meta_html(title: str, section: str, source: str, page: int | None) -> str:
    parts = [f'<div class="src-title">《{esc(title)}》</div>']
    if section:
        parts.append(f'<div class="src-meta"><span class="src-k">章节 Section</span> {esc(section)}</div>')
    parts.append(f'<div class="src-meta"><span class="src-k">文件 File</span> {esc(file_label(source, page))}</div>')
    return "".join(parts)


def sources_html(answer: Answer | None, document_text: Callable[[str], str | None] | None = None,
                 context_chars: int = CONTEXT_CHARS) -> str:
    """The sources panel for an answer: each cited passage with its quote highlighted, or, for a
    refusal, the nearest passages marked as not answering. All document text is escaped."""
    if answer is None:
        return ('<div class="src-empty">提问后，答案引用的原文段落会显示在这里。<br>'
                'The passages an answer cites are shown here.</div>')
    cache: dict[str, str | None] = {}

    def doc(doc_id: str) -> str | None:
        if document_text is None or not doc_id:
            return None
        if doc_id not in cache:
            try:
                cache[doc_id] = document_text(doc_id)
            except Exception:  # the panel still shows the passage when the document cannot be read
                log.exception("cannot read document %s", doc_id)
                cache[doc_id] = None
        return cache[doc_id]

    parts = []
    if answer.searched:
        parts.append(f'<div class="src-searched">检索内容 Searched：{esc(answer.searched)}</div>')
    if answer.refused:
        parts.append(
            '<div class="src-refusal" role="note"><b>⚠ 知识库中没有找到答案 · No answer in the documents</b><br>'
            '以下是最接近的段落，仅供参考，<b>它们并不回答这个问题</b>。'
            'The nearest passages below are for reference only; they do not answer the question.</div>'
        )
        for i, p in enumerate(answer.nearest, 1):
            body = esc(p.text)
            parts.append(
                f'<div class="src src-nearest"><div class="src-head"><span class="src-badge src-badge-no">'
                f'最接近 {i} · 不回答此问题 / does not answer</span></div>'
                f'{_meta_html(p.title, p.section, p.source, p.page)}'
                f'<div class="src-text">{body}</div>'
                f'{_context_html(doc(p.doc_id), p.start, p.end, body, context_chars)}</div>'
            )
        return "".join(parts)

    groups: dict[int, list[Citation]] = {}
    for c in answer.citations:
        groups.setdefault(c.n, []).append(c)
    if not groups:
        parts.append('<div class="src-empty">这个回答没有引用来源。No sources were cited.</div>')
    for n in sorted(groups):
        cs = groups[n]
        first = cs[0]
        spans = [span for span in (_quote_span(c) for c in cs) if span]
        body = highlight(first.text, spans)
        parts.append(
            f'<div class="src" id="source-{n}"><div class="src-head"><span class="src-badge">[{n}]</span></div>'
            f'{_meta_html(first.title, first.section, first.source, first.page)}'
            f'<div class="src-text">{body}</div>'
            f'{_context_html(doc(first.doc_id), first.passage_start, first.passage_end, body, context_chars)}</div>'
        )
    return "".join(parts)


SOURCES_CSS = """
.src-empty { color: var(--body-text-color-subdued); padding: 8px 2px; }
.src-searched { font-size: 0.9em; opacity: 0.75; margin: 2px 0 8px; }
.src-refusal { border: 1px solid #d99a00; background: rgba(255, 196, 0, 0.15); border-radius: 6px;
               padding: 8px 10px; margin-bottom: 10px; }
.src { border: 1px solid var(--border-color-primary); border-radius: 6px; padding: 8px 10px; margin-bottom: 10px; }
.src-nearest { border-style: dashed; opacity: 0.92; }
.src-badge { display: inline-block; font-weight: bold; border-radius: 4px; padding: 0 6px;
             background: var(--color-accent-soft); }
.src-badge-no { background: rgba(255, 196, 0, 0.25); font-weight: normal; }
.src-title { font-weight: bold; margin: 4px 0 2px; }
.src-meta { font-size: 0.88em; opacity: 0.8; }
.src-k { display: inline-block; min-width: 6.5em; }
.src-text { white-space: pre-wrap; margin-top: 6px; line-height: 1.6; }
.src-text mark, .src-ctx-text mark { background: #ffe066; color: #222; padding: 0 1px; }
.src-ctx summary { cursor: pointer; margin-top: 6px; color: var(--link-text-color, #2563eb); }
.src-ctx-text { white-space: pre-wrap; font-size: 0.92em; line-height: 1.6; margin-top: 4px;
                color: var(--body-text-color-subdued); max-height: 360px; overflow-y: auto; }
.src-in { color: var(--body-text-color); background: var(--color-accent-soft); }
"""


# -- chat messages (Markdown rendered by the Chatbot: escape HTML and Markdown both) ----------
_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}()#~|!$])")
_MD_LINE_START = re.compile(r"^(\s*)([-+=])", re.M)  # list items, setext headings, rules
_MD_ORDERED = re.compile(r"^(\s*\d+)([.)])", re.M)  # "1." would start a numbered list


def chat_text(text: str) -> str:
    """Text shown literally in a Markdown chat message: no HTML, no Markdown, no LaTeX from it."""
    # Escape HTML without touching quotes, so no entity contains a character escaped below.
    escaped = html.escape(text, quote=False)
    escaped = _MD_SPECIAL.sub(r"\\\1", escaped)
    escaped = _MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped)
    return _MD_ORDERED.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped)


def answer_message(answer: Answer, asked: str) -> str:
    """The chat message of an answer: what was searched, then the text with its [n] markers."""
    english = _is_english(asked)
    lines = []
    if answer.searched and answer.searched.strip() != asked.strip():
        label = "Searched for" if english else "检索内容"
        lines.append(f"*{label}：{chat_text(answer.searched)}*")
        lines.append("")
    if answer.refused:
        # A block quote sets a refusal apart from answers; the nearest passages go to the panel.
        head = answer.text.split("\n", 1)[0]
        lines.append(f"> **⚠ {chat_text(head)}**")
        if answer.generated:  # the model wrote something, but nothing of it was supported
            lines.append(">")
            lines.append("> " + ("The model's answer could not be verified against the documents, so it is not shown."
                                 if english else "模型给出的回答无法在文件中找到依据，因此不予采用。"))
        if answer.nearest:
            lines.append(">")
            lines.append("> " + (
                "The nearest passages are listed under Sources; they do not answer the question." if english
                else "最接近的段落列在“来源”中，仅供参考，它们并不回答这个问题。"
            ))
    else:
        lines.append(chat_text(answer.text))
        if answer.unsupported:
            # The flagged sentences carry 〔未找到依据〕 in the text; say what that means, visibly.
            lines.append("")
            lines.append(f"**⚠ {len(answer.unsupported)} sentence(s) not supported by any passage (marked "
                         "[not supported by the documents]); check them before use.**" if english else
                         f"**⚠ 有 {len(answer.unsupported)} 句话在文件中找不到依据（已标注〔未找到依据〕），请勿直接采用。**")
    return "\n".join(lines)


def answer_dict(answer: Answer) -> dict[str, Any]:
    """An Answer as JSON-able data for the /ask API."""
    return {
        "question": answer.question,
        "text": answer.text,
        "refused": answer.refused,
        "citations": [asdict(c) for c in answer.citations],
        "nearest": [asdict(p) for p in answer.nearest],
        "searched": answer.searched,
        "evidence": answer.evidence,
        "seconds": answer.seconds,
        "mode": answer.mode,
        "statements": [asdict(st) for st in answer.statements],
        "unsupported": answer.unsupported,
    }


def ask_kb(kb: Any, question: str, k: int | None = None, mode: str | None = None,
           history: Sequence | None = None) -> Answer:
    """kb.ask, passing the number of passages, mode and history only when they are given."""
    extra: dict[str, Any] = {}
    if k is not None and int(k) != kb.settings.top_k:
        extra["k"] = int(k)
    if mode:
        extra["mode"] = mode
    if history:
        extra["history"] = list(history)
    return kb.ask(question, **extra)


MODE_CHOICES = [("抽取式 Extractive（无需语言模型）", "extractive"), ("本地模型 Local model", "local"),
                ("OpenAI 兼容服务 OpenAI-compatible", "openai"), ("Ollama", "ollama")]


def fallback_note(error: Exception, english: bool) -> str:
    """The line shown above the extractive answer when the chat model failed."""
    if english:
        return f"**⚠ The chat model is unavailable ({chat_text(str(error))}). Here is the extractive answer instead:**"
    return f"**⚠ 语言模型不可用（{chat_text(str(error))}），以下改用抽取式回答：**"


# -- the knowledge-base tab ------------------------------------------------------------------
DOC_HEADERS = ["标题 Title", "文件 File", "片段 Chunks", "入库时间 Ingested (UTC)"]
RESULT_HEADERS = ["文件 File", "结果 Result", "说明 Details"]
RESULT_LABELS = {"added": "已添加 added", "updated": "已更新 updated", "unchanged": "未变化 unchanged",
                 "failed": "失败 failed", "skipped": "已跳过 skipped", "rejected": "未导入 rejected"}


def source_choices(kb: Any) -> list[tuple[str, str]]:
    """(label, source) pairs for the delete picker: the file name first, the full path after it."""
    return [(f"{Path(source).name} — {source}", source) for source in sorted({d.source for d in kb.documents()})]


def delete_sources(kb: Any, sources: Sequence[str] | None) -> str:
    """Remove the chosen files' documents; a message for the page (text, escaped by Markdown use)."""
    if not sources:
        return "请先选择要删除的文件。Choose the files to delete first."
    try:
        removed = kb.delete(list(sources))
    except AssistantError as exc:
        return f"删除失败 Delete failed：{chat_text(str(exc))}"
    names = "、".join(chat_text(Path(s).name) for s in removed)
    return f"已删除 Deleted {len(removed)}：{names}"


def document_rows(kb: Any) -> list[list[Any]]:
    rows = []
    for d in kb.documents():
        when = (d.ingested_at or "").replace("T", " ").removesuffix("+00:00")
        title = d.title + ("" if d.complete else "（未完成 incomplete）")
        rows.append([title, Path(d.source).name, d.n_chunks, when])
    return rows


def _safe_name(name: str) -> str:
    """The uploaded file's own name, without any folder part a browser might send."""
    name = Path(str(name).replace("\\", "/")).name.strip()
    return "" if name in ("", ".", "..") else name


def ingest_uploads(kb: Any, files: Sequence[Any] | None, *, max_mb: int, max_files: int,
                   progress: Callable[[int, int, str], None] | None = None) -> tuple[str, list[list[str]]]:
    """Copy uploaded files into <kb_dir>/uploads (keeping their names), ingest them, report per file.

    Returns:
        A one-line summary and the rows (file, result, details) of the per-file table.
    """
    paths = [getattr(f, "name", f) for f in (files or []) if f]
    if not paths:
        return "请先选择要上传的文件。Choose files to upload first.", []
    if len(paths) > max_files:
        return (f"一次最多上传 {max_files} 个文件，本次选择了 {len(paths)} 个。请分批上传。"
                f" At most {max_files} files per upload ({len(paths)} chosen)."), []
    folder = Path(kb.settings.kb_dir) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    rows: list[list[str]] = []
    targets: dict[str, str] = {}  # resolved destination -> shown name
    limit = max_mb * 1024 * 1024
    for p in paths:
        src = Path(p)
        name = _safe_name(src.name)
        if not name or name.startswith("."):
            rows.append([name or str(src), RESULT_LABELS["rejected"], "文件名无效 invalid file name"])
            continue
        if src.suffix.lower() not in UPLOAD_TYPES:
            rows.append([name, RESULT_LABELS["rejected"],
                         f"不支持的格式（支持 {' '.join(UPLOAD_TYPES)}） unsupported format"])
            continue
        size = src.stat().st_size
        if size > limit:
            rows.append([name, RESULT_LABELS["rejected"],
                         f"文件过大：{size / 1048576:.1f} MB，上限 {max_mb} MB。 File too large (limit {max_mb} MB)."])
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
    for kind in ("failed", "skipped"):
        for source, reason in getattr(report, kind):
            outcome[str(Path(source).resolve())] = [RESULT_LABELS[kind], reason]
    for target, name in targets.items():
        rows.append([name, *outcome.get(target, [RESULT_LABELS["failed"], "未处理 not processed"])])
    summary = (f"已添加 {len(report.added)}，已更新 {len(report.updated)}，未变化 {len(report.unchanged)}，"
               f"失败 {len(report.failed) + len(report.skipped) + sum(r[1] == RESULT_LABELS['rejected'] for r in rows)}"
               f"（用时 {report.seconds:.1f} 秒）。 added {len(report.added)}, updated {len(report.updated)}, "
               f"unchanged {len(report.unchanged)}.")
    return summary, rows


# -- the app ------------------------------------------------------------------------------------
def _new_session() -> dict[str, list]:
    # searched: what each turn searched (context for follow-ups); sources: the panel of each turn.
    return {"searched": [], "sources": []}


def _constant(value: str) -> Callable[[], str]:
    return lambda: value


def build_app(kb: Any, *, max_upload_mb: int | None = None, max_upload_files: int | None = None,
              warning: str | None = None) -> gr.Blocks:
    """The Gradio app for a knowledge base: chat with sources, knowledge-base tab, and the /ask API.

    Args:
        kb: an open Assistant.
        max_upload_mb: largest file accepted for upload (default settings.max_upload_mb).
        max_upload_files: most files per upload (default settings.max_upload_files).
        warning: a notice shown at the top of the page (e.g. the server is exposed without a password).
    """
    options = ServerOptions.from_settings(kb.settings)
    max_mb = max_upload_mb or options.max_upload_mb
    max_files = max_upload_files or options.max_upload_files
    default_k = max(1, min(10, kb.settings.top_k))

    def respond(question: str, history: list | None, session: dict | None, k: float, mode: str | None = None):
        # A generator: Gradio shows each yielded state, so a chat model's words appear as they come.
        history = list(history or [])
        session = session or _new_session()
        question = (question or "").strip()
        mode = mode or kb.settings.answer_mode
        if not question:
            gr.Warning("请输入问题。Type a question first.")
            yield gr.update(), history, session, gr.update()
            return
        english = _is_english(question)
        history.append({"role": "user", "content": chat_text(question)})
        note = ""
        answer = None
        try:
            try:
                if mode != "extractive":
                    history.append({"role": "assistant", "content": "…"})
                    yield "", history, session, gr.update()
                written = ""
                for item in kb.stream(question, history=session["searched"], mode=mode, k=int(k)):
                    if isinstance(item, str):
                        if mode != "extractive":
                            written += item
                            history[-1] = {"role": "assistant", "content": chat_text(written) + " ▍"}
                            yield "", history, session, gr.update()
                    else:
                        answer = item
            except (BackendError, ModelError, SettingsError) as exc:
                if mode == "extractive":
                    raise
                # The chat model is down or misconfigured: never leave a blank, answer extractively.
                log.warning("chat model failed, answering extractively: %s", exc)
                note = fallback_note(exc, english)
                if history[-1]["role"] == "assistant":
                    history.pop()
                answer = kb.ask(question, history=session["searched"], mode="extractive", k=int(k))
        except QuestionError as exc:
            if history[-1]["role"] == "assistant":
                history.pop()
            history.append({"role": "assistant", "content": f"**⚠ {chat_text(str(exc))}**"})
            session = {"searched": session["searched"], "sources": session["sources"] + [""]}
            yield "", history, session, gr.update()
            return
        except AssistantError as exc:
            log.warning("question failed: %s", exc)
            if history[-1]["role"] == "assistant":
                history.pop()
            history.append({"role": "assistant", "content": f"**⚠ 出错了 Error：{chat_text(str(exc))}**"})
            session = {"searched": session["searched"], "sources": session["sources"] + [""]}
            yield "", history, session, gr.update()
            return
        panel = sources_html(answer, kb.document_text)
        message = answer_message(answer, question)
        if note:
            message = f"{note}\n\n{message}"
        if history[-1]["role"] == "assistant":
            history[-1] = {"role": "assistant", "content": message}
        else:
            history.append({"role": "assistant", "content": message})
        session = {"searched": session["searched"] + [answer.searched], "sources": session["sources"] + [panel]}
        yield "", history, session, panel

    def show_turn(session: dict | None, evt: gr.SelectData):
        # Clicking an earlier message shows the sources of that turn again.
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        sources = (session or {}).get("sources", [])
        if isinstance(index, int) and 0 <= index // 2 < len(sources) and sources[index // 2]:
            return sources[index // 2]
        return gr.update()

    def new_chat():
        return [], _new_session(), sources_html(None), ""

    def refresh_docs():
        return document_rows(kb), gr.update(choices=source_choices(kb), value=[])

    def run_delete(chosen):
        message = delete_sources(kb, chosen)
        return (message, *refresh_docs())

    def run_ingest(files, progress=gr.Progress()):  # noqa: B008 (how Gradio injects a progress bar)
        progress(0, desc="准备导入 Preparing…")

        def step(done: int, total: int, source: str) -> None:
            name = Path(source).name if source else "更新索引 updating the index"
            progress((done, max(total, 1)), desc=f"正在导入 Ingesting：{name}", unit="files")

        try:
            summary, rows = ingest_uploads(kb, files, max_mb=max_mb, max_files=max_files, progress=step)
        except AssistantError as exc:
            summary, rows = f"导入失败 Ingestion failed：{exc}", []
        return summary, rows, *refresh_docs(), None

    def api_ask(question: str, k: int = 0, mode: str = "") -> dict:
        """Answer a question from the documents: text with [n] markers, refused flag, citations.

        `mode` picks the answerer (extractive, local, openai, ollama); empty = the configured default.
        """
        try:
            answer = ask_kb(kb, question, k or None, mode or None)
        except AssistantError as exc:
            raise gr.Error(str(exc)) from exc
        return answer_dict(answer)

    with gr.Blocks(title="办公文档问答 · Office document Q&A", analytics_enabled=False) as app:
        session = gr.State(_new_session())
        gr.Markdown("## 办公文档问答助手 · Office document Q&A\n"
                    "答案只来自知识库中的文件，每句话都标注来源 [n]。"
                    "Answers come only from the documents in the knowledge base; every statement cites its source [n].")
        if warning:
            gr.HTML(f'<div class="ui-warning" role="alert">⚠ {esc(warning)}</div>',
                    css_template=".ui-warning { border: 1px solid #c0392b; background: rgba(192,57,43,.12);"
                                 " border-radius: 6px; padding: 8px 10px; }", js_on_load=None, elem_id="warning")
        with gr.Tabs():
            with gr.Tab("问答 Chat", id="chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=360):
                        chatbot = gr.Chatbot(
                            label="对话 Conversation", elem_id="chat", height=520, sanitize_html=True,
                            render_markdown=True, latex_delimiters=[], feedback_options=None, buttons=["copy"],
                            placeholder="请在下方输入问题，或点击示例。Ask a question below, or pick an example.",
                        )
                        with gr.Row():
                            question = gr.Textbox(
                                show_label=False, placeholder="输入问题，按回车发送 · Type a question and press Enter",
                                scale=5, elem_id="question", max_lines=4, autofocus=True,
                            )
                            send = gr.Button("发送 Send", variant="primary", scale=1, min_width=90, elem_id="send")
                        with gr.Row():
                            gr.Markdown("示例问题 Examples：")
                        with gr.Row():
                            example_buttons = [gr.Button(e, size="sm", variant="secondary", elem_classes=["example"])
                                               for e in EXAMPLES]
                        with gr.Row():
                            clear = gr.Button("新对话 New conversation", size="sm", variant="secondary",
                                              elem_id="new-chat")
                        with gr.Accordion("设置 Settings", open=False, elem_id="settings"):
                            top_k = gr.Slider(1, 10, value=default_k, step=1,
                                              label="检索段落数 Passages to use (top k)", elem_id="top-k")
                            answer_mode = gr.Radio(
                                MODE_CHOICES, value=kb.settings.answer_mode, elem_id="answer-mode",
                                label="回答方式 Answer mode",
                                info="抽取式直接引用原文；语言模型改写成通顺的回答，每句都会核对出处，找不到依据的句子会标出。"
                                     " Extractive quotes the documents; a language model writes the answer and every"
                                     " sentence is checked against the passages (unsupported ones are flagged).",
                            )
                    with gr.Column(scale=2, min_width=320):
                        gr.Markdown("### 来源 Sources")
                        sources = gr.HTML(sources_html(None), css_template=SOURCES_CSS, js_on_load=None,
                                          elem_id="sources", padding=False)
            with gr.Tab("知识库 Knowledge base", id="kb"):
                gr.Markdown(f"支持上传 {' '.join(UPLOAD_TYPES)}；每个文件不超过 {max_mb} MB，每次最多 {max_files} 个。"
                            f" Upload {' '.join(UPLOAD_TYPES)} files, up to {max_mb} MB each and {max_files} at a time.")
                with gr.Row():
                    uploads = gr.File(label="上传文件 Upload files", file_count="multiple",
                                      file_types=list(UPLOAD_TYPES), type="filepath", elem_id="upload")
                with gr.Row():
                    ingest_button = gr.Button("导入知识库 Ingest", variant="primary", elem_id="ingest")
                    refresh = gr.Button("刷新列表 Refresh", variant="secondary", elem_id="refresh")
                ingest_summary = gr.Markdown(elem_id="ingest-summary")
                ingest_table = gr.Dataframe(headers=RESULT_HEADERS, datatype=["str", "str", "str"], value=[],
                                            interactive=False, label="导入结果 Ingestion results",
                                            elem_id="ingest-results", wrap=True)
                documents = gr.Dataframe(headers=DOC_HEADERS, datatype=["str", "str", "number", "str"],
                                         value=document_rows(kb), interactive=False, wrap=True,
                                         label="知识库中的文件 Documents in the knowledge base", elem_id="documents")
                with gr.Row():
                    to_delete = gr.Dropdown(choices=source_choices(kb), multiselect=True, scale=4,
                                            label="从知识库删除 Remove from the knowledge base", elem_id="to-delete")
                    delete_button = gr.Button("删除 Delete", variant="stop", scale=1, elem_id="delete")
                delete_summary = gr.Markdown(elem_id="delete-summary")

        outputs = [question, chatbot, session, sources]
        question.submit(respond, [question, chatbot, session, top_k, answer_mode], outputs, api_visibility="private")
        send.click(respond, [question, chatbot, session, top_k, answer_mode], outputs, api_visibility="private")
        for button, text in zip(example_buttons, EXAMPLES, strict=True):
            button.click(_constant(text), None, question, api_visibility="private", queue=False).then(
                respond, [question, chatbot, session, top_k, answer_mode], outputs, api_visibility="private")
        chatbot.select(show_turn, [session], sources, api_visibility="private")
        clear.click(new_chat, None, [chatbot, session, sources, question], api_visibility="private")
        chatbot.clear(new_chat, None, [chatbot, session, sources, question], api_visibility="private")
        ingest_button.click(run_ingest, [uploads], [ingest_summary, ingest_table, documents, to_delete, uploads],
                            api_visibility="private")
        refresh.click(refresh_docs, None, [documents, to_delete], api_visibility="private")
        delete_button.click(run_delete, [to_delete], [delete_summary, documents, to_delete], api_visibility="private")
        app.load(refresh_docs, None, [documents, to_delete], api_visibility="private")
        gr.api(api_ask, api_name="ask")
    return app


def serve(kb: Any, host: str | None = None, port: int | None = None, **launch_kwargs: Any) -> None:
    """Start the browser chat for a knowledge base (blocks until stopped).

    Binds 127.0.0.1:7860 unless told otherwise (arguments, then settings.host/port, i.e.
    ASSISTANT_HOST/ASSISTANT_PORT). settings.ui_user and ui_password turn on a login.
    """
    options = ServerOptions.from_settings(kb.settings)
    host = host or options.host
    port = port or options.port
    warning = exposure_warning(host, options.auth)
    if warning:
        log.warning(warning)
        print(f"WARNING: {warning}", file=sys.stderr)
    if kb.settings.answer_mode != "extractive":
        # Start the chat model now (the local server loads its GGUF), so a broken set-up is reported
        # at start and the first question does not wait for it.
        try:
            kb.chat_model(kb.settings.answer_mode)
        except AssistantError as exc:
            print(f"WARNING: answer mode {kb.settings.answer_mode!r} is not usable ({exc}); "
                  "questions will be answered extractively until it is fixed", file=sys.stderr)
    app = build_app(kb, warning=warning)
    launch_kwargs.setdefault("max_file_size", f"{options.max_upload_mb}mb")  # a hard cap on top of our own check
    launch_kwargs.setdefault("ssr_mode", False)
    launch_kwargs.setdefault("show_error", True)
    app.queue(default_concurrency_limit=2)
    app.launch(server_name=host, server_port=port, auth=options.auth, **launch_kwargs)


__all__ = ["build_app", "serve", "rewrite_followup", "sources_html", "chat_text", "answer_dict", "ServerOptions",
           "exposure_warning", "delete_sources", "source_choices"]
