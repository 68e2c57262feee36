"""The knowledge-base tab: uploads, the documents (a compilation's articles under their file), deletion after a confirmation."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.app.ui.kb_picker import KbAccess
from assistant.app.ui.render import chat_text, display_title, esc
from assistant.app.ui.session import session_kb
from assistant.app.ui.uploads import RESULT_HEADERS, RESULT_LABELS, UPLOAD_TYPES, ingest_uploads
from assistant.conversations.audit import login_of
from assistant.errors import AssistantError

DOCUMENTS_CSS = """
table.docs { width: 100%; border-collapse: collapse; font-size: 0.95em; }
table.docs th, table.docs td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--border-color-primary) !important;
                               vertical-align: top; }
table.docs th { font-weight: 600; background: var(--background-fill-secondary); }
table.docs td.num { text-align: right; white-space: nowrap; }
table.docs th, table.docs td, table.docs tr { border-left: none !important; border-right: none !important;
                                             border-top: none !important; }
table.docs tr { border-bottom: none !important; }  /* the cells draw the lines (dotted under an article) */
table.docs { border: none !important; width: 100% !important; max-width: none !important; margin: 0 !important; }
table.docs tr.article td { border-bottom: 1px dotted var(--border-color-primary) !important; font-size: 0.95em; }
@media (max-width: 700px) {
  table.docs th:nth-child(4), table.docs td:nth-child(4) { display: none; }  /* the date: least needed on a phone */
  table.docs td.doc-file { max-width: 9em; }
}
table.docs tr.article td.doc-title { padding-left: 28px; }
table.docs .doc-kind { font-size: 0.85em; color: var(--body-text-color-subdued); }
table.docs .doc-file { word-break: break-all; }
.docs-empty { color: var(--body-text-color-subdued); padding: 8px 2px; }
"""


def _files(kb: Any) -> list[tuple[str, list[Any]]]:
    """(source, its documents) per file, by file name; a compilation has several documents."""
    groups: dict[str, list[Any]] = {}
    for d in kb.documents():
        groups.setdefault(d.source, []).append(d)
    return sorted(groups.items(), key=lambda item: (Path(item[0]).name, item[0]))


def _names(sources: Sequence[str]) -> dict[str, str]:
    """Each file's name as shown; files of the same name in different folders get " (2)", " (3)"."""
    shown: dict[str, str] = {}
    seen: dict[str, int] = {}
    for source in sources:
        name = Path(source).name
        seen[name] = seen.get(name, 0) + 1
        shown[source] = name if seen[name] == 1 else f"{name} ({seen[name]})"
    return shown


def _title(doc: Any) -> str:
    return display_title(doc.title) + ("（未完成 incomplete）" if not doc.complete else "")


def source_choices(kb: Any) -> list[tuple[str, str]]:
    """(label, source) pairs for the delete picker: file name and title, never a server path."""
    files = _files(kb)
    names = _names([source for source, _ in files])
    choices = []
    for source, docs in files:
        if len(docs) == 1:
            label = f"{names[source]} —《{display_title(docs[0].title)}》"
        else:
            label = f"{names[source]} — 汇编 {len(docs)} 篇 compilation of {len(docs)}"
        choices.append((label, source))
    return choices


def documents_html(kb: Any) -> str:
    """The documents as a table, one row per file; a compilation's articles are listed under it."""
    files = _files(kb)
    if not files:
        return '<div class="docs-empty">知识库中还没有文件。The knowledge base has no documents yet.</div>'
    names = _names([source for source, _ in files])
    rows = []
    for source, docs in files:
        when = max((d.ingested_at or "") for d in docs).replace("T", " ").removesuffix("+00:00")[:16]
        chunks = sum(d.n_chunks for d in docs)
        file_cell = f'<td class="doc-file">{esc(names[source])}</td>'
        if len(docs) == 1:
            title = f'<td class="doc-title">{esc(_title(docs[0]))}</td>'
            rows.append(f'<tr class="file">{file_cell}{title}<td class="num">{chunks}</td><td>{esc(when)}</td></tr>')
            continue
        heading = display_title(docs[0].collection) or names[source]
        title = (
            f'<td class="doc-title">{esc(heading)} <span class="doc-kind">汇编 · {len(docs)} 篇文章'
            f" compilation of {len(docs)} articles</span></td>"
        )
        rows.append(f'<tr class="file">{file_cell}{title}<td class="num">{chunks}</td><td>{esc(when)}</td></tr>')
        for d in docs:
            rows.append(
                f'<tr class="article"><td></td><td class="doc-title">{esc(_title(d))}</td>'
                f'<td class="num">{d.n_chunks}</td><td></td></tr>'
            )
    head = "<tr><th>文件 File</th><th>标题 Title</th><th>片段 Chunks</th><th>入库时间 Ingested (UTC)</th></tr>"
    return f'<table class="docs"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'


def documents_heading(kb: Any) -> str:
    """The heading over the document list: which knowledge base, and how much it holds (its stats)."""
    docs = kb.documents()
    files, chunks = len({d.source for d in docs}), sum(d.n_chunks for d in docs)
    name = str(kb.settings.kb)
    return (
        f"#### 知识库「{chat_text(name)}」中的文件 Documents in {chat_text(name)}\n"
        f"{files} 个文件 files · {len(docs)} 篇文档 documents · {chunks} 个片段 chunks"
    )


def delete_question(kb: Any, sources: Sequence[str] | None) -> str:
    """What the confirmation asks before deleting: the files by name, and how many documents go with them."""
    labels = dict((source, label) for label, source in source_choices(kb))
    chosen = [s for s in (sources or []) if s in labels]
    items = "".join(f"\n- {chat_text(labels[s])}" for s in chosen)
    return (
        f"**确定要从知识库删除这 {len(chosen)} 个文件吗？删除后无法恢复。**"
        f" Delete {len(chosen)} file(s) from the knowledge base? This cannot be undone.{items}"
    )


def delete_sources(
    kb: Any, sources: Sequence[str] | None, on_removed: Callable[[list[str]], None] | None = None
) -> str:
    """Remove the chosen files' documents; a message for the page (text, escaped by Markdown use).

    `on_removed` is handed the sources actually removed (the audit log's hook).
    """
    if not sources:
        return "请先选择要删除的文件。Choose the files to delete first."
    try:
        removed = kb.delete(list(sources))
    except AssistantError as exc:
        return f"删除失败 Delete failed：{chat_text(str(exc))}"
    if on_removed is not None:
        on_removed(list(removed))
    names = "、".join(chat_text(Path(s).name) for s in removed)
    return f"已删除 Deleted {len(removed)}：{names}"


READ_ONLY = (
    "你在这里的角色是只读（read）：可以提问和查看文件；上传和删除文件需要 upload 或 admin 角色，请联系管理员。"
    " Your role here is read: you may ask and see the documents; uploading and deleting files needs the role upload"
    " or admin (ask the administrator)."
)
NO_RIGHT = (
    "你没有{what}文件的权限（需要 upload 或 admin 角色），请联系管理员。"
    " You may not {what_en} files here (the role upload or admin is needed); ask the administrator."
)


def knowledge_tab(
    access: KbAccess, app: gr.Blocks, max_mb: int, max_files: int, session: Any, picker: Any, audited: bool = True
) -> None:
    """The knowledge-base tab (uploads, the document list, deletion) and its events, for the knowledge base of the
    chat's `session` (shown again whenever `picker`, the knowledge-base dropdown, changes); uploads and deletions are
    written to that knowledge base's audit log (unless not `audited`), with the login name.

    With a users file, the upload and delete controls are shown only to a user whose role there allows them, and a
    click is refused when it does not (the events can be sent without the page)."""
    everyone = access.accounts is None  # without accounts, everyone may change files
    # Several knowledge bases: nothing of any is in the page as built (every browser gets it, whoever logs in);
    # the list is filled once the page knows whose knowledge base it shows.
    first = None if access.several else access.shelf.get()
    with gr.Tab("知识库 Knowledge base", id="kb"):
        read_only = gr.Markdown(READ_ONLY, visible=False, elem_id="read-only")
        with gr.Column(visible=everyone, elem_id="upload-area") as upload_area:
            gr.Markdown(
                f"支持上传 {' '.join(UPLOAD_TYPES)}；每个文件不超过 {max_mb} MB，每次最多 {max_files} 个。"
                f" Upload {' '.join(UPLOAD_TYPES)} files, up to {max_mb} MB each and {max_files} at a time."
            )
            uploads = gr.File(
                label="上传文件 Upload files",
                file_count="multiple",
                file_types=list(UPLOAD_TYPES),
                type="filepath",
                elem_id="upload",
            )
        with gr.Row():
            ingest_button = gr.Button("导入知识库 Ingest", variant="primary", visible=everyone, elem_id="ingest")
            refresh = gr.Button("刷新列表 Refresh", variant="secondary", elem_id="refresh")
        with gr.Column(visible=everyone, elem_id="ingest-area") as ingest_area:
            ingest_summary = gr.Markdown(elem_id="ingest-summary")
            ingest_table = gr.Dataframe(
                headers=RESULT_HEADERS,
                datatype=["str", "str", "str"],
                value=[],
                interactive=False,
                label="导入结果 Ingestion results",
                elem_id="ingest-results",
                wrap=True,
            )
        heading = gr.Markdown(documents_heading(first) if first else "", elem_id="documents-heading")
        documents = gr.HTML(
            documents_html(first) if first else "",
            css_template=DOCUMENTS_CSS,
            js_on_load=None,
            elem_id="documents",
            padding=False,
        )
        with gr.Row(visible=everyone, elem_id="delete-area") as delete_area:
            to_delete = gr.Dropdown(
                choices=source_choices(first) if first else [],
                multiselect=True,
                scale=4,
                label="从知识库删除 Remove from the knowledge base",
                elem_id="to-delete",
            )
            delete_button = gr.Button("删除… Delete…", variant="stop", scale=1, elem_id="delete")
        with gr.Group(visible=False, elem_id="delete-confirm") as confirm_box:
            confirm_text = gr.Markdown(elem_id="delete-question")
            with gr.Row():
                confirm = gr.Button("确认删除 Delete", variant="stop", elem_id="delete-yes")
                cancel = gr.Button("取消 Cancel", variant="secondary", elem_id="delete-no")
        delete_summary = gr.Markdown(elem_id="delete-summary")

    def kb_of(session: dict | None, request: gr.Request | None) -> Any:
        """The session's knowledge base, if the user may read it (AssistantError otherwise)."""
        return access.kb(session_kb(session), login_of(request))

    def may_change(kb: Any, request: gr.Request | None) -> bool:
        return access.may(login_of(request), str(kb.settings.kb), "upload")

    def refresh_docs(session: dict | None, request: gr.Request):
        try:
            kb = kb_of(session, request)
        except AssistantError as exc:
            return chat_text(str(exc)), "", gr.update(choices=[], value=[])
        return documents_heading(kb), documents_html(kb), gr.update(choices=source_choices(kb), value=[])

    def ask_first(chosen, session: dict | None, request: gr.Request):
        if not chosen:
            return gr.update(visible=False), "", "请先选择要删除的文件。Choose the files to delete first."
        return gr.update(visible=True), delete_question(kb_of(session, request), chosen), ""

    def record(kb: Any, request: gr.Request | None, action: str, names: list[str]) -> None:
        if audited:
            name = str(kb.settings.kb)
            access.audit(name).record_many(login_of(request), name, action, names, via="chat")

    def run_delete(chosen, session: dict | None, request: gr.Request):
        kb = kb_of(session, request)
        if not may_change(kb, request):
            return (
                gr.update(visible=False),
                NO_RIGHT.format(what="删除", what_en="delete"),
                *refresh_docs(session, request),
            )
        message = delete_sources(
            kb, chosen, lambda removed: record(kb, request, "delete", [Path(s).name for s in removed])
        )
        return (gr.update(visible=False), message, *refresh_docs(session, request))

    def run_ingest(files, session: dict | None, request: gr.Request, progress=gr.Progress()):  # noqa: B008 (how Gradio injects a progress bar)
        kb = kb_of(session, request)
        if not may_change(kb, request):
            return NO_RIGHT.format(what="上传", what_en="upload"), [], *refresh_docs(session, request), None
        progress(0, desc="准备导入 Preparing…")

        def step(done: int, total: int, source: str) -> None:
            name = Path(source).name if source else "更新索引 updating the index"
            progress((done, max(total, 1)), desc=f"正在导入 Ingesting：{name}", unit="files")

        try:
            summary, rows = ingest_uploads(kb, files, max_mb=max_mb, max_files=max_files, progress=step)
            record(kb, request, "upload", [row[0] for row in rows if row[1] != RESULT_LABELS["rejected"]])
        except AssistantError as exc:
            summary, rows = f"导入失败 Ingestion failed：{exc}", []
        return summary, rows, *refresh_docs(session, request), None

    def show_kb(session: dict | None, request: gr.Request):
        """Another knowledge base is shown: its documents, and the controls the user's role there allows."""
        try:
            allowed = may_change(kb_of(session, request), request)
        except AssistantError:
            allowed = False
        shown = gr.update(visible=allowed)
        return (*refresh_docs(session, request), shown, shown, shown, shown, gr.update(visible=not allowed), "", [])

    private: dict[str, Any] = {"api_visibility": "private"}
    listing = [heading, documents, to_delete]
    ingest_button.click(run_ingest, [uploads, session], [ingest_summary, ingest_table, *listing, uploads], **private)
    refresh.click(refresh_docs, [session], listing, **private)
    delete_button.click(ask_first, [to_delete, session], [confirm_box, confirm_text, delete_summary], **private)
    cancel.click(lambda: gr.update(visible=False), None, confirm_box, **private)
    confirm.click(run_delete, [to_delete, session], [confirm_box, delete_summary, *listing], **private)
    controls = [upload_area, ingest_button, ingest_area, delete_area, read_only, ingest_summary, ingest_table]
    # The picker changes when the page has loaded the user's conversation (and with it the knowledge base), when
    # the user switches, and when a conversation of another knowledge base is opened.
    picker.change(show_kb, [session], [*listing, *controls], **private)
    if not access.several:
        # One knowledge base is known before the conversation is: the controls show as soon as the page loads,
        # not after it, so a file chosen at once is not shown by a control that is still hidden.
        app.load(show_kb, [session], [*listing, *controls], **private)


__all__ = [
    "NO_RIGHT",
    "READ_ONLY",
    "delete_question",
    "documents_heading",
    "delete_sources",
    "documents_html",
    "knowledge_tab",
    "source_choices",
]
