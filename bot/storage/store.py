"""The one SQL store: transactions, the few queries every part needs, and `delete_person`.

SQLite file by default, PostgreSQL by `DATABASE_URL`; `open_store` applies the migrations in
`bot/storage/migrations/` at start-up. The tables are in `bot.storage.models`. `delete_person` is
the one place that removes a person: every row about them, in every table, in one transaction
(`rows_about` is how the tests check it). This module holds no reminder or caregiver rules and
no user-facing text.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, delete, event, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.settings import DEFAULT_DATABASE_URL
from bot.storage.models import (
    Acknowledgement,
    AuditEvent,
    CardField,
    CareClaim,
    CaregiverLink,
    CareName,
    ChecklistRecord,
    Delivery,
    Invite,
    JoinAttempt,
    Occurrence,
    Person,
    Plan,
)

DEFAULT_URL = DEFAULT_DATABASE_URL  # a SQLite file in the working directory
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# The PostgreSQL advisory lock held while start-up migrations run (any fixed 64-bit number that
# no other lock of this database uses; the scheduler's leader election uses its own).
MIGRATION_LOCK = 0x62616D6967  # "bamig"


_PERSON_FIELDS = frozenset(
    {
        "role",
        "voice",
        "route",
        "region",
        "timezone",
        "consent",
        "consent_at",
        "high_risk",
        "quiet_start",
        "quiet_end",
        "session",
    }
)


# -- engine and migrations -------------------------------------------------------------------


def default_url() -> str:
    """DATABASE_URL, else a SQLite file in the working directory."""
    return os.environ.get("DATABASE_URL") or DEFAULT_URL


def normalise_url(url: str) -> str:
    """postgresql:// and postgres:// use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            # Deleted rows are overwritten with zeros, not just unlinked (`/delete_my_data`).
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (`alembic upgrade head`).

    On PostgreSQL several processes may start at once: each takes a transaction-level advisory
    lock first, so one migrates while the others wait, then find the schema at head and do
    nothing (the lock is let go when the transaction ends). SQLite has one writer at a time."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


# -- the store -------------------------------------------------------------------------------


class Store:
    """Transactions and the few queries every part needs."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def tx(self) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on any error."""
        with self.sessions.begin() as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()

    # -- people ---------------------------------------------------------------------------

    def person(self, db: Session, key: str, now: dt.datetime, create: bool = True) -> Person | None:
        person = db.scalar(select(Person).where(Person.key == key))
        if person is None and create:
            person = Person(key=key, voice="patient", created_at=now, updated_at=now)
            db.add(person)
            db.flush()
        return person

    def set_person(self, key: str, now: dt.datetime, **values: Any) -> None:
        """Create or update a person's row (time zone, risk answers, quiet hours, ...)."""
        with self.tx() as db:
            person = self.person(db, key, now)
            assert person is not None
            for name, value in values.items():
                if name not in _PERSON_FIELDS:
                    raise ValueError(f"people has no column {name!r}")
                setattr(person, name, value)
            person.updated_at = now

    def acknowledged(
        self,
        db: Session,
        at: dt.datetime,
        by: str,
        occurrence: Occurrence,
        plan: Plan,
        action: str,
        audit_kind: str,
    ) -> None:
        """Record who answered an occurrence and how, with its audit event."""
        db.add(
            Acknowledgement(
                person_id=plan.person_id,
                plan_id=plan.id,
                group_key=occurrence.group_key,
                action=action,
                by=by,
                at=at,
            )
        )
        self.audit(db, at, by, audit_kind, plan.person_id, plan=plan.id, occurrence=occurrence.id)

    def audit(
        self,
        db: Session,
        at: dt.datetime,
        actor: str,
        kind: str,
        person_id: int | None = None,
        **detail: Any,
    ) -> None:
        db.add(
            AuditEvent(at=at, actor=actor, kind=kind, person_id=person_id, detail=detail or None)
        )

    def link_caregiver(self, person_key: str, caregiver_key: str, now: dt.datetime) -> None:
        with self.tx() as db:
            person = self.person(db, person_key, now)
            assert person is not None
            exists = db.scalar(
                select(CaregiverLink).where(
                    CaregiverLink.person_id == person.id,
                    CaregiverLink.caregiver_key == caregiver_key,
                )
            )
            if exists is None:
                db.add(
                    CaregiverLink(person_id=person.id, caregiver_key=caregiver_key, created_at=now)
                )
                self.audit(db, now, person_key, "caregiver_linked", person.id)

    def caregivers(self, db: Session, person_id: int) -> list[str]:
        rows = db.scalars(
            select(CaregiverLink.caregiver_key)
            .where(CaregiverLink.person_id == person_id)
            .order_by(CaregiverLink.id)
        )
        return list(rows)

    def delete_person(self, key: str) -> None:
        """`/delete_my_data`: remove the person behind `key` and every row about them, in every
        table, in one transaction: the rows that name them in someone else's records (their
        links as a caregiver, deliveries to them, their answers and claims, invites they took,
        their audit events) and everything of their own. Telling linked people is the caregiver
        part's job, before this; `rows_about` is how the tests check that nothing is left.

        On SQLite the deleted rows are zeroed (`secure_delete`, set on every connection) and the
        write-ahead log, which still holds the pages as they were, is copied into the database
        and truncated to nothing, so no byte of the person is left in either file."""
        with self.tx() as db:
            for table, column in _NAMING:
                db.execute(delete(table).where(column == key))
            person = db.scalar(select(Person).where(Person.key == key))
            if person is not None:
                for owned in _OWNED:
                    db.execute(delete(owned).where(owned.person_id == person.id))
                db.execute(delete(Person).where(Person.id == person.id))
        self.forget_history()

    def forget_history(self) -> None:
        """SQLite: checkpoint the write-ahead log and truncate it (it keeps old page versions,
        deleted rows included, until then). Waits for readers (the busy timeout); PostgreSQL
        needs nothing here: deleted rows are not readable through any connection."""
        if self.engine.dialect.name != "sqlite":
            return
        with self.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


# Columns that name a person by key in rows that may belong to someone else.
_NAMING: Sequence[tuple[type[Any], Any]] = (
    (CaregiverLink, CaregiverLink.caregiver_key),
    (Delivery, Delivery.recipient),
    (Acknowledgement, Acknowledgement.by),
    (AuditEvent, AuditEvent.actor),
    (CareClaim, CareClaim.by),
    (ChecklistRecord, ChecklistRecord.by),
    (JoinAttempt, JoinAttempt.key),
    (Invite, Invite.claimed_by),
)
# Tables of rows a person owns (`person_id`), children before the rows they point to.
_OWNED: Sequence[Any] = (
    CareClaim,
    ChecklistRecord,
    CardField,
    Invite,
    CareName,
    AuditEvent,
    Delivery,
    Acknowledgement,
    Occurrence,
    Plan,
    CaregiverLink,
)


def open_store(url: str | None = None) -> Store:
    """Connect, apply migrations, and return the store."""
    engine = make_engine(url or default_url())
    migrate(engine)
    return Store(engine)
