"""👍/👎 feedback on answers, and its export as a question set that `python -m assistant eval` reads."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.conversations.export import writable_target
from assistant.errors import FeedbackError
from assistant.text import CJK, LATIN_WORD

RATINGS = ("up", "down")

# What each verdict makes of the question (the `kind` field of the exported line; see `question_line`).
KIND_CONFIRMED = "feedback-confirmed"  # 👍 on an answer: its cited sentences must still be found
KIND_REFUSAL_OK = "feedback-refusal-ok"  # 👍 on a refusal: it must still be refused
KIND_SHOULD_ANSWER = "feedback-should-answer"  # 👎 on a refusal: the documents answer it (add "gold")
KIND_WRONG_ANSWER = "feedback-wrong-answer"  # 👎 on an answer: that answer must not come back


@dataclass
class FeedbackItem:
    """One 👍/👎 with its optional comment, and copies of the question, the answer (JSON) and the mode."""

    id: int
    user: str
    conversation: str
    position: int
    rating: str  # "up" or "down"
    comment: str
    question: str
    answer: dict[str, Any]  # the Answer as JSON: text, refused, citations, …
    mode: str
    created: float
    updated: float

    @property
    def refused(self) -> bool:
        return bool(self.answer.get("refused"))

    @property
    def quotes(self) -> list[str]:
        """The sentences the answer quoted from its sources, in citation order, each once."""
        seen: dict[str, None] = {}
        for citation in self.answer.get("citations") or []:
            quote = (citation.get("quote") or "").strip()
            if quote:
                seen.setdefault(quote, None)
        return list(seen)


def question_language(question: str) -> str:
    """'zh', 'en' or 'mixed', as the development set labels its questions."""
    words, chars = len(LATIN_WORD.findall(question)), len(CJK.findall(question))
    if words and chars:
        return "mixed" if words >= 3 else "zh"
    return "en" if words else "zh"


def question_line(item: FeedbackItem) -> dict[str, Any]:
    """The feedback as one line of a question set (bench/devset.jsonl's fields, plus what the user said).

    - 👍 on an answer: answerable, its quoted sentences are the gold text a retrieved passage must hold;
    - 👍 on a refusal: unanswerable, so it must stay refused;
    - 👎 on a refusal: answerable with no gold text yet (eval counts a refusal as a false refusal; add the
      sentence that answers it to "gold" to test retrieval too);
    - 👎 on an answer: unanswerable ("the documents do not say this"), the rejected quotes kept under
      "rejected"; when the documents do hold a better answer, set "answerable": true and add its "gold".
    """
    wrong = item.rating == "down"
    gold: list[str]
    if item.refused:
        answerable, gold, kind = wrong, [], KIND_SHOULD_ANSWER if wrong else KIND_REFUSAL_OK
    elif wrong:
        answerable, gold, kind = False, [], KIND_WRONG_ANSWER
    else:
        answerable, gold, kind = True, item.quotes, KIND_CONFIRMED
    line: dict[str, Any] = {
        "id": f"fb{item.id}",
        "question": item.question,
        "gold": gold,
        "answerable": answerable,
        "kind": kind,
        "lang": question_language(item.question),
    }
    if wrong and not item.refused:
        line["rejected"] = item.quotes
    line["feedback"] = {
        "rating": item.rating,
        "comment": item.comment,
        "mode": item.mode,
        "answer": item.answer.get("text", ""),
        "citations": [
            {k: c.get(k) for k in ("n", "title", "source", "section", "page", "quote")}
            for c in item.answer.get("citations") or []
        ],
        "user": item.user,
        "conversation": item.conversation,
    }
    return line


def export_feedback(items: list[FeedbackItem], path: Path | str, ratings: tuple[str, ...] = RATINGS) -> int:
    """Write the feedback as a JSONL question set (one line per question: its latest verdict); returns lines written.

    Raises FeedbackError when there is nothing to write, ExportError when the file cannot be written.
    """
    unknown = [r for r in ratings if r not in RATINGS]
    if unknown:
        raise FeedbackError(f"unknown rating {unknown[0]!r}: use up, down or both")
    latest: dict[str, FeedbackItem] = {}
    for item in sorted(items, key=lambda i: (i.updated, i.id)):
        if item.rating in ratings:
            latest[" ".join(item.question.split())] = item
    if not latest:
        raise FeedbackError(
            "no feedback to export yet: rate answers with 👍/👎 in the chat first"
            + ("" if ratings == RATINGS else f" (only {'/'.join(ratings)} ratings were asked for)")
        )
    target = writable_target(Path(path), (".jsonl",))
    lines = [json.dumps(question_line(item), ensure_ascii=False) for item in latest.values()]
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
        tmp.replace(target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise FeedbackError(f"cannot write {target} ({exc.strerror or exc}); choose a folder you can write to") from exc
    return len(lines)


__all__ = ["RATINGS", "FeedbackItem", "export_feedback", "question_language", "question_line"]
