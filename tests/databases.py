"""Test databases and doubles shared by the reminder and caregiver tests.

`db_url` gives each test a fresh database: a SQLite file, and a schema of its own on the
PostgreSQL server at 127.0.0.1:5432 (database `test`, user postgres), dropped afterwards. Where
PostgreSQL is not reachable that variant skips and says why. `RecordingNotifier` is a door that
keeps what each chat received, and when, on the injected clock.
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
from bot.store import Store, open_store

UTC = dt.UTC
DSN = "host=127.0.0.1 port=5432 dbname=test user=postgres password=root"
PG = "postgresql+psycopg://postgres:root@127.0.0.1:5432/test"


@cache
def postgres_problem() -> str | None:
    """None when the PostgreSQL test server answers, else why not (for the skip reason)."""
    try:
        import psycopg

        with psycopg.connect(DSN, connect_timeout=3):
            return None
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc) else ''}"


def pg_url(schema: str) -> str:
    return f"{PG}?options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/test.sqlite3"
        return
    problem = postgres_problem()
    if problem:
        pytest.skip(
            f"PostgreSQL at 127.0.0.1:5432 (database test, user postgres) is not reachable: "
            f"{problem}"
        )
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield pg_url(schema)
    finally:
        with psycopg.connect(DSN, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = open_store(db_url)
    yield s
    s.close()


@pytest.fixture(scope="session")
def content() -> Content:
    return load_content()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime(2026, 3, 1, 12, 0, tzinfo=UTC))


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
