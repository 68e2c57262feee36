"""An answer being made for the chat: run beside the page, reported as a status line, stoppable by the user."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from assistant.models.generation_queue import Cancelled, Queued
from assistant.results import Answer, Stage

log = logging.getLogger("assistant.app.ui.status")

TICK_SECONDS = 1.0  # how often the status line's elapsed time is refreshed while nothing else arrives


@dataclass(frozen=True)
class Progress:
    """What the page shows while an answer is made: the stage, seconds since it began, the draft so far."""

    stage: Stage
    seconds: float
    draft: str
    queued: Queued | None = None  # waiting for the local model behind other questions


class AnswerRun:
    """One question's answer, made on a worker thread so the page can show progress and stop it.

    `start(stream)` runs `stream(on_stage)` (e.g. `lambda on_stage: kb.stream(q, on_stage=on_stage)`);
    `updates()` yields Progress while it runs, then the Answer (or raises what the stream raised).
    `stop()` ends it: the stream is closed at its next word (closing the request stops the chat
    model's server), and every callable in `on_stop` is called at once, e.g. a backend's own cancel
    that also stops a model still reading its prompt.
    """

    def __init__(self, question: str = "") -> None:
        self.question = question  # what was asked (a stopped turn is remembered by it)
        self.final: tuple | None = None  # what the page shows once the answer is done (set by the chat)
        self.settled = False  # the page has been brought to its final state (answered or stopped)
        self.on_stop: list[Callable[[], None]] = []
        self.stopped = threading.Event()
        self.finished = threading.Event()
        self._events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._started = time.monotonic()

    def start(self, stream: Callable[[Callable[[Stage], None]], Iterator[str | Answer]]) -> AnswerRun:
        threading.Thread(target=self._work, args=(stream,), name="chat-answer", daemon=True).start()
        return self

    def _work(self, stream: Callable[[Callable[[Stage], None]], Iterator[str | Answer]]) -> None:
        items = None
        try:
            items = stream(lambda stage: self._events.put(("stage", stage)))
            for item in items:
                if self.stopped.is_set():
                    break
                kind = "answer" if isinstance(item, Answer) else "queued" if isinstance(item, Queued) else "text"
                self._events.put((kind, item))
        except Cancelled:
            pass  # the stop this run asked for (its Stop hook ended the stream): not an error
        except BaseException as exc:  # noqa: BLE001 - handed to the page's thread by updates()
            self._events.put(("error", exc))
        finally:
            if items is not None:
                close = getattr(items, "close", None)
                if close:
                    close()  # GeneratorExit reaches the chat model's request, which closes it
            self.finished.set()
            self._events.put(("done", None))

    def stop(self) -> None:
        """Stop making the answer (safe to call more than once, from any thread)."""
        if self.stopped.is_set():
            return
        self.stopped.set()
        for hook in list(self.on_stop):
            try:
                hook()
            except Exception:  # a failing hook must not keep the others from running
                log.exception("a stop hook failed")

    def updates(self, tick: float = TICK_SECONDS) -> Iterator[Progress | Answer]:
        """Progress at each stage change, each new word and every `tick` seconds; the Answer last.

        Ends without an Answer when stopped. Raises the stream's own exception if it failed.
        """
        stage, draft, queued = Stage.SEARCHING, "", None
        while not self.stopped.is_set():
            try:
                kind, value = self._events.get(timeout=tick)
            except queue.Empty:
                yield Progress(stage, time.monotonic() - self._started, draft, queued)
                continue
            if kind == "stage":
                stage = value
            elif kind == "queued":
                queued = value
            elif kind == "text":
                draft, queued = draft + value, None
            elif kind == "answer":
                yield value
                return
            elif kind == "error":
                raise value
            elif kind == "done":
                return
            if not self.stopped.is_set():
                yield Progress(stage, time.monotonic() - self._started, draft, queued)


class Runs:
    """Each browser session's latest answer, so its stop button and the step after an answer can find it."""

    def __init__(self) -> None:
        self._runs: dict[str, AnswerRun] = {}
        self._lock = threading.Lock()

    def begin(self, session: str, question: str = "") -> AnswerRun:
        run = AnswerRun(question)
        with self._lock:
            previous = self._runs.get(session)
            self._runs[session] = run
        if previous:
            previous.stop()  # one answer at a time per page
        return run

    def latest(self, session: str) -> AnswerRun | None:
        with self._lock:
            return self._runs.get(session)

    def stop(self, session: str) -> AnswerRun | None:
        """Stop the session's answer and return it; None when none is being made."""
        run = self.latest(session)
        if run is None or run.final is not None or run.finished.is_set():
            return None
        run.stop()
        return run


def status_text(stage: Stage, seconds: float, english: bool = False) -> str:
    """The status line: "检索中…", or "生成中… 12 s" with the seconds since the question was sent."""
    if stage is Stage.GENERATING:
        return f"Writing… {seconds:.0f} s" if english else f"生成中… {seconds:.0f} s"
    return "Searching…" if english else "检索中…"


STOPPED_NOTE = "已停止生成。以上内容未写完，也未核对出处，请勿直接采用。"
STOPPED_NOTE_EN = "Stopped. The text above is unfinished and was not checked against the documents."


__all__ = ["STOPPED_NOTE", "STOPPED_NOTE_EN", "TICK_SECONDS", "AnswerRun", "Progress", "Runs", "status_text"]
