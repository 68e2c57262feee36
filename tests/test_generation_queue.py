"""The generation queue on its own: turns in order, one at a time, a bound, stops while waiting."""

from __future__ import annotations

import threading
import time

import pytest
from conftest import finishes_within

from assistant.models.generation_queue import Cancelled, GenerationQueue, Queued, QueueFull, Stop, wait_for_turn


def test_turns_run_one_at_a_time_in_arrival_order():
    queue = GenerationQueue(max_waiting=4)
    spans: list[tuple[int, float, float]] = []
    entered = threading.Barrier(2)  # the first turn and the last to arrive

    def worker(n: int) -> None:
        time.sleep(0.05 * n)  # arrive in order 0, 1, 2
        with queue.enter() as turn:
            entered.wait() if n == 2 else None
            list(wait_for_turn(turn, poll=0.01))
            start = time.monotonic()
            time.sleep(0.15)
            spans.append((n, start, time.monotonic()))

    def first_holds() -> None:
        with queue.enter() as turn:
            list(wait_for_turn(turn, poll=0.01))
            entered.wait()  # the other two are in the queue before the first finishes
            time.sleep(0.1)

    threads = [threading.Thread(target=first_holds)] + [threading.Thread(target=worker, args=(n,)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert [n for n, _, _ in spans] == [1, 2]
    (_, _, end1), (_, start2, _) = spans
    assert start2 >= end1  # never two at once
    assert not queue.busy and queue.waiting == 0


def test_a_waiting_turn_reports_how_many_are_ahead_until_its_go():
    queue = GenerationQueue()
    first = queue.enter()
    second, third = queue.enter(), queue.enter()
    assert (first.ahead, second.ahead, third.ahead) == (0, 1, 2)
    statuses = wait_for_turn(third, poll=0.01)
    assert next(statuses) == Queued(2)
    first.release()
    assert next(statuses) == Queued(1)
    second.release()
    assert list(statuses) == []  # its go: the generator ends
    assert Queued(1).message() == "排队中，前面还有 1 个问题…"
    assert "1 question ahead" in Queued(1).message(english=True)
    third.release()


def test_past_the_bound_a_question_is_refused_with_what_to_do():
    queue = GenerationQueue(max_waiting=1)
    running, waiting = queue.enter(), queue.enter()
    with pytest.raises(QueueFull, match="at most 1 may wait.*extractive"):
        queue.enter()
    waiting.release()
    queue.enter().release()  # room again
    running.release()


def test_a_stop_while_waiting_leaves_the_queue_at_once():
    queue = GenerationQueue()
    running = queue.enter()
    stop = Stop()

    def wait() -> None:
        with queue.enter() as turn:
            for _ in wait_for_turn(turn, stop, poll=0.01):
                pass

    threading.Timer(0.1, stop.set).start()
    with pytest.raises(Cancelled):
        finishes_within(10, wait)
    assert queue.waiting == 0  # its place is given up; the running turn is untouched
    running.release()


def test_stop_hooks_run_once_from_any_thread_and_can_be_withdrawn():
    stop, calls = Stop(), []
    unhook = stop.on_set(lambda: calls.append("a"))
    stop.on_set(lambda: calls.append("b"))
    unhook()
    setter = threading.Thread(target=stop.set)
    setter.start()
    setter.join(5)
    stop.set()  # a second time: nothing runs again
    assert calls == ["b"] and stop.is_set()
    stop.on_set(lambda: calls.append("late"))  # registered after the stop: runs at once
    assert calls == ["b", "late"]


def test_the_chats_status_line_says_the_place_in_the_queue_until_the_first_word():
    from assistant.app.ui.status import AnswerRun
    from assistant.results import Answer

    def stream(on_stage):
        yield Queued(2)
        yield Queued(1)
        yield "双报到"
        yield Answer("q", "双报到 [1]", refused=False)

    updates = list(AnswerRun("q").start(stream).updates(tick=5))
    waiting = [u.queued.message() for u in updates[:-1] if u.queued]
    assert waiting == ["排队中，前面还有 2 个问题…", "排队中，前面还有 1 个问题…"]
    assert updates[-2].queued is None and updates[-2].draft == "双报到"  # writing: the queue line is gone
    assert isinstance(updates[-1], Answer)
