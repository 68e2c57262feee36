"""Every prompt file renders; a placeholder typo or a missing value fails here, not in production."""

from __future__ import annotations

import pytest

from assistant.answering.prompts import PromptError, names, placeholders, render


def test_every_prompt_renders_with_its_placeholders():
    assert {"answer", "rewrite"} <= set(names())
    for name in names():
        values = {p: f"<{p}>" for p in placeholders(name)}
        messages = render(name, **values)
        assert messages[0]["role"] == "system" and messages[-1]["role"] == "user"
        text = "\n".join(m["content"] for m in messages)
        for p, v in values.items():
            assert v in messages[-1]["content"], f"{name}: the final message lacks {{{p}}}"
        assert all(f"{{{p}}}" not in text for p in values), f"{name}: a placeholder was left unfilled"
        assert all(m["content"].strip() for m in messages), f"{name}: an empty message"


def test_answer_prompt_has_a_worked_example_and_asks_for_markers():
    messages = render("answer", passages="[1] 《标题》\n正文。", question="问题？")
    roles = [m["role"] for m in messages]
    assert roles == ["system", "user", "assistant", "user"]  # one-shot: an example question and its answer
    assert "[1]" in messages[2]["content"]  # the example answer cites as the model should


def test_missing_and_unknown_values_are_errors():
    with pytest.raises(PromptError, match="no value for question"):
        render("answer", passages="x")
    with pytest.raises(PromptError, match="no placeholder for typo"):
        render("answer", passages="x", question="q", typo="y")
    with pytest.raises(PromptError, match="missing"):
        render("no-such-prompt")


def test_braces_in_values_stay_literal():
    messages = render("answer", passages="见{question}与{passages}", question="{x}？")
    assert "见{question}与{passages}" in messages[-1]["content"]
    assert messages[-1]["content"].rstrip().endswith("{x}？")
