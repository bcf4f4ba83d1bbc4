"""Fixtures for the reminder tests: a fresh database on SQLite and on PostgreSQL, a fake clock,
a notifier that records what each chat received, and the real reminder words.

PostgreSQL runs at 127.0.0.1:5432 (database `test`, user postgres); each test gets its own
schema, dropped afterwards. Where it is not reachable the PostgreSQL variants skip and say why.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache

import pytest

from bot.clock import FakeClock
from bot.composer import Message
from bot.content import Content, load_content
from bot.reminder_content import ReminderWords, load_reminder_words
from bot.reminder_flows import ReminderFlows, Wording
from bot.scheduler import Reminders
from bot.store import Store, open_store

PG = "postgresql+psycopg://postgres:root@127.0.0.1:5432/test"
UTC = dt.UTC


@cache
def postgres_problem() -> str | None:
    try:
        import psycopg

        with psycopg.connect(
            "host=127.0.0.1 port=5432 dbname=test user=postgres password=root", connect_timeout=3
        ):
            return None
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc) else ''}"


def pg_url(schema: str) -> str:
    return f"{PG}?options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/reminders.sqlite3"
        return
    problem = postgres_problem()
    if problem:
        pytest.skip(
            f"PostgreSQL at 127.0.0.1:5432 (database test, user postgres) is not reachable: "
            f"{problem}"
        )
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    dsn = "host=127.0.0.1 port=5432 dbname=test user=postgres password=root"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield pg_url(schema)
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = open_store(db_url)
    yield s
    s.close()


@pytest.fixture(scope="session")
def content() -> Content:
    return load_content()


@pytest.fixture(scope="session")
def words(content: Content) -> ReminderWords:
    return load_reminder_words(content)


@pytest.fixture(scope="session")
def flows(words: ReminderWords) -> ReminderFlows:
    return ReminderFlows(words)


@dataclass
class Received:
    chat: str
    message: Message
    at: dt.datetime


@dataclass
class RecordingNotifier:
    """A door that keeps what each chat got, and when (on the injected clock)."""

    clock: FakeClock
    got: list[Received] = field(default_factory=list)
    fail_next: int = 0

    async def send(self, chat_key: str, messages: Sequence[Message]) -> list[str]:
        if self.fail_next:
            self.fail_next -= 1
            raise RuntimeError("the chat service refused")
        for m in messages:
            self.got.append(Received(chat_key, m, self.clock.now()))
        return [str(len(self.got))]

    def to(self, chat: str) -> list[Received]:
        return [r for r in self.got if r.chat == chat]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime(2026, 3, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
def notifier(clock: FakeClock) -> RecordingNotifier:
    return RecordingNotifier(clock)


@pytest.fixture
def reminders(
    store: Store, clock: FakeClock, notifier: RecordingNotifier, flows: ReminderFlows,
    content: Content,
) -> Reminders:  # fmt: skip
    return Reminders(store, clock, notifier, Wording(flows, content.emergency_number))
