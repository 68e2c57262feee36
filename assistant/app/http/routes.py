"""The /api/v1 routes: ask, retrieve, documents (list, upload, delete), stats, health and the audit log."""

from __future__ import annotations

import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, File, Query, Request, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from assistant.app.http.errors import ApiError
from assistant.app.http.service import Service
from assistant.app.ui.render import answer_dict
from assistant.app.ui.uploads import too_many_files, upload_name, upload_rejection
from assistant.conversations.export import answer_from_json, docx_bytes, markdown_of
from assistant.errors import AuditError
from assistant.results import to_jsonable

Mode = Literal["extractive", "openai", "ollama", "local"]  # assistant.models.chat.MODES, spelled out for the schema
Turn = str | list[str] | dict[str, str]  # a question, a [question, answer] pair, or a {"role", "content"} message
FILTERS_HELP = (
    "only documents that match: office (issuing office, matched by containment: 市人民政府办公室 finds"
    " **市人民政府办公室), doc_type (文种, e.g. 通知, 经验材料), since/until (成文日期 YYYY-MM-DD, inclusive;"
    " undated documents are left out); a bad key or date is a 422"
)
FILTERS_EXAMPLE = {"office": "市委办公厅", "doc_type": "经验材料"}
KB_HELP = "the knowledge base (GET /v1/models lists those served to you); default: the first served one you may use"


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not silently ignored

    question: str = Field(
        description="the question, in Chinese or English", examples=["机关是怎样落实在职党员“双报到”制度的？"]
    )
    history: list[Turn] = Field(
        default_factory=list,
        description="earlier turns, oldest first: questions, [question, answer] pairs or {role, content} messages;"
        " a follow-up question is rewritten to stand alone",
    )
    k: int | None = Field(default=None, ge=1, le=50, description="passages to answer from (default: top_k)")
    mode: Mode | None = Field(default=None, description="answer mode (default: the server's answer_mode)")
    filters: dict[str, Any] | None = Field(default=None, description=FILTERS_HELP, examples=[FILTERS_EXAMPLE])
    kb: str | None = Field(default=None, description=KB_HELP, examples=["default"])


class RetrieveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(examples=["保密工作怎么抓？"])
    k: int | None = Field(default=None, ge=1, le=50, description="passages to return (default: top_k)")
    filters: dict[str, Any] | None = Field(default=None, description=FILTERS_HELP, examples=[FILTERS_EXAMPLE])
    kb: str | None = Field(default=None, description=KB_HELP)


class ExportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["docx", "markdown"] = Field(
        default="docx", description="docx: Word with footnoted sources; markdown: [^n] footnotes"
    )
    answer: dict[str, Any] | None = Field(
        default=None, description="an answer as returned by POST /api/v1/ask, exported as it is (no new search)"
    )
    question: str | None = Field(default=None, description="or a question: answered now, then exported")
    history: list[Turn] = Field(default_factory=list, description="as in /api/v1/ask")
    k: int | None = Field(default=None, ge=1, le=50)
    mode: Mode | None = None
    filters: dict[str, Any] | None = Field(default=None, description=FILTERS_HELP)
    kb: str | None = Field(default=None, description=KB_HELP + " (with `question`)")


EXPORT_TYPES = {
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "answer.docx"),
    "markdown": ("text/markdown; charset=utf-8", "answer.md"),
}


def _history(turns: list[Turn]) -> list[Any] | None:
    # kb.ask reads a pair as a tuple; JSON has only arrays.
    return [tuple(t) if isinstance(t, list) else t for t in turns] or None


def _resolve_sources(kb: Any, wanted: list[str]) -> list[str]:
    """Source paths for what the caller named: a full source path, or a file name that only one source has."""
    sources = sorted({d.source for d in kb.documents()})
    resolved = []
    for name in wanted:
        if name in sources:
            resolved.append(name)
            continue
        matches = [s for s in sources if Path(s).name == name]
        if len(matches) != 1:
            what = "no document has" if not matches else f"{len(matches)} documents have"
            raise ApiError(
                404 if not matches else 409,
                "unknown_source" if not matches else "ambiguous_source",
                f"{what} the source {name!r}; use a full source path from GET /api/v1/documents",
            )
        resolved.append(matches[0])
    return resolved


def _save_uploads(service: Service, kb: Any, files: list[UploadFile]) -> tuple[list[Path], list[list[str]]]:
    """Check the files as the browser chat does and copy the accepted ones to <kb_dir>/uploads under their names.

    Returns the saved paths and the rejected files as [name, reason]. A file over the size limit
    rejects the whole request (413) before anything is saved.
    """
    if message := too_many_files(len(files), service.max_upload_files):
        raise ApiError(413, "too_many_files", message)
    accepted: dict[str, UploadFile] = {}
    rejected: list[list[str]] = []
    for upload in files:
        name = upload_name(upload.filename or "")
        size = upload.size if upload.size is not None else len(upload.file.read())
        refused = upload_rejection(name, size, service.max_upload_mb)
        if refused and refused[0] == "size":
            raise ApiError(413, "file_too_large", f"{name}: {refused[1]} Nothing was ingested; upload smaller files.")
        if refused:
            rejected.append([name or str(upload.filename), refused[1]])
        elif name in accepted:
            rejected.append([name, "同名文件已在本次上传中 duplicate name in this upload"])
        else:
            accepted[name] = upload
    if not accepted:
        reasons = "; ".join(f"{n}: {r}" for n, r in rejected)
        raise ApiError(422, "nothing_to_ingest", f"no file could be ingested ({reasons})")
    folder = Path(kb.settings.kb_dir) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    saved = []
    for name, upload in accepted.items():
        upload.file.seek(0)
        # The knowledge base keeps its own copy under the original name, as uploads in the chat do.
        with (folder / name).open("wb") as out:
            shutil.copyfileobj(upload.file, out)
        saved.append(folder / name)
    return saved, rejected


def api_router(service: Service) -> APIRouter:
    """The /api/v1 routes; each takes the knowledge base as `kb` (a JSON field, or a query parameter on the others).

    Handlers are plain `def`: FastAPI runs them off the event loop. Who may use which knowledge base is checked
    in each handler, once it knows the knowledge base (the key itself is checked before, by the Gate).
    """
    router = APIRouter(prefix="/api/v1", tags=["knowledge base"], max_body_size=service.max_request_bytes)
    kb_query = Query(None, description=KB_HELP)

    @router.post("/ask", summary="Answer a question with [n] citations (the same JSON as Gradio's /ask)")
    def ask(body: AskRequest, request: Request) -> dict[str, Any]:
        name, kb = service.open(request, body.kb)
        service.record(request, name, "ask", [body.question])
        answer = kb.ask(body.question, k=body.k, history=_history(body.history), mode=body.mode, filters=body.filters)
        return answer_dict(answer)

    @router.post(
        "/export",
        summary="An answer with its footnoted sources as a .docx or Markdown file (give `answer` or `question`)",
        response_class=Response,
        responses={200: {"content": {t: {} for t, _ in EXPORT_TYPES.values()}}},
    )
    def export(body: ExportRequest, request: Request) -> Response:
        name, kb = service.open(request, body.kb)
        if (body.answer is None) == (body.question is None):
            raise ApiError(
                422,
                "invalid_request",
                "send either `answer` (the JSON of POST /api/v1/ask) or `question` (answered now), not both or neither",
            )
        if body.answer is not None:
            if not isinstance(body.answer.get("question"), str) or not isinstance(body.answer.get("text"), str):
                raise ApiError(422, "invalid_answer", "`answer` needs the fields of POST /api/v1/ask (question, text…)")
            try:
                answer = answer_from_json({"refused": False, **body.answer})
            except TypeError as exc:
                raise ApiError(422, "invalid_answer", f"`answer` is not an answer of POST /api/v1/ask ({exc})") from exc
        else:
            service.record(request, name, "ask", [body.question or ""])
            answer = kb.ask(
                body.question or "", k=body.k, history=_history(body.history), mode=body.mode, filters=body.filters
            )
        media, file_name = EXPORT_TYPES[body.format]
        data = docx_bytes(answer) if body.format == "docx" else markdown_of(answer).encode("utf-8")
        return Response(data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{file_name}"'})

    @router.post("/retrieve", summary="The k best passages for a question, best first")
    def retrieve(body: RetrieveRequest, request: Request) -> dict[str, Any]:
        _, kb = service.open(request, body.kb)
        passages = kb.retrieve(body.question, k=body.k, filters=body.filters)
        return {"question": body.question, "passages": [asdict(p) for p in passages]}

    @router.get("/documents", summary="The indexed documents (articles of a compilation separately)")
    def documents(request: Request, kb: str | None = kb_query) -> dict[str, Any]:
        _, opened = service.open(request, kb)
        return {"documents": [asdict(d) for d in opened.documents()]}

    @router.post(
        "/documents",
        summary="Upload and ingest files (multipart, parts named `files`); returns the ingest report",
        max_body_size=service.max_upload_bytes,
    )
    def upload(
        request: Request,
        files: list[UploadFile] = File(..., description="one or more documents"),
        kb: str | None = kb_query,
    ) -> dict[str, Any]:
        name, opened = service.open(request, kb)
        service.require(request, name, "upload", "uploading files")
        saved, rejected = _save_uploads(service, opened, files)
        service.record(request, name, "upload", [path.name for path in saved])
        report = opened.ingest(saved)
        return {**to_jsonable(report), "rejected": rejected}

    @router.delete("/documents", summary="Remove documents by source path (or by a file name only one source has)")
    def delete(
        request: Request,
        source: list[str] = Query(..., description="source path, repeatable"),
        kb: str | None = kb_query,
    ) -> dict[str, Any]:
        name, opened = service.open(request, kb)
        service.require(request, name, "upload", "deleting files")
        deleted = opened.delete(_resolve_sources(opened, source))
        service.record(request, name, "delete", [Path(s).name for s in deleted])
        return {"deleted": deleted}

    @router.get("/stats", summary="Counts and sizes of the knowledge base")
    def stats(request: Request, kb: str | None = kb_query) -> dict[str, Any]:
        _, opened = service.open(request, kb)
        return dict(opened.stats())

    @router.get("/health", summary="The server is up and the knowledge base is open (`kbs`: those served to you)")
    def health(request: Request, kb: str | None = kb_query) -> dict[str, Any]:
        name, opened = service.open(request, kb)
        return {
            "status": "ok",
            "kb": name,
            "documents": len(opened.documents()),
            "answer_mode": opened.answer_mode,
            "kbs": service.visible(request),
        }

    @router.get(
        "/audit",
        summary="Who asked, uploaded or deleted what and when (an API key, or an admin account; since/until: UTC days)",
    )
    def audit(
        request: Request,
        since: str | None = Query(None, description="first day, YYYY-MM-DD (inclusive)"),
        until: str | None = Query(None, description="last day, YYYY-MM-DD (inclusive)"),
        kb: str | None = kb_query,
    ) -> dict[str, Any]:
        name, _ = service.open(request, kb)
        if service.keys.accounts is not None:
            service.require(request, name, "admin", "reading the audit log")
        elif not service.keys.enabled:
            raise ApiError(
                403,
                "audit_needs_keys",
                "the audit log is served only to callers with an API key, and this server has none; the "
                "administrator can set ASSISTANT_API_KEYS, or read it on the server with "
                "`python -m assistant audit export FILE.csv`",
            )
        if not service.audited:
            raise ApiError(404, "no_audit_log", "this server keeps no audit log")
        try:
            entries = service.shelf.audit(name).entries(since, until)
        except AuditError as exc:
            raise ApiError(422, "invalid_date", str(exc)) from exc
        return {"kb": name, "entries": [asdict(e) for e in entries]}

    return router


__all__ = ["AskRequest", "ExportRequest", "RetrieveRequest", "api_router"]
