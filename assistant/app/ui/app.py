"""The browser chat (Gradio 6): the page, its event handlers, and the /ask API."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

# Gradio reads this when it is imported: no usage statistics leave an offline machine.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

import gradio as gr  # noqa: E402  (the environment variable must be set first)

from assistant.app.ui.render import (  # noqa: E402
    SOURCES_CSS,
    answer_dict,
    answer_message,
    chat_text,
    esc,
    fallback_note,
    is_english,
    sources_html,
)
from assistant.app.ui.stopping import queue_line, stop_button, wire_stop
from assistant.app.ui.uploads import (  # noqa: E402
    DOC_HEADERS,
    RESULT_HEADERS,
    UPLOAD_TYPES,
    delete_sources,
    document_rows,
    ingest_uploads,
    source_choices,
)
from assistant.errors import AssistantError, ModelError, QuestionError, SettingsError  # noqa: E402
from assistant.models.chat import BackendError  # noqa: E402
from assistant.models.generation_queue import Queued
from assistant.results import Answer  # noqa: E402

log = logging.getLogger("assistant.app.ui.app")

EXAMPLES = [
    "机关是怎样落实在职党员“双报到”制度的？",
    "How do offices run the 双报到 system?",
    "办公室怎样做好保密工作？",
    "办公室如何开展督查督办工作？",
    "机关是如何开展清廉机关建设的？",
]
FILTER_KEYS = ("office", "doc_type", "since", "until")  # the order of the chat's filter controls
MODE_CHOICES = [
    ("抽取式 Extractive（无需语言模型）", "extractive"),
    ("本地模型 Local model", "local"),
    ("OpenAI 兼容服务 OpenAI-compatible", "openai"),
    ("Ollama", "ollama"),
]


def ask_kb(
    kb: Any, question: str, k: int | None = None, mode: str | None = None, history: Sequence | None = None
) -> Answer:
    """kb.ask, passing the number of passages, mode and history only when they are given."""
    extra: dict[str, Any] = {}
    if k is not None and int(k) != kb.settings.top_k:
        extra["k"] = int(k)
    if mode:
        extra["mode"] = mode
    if history:
        extra["history"] = list(history)
    return kb.ask(question, **extra)


# -- the app ------------------------------------------------------------------------------------
def _new_session() -> dict[str, list]:
    # searched: what each turn searched (context for follow-ups); sources: the panel of each turn.
    return {"searched": [], "sources": []}


def _constant(value: str) -> Callable[[], str]:
    return lambda: value


# -- event handlers -----------------------------------------------------------------------------
def _responder(kb: Any) -> Callable[..., Iterator[tuple]]:
    """The chat's answer handler: yields (question box, conversation, session, sources panel) states."""

    def respond(
        question: str,
        history: list | None,
        session: dict | None,
        k: float,
        mode: str | None = None,
        *limits: str | None,  # the filter controls: office, 文种, from, to
    ):
        # A generator: Gradio shows each yielded state, so a chat model's words appear as they come.
        filters = {key: v.strip() for key, v in zip(FILTER_KEYS, limits) if v and v.strip()} or None
        history = list(history or [])
        session = session or _new_session()
        question = (question or "").strip()
        mode = mode or kb.settings.answer_mode
        if not question:
            gr.Warning("请输入问题。Type a question first.")
            yield gr.update(), history, session, gr.update()
            return
        english = is_english(question)
        history.append({"role": "user", "content": chat_text(question)})
        note = ""
        answer = None
        try:
            try:
                if mode != "extractive":
                    history.append({"role": "assistant", "content": "…"})
                    yield "", history, session, gr.update()
                written = ""
                for item in kb.stream(
                    question, history=session["searched"], mode=mode, k=int(k), filters=filters, queue_status=True
                ):
                    if isinstance(item, Queued):  # the local model is answering someone else first
                        history[-1] = {"role": "assistant", "content": queue_line(item, english)}
                        yield "", history, session, gr.update()
                    elif isinstance(item, str):
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
                answer = kb.ask(question, history=session["searched"], mode="extractive", k=int(k), filters=filters)
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
        assert answer is not None  # kb.stream() always ends with the Answer
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

    return respond


def show_turn(session: dict | None, evt: gr.SelectData):
    # Clicking an earlier message shows the sources of that turn again.
    index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
    sources = (session or {}).get("sources", [])
    if isinstance(index, int) and 0 <= index // 2 < len(sources) and sources[index // 2]:
        return sources[index // 2]
    return gr.update()


def new_chat():
    return [], _new_session(), sources_html(None), ""


def _api_ask(kb: Any) -> Callable[..., dict]:
    """The /ask API handler (its name, signature and docstring describe the endpoint)."""

    def api_ask(question: str, k: int = 0, mode: str = "") -> dict:
        """Answer a question from the documents: text with [n] markers, refused flag, citations.

        `mode` picks the answerer (extractive, local, openai, ollama); empty = the configured default.
        """
        try:
            answer = ask_kb(kb, question, k or None, mode or None)
        except AssistantError as exc:
            raise gr.Error(str(exc)) from exc
        return answer_dict(answer)

    return api_ask


# -- the page -----------------------------------------------------------------------------------
def _header(warning: str | None) -> None:
    """The title, and the warning (if any) above everything else."""
    gr.Markdown(
        "## 办公文档问答助手 · Office document Q&A\n"
        "答案只来自知识库中的文件，每句话都标注来源 [n]。"
        "Answers come only from the documents in the knowledge base; every statement cites its source [n]."
    )
    if warning:
        gr.HTML(
            f'<div class="ui-warning" role="alert">⚠ {esc(warning)}</div>',
            css_template=".ui-warning { border: 1px solid #c0392b; background: rgba(192,57,43,.12);"
            " border-radius: 6px; padding: 8px 10px; }",
            js_on_load=None,
            elem_id="warning",
        )


def _filter_controls(kb: Any) -> list[gr.components.Component]:
    """Office, 文种 and date range the answer may come from (choices: what the documents print; any may be typed)."""
    docs = kb.documents()
    offices = sorted({d.office for d in docs if d.office})
    types = sorted({d.doc_type for d in docs if d.doc_type})
    gr.Markdown("只在这些文件中查找 Only search documents of:")
    with gr.Row():
        office = gr.Dropdown(
            offices, value=None, allow_custom_value=True, label="发文机关 Office", elem_id="filter-office"
        )
        doc_type = gr.Dropdown(types, value=None, allow_custom_value=True, label="文种 Type", elem_id="filter-type")
    with gr.Row():
        since = gr.Textbox(label="成文日期起 From", placeholder="YYYY-MM-DD", elem_id="filter-since")
        until = gr.Textbox(label="成文日期止 To", placeholder="YYYY-MM-DD", elem_id="filter-until")
    return [office, doc_type, since, until]


def _chat_tab(kb: Any, session: gr.State) -> None:
    """The chat tab (conversation, question box, examples, settings; sources on the right) and its events."""
    default_k = max(1, min(10, kb.settings.top_k))
    with gr.Tab("问答 Chat", id="chat"):
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=360):
                chatbot = gr.Chatbot(
                    label="对话 Conversation",
                    elem_id="chat",
                    height=520,
                    sanitize_html=True,
                    render_markdown=True,
                    latex_delimiters=[],
                    feedback_options=None,
                    buttons=["copy"],
                    placeholder="请在下方输入问题，或点击示例。Ask a question below, or pick an example.",
                )
                with gr.Row():
                    question = gr.Textbox(
                        show_label=False,
                        placeholder="输入问题，按回车发送 · Type a question and press Enter",
                        scale=5,
                        elem_id="question",
                        max_lines=4,
                        autofocus=True,
                    )
                    send = gr.Button("发送 Send", variant="primary", scale=1, min_width=90, elem_id="send")
                    stop = stop_button()
                with gr.Row():
                    gr.Markdown("示例问题 Examples：")
                with gr.Row():
                    example_buttons = [
                        gr.Button(e, size="sm", variant="secondary", elem_classes=["example"]) for e in EXAMPLES
                    ]
                with gr.Row():
                    clear = gr.Button("新对话 New conversation", size="sm", variant="secondary", elem_id="new-chat")
                with gr.Accordion("设置 Settings", open=False, elem_id="settings"):
                    top_k = gr.Slider(
                        1, 10, value=default_k, step=1, label="检索段落数 Passages to use (top k)", elem_id="top-k"
                    )
                    answer_mode = gr.Radio(
                        MODE_CHOICES,
                        value=kb.settings.answer_mode,
                        elem_id="answer-mode",
                        label="回答方式 Answer mode",
                        info="抽取式直接引用原文；语言模型改写成通顺的回答，每句都会核对出处，找不到依据的句子会标出。"
                        " Extractive quotes the documents; a language model writes the answer and every"
                        " sentence is checked against the passages (unsupported ones are flagged).",
                    )
                    limits = _filter_controls(kb)
            with gr.Column(scale=2, min_width=320):
                gr.Markdown("### 来源 Sources")
                sources = gr.HTML(
                    sources_html(None), css_template=SOURCES_CSS, js_on_load=None, elem_id="sources", padding=False
                )

    respond = _responder(kb)
    outputs = [question, chatbot, session, sources]
    answering = [
        question.submit(
            respond, [question, chatbot, session, top_k, answer_mode, *limits], outputs, api_visibility="private"
        ),
        send.click(
            respond, [question, chatbot, session, top_k, answer_mode, *limits], outputs, api_visibility="private"
        ),
    ]
    for button, text in zip(example_buttons, EXAMPLES, strict=True):
        answering.append(
            button.click(_constant(text), None, question, api_visibility="private", queue=False).then(
                respond, [question, chatbot, session, top_k, answer_mode, *limits], outputs, api_visibility="private"
            )
        )
    wire_stop(stop, answering)
    chatbot.select(show_turn, [session], sources, api_visibility="private")
    clear.click(new_chat, None, [chatbot, session, sources, question], api_visibility="private")
    chatbot.clear(new_chat, None, [chatbot, session, sources, question], api_visibility="private")


def _knowledge_tab(kb: Any, app: gr.Blocks, max_mb: int, max_files: int) -> None:
    """The knowledge-base tab (uploads, the document list, deletion) and its events."""
    with gr.Tab("知识库 Knowledge base", id="kb"):
        gr.Markdown(
            f"支持上传 {' '.join(UPLOAD_TYPES)}；每个文件不超过 {max_mb} MB，每次最多 {max_files} 个。"
            f" Upload {' '.join(UPLOAD_TYPES)} files, up to {max_mb} MB each and {max_files} at a time."
        )
        with gr.Row():
            uploads = gr.File(
                label="上传文件 Upload files",
                file_count="multiple",
                file_types=list(UPLOAD_TYPES),
                type="filepath",
                elem_id="upload",
            )
        with gr.Row():
            ingest_button = gr.Button("导入知识库 Ingest", variant="primary", elem_id="ingest")
            refresh = gr.Button("刷新列表 Refresh", variant="secondary", elem_id="refresh")
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
        documents = gr.Dataframe(
            headers=DOC_HEADERS,
            datatype=["str", "str", "number", "str"],
            value=document_rows(kb),
            interactive=False,
            wrap=True,
            label="知识库中的文件 Documents in the knowledge base",
            elem_id="documents",
        )
        with gr.Row():
            to_delete = gr.Dropdown(
                choices=source_choices(kb),
                multiselect=True,
                scale=4,
                label="从知识库删除 Remove from the knowledge base",
                elem_id="to-delete",
            )
            delete_button = gr.Button("删除 Delete", variant="stop", scale=1, elem_id="delete")
        delete_summary = gr.Markdown(elem_id="delete-summary")

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

    ingest_button.click(
        run_ingest, [uploads], [ingest_summary, ingest_table, documents, to_delete, uploads], api_visibility="private"
    )
    refresh.click(refresh_docs, None, [documents, to_delete], api_visibility="private")
    delete_button.click(run_delete, [to_delete], [delete_summary, documents, to_delete], api_visibility="private")
    app.load(refresh_docs, None, [documents, to_delete], api_visibility="private")


def build_app(
    kb: Any, *, max_upload_mb: int | None = None, max_upload_files: int | None = None, warning: str | None = None
) -> gr.Blocks:
    """The Gradio app for a knowledge base: chat with sources, knowledge-base tab, and the /ask API.

    Args:
        kb: an open Assistant.
        max_upload_mb: largest file accepted for upload (default settings.max_upload_mb).
        max_upload_files: most files per upload (default settings.max_upload_files).
        warning: a notice shown at the top of the page (e.g. the server is exposed without a password).
    """
    max_mb = max_upload_mb or kb.settings.max_upload_mb
    max_files = max_upload_files or kb.settings.max_upload_files
    with gr.Blocks(title="办公文档问答 · Office document Q&A", analytics_enabled=False) as app:
        session = gr.State(_new_session())
        _header(warning)
        with gr.Tabs():
            _chat_tab(kb, session)
            _knowledge_tab(kb, app, max_mb, max_files)
        gr.api(_api_ask(kb), api_name="ask")
    return app


__all__ = ["EXAMPLES", "MODE_CHOICES", "ask_kb", "build_app"]
