"""Which answer modes the chat offers: each mode, whether it is set up here, and a plain note when it is not."""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from assistant.app.ui.render import esc
from assistant.errors import ModelError

log = logging.getLogger("assistant.app.ui.modes")

MODE_LABELS = {
    "extractive": "抽取式 Extractive（无需语言模型）",
    "local": "本地模型 Local model",
    "openai": "OpenAI 兼容服务 OpenAI-compatible",
    "ollama": "Ollama",
}
# What a user reads when a mode cannot be used: no setting names, commands or paths (those go to the log).
NOT_CONFIGURED = {
    "local": "未安装本地模型，请联系管理员",
    "openai": "未配置 OpenAI 兼容服务，请联系管理员",
    "ollama": "未连接到 Ollama 服务，请联系管理员",
}
MODEL_UNAVAILABLE = "语言模型暂时不可用，请联系管理员。以下改用抽取式回答："
MODEL_UNAVAILABLE_EN = "The language model is unavailable; please contact the administrator. Extractive answer instead:"
PROBE_SECONDS = 0.5  # how long the page waits to learn whether an Ollama server answers


@dataclass(frozen=True)
class ModeStatus:
    """One answer mode as the chat shows it: usable or not, and why not in plain words."""

    mode: str
    label: str
    usable: bool
    note: str = ""


def _local_model_present(settings: Any) -> bool:
    from assistant.models.local_llm import BUNDLED_NAME, bundled_parts

    if importlib.util.find_spec("xllamacpp") is None:
        return False
    if settings.local_model:
        return Path(settings.local_model).expanduser().is_file()
    if (Path(settings.models_dir) / BUNDLED_NAME).is_file():
        return True
    try:
        return bool(bundled_parts())
    except ModelError:
        return False


def _ollama_has_model(settings: Any) -> bool:
    try:
        response = httpx.get(settings.ollama_url.rstrip("/") + "/api/tags", timeout=PROBE_SECONDS, trust_env=False)
        names = {m.get("name", "") for m in response.json().get("models", [])}
    except (httpx.HTTPError, ValueError, AttributeError) as exc:
        log.info("Ollama at %s is not usable: %s", settings.ollama_url, exc)
        return False
    wanted = settings.ollama_model
    return wanted in names or f"{wanted}:latest" in names


def mode_statuses(settings: Any) -> list[ModeStatus]:
    """Every answer mode of the chat, in display order, with whether it can answer on this server."""
    usable = {
        "extractive": True,
        "local": _local_model_present(settings),
        "openai": bool(settings.openai_base_url),
        "ollama": _ollama_has_model(settings),
    }
    return [
        ModeStatus(mode, label, usable[mode], "" if usable[mode] else NOT_CONFIGURED[mode])
        for mode, label in MODE_LABELS.items()
    ]


def usable_choices(statuses: list[ModeStatus]) -> list[tuple[str, str]]:
    """(label, mode) pairs for the mode picker: only the modes that can answer."""
    return [(s.label, s.mode) for s in statuses if s.usable]


def default_mode(statuses: list[ModeStatus], configured: str) -> str:
    """The configured mode when it can answer here, else extractive (which always can)."""
    return configured if any(s.mode == configured and s.usable for s in statuses) else "extractive"


def unusable_html(statuses: list[ModeStatus]) -> str:
    """The modes that cannot answer, shown greyed out and disabled, each with its plain note."""
    rows = [
        f'<label class="mode-off" data-mode="{esc(s.mode)}"><input type="radio" disabled> '
        f'<span class="mode-off-label">{esc(s.label)}</span> <span class="mode-off-note">{esc(s.note)}</span></label>'
        for s in statuses
        if not s.usable
    ]
    return f'<div class="modes-off">{"".join(rows)}</div>' if rows else ""


__all__ = [
    "MODEL_UNAVAILABLE",
    "MODEL_UNAVAILABLE_EN",
    "MODE_LABELS",
    "NOT_CONFIGURED",
    "ModeStatus",
    "default_mode",
    "mode_statuses",
    "unusable_html",
    "usable_choices",
]
