"""Fixtures for the caregiver tests: the care words and service, and helpers that lay out a
refill escalation as issue 5's ladder would (the databases come from tests/databases.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.care.rules import CareWords, load_care_words
from bot.care.service import CareService
from bot.clock import FakeClock
from bot.reply.content import Content
from bot.storage.models import Occurrence, Plan
from bot.storage.store import Store

UTC = dt.UTC
PEPPER = "test-pepper-0123456789abcdef"  # a test's own secret, never a default


@pytest.fixture(scope="session")
def words(content: Content) -> CareWords:
    return load_care_words(content.facts)


@pytest.fixture
def care(store: Store, clock: FakeClock, words: CareWords) -> CareService:
    return CareService(store, clock, words, pepper=PEPPER)


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
