"""The chat's per-browser session: the knowledge base it asks, and per turn what was searched, its sources, Answer, messages."""

from __future__ import annotations

import html
import re
from dataclasses import asdict
from typing import Any

from assistant.results import Answer

_UNESCAPE = re.compile(r"\\([\\`*_\[\]{}()#~|!$+=.)-])")  # render.chat_text's backslash escapes


def empty_session(kb: str = "") -> dict[str, Any]:
    """A conversation with no turns yet in knowledge base `kb` ("": the server's default).

    The session is server-side state (gr.State), so the knowledge base a question goes to is the one the server
    put here after checking the user may read it, never a value the page sends.
    """
    return {"kb": kb, "searched": [], "sources": [], "answers": [], "messages": []}


def session_kb(session: dict | None) -> str:
    """The knowledge base of a session ("" for the default, also for a session from before there was a choice)."""
    return str((session or {}).get("kb") or "")


def with_turn(session: dict | None, panel: str, answer: Answer | None, chat: list) -> dict[str, Any]:
    """The session after one more turn: its sources panel, Answer (None after an error) and the turn's two messages
    (the last two of `chat`), kept here because a handler of the session's change is not sent the chat's new value.

    Only answers join `searched`, the follow-up context, so an error turn adds nothing there.
    """
    session = session or empty_session()
    n = len(session["sources"])
    answers = (list(session.get("answers") or []) + [None] * n)[:n]  # padded for a session from before they were kept
    messages = (list(session.get("messages") or []) + [["", ""]] * n)[:n]
    return {
        "kb": session_kb(session),
        "searched": session["searched"] + ([answer.searched] if answer else []),
        "sources": session["sources"] + [panel],
        "answers": answers + [asdict(answer) if answer else None],
        "messages": messages + [[message_text(m) for m in chat[-2:]]],
    }


def entry_of(kb: str, conversation: str) -> str:
    """A conversation's value in the conversation list: its knowledge base and id (names have no '/', ids are hex)."""
    return f"{kb}/{conversation}"


def parse_entry(entry: str | None) -> tuple[str, str]:
    """(knowledge base, conversation id) of a value of the conversation list."""
    kb, _, conversation = (entry or "").rpartition("/")
    return kb, conversation


def message_text(message: dict[str, Any]) -> str:
    """The text of a chat message as Gradio hands it to a handler (a string, or a list of content parts)."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text") or "")
    if isinstance(content, list):
        return "".join(part if isinstance(part, str) else str(part.get("text") or "") for part in content)
    return ""


def plain_question(user_message: str) -> str:
    """The question as typed, from the chat's escaped Markdown of it."""
    return html.unescape(_UNESCAPE.sub(r"\1", user_message))


__all__ = ["empty_session", "entry_of", "message_text", "parse_entry", "plain_question", "session_kb", "with_turn"]
