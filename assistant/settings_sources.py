"""Where settings come from (keywords, environment, the ASSISTANT_CONFIG file) and how a bad value is explained."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import SecretStr
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    TomlConfigSettingsSource,
)

from assistant.errors import SettingsError

ENV_PREFIX = "ASSISTANT_"
CONFIG_ENV = "ASSISTANT_CONFIG"  # names the optional settings file; not a setting itself


class EnvSource(EnvSettingsSource):
    """pydantic-settings' environment source over a given mapping (os.environ, or `env` of Settings.load).

    An empty variable sets a text setting to '' but leaves a number, path or choice at its lower-precedence
    value, as before pydantic-settings.
    """

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        text = {
            (ENV_PREFIX + name).lower()
            for name, f in self.settings_cls.model_fields.items()
            if f.annotation in (str, SecretStr)
        }
        return {
            key.lower(): value
            for key, value in self._environ.items()
            if key.upper().startswith(ENV_PREFIX) and (value != "" or key.lower() in text)
        }


def sources(
    settings_cls: type[BaseSettings],
    env: Mapping[str, str],
    overrides: dict[str, Any],
) -> tuple[PydanticBaseSettingsSource, ...]:
    """The sources of a Settings, highest precedence first: keywords, environment, ASSISTANT_CONFIG's file."""
    config = config_path(env)
    return (
        InitSettingsSource(settings_cls, init_kwargs=overrides),
        EnvSource(settings_cls, env),
        *((file_source(settings_cls, config),) if config else ()),
    )


def provenance(
    settings_cls: type[BaseSettings],
    sources: tuple[PydanticBaseSettingsSource, ...],
) -> tuple[dict[str, str], Path | None]:
    """Where each field's value comes from ('default' when no source has it), and the settings file if any."""
    origins = dict.fromkeys(settings_cls.model_fields, "default")
    config = None
    for source in reversed(sources):  # lowest precedence first; later ones win
        if isinstance(source, TomlConfigSettingsSource):  # (itself an InitSettingsSource)
            origin, config = "file", Path(str(source.toml_file_path))
        else:
            origin = "env" if isinstance(source, EnvSettingsSource) else "override"
        origins.update(dict.fromkeys((key for key in source() if key in origins), origin))
    return origins, config


def known(settings_cls: type[BaseSettings]) -> str:
    return ", ".join(sorted(settings_cls.model_fields))


def config_path(env: Mapping[str, str]) -> Path | None:
    raw = env.get(CONFIG_ENV, "")
    return Path(raw).expanduser() if raw else None


def file_source(settings_cls: type[BaseSettings], path: Path) -> TomlConfigSettingsSource:
    """The TOML settings file, read with pydantic-settings' source; any problem is a SettingsError."""
    if not path.is_file():
        what = "a folder" if path.is_dir() else "no such file"
        raise SettingsError(
            f"{CONFIG_ENV}={path}: {what}; point {CONFIG_ENV} at a TOML file of settings (e.g. top_k = 5) or unset it"
        )
    try:
        source = TomlConfigSettingsSource(settings_cls, toml_file=path)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(
            f"{CONFIG_ENV}={path} is not valid TOML ({exc}); fix the file (one `name = value` "
            f"per line, text in quotes) or unset {CONFIG_ENV}"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(
            f"{CONFIG_ENV}={path} cannot be read ({exc}); fix its permissions or unset {CONFIG_ENV}"
        ) from None
    for key, value in source.toml_data.items():
        if key not in settings_cls.model_fields:
            hint = " (write settings as top-level keys, without a [table] header)" if isinstance(value, dict) else ""
            raise SettingsError(f"unknown setting {key!r} in {path}{hint}; known settings: {known(settings_cls)}")
    return source


def _expected(annotation: Any, default: Any) -> tuple[str, str]:
    """The kind of value a field takes (for 'cannot read … as <kind>') and what to put there instead."""
    if get_origin(annotation) is Literal:
        return "choice", "one of these"  # the message lists them
    if annotation is int:
        return "int", f"a whole number such as {default} (the default)"
    if annotation is float:
        return "float", f"a number such as {default} (the default)"
    if annotation is Path:
        return "path", "a folder path"
    return "text", "text"


def explain(cls: type[BaseSettings], error: Any, origins: Mapping[str, str], config: Path | None) -> str:
    """One pydantic error as a sentence: which variable, file line or keyword, what is wrong, what to do."""
    name = str(error["loc"][0]) if error["loc"] else ""
    if error["type"] == "extra_forbidden":
        return f"unknown setting {name!r}; known settings: {known(cls)}"
    if name not in cls.model_fields:
        return f"settings: {error['msg']}"
    field = cls.model_fields[name]
    default = field.get_default(call_default_factory=True)
    kind, expect = _expected(field.annotation, default)
    variable = ENV_PREFIX + name.upper()
    origin = origins.get(name, "override")
    if origin == "env":
        where, fix = variable, f"set {variable} to {expect}, or unset it"
    elif origin == "file":
        where, fix = f"{name} in {config}", f"change {name} in {config} to {expect}, or remove it"
    else:
        where, fix = f"setting {name}", f"pass {expect}"
    secret = field.annotation is SecretStr
    got = "" if secret else f", got {error.get('input')!r}"
    if error["type"] == "literal_error":
        choices = [repr(c) for c in get_args(field.annotation)]
        return f"{where}: {name} must be {', '.join(choices[:-1])} or {choices[-1]}{got}; {fix}"
    if error["type"] in ("int_parsing", "int_from_float", "float_parsing", "int_type", "float_type") and not secret:
        return f"{where}: cannot read {error.get('input')!r} as {kind}; {fix}"
    return f"{where}: {error['msg'].lower()}{got}; {fix}"
