"""Conversations and feedback saved per user in SQLite beside the knowledge base (conversations.sqlite3)."""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
import uuid
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.conversations import sqlite_file
from assistant.conversations.feedback import RATINGS, FeedbackItem
from assistant.errors import ConversationError, FeedbackError

FILE_NAME = "conversations.sqlite3"
TITLE_CHARS = 60  # the longest title kept; a longer one is cut with "…"
COMMENT_CHARS = 2000

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY, user TEXT NOT NULL, title TEXT NOT NULL, created REAL NOT NULL, updated REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS conversations_user ON conversations (user, updated);
CREATE TABLE IF NOT EXISTS turns (
    conversation TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    question TEXT NOT NULL, user_message TEXT NOT NULL, reply TEXT NOT NULL, panel TEXT NOT NULL,
    searched TEXT NOT NULL, answer TEXT, mode TEXT NOT NULL, created REAL NOT NULL,
    PRIMARY KEY (conversation, position)
);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL, conversation TEXT NOT NULL, position INTEGER NOT NULL,
    rating TEXT NOT NULL, comment TEXT NOT NULL, question TEXT NOT NULL, answer TEXT NOT NULL, mode TEXT NOT NULL,
    created REAL NOT NULL, updated REAL NOT NULL, UNIQUE (user, conversation, position)
);
"""


@dataclass
class Conversation:
    """A saved conversation of one user: its id, title, times (Unix seconds) and number of turns."""

    id: str
    user: str
    title: str
    created: float
    updated: float
    turns: int = 0


@dataclass
class Turn:
    """One question and its reply as the chat showed them; `answer` is the Answer as JSON (None after an error)."""

    question: str
    user_message: str
    reply: str
    panel: str = ""
    searched: str = ""
    answer: dict[str, Any] | None = None
    mode: str = ""
    position: int = -1
    created: float = field(default_factory=time.time)


def title_of(text: str) -> str:
    """A conversation title from a question or a typed name: one line, at most TITLE_CHARS characters."""
    line = " ".join((text or "").split())
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1] + "…"


class ConversationStore:
    """Conversations, their turns and feedback on answers, per user, in one SQLite file.

    Every method opens its own short connection, so handlers on several threads can share a store.
    A conversation of another user is reported as unknown, never shown.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        sqlite_file.create(self.path, SCHEMA, ConversationError, "the conversation store")

    def _db(self) -> AbstractContextManager[sqlite3.Connection]:
        return sqlite_file.transaction(self.path, foreign_keys=True)

    # -- the browser's key ---------------------------------------------------------------------
    def secret(self, name: str = "browser_state") -> str:
        """A random key created once and kept here, so what a browser stores survives a server restart."""
        with self._db() as db:
            db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", (name, secrets.token_urlsafe(24)))
            row = db.execute("SELECT value FROM meta WHERE key = ?", (name,)).fetchone()
        return str(row[0])

    # -- conversations ---------------------------------------------------------------------------
    def create(self, user: str, title: str = "") -> Conversation:
        """A new, empty conversation of `user` (titled by its first question when `title` is empty)."""
        now = time.time()
        conversation = Conversation(uuid.uuid4().hex, _user(user), title_of(title) or "新对话", now, now)
        with self._db() as db:
            db.execute(
                "INSERT INTO conversations (id, user, title, created, updated) VALUES (?, ?, ?, ?, ?)",
                (conversation.id, conversation.user, conversation.title, now, now),
            )
        return conversation

    def conversations(self, user: str) -> list[Conversation]:
        """The user's conversations, the most recently used first."""
        with self._db() as db:
            rows = db.execute(
                "SELECT c.id, c.user, c.title, c.created, c.updated, COUNT(t.position) FROM conversations c"
                " LEFT JOIN turns t ON t.conversation = c.id WHERE c.user = ? GROUP BY c.id"
                " ORDER BY c.updated DESC, c.created DESC",
                (_user(user),),
            ).fetchall()
        return [Conversation(*row) for row in rows]

    def get(self, user: str, conversation_id: str) -> Conversation:
        """One conversation of the user; ConversationError when there is none with that id."""
        for conversation in self.conversations(user):
            if conversation.id == conversation_id:
                return conversation
        raise ConversationError(
            f"对话 {conversation_id!r} 不存在（可能已被删除）；请从列表中选择一个对话，或新建对话。"
            f" No conversation {conversation_id!r} for this user (it may have been deleted);"
            " pick one from the list or start a new one."
        )

    def rename(self, user: str, conversation_id: str, title: str) -> Conversation:
        """Give a conversation a new title (blank titles are refused)."""
        new = title_of(title)
        if not new:
            raise ConversationError("标题不能为空：请输入新标题。 The title is empty: type a new title first.")
        self.get(user, conversation_id)
        with self._db() as db:
            db.execute("UPDATE conversations SET title = ? WHERE id = ?", (new, conversation_id))
        return self.get(user, conversation_id)

    def delete(self, user: str, conversation_id: str) -> None:
        """Delete a conversation and its turns (feedback on its answers is kept: it stands on its own)."""
        self.get(user, conversation_id)
        with self._db() as db:
            db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    # -- turns -------------------------------------------------------------------------------------
    def turns(self, user: str, conversation_id: str) -> list[Turn]:
        """The conversation's turns, oldest first."""
        self.get(user, conversation_id)
        with self._db() as db:
            rows = db.execute(
                "SELECT question, user_message, reply, panel, searched, answer, mode, position, created FROM turns"
                " WHERE conversation = ? ORDER BY position",
                (conversation_id,),
            ).fetchall()
        return [
            Turn(
                question=q,
                user_message=um,
                reply=r,
                panel=p,
                searched=s,
                answer=json.loads(a) if a else None,
                mode=m,
                position=pos,
                created=c,
            )
            for q, um, r, p, s, a, m, pos, c in rows
        ]

    def append(self, user: str, conversation_id: str, turn: Turn) -> Turn:
        """Add a turn at the end of the conversation; returns it with its position."""
        self.get(user, conversation_id)
        now = time.time()
        with self._db() as db:
            (count,) = db.execute("SELECT COUNT(*) FROM turns WHERE conversation = ?", (conversation_id,)).fetchone()
            db.execute(
                "INSERT INTO turns (conversation, position, question, user_message, reply, panel, searched, answer,"
                " mode, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    conversation_id,
                    count,
                    turn.question,
                    turn.user_message,
                    turn.reply,
                    turn.panel,
                    turn.searched,
                    json.dumps(turn.answer, ensure_ascii=False) if turn.answer is not None else None,
                    turn.mode,
                    turn.created,
                ),
            )
            db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (now, conversation_id))
        turn.position = count
        return turn

    def drop_last(self, user: str, conversation_id: str) -> Turn | None:
        """Remove and return the conversation's last turn (for regenerating it); None when it has none."""
        turns = self.turns(user, conversation_id)
        if not turns:
            return None
        with self._db() as db:
            db.execute(
                "DELETE FROM turns WHERE conversation = ? AND position = ?", (conversation_id, turns[-1].position)
            )
        return turns[-1]

    # -- feedback ----------------------------------------------------------------------------------
    def rate(self, user: str, conversation_id: str, position: int, rating: str, comment: str = "") -> FeedbackItem:
        """👍 ("up") or 👎 ("down") on the answer of a turn, stored with a copy of its question and answer.

        Rating the same answer again replaces the rating (and keeps an earlier comment unless a new one is given).
        """
        if rating not in RATINGS:
            raise FeedbackError(f"unknown rating {rating!r}: use one of {', '.join(RATINGS)}")
        turns = {t.position: t for t in self.turns(user, conversation_id)}
        turn = turns.get(position)
        if turn is None or turn.answer is None:
            raise FeedbackError(
                "这条消息没有可评价的回答；请对助手的回答点赞或点踩。"
                " There is no answer to rate at that position; rate one of the assistant's answers."
            )
        now = time.time()
        with self._db() as db:
            db.execute(
                "INSERT INTO feedback (user, conversation, position, rating, comment, question, answer, mode, created,"
                " updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (user, conversation, position) DO UPDATE"
                " SET rating = excluded.rating, question = excluded.question, answer = excluded.answer,"
                " mode = excluded.mode, updated = excluded.updated,"
                " comment = CASE WHEN excluded.comment != '' THEN excluded.comment ELSE feedback.comment END",
                (
                    _user(user),
                    conversation_id,
                    position,
                    rating,
                    comment.strip()[:COMMENT_CHARS],
                    turn.question,
                    json.dumps(turn.answer, ensure_ascii=False),
                    turn.mode or str(turn.answer.get("mode", "")),
                    now,
                    now,
                ),
            )
            (feedback_id,) = db.execute(
                "SELECT id FROM feedback WHERE user = ? AND conversation = ? AND position = ?",
                (_user(user), conversation_id, position),
            ).fetchone()
        return self.feedback_item(user, feedback_id)

    def comment(self, user: str, feedback_id: int, comment: str) -> FeedbackItem:
        """Add a comment to the user's feedback; an empty comment is refused with what to do instead."""
        text = (comment or "").strip()
        if not text:
            raise FeedbackError(
                "评论是空的：请写下这个回答好在哪里或错在哪里，再点“提交评论”；不想写可以直接关闭。"
                " The comment is empty: say what was right or wrong with the answer, or just close the box."
            )
        self.feedback_item(user, feedback_id)
        with self._db() as db:
            db.execute(
                "UPDATE feedback SET comment = ?, updated = ? WHERE id = ?",
                (text[:COMMENT_CHARS], time.time(), feedback_id),
            )
        return self.feedback_item(user, feedback_id)

    def feedback_item(self, user: str, feedback_id: int) -> FeedbackItem:
        for item in self.feedback(user):
            if item.id == feedback_id:
                return item
        raise FeedbackError(f"no feedback {feedback_id} for this user; rate the answer again")

    def feedback(self, user: str | None = None) -> list[FeedbackItem]:
        """Feedback of one user, or of everyone when `user` is None, oldest first."""
        query = (
            "SELECT id, user, conversation, position, rating, comment, question, answer, mode, created, updated"
            " FROM feedback"
        )
        with self._db() as db:
            if user is None:
                rows = db.execute(query + " ORDER BY id").fetchall()
            else:
                rows = db.execute(query + " WHERE user = ? ORDER BY id", (_user(user),)).fetchall()
        return [
            FeedbackItem(
                id=i,
                user=u,
                conversation=cv,
                position=pos,
                rating=r,
                comment=cm,
                question=q,
                answer=json.loads(a),
                mode=m,
                created=c,
                updated=up,
            )
            for i, u, cv, pos, r, cm, q, a, m, c, up in rows
        ]


def _user(user: str) -> str:
    if not user or not user.strip():
        raise ConversationError("no user: every conversation belongs to a user (a login name or a browser id)")
    return user.strip()


def open_store(kb_dir: Path | str) -> ConversationStore:
    """The conversation store of a knowledge base: `<kb_dir>/conversations.sqlite3`."""
    return ConversationStore(Path(kb_dir) / FILE_NAME)


__all__ = ["FILE_NAME", "Conversation", "ConversationStore", "Turn", "open_store", "title_of"]
