"""Fixtures for the Telegram end-to-end tests: the loopback Bot API and the bot running on it.

The bot is built by the production factory (`build_app`, on a SQLite file of the test's own) and
driven by hand in the order `run_polling` uses (initialize, post_init, updater, start; then the
reverse), because `run_polling` would close the test's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.conversation.dialogue import Dialogue
from bot.conversation.sessions import Session
from bot.doors.telegram import ALLOWED_UPDATES, TelegramApp, TelegramDoor, build_app
from bot.settings import Settings, load_settings
from tests.e2e.fake_bot_api import TOKEN, FakeBotApi


def bot_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"telegram_bot_token": TOKEN, "emergency_region": "US"}
    values.update(overrides)
    return load_settings(_env_file=None, **values)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def running(
    app: TelegramApp, fake: FakeBotApi | None = None, webhook: dict[str, Any] | None = None
) -> AsyncIterator[TelegramApp]:
    """Run `app` as run_polling/run_webhook would, without closing the event loop."""
    await app.initialize()
    try:
        if app.post_init:
            await app.post_init(app)
        if webhook is not None:
            await app.updater.start_webhook(**webhook)
        else:
            await app.updater.start_polling(
                poll_interval=0, timeout=1, allowed_updates=ALLOWED_UPDATES
            )
        await app.start()
        yield app
    finally:
        if app.updater.running:
            stopping = asyncio.ensure_future(app.updater.stop())
            await asyncio.sleep(0.01)
            if fake is not None:
                await fake.release_polls()  # no need to sit out the long poll
            await stopping
        if app.running:
            await app.stop()
            if app.post_stop:
                await app.post_stop(app)
        await app.shutdown()


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    server = FakeBotApi()
    await server.start()
    yield server
    await server.stop()


class Sessions:
    """What the bot keeps about each Telegram user, read from its store."""

    def __init__(self, app: TelegramApp) -> None:
        self.door: TelegramDoor = app.bot_data["door"]

    def get(self, user_id: str) -> Session | None:
        return self.door.companion.sessions.get(f"tg:{user_id}")


@pytest.fixture
def telegram(fake: FakeBotApi, dialogue: Dialogue, tmp_path: Any) -> TelegramApp:
    """The bot as `build_app` makes it, on the fake (rate limiter on) and a SQLite file."""
    settings = bot_settings(
        telegram_base_url=f"http://127.0.0.1:{fake.port}/bot",
        database_url=f"sqlite:///{tmp_path}/bot.sqlite3",
    )
    return met(build_app(settings, dialogue=dialogue))


def met(app: TelegramApp, user_id: int = 42) -> TelegramApp:
    """The person these door tests play has met the bot before (a first contact also opens
    the onboarding with consent, which tests/care/test_forgotten.py checks on its own)."""
    app.bot_data["door"].companion.sessions.save(f"tg:{user_id}", Session())
    return app


@pytest.fixture
def sessions(telegram: TelegramApp) -> Sessions:
    return Sessions(telegram)


@pytest.fixture
async def bot(fake: FakeBotApi, telegram: TelegramApp) -> AsyncIterator[FakeBotApi]:
    """The bot, long polling the fake; the test talks to the fake."""
    async with running(telegram, fake):
        yield fake
