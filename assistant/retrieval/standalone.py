"""A question made to stand alone: whether it needs the conversation (decided alike in every mode), then the rewrite."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from assistant.errors import ModelError, SettingsError
from assistant.models.chat import BackendError, ChatModel
from assistant.retrieval.followup import rewrite_followup
from assistant.retrieval.followup_learned import LearnedFollowups
from assistant.retrieval.followup_model import previous_questions, rewrite_with_model


class StandaloneQuestions:
    """Rewrites follow-ups into standalone questions; complete questions pass through as typed.

    Whether a question needs its history is `followups` (the classifier trained for the embedding model,
    deciding where it is sure, the rules elsewhere; None for another embedding model, and the rules decide
    alone). Extractive mode rewrites by rules; the chat-model modes ask the model (prompt `rewrite`) and keep
    its rewrite only when it passes a sanity check.
    """

    def __init__(self, followups: LearnedFollowups | None, chat_model: Callable[[str], ChatModel]):
        self.followups = followups
        self._chat_model = chat_model  # built on first use: the local server starts only if a mode needs it

    def rewrite(self, question: str, history: Sequence | None, mode: str) -> str:
        """`question` rewritten from the earlier questions of `history` when it needs them; else `question`."""
        earlier = previous_questions(history)
        if not earlier:
            return question
        judge = self.followups.needs_history if self.followups else None
        if mode == "extractive":
            return rewrite_followup(question, earlier, judge)
        try:
            return rewrite_with_model(self._chat_model(mode), question, earlier, judge=judge)
        except (BackendError, ModelError, SettingsError):
            # The chat model is down or not set up: rewrite by rules, so that a question retrieval
            # refuses still needs no model; an answerable one reports the error when generating.
            return rewrite_followup(question, earlier, judge)
