"""The HTTP API's own settings (ASSISTANT_API_KEYS, ASSISTANT_CORS_ORIGINS, ASSISTANT_MAX_REQUEST_KB)."""

from __future__ import annotations

from pydantic import SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.errors import SettingsError


class ApiSettings(BaseSettings):
    """Read from the environment only, apart from the knowledge base's Settings so that file stays one concern.

    api_keys: comma-separated; each `KEY` (any knowledge base) or `KEY:KB` (only knowledge base KB; repeat
    the key for more). Empty: no key needed. cors_origins: comma-separated origins allowed to call the API
    from a browser page, or `*`; empty: no CORS headers. max_request_kb: largest JSON request body.
    """

    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", case_sensitive=False, extra="ignore", frozen=True)

    api_keys: SecretStr = SecretStr("")
    cors_origins: str = ""
    max_request_kb: int = 1024

    @classmethod
    def load(cls, **values: object) -> ApiSettings:
        """The settings from the environment, keyword values on top (tests pass theirs this way).

        Raises:
            SettingsError: a value that cannot be read, naming its variable and what to put there.
        """
        try:
            return cls(**values)  # type: ignore[arg-type]
        except ValidationError as exc:
            error = exc.errors()[0]
            name = str(error["loc"][0]) if error["loc"] else "?"
            raise SettingsError(
                f"ASSISTANT_{name.upper()}: {error['msg']}; set it to a whole number such as 1024, or unset it"
            ) from None

    @property
    def origins(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]


__all__ = ["ApiSettings"]
