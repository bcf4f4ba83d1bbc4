"""The checklist's "keep watching" sets a real re-check: a one-off reminder plan, due after
recheck_hours, worded by the checklist with a button that starts it again. "Call the clinic
today" and "call the emergency number" set nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from bot.app import build
from bot.clock import FakeClock
from bot.companion import Commanded, Companion, Person, Pressed
from bot.conversation.dialogue import Dialogue
from bot.conversation.sessions import Session
from bot.reminders.flows import Ctx, ReminderFlows, ReminderState
from bot.reminders.ladder import HIGH_RISK, RULES, Level
from bot.reminders.plans import RecheckPlan, schedule
from bot.reminders.service import Reminders
from bot.reply.messages import Message
from bot.settings import load_settings
from tests.databases import RecordingNotifier

from .test_linking import PAT

WATCH = ["cl:route:tablets", "cl:cause:no", "cl:done"]
CLINIC = ["cl:route:tablets", "cl:cause:yes", "cl:done"]
EMERGENCY = ["cl:route:tablets", "cl:cause:no", "cl:t:confusion", "cl:done"]
PAT_IN_CHAT = Person(PAT, "Pat")


@dataclass
class Setup:
    companion: Companion
    reminders: Reminders
    chats: RecordingNotifier
    flows: ReminderFlows


@pytest.fixture
def setup(db_url: str, clock: FakeClock, dialogue: Dialogue) -> Iterator[Setup]:
    chats = RecordingNotifier(clock)
    app = build(load_settings(_env_file=None, database_url=db_url), chats, clock=clock,
                dialogue=dialogue)  # fmt: skip
    app.companion.sessions.save(PAT, Session(consent=True))
    yield Setup(app.companion, app.reminders, chats, app.dialogue.reminder_flows)
    app.store.close()


def run(companion: Companion, data: list[str]) -> list[Message]:
    messages = companion.handle(PAT_IN_CHAT, Commanded("checklist")).messages
    for d in data:
        messages = companion.handle(PAT_IN_CHAT, Pressed(d)).messages
    return messages


def test_the_rule_is_routine_and_for_the_person_only() -> None:
    rule = RULES["recheck_due"]
    assert (rule.level, rule.to_person, rule.to_caregivers, rule.ackable) == (
        Level.ROUTINE,
        True,
        False,
        False,
    )
    now = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
    data = RecheckPlan(now + dt.timedelta(hours=4)).to_data()
    later = now + dt.timedelta(days=3)
    dues = schedule("recheck", data, "Europe/London", HIGH_RISK, now, later)
    assert [(d.kind, d.due_at) for d in dues] == [("recheck_due", now + dt.timedelta(hours=4))]
    assert schedule("recheck", data, "UTC", HIGH_RISK, now + dt.timedelta(hours=5), later) == []


async def test_keep_watching_reminds_after_recheck_hours_and_the_button_starts_it(
    setup: Setup, clock: FakeClock
) -> None:
    messages = run(setup.companion, WATCH)
    assert messages[0].text.startswith("Keep watching for now.")
    assert messages[1].text == "I will remind you to check again in 4 hours."

    plans = setup.reminders.plans(PAT)
    assert [(p.kind, p.next_due) for p in plans] == [
        ("recheck", clock.now() + dt.timedelta(hours=4))
    ]
    ctx = Ctx(True, "Europe/London", "US", "911", clock.now())
    listed = setup.flows.list_messages(ctx, ReminderState(plans=tuple(plans)))
    assert listed[1].text.startswith("Re-check for withdrawal signs")
    assert [b.data for b in listed[1].buttons] == [f"rp:delete:{plans[0].id}"]

    clock.advance(dt.timedelta(hours=3, minutes=59))
    assert await setup.reminders.deliver_due() == 0
    clock.advance(dt.timedelta(minutes=2))
    assert await setup.reminders.deliver_due() == 1
    [received] = setup.chats.to(PAT)
    due = received.message
    assert due.text == "It is time to check again for signs of withdrawal. Send /checklist."
    assert [(b.label, b.data) for b in due.buttons] == [("Start the checklist", "cl:start")]
    assert setup.reminders.plans(PAT) == []  # a one-off: done once sent
    assert await setup.reminders.deliver_due() == 0

    opened = setup.companion.handle(PAT_IN_CHAT, Pressed(due.buttons[0].data))
    assert [b.data for b in opened.messages[0].buttons][:3] == [
        "cl:route:pump",
        "cl:route:tablets",
        "cl:route:both",
    ]
    cause = setup.companion.handle(PAT_IN_CHAT, Pressed("cl:route:tablets"))
    # the checklist is open and goes on as usual
    assert [b.data for b in cause.messages[0].buttons][:2] == ["cl:cause:yes", "cl:cause:no"]


@pytest.mark.parametrize("answers", [CLINIC, EMERGENCY], ids=["clinic_today", "emergency"])
async def test_clinic_today_and_emergency_schedule_nothing(
    setup: Setup, clock: FakeClock, answers: list[str]
) -> None:
    messages = run(setup.companion, answers)
    assert not any("remind you to check again" in m.text for m in messages)
    assert setup.reminders.plans(PAT) == []
    clock.advance(dt.timedelta(hours=24))
    assert await setup.reminders.deliver_due() == 0
    assert setup.chats.got == []
