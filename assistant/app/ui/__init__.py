"""The browser chat (Gradio): rendering, uploads, the app wiring and the server."""

from assistant.app.ui.app import build_app
from assistant.app.ui.server import serve, server_app

__all__ = ["build_app", "serve", "server_app"]
