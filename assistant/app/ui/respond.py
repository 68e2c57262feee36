"""The chat's event handlers: answering a question (with status and stop), showing an answer's sources, new chat."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import gradio as gr

from assistant.app.ui.kb_picker import KbAccess
from assistant.app.ui.modes import MODEL_UNAVAILABLE, MODEL_UNAVAILABLE_EN
from assistant.app.ui.render import (
    answer_message,
    chat_text,
    cite_links,
    esc,
    is_english,
    sources_html,
    sources_link,
    turn_panel,
)
from assistant.app.ui.session import empty_session, message_text, session_kb, with_turn
from assistant.app.ui.status import STOPPED_NOTE, STOPPED_NOTE_EN, Runs, status_text
from assistant.conversations.audit import AuditLog, login_of
from assistant.errors import AssistantError, ModelError, QuestionError, SettingsError
from assistant.models.chat import BackendError
from assistant.models.generation_queue import Stop
from assistant.results import Answer, Stage
from assistant.retrieval.filters import FILTER_KEYS  # the order of the chat's filter controls

log = logging.getLogger("assistant.app.ui.respond")

CURSOR = " ▍"  # ends a draft the model is still writing
THINKING = "…"  # the answer's bubble before any word of it arrives


def status_html(text: str) -> str:
    return f'<div class="chat-status" role="status">{esc(text)}</div>' if text else ""


def _session_key(request: gr.Request | None) -> str:
    return getattr(request, "session_hash", None) or "-"


def _busy(running: bool) -> tuple[dict, dict]:
    """(send button, stop button) updates: the stop button replaces Send while an answer is made."""
    return gr.update(visible=not running), gr.update(visible=running)


def make_responder(
    kb: Any, runs: Runs, audit: AuditLog | None = None, access: KbAccess | None = None
) -> Callable[..., Iterator[tuple]]:
    """The answer handler; yields (question box, chat, session, sources, status, send, stop).

    Every question asked (typed, an example, regenerated) goes through it, and is written to `audit` if given.
    With `access` (several knowledge bases), each question goes to its session's knowledge base, once the user
    may read it there, and is written to that knowledge base's audit log; `kb` and `audit` are then not used.
    """

    def respond(
        question: str,
        history: list | None,
        session: dict | None,
        k: float,
        mode: str | None,
        office: str | None,
        doc_type: str | None,
        since: str | None,
        until: str | None,
        request: gr.Request,
    ):
        limits = (office, doc_type, since, until)
        filters = {key: v.strip() for key, v in zip(FILTER_KEYS, limits) if v and v.strip()} or None
        history = list(history or [])
        session = session or empty_session()
        question = (question or "").strip()
        keep = gr.update()
        if not question:
            gr.Warning("请输入问题。Type a question first.")
            yield keep, history, session, keep, "", *_busy(False)
            return
        asked, log_to = kb, audit
        if access is not None:
            try:
                asked = access.kb(session_kb(session), login_of(request))
            except AssistantError as exc:  # the user may no longer read it (a role removed since the page loaded)
                gr.Warning(str(exc))
                yield keep, history, session, keep, "", *_busy(False)
                return
            log_to = access.audit(str(asked.settings.kb))
        mode = mode or asked.settings.answer_mode
        if log_to is not None:
            log_to.record(login_of(request), str(asked.settings.kb), "ask", question, via="chat")
        english = is_english(question)
        turn = len(session["sources"])
        history.append({"role": "user", "content": chat_text(question)})
        history.append({"role": "assistant", "content": THINKING})
        run = runs.begin(_session_key(request), question)
        stop = Stop()  # the stop button's hook: shuts the model's request at once (llama.cpp then frees its slot)
        run.on_stop.append(stop.set)
        yield "", history, session, keep, status_html(status_text(Stage.SEARCHING, 0, english)), *_busy(True)
        note, answer, searched = "", None, list(session["searched"])
        try:
            try:
                run.start(
                    lambda on_stage: asked.stream(
                        question,
                        history=searched,
                        mode=mode,
                        k=int(k),
                        filters=filters,
                        on_stage=on_stage,
                        stop=stop,
                        queue_status=True,
                    )
                )
                for item in run.updates():
                    if isinstance(item, Answer):
                        answer = item
                        break
                    if mode != "extractive" and item.draft:
                        history[-1] = {"role": "assistant", "content": chat_text(item.draft) + CURSOR}
                    yield (
                        "",
                        history,
                        session,
                        keep,
                        status_html(
                            item.queued.message(english)
                            if item.queued
                            else status_text(item.stage, item.seconds, english)
                        ),
                        keep,
                        keep,
                    )
            except (BackendError, ModelError, SettingsError) as exc:
                if mode == "extractive":
                    raise
                # The chat model is down or not set up: never leave a blank, answer extractively.
                # The details (settings, addresses) are for the administrator's log, not the chat.
                log.warning("chat model %r failed, answering extractively: %s", mode, exc)
                note = f"**⚠ {MODEL_UNAVAILABLE_EN if english else MODEL_UNAVAILABLE}**"
                answer = asked.ask(question, history=searched, mode="extractive", k=int(k), filters=filters)
        except QuestionError as exc:  # the question itself (or a filter) is wrong: the message says how
            history[-1] = {"role": "assistant", "content": f"**⚠ {chat_text(str(exc))}**"}
            run.final = (history, with_turn(session, "", None, history), keep)
            yield "", *run.final, "", *_busy(False)
            return
        except AssistantError as exc:
            log.warning("question failed: %s", exc)
            plain = "Something went wrong; please contact the administrator." if english else "出错了，请联系管理员。"
            history[-1] = {"role": "assistant", "content": f"**⚠ {plain}**"}
            run.final = (history, with_turn(session, "", None, history), keep)
            yield "", *run.final, "", *_busy(False)
            return
        if answer is None:  # stopped: settle() shows the stopped turn
            return
        panel = sources_html(answer, asked.document_text)
        message = cite_links(answer_message(answer, question), turn, (c.n for c in answer.citations))
        if note:
            message = f"{note}\n\n{message}"
        link = sources_link(turn, answer)
        history[-1] = {"role": "assistant", "content": f"{message}\n\n{link}" if link else message}
        session = with_turn(session, panel, answer, history)  # saved, rated and exported by history.py
        run.final = (history, session, turn_panel(session["sources"], turn))
        yield "", *run.final, "", *_busy(False)

    return respond


def make_stop_request(runs: Runs) -> Callable[[gr.Request], None]:
    """The stop button's handler: stop this page's answer now (the model's request is closed at its next word)."""

    def request_stop(request: gr.Request) -> None:
        runs.stop(_session_key(request))

    return request_stop


def make_settler(runs: Runs) -> Callable[..., tuple]:
    """The step after an answer event ends, however it ended: brings the page to the answer's final state.

    Returns (question box, chat, session, sources, status, send, stop), as the answer handler. After a stop (Gradio cancelled the answer, so
    the page shows the draft as it was), the draft is marked as stopped and the turn is remembered
    without sources; if the answer was done but the page missed its last update, that update is shown.
    """

    def settle(history: list | None, session: dict | None, request: gr.Request):
        keep = gr.update()
        run = runs.latest(_session_key(request))
        if run is None or run.settled:
            return keep, keep, keep, keep, "", *_busy(False)
        run.settled = True
        if run.final is not None:
            return keep, *run.final, "", *_busy(False)
        run.stop()  # the page gave up on this answer: stop making it
        history = list(history or [])
        session = session or empty_session()
        if not history or history[-1].get("role") != "assistant":
            return keep, keep, keep, keep, "", *_busy(False)
        draft = message_text(history[-1]).removesuffix(CURSOR)
        draft = "" if draft == THINKING else draft
        note = f"*{STOPPED_NOTE_EN if is_english(run.question) else STOPPED_NOTE}*"
        history[-1] = {"role": "assistant", "content": f"{draft}\n\n{note}" if draft else note}
        session = with_turn(session, "", None, history)
        session["searched"].append(run.question)  # a stopped question is still what the next one follows
        return keep, history, session, keep, "", *_busy(False)

    return settle


def show_turn(session: dict | None, evt: gr.EventData):
    """A citation or "查看来源" of answer `turn` was clicked: show that answer's sources, saying which."""
    panels = (session or {}).get("sources", [])
    try:
        turn = int(evt.turn)
    except (AttributeError, TypeError, ValueError):
        return gr.update()
    return turn_panel(panels, turn) if 0 <= turn < len(panels) else gr.update()


__all__ = [
    "make_responder",
    "make_settler",
    "make_stop_request",
    "show_turn",
]
