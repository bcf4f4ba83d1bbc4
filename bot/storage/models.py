"""Every table of the one SQL store, as SQLAlchemy 2 models: people, caregiver links, plans,
scheduled occurrences, deliveries, acknowledgements, audit events, and the caregiver part's
invites, join attempts, names, alert claims, checklist results and card fields.

The schema is owned by the Alembic migrations next to this module (applied at start-up); a test
checks that they match these models. Deliveries are UNIQUE per occurrence + level + recipient,
so a retry never double-sends; the first caregiver to take an alert wins through a UNIQUE claim
per event (plan + group). Audit events hold ids and levels, never message text. This module holds
no rules and no user-facing text, and no model holds a link code in clear.
"""

from __future__ import annotations

import datetime as dt
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
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

UTC = dt.UTC


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
    unreachable_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # blocked the bot
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
    __table_args__ = (Index("ix_plans_status_laid", "status", "laid_until"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # refill | taper
    status: Mapped[str] = mapped_column(String(16))  # active | paused | cancelled | done
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # Occurrences are laid out lazily, up to this moment (bot.reminders.plans.lay_out).
    laid_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Occurrence(Base):
    __tablename__ = "occurrences"
    __table_args__ = (
        Index("ix_occurrences_status_due", "status", "due_at"),
        Index("ix_occurrences_plan_group", "plan_id", "group_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # a rule name in bot/reminders/ladder.py
    group_key: Mapped[str] = mapped_column(String(64))  # what one acknowledgement closes
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    level: Mapped[int] = mapped_column(Integer)  # 0 routine ... 4 emergency advice
    priority: Mapped[int] = mapped_column(Integer)  # higher goes first when many are due
    # pending | sent | acked | cancelled | skipped (a follow-up the digest covers) | failed
    status: Mapped[str] = mapped_column(String(16))
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
    # claimed | sent | unreachable (blocked the bot) | refused (the chat service said no)
    state: Mapped[str] = mapped_column(String(16))
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


# -- the caregiver part (migration 0101) ----------------------------------------------------


class Invite(Base):
    __tablename__ = "care_invites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12))  # open | claimed | used | declined
    claimed_by: Mapped[str | None] = mapped_column(String(64), index=True)


class JoinAttempt(Base):
    __tablename__ = "care_join_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class CareName(Base):
    """The first name a door gave for a person, to tell others who did what."""

    __tablename__ = "care_names"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(64))


class CareClaim(Base):
    """The one caregiver who took an alert event: UNIQUE per plan + group is the race guard."""

    __tablename__ = "care_claims"
    __table_args__ = (UniqueConstraint("plan_id", "group_key", name="uq_care_claim"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"))
    group_key: Mapped[str] = mapped_column(String(64))
    occurrence_id: Mapped[int] = mapped_column(Integer)
    by: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(16))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ChecklistRecord(Base):
    __tablename__ = "checklist_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    by: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(24))
    route: Mapped[str] = mapped_column(String(12))
    cause: Mapped[str] = mapped_column(String(12))
    signs: Mapped[list[str]] = mapped_column(JSON)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)


class CardField(Base):
    __tablename__ = "card_fields"
    __table_args__ = (UniqueConstraint("person_id", "field", name="uq_card_field"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(String(24))
    value: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
