"""The HTTP API served beside the browser chat: /api/v1 for programs, /v1 for OpenAI-compatible clients."""

from assistant.app.http.app import api_exposure_warning, create_api
from assistant.app.http.settings import ApiSettings

__all__ = ["ApiSettings", "api_exposure_warning", "create_api"]
