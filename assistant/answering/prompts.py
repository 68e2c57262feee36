"""Prompt templates: the files in prompts/, rendered by name into chat messages."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import prompts
from assistant.errors import AssistantError

# The templates ship as package data of the top-level `prompts` package, so an installed wheel has them.
PROMPTS_DIR = Path(prompts.__file__).resolve().parent
ROLES = ("system", "user", "assistant")
_HEADER = re.compile(r"^### (\w+)\s*$")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")

Message = dict[str, str]


class PromptError(AssistantError):
    """A prompt file is missing or does not fit the values it is rendered with."""


@cache
def _parse(path: Path) -> tuple[tuple[str, str], ...]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise PromptError(f"prompt file {path} is missing; it ships in the project's prompts/ folder") from None
    messages: list[tuple[str, list[str]]] = []
    for line in lines:
        header = _HEADER.match(line)
        if header:
            role = header.group(1)
            if role not in ROLES:
                raise PromptError(f"{path.name}: unknown role {role!r} (use one of {', '.join(ROLES)})")
            messages.append((role, []))
        elif messages:
            messages[-1][1].append(line)
        elif line.strip() and not line.startswith("#"):
            raise PromptError(f"{path.name}: text before the first '### role' line: {line[:40]!r}")
    if not messages:
        raise PromptError(f"{path.name}: no messages (start each with '### system', '### user' or '### assistant')")
    return tuple((role, "\n".join(body).strip()) for role, body in messages)


def names() -> list[str]:
    """The prompts that ship with the product."""
    return sorted(p.stem for p in PROMPTS_DIR.glob("*.txt"))


def placeholders(name: str) -> set[str]:
    """The `{name}` placeholders a prompt expects."""
    return {m for _, body in _parse(PROMPTS_DIR / f"{name}.txt") for m in _PLACEHOLDER.findall(body)}


def render(name: str, **values: str) -> list[Message]:
    """The chat messages of prompt `name` with its placeholders filled.

    Raises:
        PromptError: the file is missing, a placeholder has no value, or a value no placeholder.
    """
    expected = placeholders(name)
    missing, extra = expected - values.keys(), values.keys() - expected
    if missing or extra:
        raise PromptError(
            f"prompt {name!r}: "
            + "; ".join(
                part
                for part in (
                    f"no value for {', '.join(sorted(missing))}" if missing else "",
                    f"no placeholder for {', '.join(sorted(extra))}" if extra else "",
                )
                if part
            )
        )
    # One pass over the template, so braces inside the values are never taken for placeholders.
    return [
        {"role": role, "content": _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), body)}
        for role, body in _parse(PROMPTS_DIR / f"{name}.txt")
    ]
