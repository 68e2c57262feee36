"""Follow-ups rewritten by the chat model (checked, with the rule-based rewrite as fallback), and the history's questions."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from assistant.retrieval.followup import rewrite_followup


def previous_questions(history: Sequence | None) -> list[str]:
    """The user's earlier questions from a history in any of the accepted shapes, oldest first.

    Accepted: a list of questions (str); of (question, answer) pairs; or of chat messages
    {"role": "user"|"assistant", "content": ...} (the assistant's turns are skipped).
    """
    out: list[str] = []
    for turn in history or []:
        if isinstance(turn, str):
            text = turn
        elif isinstance(turn, dict):
            if turn.get("role", "user") != "user":
                continue
            text = turn.get("content") or turn.get("question") or ""
        elif isinstance(turn, (list, tuple)) and turn:
            text = turn[0]
        else:
            text = ""
        if isinstance(text, str) and text.strip():
            out.append(text.strip())
    return out


_LABEL = re.compile(r"^\s*(?:改写后的问题|改写|独立问题|问题|追问)\s*[:：]\s*")
_BIGRAM_TEXT = re.compile(r"[\u3400-\u9fff\uf900-\ufaffA-Za-z0-9]")


def _bigram_set(text: str) -> set[str]:
    chars = _BIGRAM_TEXT.findall(text.lower())
    return {a + b for a, b in zip(chars, chars[1:])}


def rewrite_with_model(
    chat,
    question: str,
    history_questions: Sequence[str],
    *,
    max_tokens: int = 64,
    judge: Callable[[str, str, bool], bool] | None = None,
) -> str:
    """A follow-up rewritten by the chat model (prompt `rewrite`), checked; the rule-based rewrite otherwise. Whether
    the question is a follow-up at all is decided as in extractive mode (`judge`, else the rules).

    The model's rewrite is used only when it reads as one question built from the conversation's
    own words (a small model sometimes answers instead of rewriting, or drifts off topic).
    """
    from assistant.answering.prompts import render  # the extractive mode never renders prompts

    question = question.strip()
    history = [h for h in history_questions if h and h.strip()][-3:]
    if not question or not history:
        return question
    fallback = rewrite_followup(question, history, judge)
    if fallback == question:
        # Every mode takes the same decision: a question found complete ("市委办公厅2023年的预算是多少？" after
        # another) is searched as typed; the model only words the follow-ups.
        return question
    messages = render("rewrite", history="\n".join(f"用户：{h}" for h in history), question=question)
    reply = chat.complete(messages, max_tokens=max_tokens)
    lines = [line for line in reply.strip().splitlines() if line.strip()]
    candidate = _LABEL.sub("", lines[0]).strip().strip("“”\"'「」") if lines else ""
    context = _bigram_set(question + " " + " ".join(history))
    words = _bigram_set(candidate)
    plausible = (
        2 <= len(candidate) <= max(60, 2 * len(question) + 20)
        and words
        and len(words & context) / len(words) >= 0.6  # made of the conversation's words
        and len(_bigram_set(question) & words) >= min(1, len(_bigram_set(question)))  # keeps the new question's content
    )
    return candidate if plausible else fallback
