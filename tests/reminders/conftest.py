"""Fixtures for the reminder tests: a notifier that records what each chat received, the real
reminder words, and the reminder service (the databases come from tests/databases.py).

PostgreSQL runs at 127.0.0.1:5432 (database `test`, user postgres); each test gets its own
schema, dropped afterwards. Where it is not reachable the PostgreSQL variants skip and say why.
"""

from __future__ import annotations

import datetime as dt

import pytest

from bot.clock import FakeClock
from bot.reminders.flows import ReminderFlows, Wording
from bot.reminders.service import Reminders
from bot.reminders.wording import ReminderWords, load_reminder_words
from bot.reply.content import Content
from bot.storage.store import Store
from tests.databases import RecordingNotifier

UTC = dt.UTC


@pytest.fixture(scope="session")
def words(content: Content) -> ReminderWords:
    return load_reminder_words(content)


@pytest.fixture(scope="session")
def flows(words: ReminderWords) -> ReminderFlows:
    return ReminderFlows(words)


@pytest.fixture
def notifier(clock: FakeClock) -> RecordingNotifier:
    return RecordingNotifier(clock)


@pytest.fixture
def reminders(
    store: Store, clock: FakeClock, notifier: RecordingNotifier, flows: ReminderFlows,
    content: Content,
) -> Reminders:  # fmt: skip
    return Reminders(store, clock, notifier, Wording(flows, content.emergency_number))
