"""Generative answers: a chat model writes from the passages; citations are verified in code afterwards."""

from __future__ import annotations

import inspect
import re
import time
from collections.abc import Generator, Iterator
from contextlib import nullcontext
from dataclasses import replace

from assistant.answering.evidence import Outcome, coverage
from assistant.answering.extractive import ExtractiveAnswerer, refusal
from assistant.answering.grounding import ConceptsOf, ground
from assistant.answering.prompts import render
from assistant.models.chat import ChatModel
from assistant.models.embeddings import Embedder
from assistant.models.generation_queue import Cancelled, GenerationQueue, Queued, Stop, wait_for_turn
from assistant.results import Answer, Passage
from assistant.retrieval.query import Query
from ingest.chunking import split_sentences

NOT_VERIFIED = {
    "zh": "模型给出的回答无法在文件中找到依据，因此不予采用。",
    "en": "The model's answer could not be verified against the documents, so it is not shown.",
}
QUOTED_INSTEAD = {
    "zh": "模型给出的回答无法在文件中找到依据，因此不予采用；以下是文件原文摘录：",
    "en": "The model's answer could not be verified against the documents, so it is not shown; "
    "these are the documents' own sentences:",
}


def focus(passage: Passage, query: Query, max_chars: int) -> Passage:
    """The passage cut to the run of whole sentences, at most `max_chars`, that covers the question best.

    Prompt length is what makes a small CPU model slow (every token of context is computed before
    the first word), so each passage is trimmed; offsets stay exact (text == document[start:end]).
    """
    if len(passage.text) <= max_chars:
        return passage
    spans = split_sentences(passage.text)
    best: tuple[float, int, int] | None = None
    for i, (s, _) in enumerate(spans):
        end = s
        for _, e in spans[i:]:
            if e - s > max_chars and end > s:
                break
            end = e
        score = coverage(query.concepts, passage.text[s:end]) - 0.01 * i  # earlier wins ties: it states the point
        if best is None or score > best[0]:
            best = (score, s, min(end, s + max_chars))
    _, s, e = best or (0.0, 0, max_chars)
    return replace(passage, text=passage.text[s:e], start=passage.start + s, end=passage.start + e)


def selected(extract: Answer, passages: list[Passage], max_chars: int, limit: int = 5) -> list[Passage]:
    """The passages the extractive answer quotes, each cut to the run from its first to its last chosen sentence.

    They come in the extractive answer's order (its [n] numbers: the best-ranked source first, the
    asked figure leading), so a short prompt still shows every source the answer needs. A run
    longer than `max_chars` keeps its first `max_chars` characters. Offsets stay exact.
    """
    spans: dict[tuple[str, int], tuple[int, int]] = {}
    for c in sorted(extract.citations, key=lambda c: c.n):
        key = (c.doc_id, c.passage_start)
        s, e = spans.get(key, (c.start, c.end))
        spans[key] = (min(s, c.start), max(e, c.end))
    out = []
    for (doc_id, start), (s, e) in list(spans.items())[:limit]:
        p = next((p for p in passages if p.doc_id == doc_id and p.start == start), None)
        if p is None:
            continue
        a, b = s - p.start, min(e - p.start, s - p.start + max_chars)
        out.append(replace(p, text=p.text[a:b], start=p.start + a, end=p.start + b))
    return out


_SENTENCE = re.compile(r"[^。！？；!?\n]{8,}[。！？；!?]")
_MARKER_RUN = re.compile(r"(?:\s*\[\d+\]){6,}\s*$")


def copies_example(reply: str, messages: list[dict[str, str]]) -> bool:
    """True when the reply is mostly the prompt's worked example answer (a small model with a short prompt does that)."""
    example = next((m["content"] for m in messages if m["role"] == "assistant"), "")
    grams = {reply[i : i + 2] for i in range(len(reply) - 1) if reply[i : i + 2].strip()}
    return bool(grams) and sum(g in example for g in grams) / len(grams) >= 0.6


def looping(text: str) -> bool:
    """True when a small model has started to repeat itself.

    A finished sentence said before, a run of markers, or the text's last words already written
    twice before in the last 300 characters ("公正、透明、公开、公正、透明、公开、…").
    """
    if _MARKER_RUN.search(text):
        return True
    sentences = _SENTENCE.findall(text)
    if len(sentences) >= 2 and sentences[-1].strip() in {s.strip() for s in sentences[:-1]}:
        return True
    tail = text[-300:]
    return any(tail.count(tail[-n:]) >= 3 for n in range(6, 41) if len(tail) >= 3 * n)


def passages_block(passages: list[Passage]) -> str:
    """The numbered passages as the prompt shows them."""
    blocks = []
    for n, p in enumerate(passages, 1):
        head = f"[{n}] 《{p.title}》" + (f" {p.section}" if p.section else "")
        blocks.append(f"{head}\n{p.text}")
    return "\n".join(blocks)


class GenerativeAnswerer:
    """Writes answers with a chat model, only when retrieval found adequate evidence, and verifies them.

    Refusal stays retrieval-driven: the extractive answerer's gate decides, and a question the
    documents do not answer, or answer only partly, never reaches the model (a small model told to
    refuse refuses everything; told nothing, it invents): it gets the same refusal or partial
    answer as in extractive mode. After generation every
    sentence is checked against the passages (assistant/answering/grounding.py).

    A chat model with a `queue` (the local model: one slot) writes one answer at a time; a question
    waiting for its turn yields `Queued` statuses, and a `Stop` ends the generation in the server.
    """

    def __init__(
        self,
        chat: ChatModel,
        embedder: Embedder | None,
        *,
        mode: str,
        gate: ExtractiveAnswerer,
        max_tokens: int = 300,
        passages: int = 3,
        passage_chars: int = 240,
        concepts: ConceptsOf | None = None,
        context: str = "sentences",
    ):
        self.chat = chat
        self.concepts = concepts
        self.embedder = embedder
        self.mode = mode
        self.gate = gate
        self.max_tokens = max_tokens
        self.max_passages = passages
        self.passage_chars = passage_chars
        self.context = context  # "sentences" (the extractive answer's choice) or "passages" (the top passages)
        queue = getattr(chat, "queue", None)
        self.queue: GenerationQueue | None = queue if isinstance(queue, GenerationQueue) else None
        self._stoppable = "stop" in inspect.signature(chat.stream).parameters

    def stream(
        self, query: Query, passages: list[Passage], stop: Stop | None = None
    ) -> Iterator[str | Queued | Answer]:
        """Yield `Queued` while waiting for the model, the reply's text as it writes it, then the verified Answer.

        Closing the generator, or setting `stop` from another thread, ends the request, and the
        model server stops generating (its slot is free again at once).

        Raises:
            BackendError: the chat model is unreachable or failed (nothing is yielded after it).
            QueueFull: too many questions are waiting for the model already.
            Cancelled: `stop` was set before the answer was finished.
        """
        started = time.perf_counter()
        judgement = self.gate.judge(query, passages)
        evidence = judgement.evidence
        if not passages or judgement.outcome is not Outcome.ANSWER:
            answer = self.gate.answer(query, passages, judgement)
            answer.mode = self.mode
            yield answer
            return
        # What the model reads: the sentences the extractive answerer chose (every source it needs, a
        # short prompt), else the best passages cut around the question's words.
        fallback = [focus(p, query, self.passage_chars) for p in passages[: self.max_passages]]
        extract = self.gate.answer(query, passages, judgement) if self.context == "sentences" else None
        chosen = selected(extract, passages, self.passage_chars) if extract and not extract.refused else []
        # The passages are Chinese; an answer in Chinese can be checked against them word for word.
        asked = query.text if query.language == "zh" and query.cjk_share > 0.5 else f"{query.text}（请用中文回答）"
        pieces: list[str] = []
        with self.queue.enter() if self.queue is not None else nullcontext() as turn:
            if turn is not None:
                yield from wait_for_turn(turn, stop)
            for shown in [chosen, fallback] if chosen else [fallback]:
                messages = render("answer", passages=passages_block(shown), question=asked)
                pieces = yield from self._generate(messages, stop)
                if not copies_example("".join(pieces), messages):
                    break  # else: a small model copied the worked example; once more with the passages
        if stop is not None and stop.is_set():
            raise Cancelled("the answer was stopped")
        reply = "".join(pieces).strip()
        grounded = ground(
            reply, shown, self.embedder, language=query.language, question=query.text, concepts=self.concepts
        )
        if not grounded.citations:
            # The gate judged that the documents answer, so their own sentences are shown, marked as quotes:
            # an unverifiable reply (a small model answering in English, or repeating the question) is no
            # reason to withhold what the extractive answerer found.
            answer = extract or self.gate.answer(query, passages, judgement)
            if answer.refused:
                answer = refusal(query.text, passages, evidence.score, query.language)
                first, _, rest = answer.text.partition("\n")
                answer.text = "\n".join(filter(None, [first, NOT_VERIFIED[query.language], rest]))
            else:
                answer.text = f"{QUOTED_INSTEAD[query.language]}\n{answer.text}"
                answer.fallback = "extractive"
            answer.unsupported = grounded.unsupported
        else:
            answer = Answer(
                question=query.text,
                text=grounded.text,
                refused=False,
                citations=grounded.citations,
                evidence=evidence.score,
                statements=grounded.statements,
                unsupported=grounded.unsupported,
            )
        answer.mode = self.mode
        answer.generated = reply
        answer.seconds = time.perf_counter() - started
        yield answer

    def _generate(self, messages: list[dict[str, str]], stop: Stop | None) -> Generator[str, None, list[str]]:
        """Stream one reply, yielding its pieces; returns them. Closing the request stops the server writing."""
        pieces: list[str] = []
        extra = {"stop": stop} if stop is not None and self._stoppable else {}
        stream = self.chat.stream(messages, max_tokens=self.max_tokens, **extra)
        try:
            for piece in stream:
                if stop is not None and stop.is_set():
                    break
                pieces.append(piece)
                yield piece
                if looping("".join(pieces)):
                    break
        finally:
            close = getattr(stream, "close", None)
            if close:
                close()
        return pieces

    def answer(self, query: Query, passages: list[Passage]) -> Answer:
        """The whole answer at once (stream() consumed)."""
        result = None
        for item in self.stream(query, passages):
            if not isinstance(item, Queued):
                result = item
        assert isinstance(result, Answer)
        return result
