"""Delivery that loses nothing: a process killed at any point, a restart while a reminder was
due, a failing chat service, the migrations, and the APScheduler wake-ups on the demo clock."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import func, select

from bot.clock import FakeClock, ScaledClock
from bot.reminders.flows import ReminderFlows, Wording
from bot.reminders.plans import RefillPlan
from bot.reminders.scheduler import ReminderScheduler
from bot.reminders.service import Reminders
from bot.reply.content import Content
from bot.storage.models import Base, Delivery
from bot.storage.store import Store, open_store
from tests.databases import RecordingNotifier

UTC = dt.UTC
ME = "tg:1"


class Killed(BaseException):
    """The process dies here (nothing after this line runs)."""


def plan() -> dict[str, object]:
    return RefillPlan(dt.date(2026, 3, 20), dt.date(2026, 3, 26)).to_data()


def restart(
    db_url: str,
    clock: FakeClock,
    notifier: RecordingNotifier,
    flows: ReminderFlows,
    content: Content,
) -> tuple[Store, Reminders]:
    """A new process: a fresh engine and service on the same database."""
    store = open_store(db_url)
    return store, Reminders(store, clock, notifier, Wording(flows, content.emergency_number))


def test_migrations_match_the_models(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        diff = [
            d for d in compare_metadata(context, Base.metadata)
            if not (d[0] == "remove_table" and d[1].name == "apscheduler_jobs")
        ]  # fmt: skip
    assert diff == []


@pytest.mark.parametrize("point", ["claimed", "accepted", "marked"])
async def test_a_kill_at_any_point_loses_nothing(
    db_url: str, store: Store, clock: FakeClock, notifier: RecordingNotifier,
    flows: ReminderFlows, content: Content, point: str,
) -> None:  # fmt: skip
    store.set_person(ME, clock.now(), timezone="UTC", consent=True)

    def die(where: str) -> None:
        if where == point:
            raise Killed(where)

    first = Reminders(store, clock, notifier, Wording(flows, content.emergency_number), fault=die)
    first.create_plan(ME, "refill", plan())
    clock.set(dt.datetime(2026, 3, 6, 9, 0, tzinfo=UTC))  # the 14-day reminder is due
    with pytest.raises(Killed):
        await first.deliver_due()
    store.close()

    store2, second = restart(db_url, clock, notifier, flows, content)
    second.reconcile()
    await second.deliver_due()
    await second.deliver_due()
    got = [r.message.text for r in notifier.to(ME)]
    assert all("in 14 days" in t for t in got)
    if point == "claimed":  # killed before sending: sent once, with an honest "may" note
        assert len(got) == 1 and got[0].startswith("You may have had this message already")
    elif point == "accepted":  # the chat service had it: a repeat, and it says so
        assert len(got) == 2
        assert not got[0].startswith("You may") and got[1].startswith("You may have had")
    else:  # killed after the sent mark: never sent again
        assert len(got) == 1 and not got[0].startswith("You may")
    with store2.tx() as db:
        assert db.scalar(select(func.count()).select_from(Delivery)) == 1
    store2.close()


async def test_a_restart_while_a_reminder_was_due_sends_it_once_late_with_a_note(
    db_url: str, store: Store, clock: FakeClock, notifier: RecordingNotifier,
    flows: ReminderFlows, content: Content,
) -> None:  # fmt: skip
    store.set_person(ME, clock.now(), timezone="Europe/London", consent=True)
    reminders = Reminders(store, clock, notifier, Wording(flows, content.emergency_number))
    reminders.create_plan(ME, "refill", plan())
    store.close()  # the bot goes down ...
    clock.set(dt.datetime(2026, 3, 6, 15, 30, tzinfo=UTC))  # ... and is back 6.5 hours later
    store2, again = restart(db_url, clock, notifier, flows, content)
    assert again.reconcile() == 1
    for _ in range(3):
        await again.deliver_due()
    got = notifier.to(ME)
    assert len(got) == 1
    assert got[0].message.text.startswith("This reminder is late. It was due at 09:00 on Fri 06")
    assert "in 14 days" in got[0].message.text
    clock.set(dt.datetime(2026, 3, 13, 9, 0, tzinfo=UTC))
    await again.deliver_due()
    assert not notifier.to(ME)[-1].message.text.startswith("This reminder is late")
    store2.close()


async def test_a_refused_send_is_retried_and_is_not_called_a_repeat(
    reminders: Reminders, store: Store, clock: FakeClock, notifier: RecordingNotifier
) -> None:
    store.set_person(ME, clock.now(), timezone="UTC", consent=True)
    reminders.create_plan(ME, "refill", plan())
    clock.set(dt.datetime(2026, 3, 6, 9, 0, tzinfo=UTC))
    notifier.fail_next = 1
    await reminders.deliver_due()
    assert notifier.to(ME) == []
    await reminders.deliver_due()  # the next wake-up or sweep
    got = notifier.to(ME)
    assert len(got) == 1 and "in 14 days" in got[0].message.text


async def test_the_demo_clock_drives_the_real_scheduler(
    tmp_path: object, flows: ReminderFlows, content: Content
) -> None:
    """APScheduler wakes us at real moments converted from demo time (10 hours a second)."""
    start = dt.datetime(2026, 3, 5, 20, 0, tzinfo=UTC)
    clock = ScaledClock(36000.0, start=start)
    store = open_store(f"sqlite:///{tmp_path}/demo.sqlite3")
    fake = FakeClock(start)
    notifier = RecordingNotifier(fake)
    reminders = Reminders(store, clock, notifier, Wording(flows, content.emergency_number))
    store.set_person(ME, clock.now(), timezone="UTC", consent=True)
    reminders.create_plan(ME, "refill", plan())
    scheduler = ReminderScheduler(reminders)
    await scheduler.start()
    try:
        for _ in range(100):  # 13 demo hours are about 1.3 real seconds
            await asyncio.sleep(0.5)
            if notifier.to(ME):
                break
        jobs = [j.id for j in scheduler.scheduler.get_jobs()]
    finally:
        await scheduler.stop()
        store.close()
    got = notifier.to(ME)
    assert len(got) == 1 and "in 14 days" in got[0].message.text
    assert "sweep" in jobs
