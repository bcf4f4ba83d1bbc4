"""Fixtures for the caregiver tests: a fresh database on SQLite and on PostgreSQL, a fake clock,
the care service, and helpers that lay out a refill escalation as issue 5's ladder would.

PostgreSQL runs at 127.0.0.1:5432 (database `test`, user postgres); each test gets its own
schema, dropped afterwards. Where it is not reachable the PostgreSQL variants skip and say why.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from functools import cache

import pytest

from bot.care import CareWords, load_care_words
from bot.care_store import CareService
from bot.clock import FakeClock
from bot.content import Content, load_content
from bot.store import Occurrence, Plan, Store, open_store

UTC = dt.UTC
DSN = "host=127.0.0.1 port=5432 dbname=test user=postgres password=root"
PG = "postgresql+psycopg://postgres:root@127.0.0.1:5432/test"


@cache
def postgres_problem() -> str | None:
    try:
        import psycopg

        with psycopg.connect(DSN, connect_timeout=3):
            return None
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc) else ''}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/care.sqlite3"
        return
    problem = postgres_problem()
    if problem:
        pytest.skip(
            f"PostgreSQL at 127.0.0.1:5432 (database test, user postgres) is not reachable: "
            f"{problem}"
        )
    import psycopg

    schema = f"c_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{PG}?options=-csearch_path%3D{schema}"
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


@pytest.fixture(scope="session")
def words(content: Content) -> CareWords:
    return load_care_words(content.facts)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(dt.datetime(2026, 3, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
def care(store: Store, clock: FakeClock, words: CareWords) -> CareService:
    return CareService(store, clock, words)


def escalation(store: Store, key: str, now: dt.datetime, group: str = "refill") -> list[int]:
    """A refill plan whose ladder has sent a caregiver alert and has more steps pending."""
    with store.tx() as db:
        person = store.person(db, key, now)
        assert person is not None
        plan = Plan(
            person_id=person.id,
            kind="refill",
            status="active",
            data={},
            created_at=now,
            updated_at=now,
        )
        db.add(plan)
        db.flush()
        ids = []
        for n, (kind, status) in enumerate(
            (
                ("refill_caregiver", "sent"),
                ("refill_emergency", "pending"),
                ("refill_emergency", "pending"),
            )
        ):
            occ = Occurrence(
                plan_id=plan.id,
                person_id=person.id,
                kind=kind,
                group_key=group,
                due_at=now + dt.timedelta(days=n),
                level=3,
                priority=30,
                status=status,
                late=False,
                payload={},
            )
            db.add(occ)
            db.flush()
            ids.append(occ.id)
        return ids


def texts(notices: list, to: str) -> list[str]:
    return [m.text for n in notices if n.to == to for m in n.messages]
