"""Saved conversations, feedback on answers, and answers exported as .docx or Markdown."""

from assistant.conversations.export import export_answer, markdown_of, write_docx
from assistant.conversations.feedback import FeedbackItem, export_feedback, question_line
from assistant.conversations.store import Conversation, ConversationStore, Turn, open_store

__all__ = [
    "Conversation",
    "ConversationStore",
    "FeedbackItem",
    "Turn",
    "export_answer",
    "export_feedback",
    "markdown_of",
    "open_store",
    "question_line",
    "write_docx",
]
