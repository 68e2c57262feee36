"""The chat's stop button and queue line: a waiting question says its place; stop ends the model's writing."""

from __future__ import annotations

from typing import Any

import gradio as gr

from assistant.models.generation_queue import Queued


def queue_line(item: Queued, english: bool) -> str:
    """What the chat shows in the answer's place while the question waits for the local model."""
    return f"⏳ {item.message(english)}"


def stop_button() -> gr.Button:
    """The stop button, laid out where it is called (beside Send)."""
    return gr.Button("停止 Stop", variant="stop", scale=1, min_width=90, elem_id="stop")


def wire_stop(button: gr.Button, events: list[Any]) -> None:
    """Stop cancels the answer events: Gradio closes the answer's generator, which closes the request to the
    model server, and the server stops writing (its slot is free at once; a waiting question leaves the queue)."""
    button.click(None, None, None, cancels=events, api_visibility="private", queue=False)
