"""One generation at a time per model server: a bounded first-come queue of turns, and a stop signal for each answer."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from assistant.errors import AssistantError

#: How often a waiting question reports its place (and notices a stop) while it waits.
POLL_SECONDS = 0.25


class QueueFull(AssistantError):
    """Too many questions are already waiting for the model; the message says what to do."""


class Cancelled(AssistantError):
    """The answer was stopped (a stop button, a dropped connection) before it was finished."""


@dataclass(frozen=True)
class Queued:
    """What an answer stream yields while its question waits for the model: how many are ahead of it."""

    ahead: int

    def message(self, english: bool = False) -> str:
        """The status line shown to the person waiting."""
        if english:
            return f"Queued: {self.ahead} question{'s' if self.ahead != 1 else ''} ahead of yours…"
        return f"排队中，前面还有 {self.ahead} 个问题…"


class Stop:
    """A stop signal for one answer, set from any thread; whatever is registered with `on_set` runs then.

    The chat client registers the closing of its HTTP stream, so a stop lands even while the model is
    still reading the prompt and no word has arrived (the server frees its slot when the connection drops).
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._hooks: list[Callable[[], None]] = []

    def set(self) -> None:
        """Stop: run the registered hooks once (their errors are ignored: the stream may be gone already)."""
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            hooks, self._hooks = self._hooks, []
        for hook in hooks:
            try:
                hook()
            except Exception:  # noqa: BLE001, S112 - a connection that is already closed cannot be closed again
                continue

    def is_set(self) -> bool:
        return self._event.is_set()

    def on_set(self, hook: Callable[[], None]) -> Callable[[], None]:
        """Run `hook` when the stop is set (at once if it is set already); returns a function that unregisters it."""
        with self._lock:
            if not self._event.is_set():
                self._hooks.append(hook)
                return lambda: self._discard(hook)
        hook()
        return lambda: None

    def _discard(self, hook: Callable[[], None]) -> None:
        with self._lock:
            if hook in self._hooks:
                self._hooks.remove(hook)


class Turn:
    """One question's place in a GenerationQueue; it holds the model from its go until `release`."""

    def __init__(self, queue: GenerationQueue):
        self._queue = queue

    @property
    def ahead(self) -> int:
        """How many turns are before this one (0 = it is this turn's go)."""
        return self._queue.position(self)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until it is this turn's go or `timeout` passed; True when it is."""
        return self._queue.wait_for(self, timeout)

    def release(self) -> None:
        """Leave the queue (waiting or running); the next turn starts."""
        self._queue.leave(self)

    def __enter__(self) -> Turn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class GenerationQueue:
    """Turns for one model server: the first runs, up to `max_waiting` wait behind it, more are refused.

    A CPU model writing two answers at once writes each at half speed (or much worse when threads
    contend); in turns, the first question gets its answer as fast as when alone and the next one
    knows where it stands.
    """

    def __init__(self, max_waiting: int = 4):
        if max_waiting < 0:
            raise ValueError("max_waiting must be ≥ 0")
        self.max_waiting = max_waiting
        self._turns: deque[Turn] = deque()
        self._changed = threading.Condition()

    def enter(self) -> Turn:
        """A new turn at the back of the queue.

        Raises:
            QueueFull: `max_waiting` turns are already waiting behind the running one.
        """
        with self._changed:
            waiting = max(0, len(self._turns) - 1)
            if self._turns and waiting >= self.max_waiting:
                raise QueueFull(
                    f"the local model is busy: {len(self._turns)} questions are being answered or waiting "
                    f"(at most {self.max_waiting} may wait); try again in a minute, or answer with --mode "
                    "extractive (needs no model). 模型繁忙，排队的问题已满，请稍后再试，或改用抽取式回答。"
                )
            turn = Turn(self)
            self._turns.append(turn)
            return turn

    def position(self, turn: Turn) -> int:
        with self._changed:
            try:
                return self._turns.index(turn)
            except ValueError:
                return 0  # released: nothing is ahead of it any more

    def wait_for(self, turn: Turn, timeout: float | None) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: turn not in self._turns or self._turns[0] is turn, timeout)

    def leave(self, turn: Turn) -> None:
        with self._changed:
            if turn in self._turns:
                self._turns.remove(turn)
                self._changed.notify_all()

    @property
    def busy(self) -> bool:
        """True while a turn holds the model."""
        with self._changed:
            return bool(self._turns)

    @property
    def waiting(self) -> int:
        """Turns waiting behind the running one."""
        with self._changed:
            return max(0, len(self._turns) - 1)


def wait_for_turn(turn: Turn, stop: Stop | None = None, poll: float = POLL_SECONDS) -> Iterator[Queued]:
    """Yield a Queued status every `poll` seconds until it is `turn`'s go (nothing when it is at once).

    Yielding while waiting lets a consumer that stops listening (a closed UI event, a dropped
    stream) close the generator within `poll` seconds, which releases the turn.

    Raises:
        Cancelled: `stop` was set while waiting.
    """
    while True:
        if stop is not None and stop.is_set():
            raise Cancelled("stopped while waiting for the model")
        ahead = turn.ahead
        if ahead == 0:
            return
        yield Queued(ahead)
        turn.wait(poll)
