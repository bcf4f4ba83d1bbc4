"""Issue 12, on the injected clock: refill plans keyed to the alarm date (a countdown and a
rebook prompt when the appointment is too late, a ladder that goes on past the alarm date), the
buttons of a refill reminder, taper snoozes that respect the next dose with one follow-up and a
daily digest, bounded lazy lay-out, and one scheduler per SQLite file."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

import pytest
from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.reminders.flows import ReminderFlows, Wording
from bot.reminders.leader import Leadership
from bot.reminders.plans import RefillPlan, TaperPlan, TaperStep
from bot.reminders.service import Refused, Reminders
from bot.reply.content import Content
from bot.reply.messages import Message
from bot.storage.models import Occurrence
from bot.storage.store import Store
from tests.databases import RecordingNotifier
from tests.reminders.test_ladder import run_until

UTC = dt.UTC
ME, CARER = "tg:1", "tg:2"


def labels(received: object) -> list[str]:
    return [b.label for b in received.message.buttons]  # type: ignore[attr-defined]


def data(received: object, label: str) -> str:
    message = received.message  # type: ignore[attr-defined]
    return next(b.data for b in message.buttons if b.label == label)


def occ_of(received: object, label: str) -> int:
    return int(data(received, label).rsplit(":", 1)[1])


def pending(store: Store) -> int:
    with store.tx() as db:
        return int(
            db.scalar(select(func.count(Occurrence.id)).where(Occurrence.status == "pending")) or 0
        )


async def test_alarm_before_the_appointment_counts_down_to_the_alarm_and_asks_to_rebook(
    reminders: Reminders, clock: FakeClock, notifier: RecordingNotifier, store: Store
) -> None:
    # 1 March: the appointment is in 30 days, but the pump's alarm date is in 20.
    store.set_person(ME, clock.now(), timezone="UTC", consent=True, high_risk=[], region="UK")
    reminders.link_caregiver(ME, CARER)
    plan_id = reminders.create_plan(
        ME, "refill", RefillPlan(dt.date(2026, 3, 31), dt.date(2026, 3, 21)).to_data()
    )
    await run_until(reminders, clock, dt.datetime(2026, 3, 20, 0, 0, tzinfo=UTC))
    mine = notifier.to(ME)
    # The countdown runs to the alarm date (never to the appointment): 14, 10, 7, 6, 5 days
    # before it, each asking to rebook, then the warning, then the caregivers are told.
    first = mine[0]
    assert first.at == dt.datetime(2026, 3, 7, 9, 0, tzinfo=UTC)
    assert "Your pump alarm date is Sat 21 Mar 2026. That is in 14 days." in first.message.text
    assert "Please call your pump clinic and ask for an earlier refill." in first.message.text
    assert labels(first) == ["Refill done", "New appointment date", "Remind me in 3 hours"]
    assert data(first, "New appointment date") == f"rp:newdate:{plan_id}"
    days = [r.at.day for r in mine]
    assert days == [7, 11, 14, 15, 16, 17, 18, 19]
    assert "call your pump clinic today" in mine[5].message.text  # 4 days left: the warning
    assert "I have told the caregivers" in mine[-1].message.text  # 2 and 1 days left
    assert notifier.to(CARER) and all(r.at.day >= 19 for r in notifier.to(CARER))
    # Past the alarm date the pump may be empty: nothing is offered to put that off.
    await run_until(reminders, clock, dt.datetime(2026, 3, 23, 0, 0, tzinfo=UTC))
    empty = [r for r in notifier.to(ME) if r.at.day == 22]
    assert empty and all(labels(r) == ["Refill done", "New appointment date"] for r in empty)


async def test_a_new_appointment_date_in_time_ends_the_countdown(
    reminders: Reminders, clock: FakeClock, notifier: RecordingNotifier, store: Store
) -> None:
    store.set_person(ME, clock.now(), timezone="UTC", consent=True, high_risk=[], region="UK")
    plan_id = reminders.create_plan(
        ME, "refill", RefillPlan(dt.date(2026, 3, 31), dt.date(2026, 3, 21)).to_data()
    )
    await run_until(reminders, clock, dt.datetime(2026, 3, 12, 0, 0, tzinfo=UTC))
    assert len(notifier.to(ME)) == 2  # 14 and 10 days before the alarm date
    moved = reminders.move_appointment(ME, plan_id, dt.date(2026, 3, 17))
    assert moved is not None and moved.data["appointment"] == "2026-03-17"
    assert moved.next_due == dt.datetime(2026, 3, 14, 9, 0, tzinfo=UTC)
    await run_until(reminders, clock, dt.datetime(2026, 3, 17, 12, 0, tzinfo=UTC))
    after = [r.message.text for r in notifier.to(ME)[2:]]
    assert len(after) == 3 and not any("too late" in t for t in after)
    assert "Today is your pump refill day (Tue 17 Mar 2026)" in after[-1]


async def test_an_alarm_two_days_away_gets_urgent_messages_at_once(
    reminders: Reminders, clock: FakeClock, notifier: RecordingNotifier, store: Store
) -> None:
    # The case: appointment in 30 days, alarm in 2. The first message is not 14 days
    # after the alarm date: it comes the next morning and it is urgent.
    store.set_person(ME, clock.now(), timezone="UTC", consent=True, high_risk=[], region="UK")
    reminders.create_plan(
        ME, "refill", RefillPlan(dt.date(2026, 3, 31), dt.date(2026, 3, 3)).to_data()
    )
    await run_until(reminders, clock, dt.datetime(2026, 3, 3, 23, 0, tzinfo=UTC))
    mine = notifier.to(ME)
    assert mine[0].at == dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert mine[0].message.kind == "urgent"
    assert [r.message.kind for r in mine[1:]] == ["emergency"] * 3  # the alarm date, 3 times


async def test_remind_me_later_is_bounded_and_the_next_reminder_says_so(
    reminders: Reminders, clock: FakeClock, notifier: RecordingNotifier, store: Store
) -> None:
    store.set_person(ME, clock.now(), timezone="UTC", consent=True, high_risk=[])
    reminders.create_plan(
        ME, "refill", RefillPlan(dt.date(2026, 3, 10), dt.date(2026, 3, 16)).to_data()
    )
    await run_until(reminders, clock, dt.datetime(2026, 3, 3, 9, 0, tzinfo=UTC))
    reminder = notifier.to(ME)[-1]
    occ = occ_of(reminder, "Remind me in 3 hours")
    later = reminders.acknowledge(ME, occ, "later")
    assert later.outcome == "later" and later.when == dt.datetime(2026, 3, 3, 12, 0, tzinfo=UTC)
    await run_until(reminders, clock, dt.datetime(2026, 3, 3, 12, 0, tzinfo=UTC))
    again = notifier.to(ME)[-1]
    assert again.at == later.when
    assert again.message.text.startswith("You asked me to remind you later.")
    assert "pump refill is on Tue 10 Mar 2026" in again.message.text
    assert reminders.acknowledge(ME, occ_of(again, "Remind me in 3 hours"), "later").outcome == (
        "later"
    )
    assert reminders.acknowledge(ME, occ, "later").outcome == "later_limit"  # twice a day at most


def taper(start: dt.date, times: tuple[dt.time, ...], days: int = 3) -> dict[str, object]:
    return TaperPlan((TaperStep("10 mg", times, start, days),)).to_data()


async def test_a_snooze_never_brings_a_dose_within_two_hours_of_the_next(
    reminders: Reminders, clock: FakeClock, notifier: RecordingNotifier, store: Store
) -> None:
    store.set_person(ME, clock.now(), timezone="UTC", consent=True, high_risk=[])
    t = dt.time
    reminders.create_plan(ME, "taper", taper(dt.date(2026, 3, 2), (t(8), t(14), t(20))))
    await run_until(reminders, clock, dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
    dose = notifier.to(ME)[-1]
    occ = occ_of(dose, "Snooze 15 min")
    assert reminders.acknowledge(ME, occ, "snooze").outcome == "snoozed"  # 08:15: fine
    # The case: at 11:50 a snooze would bring it to 12:05, under 2 hours before 14:00.
    clock.set(dt.datetime(2026, 3, 2, 11, 50, tzinfo=UTC))
    refused = reminders.acknowledge(ME, occ, "snooze")
    assert refused.outcome == "snooze_too_close"
    assert refused.when == dt.datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    assert reminders.acknowledge(ME, occ, "skip").outcome == "skip"  # "skip this one"


async def test_an_unanswered_taper_sends_one_follow_up_per_dose_and_a_daily_digest(
    reminders: Reminders, clock: FakeClock, notifier: RecordingNotifier, store: Store
) -> None:
    store.set_person(ME, clock.now(), timezone="UTC", consent=True, high_risk=[])
    reminders.link_caregiver(ME, CARER)
    t = dt.time
    reminders.create_plan(ME, "taper", taper(dt.date(2026, 3, 2), (t(8), t(14), t(20)), days=1))
    await run_until(reminders, clock, dt.datetime(2026, 3, 3, 0, 0, tzinfo=UTC))
    mine = [r.message.text.split("\n")[0] for r in notifier.to(ME)]
    assert sum(m.startswith("Time for your dose") for m in mine) == 3
    assert sum(m.startswith("Did you take your") for m in mine) == 1  # one follow-up, not three
    assert any(
        m.startswith("Today 3 doses are not marked as taken: 08:00, 14:00, 20:00") for m in mine
    )
    assert len(mine) <= 6  # 3 doses, 1 follow-up, the daily check, the digest
    carer = [r.message.text for r in notifier.to(CARER)]
    assert len(carer) == 2 and "08:00 dose" in carer[0] and "3 doses" in carer[1]


async def test_plans_are_laid_out_lazily_and_stopped_plans_leave_no_future_rows(
    reminders: Reminders, clock: FakeClock, notifier: RecordingNotifier, store: Store
) -> None:
    store.set_person(ME, clock.now(), timezone="UTC", consent=True, high_risk=[])
    plan_id = reminders.create_plan(
        ME, "refill", RefillPlan(dt.date(2027, 2, 20), dt.date(2027, 2, 28)).to_data()
    )
    assert pending(store) == 1  # the next reminder only, however far the alarm date is
    (info,) = reminders.plans(ME)
    assert info.next_due == dt.datetime(2027, 2, 6, 9, 0, tzinfo=UTC)
    assert reminders.set_status(ME, plan_id, "cancelled")
    assert pending(store) == 0
    with store.tx() as db:
        assert db.scalar(select(func.count(Occurrence.id))) == 0


async def test_a_second_process_on_the_same_sqlite_file_refuses_to_run_the_scheduler(
    tmp_path: object, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path}/bot.sqlite3"
    started: list[str] = []

    def elected(name: str):  # type: ignore[no-untyped-def]
        async def run() -> None:
            started.append(name)

        return run

    first = Leadership(url, elected("first"), poll_seconds=0.01)
    second = Leadership(url, elected("second"), poll_seconds=0.01)
    await first.start()
    with caplog.at_level(logging.ERROR, logger="bot.reminders.leader"):
        await second.start()
    assert started == ["first"] and second.is_leader is False
    assert "another process" in caplog.text and "will not send reminders" in caplog.text
    await first.stop()  # the first one ends: the second takes over
    for _ in range(200):
        if second.is_leader:
            break
        import asyncio

        await asyncio.sleep(0.01)
    assert started == ["first", "second"]
    await second.stop()


class Flaky(RecordingNotifier):
    """The patient's chat times out once; a caregiver's chat refuses the message (a 400)."""

    timeouts: int = 1

    async def send(self, chat_key: str, messages: Sequence[Message]) -> list[str]:
        if chat_key == ME and self.timeouts:
            self.timeouts -= 1
            raise TimeoutError
        if chat_key == "tg:3":
            raise Refused("Bad Request")
        return await super().send(chat_key, messages)


async def test_a_timeout_or_a_refusal_for_one_recipient_never_stops_the_others(
    store: Store, clock: FakeClock, flows: ReminderFlows, content: Content
) -> None:
    chats = Flaky(clock)
    reminders = Reminders(store, clock, chats, Wording(flows, content.emergency_number))
    store.set_person(ME, clock.now(), timezone="UTC", consent=True, high_risk=[])
    reminders.link_caregiver(ME, "tg:3")  # refuses
    reminders.link_caregiver(ME, CARER)
    reminders.create_plan(
        ME, "refill", RefillPlan(dt.date(2026, 3, 1), dt.date(2026, 3, 4)).to_data()
    )
    clock.set(dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC))  # the caregiver step is due
    await reminders.deliver_due()
    assert [r.chat for r in chats.got] == [CARER]  # the patient timed out, tg:3 refused
    await reminders.deliver_due()  # the next pass: the patient only, once; nobody twice
    assert [r.chat for r in chats.got] == [CARER, ME]
    await reminders.deliver_due()
    assert [r.chat for r in chats.got] == [CARER, ME]
