"""Test databases and doubles shared by the reminder and caregiver tests.

`db_url` gives each test a fresh database: a SQLite file, and a schema of its own on the
PostgreSQL server at 127.0.0.1:5432 (database `test`, user postgres), dropped afterwards. Where
PostgreSQL is not reachable that variant skips and says why. `RecordingNotifier` is a door that
keeps what each chat received, and when, on the injected clock. `rows_about` counts what is left
about a person in every table (the check of `/delete_my_data`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pytest
from sqlalchemy import func, or_, select

from bot.clock import FakeClock
from bot.reply.content import Content, load_content
from bot.reply.messages import Message
from bot.storage.models import (
    Acknowledgement,
    AuditEvent,
    CardField,
    CareClaim,
    CaregiverLink,
    CareName,
    ChecklistRecord,
    Invite,
    JoinAttempt,
    Occurrence,
    Person,
    Plan,
)
from bot.storage.store import Store, open_store

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


def rows_about(store: Store, key: str) -> dict[str, int]:
    """How many rows in each table still mention `key` (written apart from `delete_person`, so
    that it checks it)."""
    counts: dict[str, int] = {}
    with store.tx() as db:
        person = db.scalar(select(Person).where(Person.key == key))
        pid = person.id if person else -1
        checks: Sequence[tuple[str, Any]] = (
            ("people", select(func.count()).select_from(Person).where(Person.key == key)),
            (
                "caregiver_links",
                select(func.count())
                .select_from(CaregiverLink)
                .where(or_(CaregiverLink.person_id == pid, CaregiverLink.caregiver_key == key)),
            ),
            (
                "care_invites",
                select(func.count())
                .select_from(Invite)
                .where(or_(Invite.person_id == pid, Invite.claimed_by == key)),
            ),
            (
                "care_join_attempts",
                select(func.count()).select_from(JoinAttempt).where(JoinAttempt.key == key),
            ),
            (
                "care_names",
                select(func.count()).select_from(CareName).where(CareName.person_id == pid),
            ),
            (
                "care_claims",
                select(func.count())
                .select_from(CareClaim)
                .where(or_(CareClaim.person_id == pid, CareClaim.by == key)),
            ),
            (
                "checklist_results",
                select(func.count())
                .select_from(ChecklistRecord)
                .where(or_(ChecklistRecord.person_id == pid, ChecklistRecord.by == key)),
            ),
            (
                "card_fields",
                select(func.count()).select_from(CardField).where(CardField.person_id == pid),
            ),
            (
                "acknowledgements",
                select(func.count())
                .select_from(Acknowledgement)
                .where(or_(Acknowledgement.person_id == pid, Acknowledgement.by == key)),
            ),
            (
                "audit_events",
                select(func.count())
                .select_from(AuditEvent)
                .where(or_(AuditEvent.person_id == pid, AuditEvent.actor == key)),
            ),
            ("plans", select(func.count()).select_from(Plan).where(Plan.person_id == pid)),
            (
                "occurrences",
                select(func.count()).select_from(Occurrence).where(Occurrence.person_id == pid),
            ),
        )
        for name, query in checks:
            counts[name] = int(db.scalar(query) or 0)
    return counts
