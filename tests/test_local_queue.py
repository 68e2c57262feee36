"""One answer at a time, and stops that free the model: the real bundled GGUF in the real llama.cpp server.

The local model's server has one slot. A second question waits its turn and says so; a stop (the
UI's stop button closing the answer stream, a dropped HTTP stream setting a `Stop`) ends the
request and the server's slot is free again at once — checked on the server's own /slots.
"""

from __future__ import annotations

import threading
import time

import pytest
from conftest import finishes_within

from assistant.models.generation_queue import Cancelled, Queued, QueueFull, Stop
from assistant.results import Answer

SHUANG = "机关是怎样落实在职党员“双报到”制度的？"
SECRECY = "办公室怎样做好保密工作？"
COUNT = [{"role": "user", "content": "从1数到300，用中文逗号分隔，不要停。"}]
pytestmark = pytest.mark.e2e


def until(condition, seconds: float) -> None:
    """Wait until `condition()` is true; fail after `seconds` (a guard against a hang, not a speed target)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not reached within {seconds} s"
        time.sleep(0.05)


def free_within(server, seconds: float) -> float | None:
    """Seconds until the server's slot is idle, polled; None if it is still busy after `seconds`."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if not server.busy():
            return time.monotonic() - started
        time.sleep(0.05)
    return None


@pytest.fixture
def local(corpus_kb):
    chat = corpus_kb.chat_model("local")
    assert free_within(chat.server, 300.0) is not None  # whatever an earlier test left running has ended
    return chat


def test_a_stop_mid_answer_frees_the_model_at_once(local):
    stop, pieces = Stop(), []

    def write() -> None:
        for piece in local.stream(COUNT, max_tokens=1500, stop=stop):
            pieces.append(piece)

    writer = threading.Thread(target=write)
    writer.start()
    until(lambda: len(pieces) >= 5, 300)
    assert local.server.busy()  # it is writing (1500 tokens would take minutes)
    stop.set()  # from this thread, while the writer is blocked reading the stream
    freed = free_within(local.server, 1.0)
    assert freed is not None, "the server still generates 1 s after the stop"
    writer.join(5)
    assert not writer.is_alive() and len(pieces) < 200
    assert finishes_within(120, local.complete, [{"role": "user", "content": "你好"}], max_tokens=4)


def test_a_stop_while_the_prompt_is_read_returns_at_once_and_nothing_is_written(local):
    """A stop before the first word: the caller is free at once; the server, not before it has read the prompt.

    llama.cpp notices a dropped connection when it next sends something, i.e. after the prompt is read
    (measured here, README "One answer at a time, and stop"); it then stops without writing the answer.
    """
    stop = Stop()
    long_prompt = [{"role": "user", "content": "请概括下面的文字。\n" + "机关党建工作要抓实抓细，" * 40}]
    threading.Timer(0.3, stop.set).start()  # before the first word: the server is still reading the prompt
    started = time.monotonic()
    pieces = finishes_within(120, lambda: list(local.stream(long_prompt, max_tokens=400, stop=stop)))
    assert pieces == [] and time.monotonic() - started < 5
    busy_for = free_within(local.server, 300.0)
    assert busy_for is not None
    print(f"server busy {busy_for:.1f} s after a stop during the prompt")


def test_closing_the_answer_stream_frees_the_model(corpus_kb, local):
    """What the chat's stop button does: Gradio closes the answer's generator."""
    stream = corpus_kb.stream(SHUANG, mode="local")
    assert isinstance(next(item for item in stream if isinstance(item, str)), str)  # the model is writing
    stream.close()
    assert free_within(local.server, 1.0) is not None
    assert not local.queue.busy  # its turn is given back


def test_ask_with_a_stop_raises_cancelled(corpus_kb, local):
    stop = Stop()
    threading.Timer(0.5, stop.set).start()  # during retrieval or while the prompt is read
    with pytest.raises(Cancelled):
        finishes_within(300, corpus_kb.ask, SECRECY, mode="local", stop=stop)
    assert not local.queue.busy  # the turn is given back at once; the server stops once it has read the prompt


def test_a_second_question_waits_its_turn_and_says_so(corpus_kb, local):
    events: list[tuple[str, str, float]] = []  # (who, what, when)
    first_word = threading.Event()

    def ask(who: str, question: str) -> None:
        for item in corpus_kb.stream(question, mode="local", queue_status=True):
            if isinstance(item, Queued):
                events.append((who, f"queued {item.ahead}", time.monotonic()))
            elif isinstance(item, str):
                events.append((who, "word", time.monotonic()))
                first_word.set()
            else:
                assert isinstance(item, Answer) and item.generated  # the model wrote it (verified or not)
                events.append((who, "answer", time.monotonic()))

    a = threading.Thread(target=ask, args=("a", SHUANG))
    a.start()
    assert first_word.wait(300)
    b = threading.Thread(target=ask, args=("b", SECRECY))
    b.start()
    a.join(300)
    b.join(300)
    said = [(who, what) for who, what, _ in events]
    assert ("b", "queued 1") in said
    a_words = [t for who, what, t in events if who == "a" and what == "word"]
    b_words = [t for who, what, t in events if who == "b" and what == "word"]
    # Never both writing at once: b's first word comes after a's last (the model is free while a's answer is
    # being verified, so b may start before a's Answer arrives).
    assert a_words and b_words and min(b_words) >= max(a_words)
    assert said[-1] == ("b", "answer")


def test_past_the_bound_a_question_is_refused_while_the_model_is_busy(corpus_kb, local):
    local.queue.max_waiting = 0
    try:
        stream = corpus_kb.stream(SHUANG, mode="local")
        next(item for item in stream if isinstance(item, str))  # the first question holds the model
        with pytest.raises(QueueFull, match="busy"):
            corpus_kb.ask(SECRECY, mode="local")
        stream.close()
    finally:
        local.queue.max_waiting = 4
    assert free_within(local.server, 1.0) is not None
