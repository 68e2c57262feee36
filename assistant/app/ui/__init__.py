"""The browser chat (Gradio): rendering, uploads and the app wiring."""

from assistant.app.ui.app import build_app, serve

__all__ = ["build_app", "serve"]
