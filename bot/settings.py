"""Settings from the environment (and an optional `.env` file), validated at start-up.

A bad value stops start-up with a message that names the variable; the bot token is a secret
and never appears in logs, errors or `repr`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict


class SettingsError(Exception):
    """A setting is missing or invalid (the message names it, never its secret value)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr | None = Field(default=None)
    emergency_region: Literal["US", "CA", "UK", "EU", "AU"] = "US"
    approved_answers_only: bool = False
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @property
    def has_token(self) -> bool:
        return bool(self.telegram_bot_token and self.telegram_bot_token.get_secret_value())


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors()
        )
        raise SettingsError(f"invalid setting: {problems}") from None
