"""Office-document question answering: cited answers from your own documents, offline."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from assistant.errors import AssistantError, ModelError, QuestionError, SettingsError, StoreError
from assistant.results import Answer, Citation, IngestReport, Passage

if TYPE_CHECKING:
    from assistant.api import Assistant
    from assistant.settings import Settings

__all__ = [
    "Assistant",
    "Answer",
    "Citation",
    "IngestReport",
    "Passage",
    "Settings",
    "AssistantError",
    "ModelError",
    "QuestionError",
    "SettingsError",
    "StoreError",
]


def __getattr__(name: str) -> Any:
    # Assistant pulls in Chroma, numpy and the models: load it on first use, so that light tools
    # (the set-up's model build, `import assistant.text`) stay light.
    if name == "Assistant":
        from assistant.api import Assistant

        return Assistant
    if name == "Settings":
        from assistant.settings import Settings

        return Settings
    raise AttributeError(f"module 'assistant' has no attribute {name!r}")
