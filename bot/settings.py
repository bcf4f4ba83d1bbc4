"""Settings from the environment (and an optional `.env` file), validated at start-up.

A bad value stops start-up with a message that names the variable; the bot token and the
webhook secret are secrets and never appear in logs, errors or `repr`.
"""

from __future__ import annotations

import os
import re
import secrets
import zoneinfo
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, SettingsConfigDict

TELEGRAM_API = "https://api.telegram.org/bot"
# Telegram's rule for a webhook secret token: 1-256 characters, A-Z a-z 0-9 _ -.
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_DB_URL = re.compile(r"^[a-z][a-z0-9+.-]*://\S*$")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")
DEFAULT_DATABASE_URL = "sqlite:///baclofen-companion.sqlite3"
DEFAULT_DATA_DIR = "baclofen-companion-data"
PEPPER_FILE_NAME = "baclofen-companion.pepper"
MIN_PEPPER = 16


class SettingsError(Exception):
    """A setting is missing or invalid (the message names it, never its secret value)."""


def _http_url(value: str, *, https: bool = False) -> str:
    """An http(s) URL with a host; `https` demands TLS except on this machine (tests)."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http or https URL with a host")
    if https and parts.scheme != "https" and parts.hostname not in _LOOPBACK:
        raise ValueError("must be an https URL (Telegram only calls webhooks over TLS)")
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr | None = Field(default=None)
    # The Bot API server: Telegram's own, a self-hosted one, or the tests' loopback fake.
    telegram_base_url: str = TELEGRAM_API
    # AIORateLimiter keeps us under Telegram's flood limits; off only for benchmarks.
    telegram_rate_limiter: bool = True
    telegram_rate_limit_retries: int = Field(default=3, ge=0, le=10)
    # The SQL store: a SQLite file in the working directory by default, or PostgreSQL.
    database_url: str = DEFAULT_DATABASE_URL
    # Where the local chat keeps the files it exports (one folder per person, under exports/).
    data_dir: Path = Path(DEFAULT_DATA_DIR)
    # Demo time: 1 is real time; 3600 makes an hour pass every second (every door, same code).
    bot_clock_speed: float = Field(default=1.0, gt=0, le=10_000_000)
    webhook_url: str | None = None  # set: webhook mode; unset: long polling
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    bot_timezone: str = "UTC"  # the default for scheduled work until a person sets theirs
    emergency_region: Literal["US", "CA", "UK", "IE", "EU", "AU"] = "US"
    approved_answers_only: bool = False
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # The secret key of the invite codes' HMAC. With a token it is required: taken from here,
    # or generated once and kept in BOT_CODE_PEPPER_FILE (never in the database).
    bot_code_pepper: SecretStr | None = None
    bot_code_pepper_file: Path | None = None

    @field_validator("telegram_base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        return _http_url(value)

    @field_validator("webhook_url")
    @classmethod
    def _check_webhook_url(cls, value: str | None) -> str | None:
        return _http_url(value, https=True) if value else None

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str:
        if not value:
            return DEFAULT_DATABASE_URL
        if not _DB_URL.match(value):
            raise ValueError("must be a database URL such as sqlite:///bot.db or postgresql://...")
        return value

    @field_validator("bot_timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone such as UTC or Europe/London") from None
        return value

    @model_validator(mode="after")
    def _check_webhook(self) -> Settings:
        secret = self.webhook_secret.get_secret_value() if self.webhook_secret else ""
        if self.webhook_url and not secret:
            raise ValueError("WEBHOOK_SECRET is required when WEBHOOK_URL is set")
        if secret and not _SECRET.match(secret):
            raise ValueError("WEBHOOK_SECRET must be 1-256 characters: letters, digits, _ or -")
        return self

    @field_validator("bot_code_pepper")
    @classmethod
    def _check_pepper(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_PEPPER:
            raise ValueError(f"must be a random secret of at least {MIN_PEPPER} characters")
        return value

    @property
    def pepper_file(self) -> Path:
        """BOT_CODE_PEPPER_FILE, or a file beside the SQLite database (the data directory),
        or in the working directory for other databases."""
        if self.bot_code_pepper_file:
            return self.bot_code_pepper_file
        url = self.database_url.split("?", 1)[0]
        if url.startswith("sqlite:///") and len(url) > len("sqlite:///"):
            return Path(url[len("sqlite:///") :]).parent / PEPPER_FILE_NAME
        return Path(PEPPER_FILE_NAME)

    @property
    def has_token(self) -> bool:
        return bool(self.telegram_bot_token and self.telegram_bot_token.get_secret_value())

    @property
    def token(self) -> str:
        """The bot token, for the Telegram library only (never log or print it)."""
        if not self.telegram_bot_token:
            raise SettingsError("TELEGRAM_BOT_TOKEN: not set")
        return self.telegram_bot_token.get_secret_value()


def code_pepper(settings: Settings) -> str:
    """The secret key of the invite codes' HMAC, never a public constant.

    BOT_CODE_PEPPER when set. Otherwise, with a token (a real deployment), the one kept in
    BOT_CODE_PEPPER_FILE, generated there (readable by this user only) on first start. Without
    a token (the local chat, tests) a fresh random one for this process."""
    if settings.bot_code_pepper is not None:
        return settings.bot_code_pepper.get_secret_value()
    if not settings.has_token:
        return secrets.token_urlsafe(32)
    path = settings.pepper_file
    try:
        try:
            with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
                f.write(secrets.token_urlsafe(32) + "\n")
        except FileExistsError:
            pass  # made before: read it
        value = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SettingsError(
            f"BOT_CODE_PEPPER_FILE: cannot keep the code pepper in {path} "
            f"({type(exc).__name__}); set BOT_CODE_PEPPER or BOT_CODE_PEPPER_FILE"
        ) from None
    if len(value) < MIN_PEPPER:
        raise SettingsError(f"BOT_CODE_PEPPER_FILE: {path} holds no secret of {MIN_PEPPER}+ chars")
    return value


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(_problem(e) for e in exc.errors())
        raise SettingsError(f"invalid setting: {problems}") from None


def _problem(error: ErrorDetails) -> str:
    """One problem, naming the variable and never echoing its value (it may be a secret)."""
    name = "_".join(str(p) for p in error["loc"]).upper()
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{name}: {message}" if name else message
