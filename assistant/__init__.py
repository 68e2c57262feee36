"""Office-document question answering: cited answers from your own documents, offline."""

from assistant.assistant import Assistant
from assistant.errors import AssistantError, ModelError, QuestionError, SettingsError, StoreError
from assistant.results import Answer, Citation, IngestReport, Passage
from assistant.settings import Settings

__all__ = [
    "Assistant", "Answer", "Citation", "IngestReport", "Passage", "Settings",
    "AssistantError", "ModelError", "QuestionError", "SettingsError", "StoreError",
]
