"""The refill ladder and the taper, run on an injected clock, on SQLite and PostgreSQL.

Each test reads what a person (or their caregiver) would see in their chat, and when.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.reminders.plans import RefillPlan, TaperPlan, TaperStep
from bot.reminders.service import Reminders
from bot.storage.models import AuditEvent, Delivery, Occurrence, Person, Plan
from bot.storage.store import Store
from tests.databases import RecordingNotifier

UTC = dt.UTC
ME, CARER = "tg:1", "tg:2"


async def run_until(reminders: Reminders, clock: FakeClock, end: dt.datetime) -> None:
    """Jump from one due moment to the next (as the scheduler's wake-ups would) until `end`."""
    while True:
        with reminders.store.tx() as db:
            nxt = db.scalar(
                select(func.min(Occurrence.due_at)).where(Occurrence.status == "pending")
            )
        if nxt is None or nxt > end:
            clock.set(end)
            await reminders.deliver_due()
            return
        clock.set(max(nxt, clock.now()))
        await reminders.deliver_due()


def refill(appointment: tuple[int, int], alarm: tuple[int, int]) -> dict[str, object]:
    return RefillPlan(dt.date(2026, *appointment), dt.date(2026, *alarm)).to_data()


def local(r_at: dt.datetime, zone: str) -> dt.datetime:
    return r_at.astimezone(ZoneInfo(zone))


def button(received: object, prefix: str) -> str:
    message = received.message  # type: ignore[attr-defined]
    return next(b.data for b in message.buttons if b.data.startswith(prefix))


async def test_missed_refill_climbs_the_ladder_in_order(
    reminders: Reminders, clock: FakeClock, notifier: RecordingNotifier, store: Store
) -> None:
    zone = "Europe/London"
    store.set_person(ME, clock.now(), timezone=zone, consent=True, region="UK", high_risk=[])
    reminders.link_caregiver(ME, CARER)
    reminders.create_plan(ME, "refill", refill((3, 24), (3, 30)))

    await run_until(reminders, clock, dt.datetime(2026, 4, 5, tzinfo=UTC))

    mine = notifier.to(ME)
    texts = [r.message.text for r in mine]
    # Before the appointment: 14, 7, 3, 1 days and the morning itself, each asking "Refill done?"
    assert "in 14 days" in texts[0] and "in 7 days" in texts[1] and "in 3 days" in texts[2]
    assert "tomorrow" in texts[3] and "Today is your pump refill day" in texts[4]
    assert all(r.message.buttons[0].label == "Refill done" for r in mine)
    # Then the ladder: plain reminder -> warning with signs -> caregivers -> emergency advice.
    ladder = texts[5:]
    assert "I have not heard that it was done" in ladder[0]
    first_warning = next(i for i, t in enumerate(ladder) if "call your pump clinic today" in t)
    assert "itching" in ladder[first_warning]
    first_told = next(i for i, t in enumerate(ladder) if "I have told the caregivers" in t)
    first_emergency = next(i for i, t in enumerate(ladder) if "may now be empty" in t)
    assert 0 < first_warning < first_told < first_emergency
    assert "999" in ladder[first_emergency]  # the person's own emergency number
    kinds = [r.message.kind for r in mine[5:]]
    assert kinds[first_emergency] == "emergency" and kinds[first_warning] == "urgent"
    # Every reminder came at 09:00 London time, also after the clocks went forward (29 March);
    # from the alarm date the emergency advice comes three times a day (09:00, 13:00, 17:00).
    before_alarm = [r for r in mine if local(r.at, zone).date() < dt.date(2026, 3, 30)]
    assert {local(r.at, zone).strftime("%H:%M") for r in before_alarm} == {"09:00"}
    assert {local(r.at, zone).strftime("%H:%M") for r in mine} == {"09:00", "13:00", "17:00"}
    assert local(mine[-1].at, zone).utcoffset() == dt.timedelta(hours=1)
    # The caregiver got the alert and the emergency advice, not the routine reminders.
    carer = [r.message.text for r in notifier.to(CARER)]
    assert carer and all("person who linked you" in t for t in carer)
    assert any("may now be empty" in t for t in carer)
    assert not any("in 14 days" in t for t in carer)
    # The ladder never goes silent when danger peaks: six days after the alarm date it still
    # sends the emergency advice three times a day, until "Refill done".
    last_day = [r for r in mine if local(r.at, zone).date() == dt.date(2026, 4, 4)]
    assert len(last_day) == 3 and all("may now be empty" in r.message.text for r in last_day)
    reminders.acknowledge(ME, int(button(mine[-1], "ack:done:").rsplit(":", 1)[1]), "done")
    sent = len(notifier.got)
    await run_until(reminders, clock, dt.datetime(2026, 5, 1, tzinfo=UTC))
    assert len(notifier.got) == sent and reminders.plans(ME) == []


async def test_refill_done_stops_everything(
    reminders: Reminders, clock: FakeClock, notifier: RecordingNotifier, store: Store
) -> None:
    store.set_person(ME, clock.now(), timezone="UTC", consent=True)
    reminders.create_plan(ME, "refill", refill((3, 20), (3, 26)))
    await run_until(reminders, clock, dt.datetime(2026, 3, 17, 12, tzinfo=UTC))
    assert len(notifier.to(ME)) == 3
    occ = int(button(notifier.to(ME)[-1], "ack:done:").rsplit(":", 1)[1])
    result = reminders.acknowledge(ME, occ, "done")
    assert result.outcome == "refill_done"
    assert reminders.acknowledge(ME, occ, "done").outcome == "already"
    await run_until(reminders, clock, dt.datetime(2026, 4, 10, tzinfo=UTC))
    assert len(notifier.to(ME)) == 3
    assert reminders.plans(ME) == []


async def test_higher_risk_is_faster_and_always_tells_caregivers(
    reminders: Reminders, clock: FakeClock, notifier: RecordingNotifier, store: Store
) -> None:
    store.set_person(ME, clock.now(), timezone="UTC", consent=True, high_risk=["spinal_t6"])
    reminders.link_caregiver(ME, CARER)
    reminders.create_plan(ME, "refill", refill((3, 20), (3, 26)))
    await run_until(reminders, clock, dt.datetime(2026, 3, 21, 0, tzinfo=UTC))
    evening = notifier.to(ME)[-1]
    assert evening.at == dt.datetime(2026, 3, 20, 19, 0, tzinfo=UTC)  # the same evening
    assert "call your pump clinic today" in evening.message.text  # straight to the warning
    assert [r.at for r in notifier.to(CARER)] == [evening.at]  # caregivers told at once


async def test_quiet_hours_hold_routine_reminders_but_never_safety_ones(
    reminders: Reminders, clock: FakeClock, notifier: RecordingNotifier, store: Store
) -> None:
    store.set_person(ME, clock.now(), timezone="UTC", consent=True, high_risk=[],
                     quiet_start="21:00", quiet_end="10:30")  # fmt: skip
    reminders.create_plan(ME, "refill", refill((3, 20), (3, 24)))
    await run_until(reminders, clock, dt.datetime(2026, 3, 25, 12, tzinfo=UTC))
    times = [(r.at.strftime("%d %H:%M"), r.message.kind) for r in notifier.to(ME)]
    routine = [t for t, kind in times if kind == "prompt"]
    safety = [t for t, kind in times if kind in ("urgent", "emergency")]
    assert routine and all(t.endswith("10:30") for t in routine)
    # Safety messages come through quiet hours: at 09:00, and from the alarm date (24th) also at
    # 13:00 and 17:00 (the emergency step, several times a day).
    assert safety and all(t.endswith(("09:00", "13:00", "17:00")) for t in safety)
    assert {t for t in safety if t.startswith("24")} == {"24 09:00", "24 13:00", "24 17:00"}


def taper(start: dt.date) -> TaperPlan:
    t = dt.time
    return TaperPlan(
        (
            TaperStep("20 mg", (t(8), t(14), t(20)), start, 10),
            TaperStep("15 mg", (t(8), t(14), t(20)), start + dt.timedelta(days=10), 10),
            TaperStep("10 mg", (t(8), t(20)), start + dt.timedelta(days=20), 10),
        )
    )


async def test_thirty_day_taper_runs_in_seconds(
    reminders: Reminders, clock: FakeClock, notifier: RecordingNotifier, store: Store
) -> None:
    store.set_person(ME, clock.now(), timezone="Europe/London", consent=True, high_risk=[])
    reminders.link_caregiver(ME, CARER)
    plan = taper(dt.date(2026, 3, 2))
    reminders.create_plan(ME, "taper", plan.to_data())
    ignored = "2026-03-15T14:00"
    while True:
        with store.tx() as db:
            nxt = db.scalar(
                select(func.min(Occurrence.due_at)).where(Occurrence.status == "pending")
            )
        if nxt is None:
            break
        clock.set(nxt)
        before = len(notifier.got)
        await reminders.deliver_due()
        for r in notifier.got[before:]:
            for b in r.message.buttons:
                if b.data.startswith("ack:taken:") and ignored not in r.message.text:
                    occ = int(b.data.rsplit(":", 1)[1])
                    with store.tx() as db:
                        group = db.get(Occurrence, occ).group_key  # type: ignore[union-attr]
                    if group != f"dose:{ignored}":
                        reminders.acknowledge(ME, occ, "taken")
                if b.data.startswith("ack:fine:"):
                    reminders.acknowledge(ME, int(b.data.rsplit(":", 1)[1]), "fine")
    mine = [r.message.text for r in notifier.to(ME)]
    doses = [t for t in mine if t.startswith("Time for your dose")]
    assert len(doses) == 10 * 3 + 10 * 3 + 10 * 2
    assert sum("Tomorrow" in t and "plan changes to: 15 mg" in t for t in mine) == 1
    assert sum("plan changes to: 10 mg, at 08:00, 20:00" in t for t in mine) == 1
    assert sum(t.startswith("Daily check") for t in mine) == 31
    # The one dose nobody confirmed: a nudge, then the caregiver alert; nothing else missed.
    assert sum(t.startswith("Did you take your 14:00 dose") for t in mine) == 1
    carer = [r for r in notifier.to(CARER)]
    assert len(carer) == 1 and "14:00 dose" in carer[0].message.text
    assert carer[0].at == dt.datetime(2026, 3, 15, 16, 0, tzinfo=UTC)  # 14:00 GMT + 2 hours
    assert reminders.plans(ME) == []  # the taper is over, and no longer listed


async def test_snooze_is_bounded(
    reminders: Reminders, clock: FakeClock, notifier: RecordingNotifier, store: Store
) -> None:
    store.set_person(ME, clock.now(), timezone="UTC", consent=True, high_risk=[])
    start = dt.date(2026, 3, 2)
    plan = TaperPlan((TaperStep("5 mg", (dt.time(8),), start, 3),))
    reminders.create_plan(ME, "taper", plan.to_data())
    await run_until(reminders, clock, dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
    occ = int(button(notifier.to(ME)[-1], "ack:snooze:").rsplit(":", 1)[1])
    outcomes = [reminders.acknowledge(ME, occ, "snooze").outcome for _ in range(4)]
    assert outcomes == ["snoozed", "snoozed", "snoozed", "snooze_limit"]
    await run_until(reminders, clock, dt.datetime(2026, 3, 2, 8, 16, tzinfo=UTC))
    assert notifier.to(ME)[-1].message.text.startswith("Reminder again")


@pytest.mark.parametrize(
    ("zone", "day"),
    [
        ("Europe/London", dt.date(2026, 3, 29)),
        ("Europe/London", dt.date(2026, 10, 25)),
        ("America/New_York", dt.date(2026, 3, 8)),
        ("America/New_York", dt.date(2026, 11, 1)),
    ],
)
async def test_dose_times_stay_on_the_wall_clock_across_dst(
    reminders: Reminders, clock: FakeClock, notifier: RecordingNotifier, store: Store,
    zone: str, day: dt.date,
) -> None:  # fmt: skip
    clock.set(dt.datetime.combine(day - dt.timedelta(days=3), dt.time(0), tzinfo=UTC))
    store.set_person(ME, clock.now(), timezone=zone, consent=True, high_risk=[])
    times = (dt.time(1, 30), dt.time(8, 0))  # 01:30 is skipped in spring, doubled in autumn
    plan = TaperPlan((TaperStep("5 mg", times, day - dt.timedelta(days=2), 5),))
    reminders.create_plan(ME, "taper", plan.to_data())
    await run_until(
        reminders, clock, dt.datetime.combine(day + dt.timedelta(days=3), dt.time(0), tzinfo=UTC)
    )
    doses = [r for r in notifier.to(ME) if r.message.text.startswith("Time for your dose")]
    assert len(doses) == 10  # once each, never twice, never lost
    eights = [local(r.at, zone) for r in doses if "(08:00)" in r.message.text]
    assert [t.strftime("%H:%M") for t in eights] == ["08:00"] * 5
    offsets = {t.utcoffset() for t in eights}
    assert len(offsets) == 2  # the UTC moment moved by an hour; the local time did not
    on_the_day = [local(r.at, zone) for r in doses if "(01:30)" in r.message.text
                  and local(r.at, zone).date() == day]  # fmt: skip
    assert len(on_the_day) == 1
    assert on_the_day[0].strftime("%H:%M") in ("01:30", "02:30")


async def test_delete_person_removes_every_row(
    reminders: Reminders, clock: FakeClock, notifier: RecordingNotifier, store: Store
) -> None:
    store.set_person(ME, clock.now(), timezone="UTC", consent=True)
    reminders.link_caregiver(ME, CARER)
    reminders.create_plan(ME, "refill", refill((3, 20), (3, 26)))
    await run_until(reminders, clock, dt.datetime(2026, 3, 30, tzinfo=UTC))
    store.delete_person(ME)
    with store.tx() as db:
        for model in (Person, Plan, Occurrence, Delivery, AuditEvent):
            assert db.scalar(select(func.count()).select_from(model)) == 0, model.__name__


async def test_with_no_caregiver_linked_the_person_is_told_plainly(
    reminders: Reminders, clock: FakeClock, notifier: RecordingNotifier, store: Store
) -> None:
    store.set_person(ME, clock.now(), timezone="UTC", consent=True, high_risk=[], region="US")
    reminders.create_plan(ME, "refill", refill((3, 20), (3, 26)))
    await run_until(reminders, clock, dt.datetime(2026, 3, 27, tzinfo=UTC))
    texts = [r.message.text for r in notifier.to(ME)]
    assert not any("I have told the caregivers" in t for t in texts)
    assert any("You have not linked a caregiver, so I could not tell anyone" in t for t in texts)
    assert "Call 911 now if you have a high fever" in texts[-1]


def test_a_late_reminder_time_still_gives_the_emergency_step_several_times_a_day() -> None:
    """With the reminder at 21:00, the emergency step's later hours fall past midnight: they
    come in that day's early hours instead of being dropped."""
    from bot.reminders.ladder import STANDARD
    from bot.reminders.plans import refill_day

    plan = RefillPlan(dt.date(2026, 3, 1), dt.date(2026, 3, 3), dt.time(21))
    sent = refill_day(plan, STANDARD, dt.date(2026, 3, 5))  # two days after the alarm date
    assert [kind for kind, _, _ in sent] == ["refill_emergency"] * len(STANDARD.emergency_hours)
    assert len({at for _, at, _ in sent}) == len(STANDARD.emergency_hours) > 1


def test_missed_dose_follow_ups_are_left_to_the_digest_only_when_it_lists_both() -> None:
    from bot.reminders.plans import in_one_digest

    assert in_one_digest("dose:2026-03-01T08:00", "dose:2026-03-01T14:00")
    assert not in_one_digest("dose:2026-02-28T22:00", "dose:2026-03-01T08:00")  # another day
    assert not in_one_digest("dose:2026-03-01T08:00", "dose:2026-03-01T22:00")  # after the digest
