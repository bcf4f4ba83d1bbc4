"""The loop closed on the real refill ladder: a patient with two caregivers misses a refill,
both caregivers get the alert with "I'm on it" and "Called the clinic", the first to tap wins, the
patient and the other caregiver are told who took it. "I'm on it" closes the caregiver step, not
the danger: the patient's reminders go on, the one who took it is asked four hours later whether
it is sorted, and the ladder resumes for everyone if not (or with no answer)."""

from __future__ import annotations

import datetime as dt

import pytest
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

UTC = dt.UTC


async def run_until(reminders: Reminders, store: Store, clock: FakeClock, end: dt.datetime) -> None:
    while True:
        with store.tx() as db:
            due = db.scalar(
                select(func.min(Occurrence.due_at)).where(Occurrence.status == "pending")
            )
        if due is None or due > end:
            clock.set(end)
            await reminders.deliver_due()
            return
        clock.set(max(due, clock.now()))
        await reminders.deliver_due()


@pytest.mark.parametrize("answer", ["not_yet", "no_answer"])
async def test_on_it_closes_the_caregiver_step_not_the_danger(
    care: CareService, store: Store, clock: FakeClock, content: Content, answer: str
) -> None:
    chats = RecordingNotifier(clock)
    wording = Wording(ReminderFlows(load_reminder_words(content)), content.emergency_number)
    reminders = Reminders(store, clock, chats, CaregiverButtons(wording, care))
    link(care, ANN, "Ann")
    link(care, BOB, "Bob")
    refill = RefillPlan(dt.date(2026, 3, 3), dt.date(2026, 3, 6)).to_data()
    reminders.create_plan(PAT, "refill", refill)

    # Days pass with the refill not marked done, until the caregivers are alerted (4 March).
    await run_until(reminders, store, clock, dt.datetime(2026, 3, 4, 9, 0, tzinfo=UTC))
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
        " Please still tell me when it is done."
    ]
    assert texts(won.notices, BOB)[0].startswith('"Ann" is on it for "Pat".')
    assert texts(lost.notices, BOB)[0].startswith('"Ann" already took this at')

    # Four hours later Ann (only Ann) is asked whether it is sorted.
    seen = {who: len(chats.to(who)) for who in (PAT, ANN, BOB)}
    await run_until(reminders, store, clock, dt.datetime(2026, 3, 4, 23, 0, tzinfo=UTC))
    (checkback,) = chats.to(ANN)[seen[ANN] :]
    assert checkback.at == dt.datetime(2026, 3, 4, 13, 0, tzinfo=UTC)
    assert "is the pump refill of the person who linked you sorted?" in checkback.message.text
    labels = [b.label for b in checkback.message.buttons]
    assert labels[-2:] == ["Refill done", "Not yet"]
    assert chats.to(BOB)[seen[BOB] :] == [] and chats.to(PAT)[seen[PAT] :] == []
    if answer == "not_yet":
        occ = int(next(b.data for b in checkback.message.buttons if b.label == "Not yet")
                  .rsplit(":", 1)[1])  # fmt: skip
        assert reminders.acknowledge(ANN, occ, "notyet").outcome == "not_yet"

    # Not sorted (or no answer): the next morning the patient's own reminder comes, and the
    # caregivers get the alert again.
    await run_until(reminders, store, clock, dt.datetime(2026, 3, 5, 12, 0, tzinfo=UTC))
    next_day = dt.datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
    for who in (PAT, ANN, BOB):
        assert [r.at for r in chats.to(who)][-1] == next_day, who
    assert "I have told the caregivers" in chats.to(PAT)[-1].message.text

    # The patient confirms the refill: then nothing more goes to anyone.
    done = next(b.data for b in chats.to(PAT)[-1].message.buttons if b.label == "Refill done")
    assert reminders.acknowledge(PAT, int(done.rsplit(":", 1)[1]), "done").outcome == "refill_done"
    sent = len(chats.got)
    await run_until(reminders, store, clock, dt.datetime(2026, 3, 20, tzinfo=UTC))
    assert len(chats.got) == sent
    with store.tx() as db:
        pending = db.scalar(select(func.count(Occurrence.id)).where(Occurrence.status == "pending"))
    assert pending == 0


async def test_while_a_caregiver_is_on_it_the_patient_still_gets_reminders_with_a_note(
    care: CareService, store: Store, clock: FakeClock, content: Content
) -> None:
    chats = RecordingNotifier(clock)
    wording = Wording(ReminderFlows(load_reminder_words(content)), content.emergency_number)
    reminders = Reminders(store, clock, chats, CaregiverButtons(wording, care))
    link(care, ANN, "Ann")
    reminders.create_plan(
        PAT, "refill", RefillPlan(dt.date(2026, 3, 3), dt.date(2026, 3, 4)).to_data()
    )
    # Appointment 1 day before the alarm date: too late, so it counts down to 4 March and the
    # emergency step comes three times on the alarm date, through the claim.
    await run_until(reminders, store, clock, dt.datetime(2026, 3, 4, 9, 0, tzinfo=UTC))
    alert = chats.to(ANN)[-1].message
    on_it = next(b.data for b in alert.buttons if b.label == "I'm on it")
    assert care.acknowledge(ANN, int(on_it.split(":")[2]), "on_it").result == "won"
    ann_before = len(chats.to(ANN))
    await run_until(reminders, store, clock, dt.datetime(2026, 3, 4, 12, 30, tzinfo=UTC))
    await run_until(reminders, store, clock, dt.datetime(2026, 3, 4, 13, 0, tzinfo=UTC))
    at_one = [r for r in chats.to(PAT) if r.at == dt.datetime(2026, 3, 4, 13, 0, tzinfo=UTC)]
    assert len(at_one) == 1 and "may now be empty" in at_one[0].message.text
    assert "A caregiver said they are on it" in at_one[0].message.text
    assert [r.message.text.split("\n")[0] for r in chats.to(ANN)[ann_before:]] == [
        "You said you were on it: is the pump refill of the person who linked you sorted?"
    ]
