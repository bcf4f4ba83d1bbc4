"""The one SQL store: people, plans, scheduled occurrences, deliveries, acknowledgements, audit.

SQLAlchemy 2 models over SQLite (a file, the default) or PostgreSQL (`DATABASE_URL`), with the
schema owned by Alembic migrations in `bot/migrations/` (applied by `open_store` at start-up).
Deliveries are UNIQUE per occurrence + level + recipient, so a retry never double-sends. Audit
events record who did what and when, never message text. This module holds no reminder rules
and no user-facing text; `delete_person` removes a person and every row about them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

from bot.settings import DEFAULT_DATABASE_URL

UTC = dt.UTC
DEFAULT_URL = DEFAULT_DATABASE_URL  # a SQLite file in the working directory
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes on every database (SQLite keeps no zone: store naive UTC)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class Person(Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)  # "tg:123", "console:local"
    role: Mapped[str | None] = mapped_column(String(20))
    voice: Mapped[str] = mapped_column(String(20), default="patient")
    route: Mapped[str | None] = mapped_column(String(20))
    region: Mapped[str | None] = mapped_column(String(8))
    timezone: Mapped[str | None] = mapped_column(String(64))
    consent: Mapped[bool | None] = mapped_column(Boolean)
    consent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    high_risk: Mapped[list[str] | None] = mapped_column(JSON)  # None: not asked yet
    quiet_start: Mapped[str | None] = mapped_column(String(5))  # "22:00" local
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    session: Mapped[str | None] = mapped_column(Text)  # the serialized dialogue Session
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class CaregiverLink(Base):
    __tablename__ = "caregiver_links"
    __table_args__ = (UniqueConstraint("person_id", "caregiver_key", name="uq_link"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    caregiver_key: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Plan(Base):
    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # refill | taper
    status: Mapped[str] = mapped_column(String(16))  # active | paused | cancelled | done
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Occurrence(Base):
    __tablename__ = "occurrences"
    __table_args__ = (
        Index("ix_occurrences_status_due", "status", "due_at"),
        Index("ix_occurrences_plan_group", "plan_id", "group_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # a rule name in bot/escalation.py
    group_key: Mapped[str] = mapped_column(String(64))  # what one acknowledgement closes
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    level: Mapped[int] = mapped_column(Integer)  # 0 routine ... 4 emergency advice
    priority: Mapped[int] = mapped_column(Integer)  # higher goes first when many are due
    status: Mapped[str] = mapped_column(String(16))  # pending | sent | acked | cancelled
    late: Mapped[bool] = mapped_column(Boolean, default=False)  # due while the bot was down
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class Delivery(Base):
    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("occurrence_id", "level", "recipient", name="uq_delivery"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurrence_id: Mapped[int] = mapped_column(ForeignKey("occurrences.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    recipient: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(String(16))  # claimed | sent
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    claimed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    message_ids: Mapped[list[str] | None] = mapped_column(JSON)


class Acknowledgement(Base):
    __tablename__ = "acknowledgements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    group_key: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))  # done | taken | skip | snooze
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(64))  # a person key, or "scheduler"
    kind: Mapped[str] = mapped_column(String(32))
    person_id: Mapped[int | None] = mapped_column(Integer, index=True)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # ids and levels, never text


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
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (`alembic upgrade head`)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
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
        """Remove the person and every row about them (plans, occurrences, deliveries, audit)."""
        with self.tx() as db:
            person = db.scalar(select(Person).where(Person.key == key))
            db.execute(delete(CaregiverLink).where(CaregiverLink.caregiver_key == key))
            db.execute(delete(Delivery).where(Delivery.recipient == key))
            db.execute(delete(Acknowledgement).where(Acknowledgement.by == key))
            db.execute(delete(AuditEvent).where(AuditEvent.actor == key))
            if person is None:
                return
            pid = person.id
            db.execute(delete(AuditEvent).where(AuditEvent.person_id == pid))
            db.execute(delete(Delivery).where(Delivery.person_id == pid))
            db.execute(delete(Acknowledgement).where(Acknowledgement.person_id == pid))
            db.execute(delete(Occurrence).where(Occurrence.person_id == pid))
            db.execute(delete(Plan).where(Plan.person_id == pid))
            db.execute(delete(CaregiverLink).where(CaregiverLink.person_id == pid))
            db.execute(delete(Person).where(Person.id == pid))


def open_store(url: str | None = None) -> Store:
    """Connect, apply migrations, and return the store."""
    engine = make_engine(url or default_url())
    migrate(engine)
    return Store(engine)


# -- sessions --------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(type(value).__name__)


class SqlSessions:
    """`bot.sessions.SessionStore` over the people table: the dialogue Session as JSON, and the
    columns the scheduler reads (time zone, region, voice, consent, risk answers, quiet hours)
    kept in step with it. `prefix` turns a door's own key ("123") into a chat key ("tg:123")."""

    def __init__(self, store: Store, now: Any, prefix: str = "") -> None:
        self.store = store
        self.now = now  # a () -> aware datetime (the injected clock's `now`)
        self.prefix = prefix

    def key(self, key: str) -> str:
        return key if key.startswith(self.prefix) else f"{self.prefix}{key}"

    def get(self, key: str) -> Any:
        with self.store.tx() as db:
            person = self.store.person(db, self.key(key), self.now(), create=False)
            text = person.session if person is not None else None
        return decode_session(text) if text else None

    def save(self, key: str, session: Any) -> None:
        now = self.now()
        with self.store.tx() as db:
            person = self.store.person(db, self.key(key), now)
            assert person is not None
            if session.consent and not person.consent:
                person.consent_at = now
            person.consent = session.consent
            person.role = session.role
            person.voice = session.voice
            person.route = session.route
            person.region = session.region
            person.timezone = session.timezone
            reminders = getattr(session, "reminders", None)
            if reminders is not None:
                person.high_risk = (
                    list(reminders.high_risk) if reminders.high_risk is not None else None
                )
                start, _, end = (reminders.quiet_hours or "").partition("-")
                person.quiet_start, person.quiet_end = (start or None), (end or None)
            person.session = encode_session(session)
            person.updated_at = now

    def delete(self, key: str) -> None:
        self.store.delete_person(self.key(key))

    def close(self) -> None:
        """The store is shared with the scheduler: the door that built it closes it."""


def encode_session(session: Any) -> str:
    raw = asdict(session)
    if isinstance(raw.get("reminders"), dict):
        raw["reminders"].pop("plans", None)  # a snapshot from the plans table, never kept here
    return json.dumps(raw, sort_keys=True, default=_plain)


def decode_session(text: str) -> Any:
    """A Session from JSON, ignoring fields an older or newer version kept."""
    from bot.dialogue import Session

    raw = json.loads(text)
    known = {f.name for f in fields(Session)}
    values = {k: v for k, v in raw.items() if k in known}
    if "reminders" in values:
        from bot.reminder_flows import ReminderState

        rem = values["reminders"] or {}
        risk = rem.get("high_risk")
        values["reminders"] = ReminderState(
            high_risk=tuple(risk) if risk is not None else None,
            quiet_hours=rem.get("quiet_hours"),
            flow=rem.get("flow"),
        )
    return Session(**values)
