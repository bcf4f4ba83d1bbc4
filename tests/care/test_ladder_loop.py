"""The loop closed on issue 5's real refill ladder: a patient with two caregivers misses a
refill, both caregivers get the alert with "I'm on it" and "Called the clinic", the first to tap
wins, the ladder stops, and the patient and the other caregiver are told who took it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from bot.care.flows import CaregiverButtons
from bot.care.service import CareService
from bot.clock import FakeClock
from bot.reminders.flows import ReminderFlows, Wording
from bot.reminders.plans import RefillPlan
from bot.reminders.service import Reminders
from bot.reminders.wording import load_reminder_words
from bot.reply.content import Content
from bot.storage.models import Occurrence
from bot.storage.store import Store
from tests.databases import RecordingNotifier

from .conftest import texts
from .test_linking import ANN, BOB, PAT, link


async def test_missed_refill_two_caregivers_one_takes_it_the_ladder_stops(
    care: CareService, store: Store, clock: FakeClock, content: Content
) -> None:
    chats = RecordingNotifier(clock)
    wording = Wording(ReminderFlows(load_reminder_words(content)), content.emergency_number)
    reminders = Reminders(store, clock, chats, CaregiverButtons(wording, care))
    link(care, ANN, "Ann")
    link(care, BOB, "Bob")
    refill = RefillPlan(dt.date(2026, 3, 3), dt.date(2026, 3, 6)).to_data()
    reminders.create_plan(PAT, "refill", refill)

    # Days pass with the refill not marked done, until the caregivers are alerted.
    while not chats.to(ANN):
        with store.tx() as db:
            due = db.scalar(
                select(func.min(Occurrence.due_at)).where(Occurrence.status == "pending")
            )
        assert due is not None, "the ladder ended without alerting a caregiver"
        clock.set(due)
        await reminders.deliver_due()
    alert_ann, alert_bob = chats.to(ANN)[-1].message, chats.to(BOB)[-1].message
    for alert in (alert_ann, alert_bob):
        labels = [b.label for b in alert.buttons]
        assert labels[:2] == ["I'm on it", "Called the clinic"]
    on_it = next(b.data for b in alert_ann.buttons if b.label == "I'm on it")
    called = next(b.data for b in alert_bob.buttons if b.label == "Called the clinic")

    won = care.acknowledge(ANN, int(on_it.split(":")[2]), "on_it")
    lost = care.acknowledge(BOB, int(called.split(":")[2]), "called")
    assert won.result == "won" and lost.result == "lost"
    assert texts(won.notices, PAT) == [
        '"Ann" is on it. They got the alert about the missed refill or dose.'
    ]
    assert texts(won.notices, BOB)[0].startswith('"Ann" is on it for "Pat".')
    assert texts(lost.notices, BOB)[0].startswith('"Ann" already took this at')

    # The ladder has stopped: nothing more goes to anyone, however long we wait.
    sent = len(chats.got)
    clock.advance(dt.timedelta(days=10))
    await reminders.deliver_due()
    assert len(chats.got) == sent
    with store.tx() as db:
        pending = db.scalar(select(func.count(Occurrence.id)).where(Occurrence.status == "pending"))
    assert pending == 0
