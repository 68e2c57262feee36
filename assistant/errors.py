"""The assistant's own exceptions; only the edges (CLI, UI) turn them into messages."""


class AssistantError(Exception):
    """Base class: every message says what went wrong and what to do."""


class SettingsError(AssistantError):
    """A setting is unknown or has an unusable value."""


class QuestionError(AssistantError):
    """The question cannot be answered as asked (empty, too long)."""


class ModelError(AssistantError):
    """The embedding model is missing, corrupt or cannot be loaded."""


class StoreError(AssistantError):
    """The vector store or the keyword index cannot be opened or written."""


class ConversationError(AssistantError):
    """A saved conversation cannot be found, named or changed as asked (unknown id, empty title)."""


class FeedbackError(AssistantError):
    """Feedback on an answer cannot be stored or exported as asked (empty comment, unknown rating)."""


class ExportError(AssistantError):
    """An answer cannot be written to the file asked for (unwritable path, unknown format)."""


class AuditError(AssistantError):
    """The audit log cannot be opened, read or exported as asked (bad date, unknown file type)."""


class UnknownKnowledgeBase(AssistantError):
    """A request names a knowledge base the server does not serve (or one the caller may not read)."""

    def __init__(self, name: str, served: list[str]):
        shown = ", ".join(served) if served else "none"
        super().__init__(f"there is no knowledge base {name!r} here; served: {shown}")
        self.name = name
        self.served = served
