"""Settings from the environment and an optional `.env` file.

The variable names are the public contract documented in the README; build `Settings()` in the
composition root, never at import time, so tests and the CLI choose their own environment.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(Exception):
    """Configuration that cannot work; the message names the variable to fix."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    discord_token: SecretStr | None = Field(default=None, validation_alias="DISCORD_TOKEN")
    openai_api_key: SecretStr | None = Field(default=None, validation_alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(default=None, validation_alias="OPENAI_BASE_URL")
    model: str = Field(default="gpt-4o-mini", min_length=1, validation_alias="STUDYBUDDY_MODEL")
    database: Path = Field(default=Path("studybuddy.db"), validation_alias="STUDYBUDDY_DB")
    dev_guild: Annotated[int, Field(gt=0)] | None = Field(default=None, validation_alias="STUDYBUDDY_DEV_GUILD")
    log_level: str = Field(default="INFO", validation_alias="STUDYBUDDY_LOG_LEVEL")
    max_concurrent_generations: int = Field(default=100, ge=1, le=512, validation_alias="STUDYBUDDY_MAX_GENERATIONS")
    generation_queue_limit: int = Field(default=400, ge=0, validation_alias="STUDYBUDDY_QUEUE_LIMIT")
    user_cooldown_s: float = Field(default=5.0, ge=0, validation_alias="STUDYBUDDY_USER_COOLDOWN")
    llm_timeout_s: float = Field(default=60.0, gt=0, validation_alias="STUDYBUDDY_LLM_TIMEOUT")
    daily_grace_minutes: int = Field(default=120, ge=0, le=24 * 60, validation_alias="STUDYBUDDY_DAILY_GRACE_MINUTES")

    @field_validator("discord_token", "openai_api_key", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("openai_base_url", "dev_guild", mode="before")
    @classmethod
    def _blank_optional(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("openai_base_url")
    @classmethod
    def _url_has_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://, e.g. http://localhost:11434/v1 for Ollama")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _known_level(cls, value: object) -> object:
        level = str(value).strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return level

    @property
    def llm_configured(self) -> bool:
        """An LLM is usable with a key, or with a local server (Ollama needs no key)."""
        return self.openai_api_key is not None or self.openai_base_url is not None

    @property
    def log_level_number(self) -> int:
        return logging.getLevelNamesMapping()[self.log_level]


_VARIABLE_BY_FIELD = {name: str(field.validation_alias) for name, field in Settings.model_fields.items()}


def load_settings(env_file: str | Path | None = ".env") -> Settings:
    """Builds Settings, turning pydantic's report into one line per bad variable."""
    try:
        return Settings(_env_file=env_file)  # type: ignore[call-arg]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "?"
            variable = _VARIABLE_BY_FIELD.get(field, field.upper())
            lines.append(f"{variable}: {error['msg']}")
        raise ConfigError("Invalid configuration:\n  " + "\n  ".join(lines)) from None
