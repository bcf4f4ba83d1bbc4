"""Caregivers end to end over the loopback Bot API (issue 6): a patient links two caregivers,
a pump refill is missed, both caregivers are alerted, one takes it, the ladder stops and the
patient is told; a caregiver runs the withdrawal checklist and gets one clear next step.

Time is a fake clock started at the real now (so the scheduler's own wake-ups stay days away);
the test moves it on and delivers what is due, as the scheduler's wake-ups would.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.conversation.dialogue import Dialogue
from bot.conversation.sessions import Session
from bot.doors.telegram import build_app
from bot.reminders.plans import RefillPlan
from bot.storage.models import Occurrence
from tests.e2e.conftest import bot_settings, running
from tests.e2e.fake_bot_api import FakeBotApi, buttons, message_id_of

Json = dict[str, Any]
UTC = dt.UTC
PAT, ANN, BOB = 101, 102, 103


def texts(replies: list[Json]) -> list[str]:
    return [r["text"] for r in replies]


async def say(fake: FakeBotApi, text: str, user_id: int) -> list[Json]:
    before = len(fake.sent(user_id))
    fake.user_says(text, user_id=user_id)
    return await fake.replies(user_id, after=before)


async def press(fake: FakeBotApi, label: str, user_id: int) -> list[Json]:
    before = len(fake.sent(user_id))
    message_id, data = message_id_of(fake, user_id, label)
    fake.user_presses(message_id, data, user_id=user_id)
    return await fake.replies(user_id, after=before)


@pytest.fixture
async def world(
    fake: FakeBotApi, dialogue: Dialogue, tmp_path: Path
) -> AsyncIterator[tuple[FakeBotApi, Any, FakeClock]]:
    clock = FakeClock(dt.datetime.now(UTC).replace(microsecond=0))
    settings = bot_settings(
        telegram_base_url=f"http://127.0.0.1:{fake.port}/bot",
        database_url=f"sqlite:///{tmp_path}/care.sqlite3",
    )
    app = build_app(settings, dialogue=dialogue, clock=clock)
    door = app.bot_data["door"]
    async with running(app, fake):
        for user, role in ((PAT, "patient"), (ANN, "caregiver"), (BOB, "caregiver")):
            door.companion.sessions.save(
                f"tg:{user}",
                Session(consent=True, role=role, route="pump", region="US", timezone="UTC"),
            )
        yield fake, door, clock


async def link(fake: FakeBotApi, caregiver: int) -> None:
    code = re.search(r"/join (\S+)", texts(await say(fake, "/invite", PAT))[0])
    assert code is not None
    before = len(fake.sent(PAT))
    waiting = await say(fake, f"/join {code.group(1)}", caregiver)
    assert texts(waiting)[0].startswith('Thank you. I have asked "Person 101" to say yes.')
    asked = await fake.replies(PAT, after=before)
    assert texts(asked)[0].startswith(f'Someone who gave the name "Person {caregiver}" wants')
    before = len(fake.sent(caregiver))
    done = await press(fake, "Yes, link us", PAT)
    assert texts(done)[0].startswith(f'Done. "Person {caregiver}" is now your caregiver.')
    told = await fake.replies(caregiver, after=before)
    assert texts(told)[0].startswith('"Person 101" said yes. You are now linked.')


async def test_a_missed_refill_reaches_both_caregivers_and_one_closes_the_loop(
    world: tuple[FakeBotApi, Any, FakeClock],
) -> None:
    fake, door, clock = world
    await link(fake, ANN)
    await link(fake, BOB)
    reminders = door.app.reminders
    today = clock.now().date()
    plan = RefillPlan(today + dt.timedelta(days=1), today + dt.timedelta(days=4))
    reminders.create_plan(f"tg:{PAT}", "refill", plan.to_data())

    # The refill day passes unconfirmed; the ladder climbs until the caregivers are told.
    def alerted(user: int) -> bool:
        return any("I'm on it" in buttons(m) for m in fake.sent(user))

    while not alerted(ANN):
        with reminders.store.tx() as db:
            due = db.scalar(
                select(func.min(Occurrence.due_at)).where(Occurrence.status == "pending")
            )
        assert due is not None, "the ladder ended without alerting a caregiver"
        clock.set(max(due, clock.now()))
        await reminders.deliver_due()
    assert alerted(BOB)
    bob_alert = next(m for m in reversed(fake.sent(BOB)) if "I'm on it" in buttons(m))
    assert "Called the clinic" in buttons(bob_alert)

    before = {u: len(fake.sent(u)) for u in (PAT, BOB)}
    taken = await press(fake, "I'm on it", ANN)
    assert texts(taken)[0].startswith('Thank you. I told "Person 101" and the other caregivers')
    to_pat = await fake.replies(PAT, after=before[PAT])
    assert texts(to_pat) == [
        '"Person 102" is on it. They got the alert about the missed refill or dose.'
    ]
    to_bob = await fake.replies(BOB, after=before[BOB])
    assert texts(to_bob)[0].startswith('"Person 102" is on it for "Person 101".')

    # Bob taps his (older) button too late: he is told who took it; nobody else hears.
    late = await press(fake, "Called the clinic", BOB)
    assert texts(late)[0].startswith('"Person 102" already took this at')

    # The ladder has stopped: days later, nothing more is sent to anyone.
    sent = len(fake.sent())
    clock.advance(dt.timedelta(days=10))
    await reminders.deliver_due()
    assert len(fake.sent()) == sent


async def test_a_caregiver_checklist_itching_and_fever_then_seeing_things(
    world: tuple[FakeBotApi, Any, FakeClock],
) -> None:
    fake, _door, _clock = world
    await link(fake, ANN)

    async def checklist(signs: list[str]) -> list[Json]:
        start = await say(fake, "/checklist", ANN)
        assert "how do they take baclofen?" in texts(start)[0]
        await press(fake, "A pump", ANN)
        await press(fake, "Yes", ANN)
        for sign in signs:
            shown = await press(fake, f"⬜ {sign}", ANN)
            assert f"✅ {sign}" in texts(shown)[-1]
        return await press(fake, "Done", ANN)

    result = await checklist(["Itching, no rash", "Mild fever"])
    assert texts(result)[0].startswith("Call their prescriber or pump clinic today.")
    assert "You ticked: Itching, no rash; Mild fever." in texts(result)[0]
    assert 'Send to "Person 101"' in buttons(result[-1])

    result = await checklist(["Itching, no rash", "Mild fever", "Seeing or hearing things"])
    assert texts(result)[0].startswith("Call 911 now.")

    before = len(fake.sent(PAT))
    shared = await press(fake, 'Send to "Person 101"', ANN)
    assert texts(shared) == ['Sent. I told "Person 101".']
    to_pat = await fake.replies(PAT, after=before)
    assert texts(to_pat)[0].startswith(
        '"Person 102" used the withdrawal checklist for "Person 101"'
    )
    assert "Call 911 now." in texts(to_pat)[0]


async def test_free_text_reaches_the_checklist(world: tuple[FakeBotApi, Any, FakeClock]) -> None:
    fake, _door, _clock = world
    replies = await say(fake, "open the withdrawal checklist", ANN)
    assert "Start the checklist" in buttons(replies[-1])
    started = await press(fake, "Start the checklist", ANN)
    assert "how do they take baclofen?" in texts(started)[0]


async def test_deleting_my_data_tells_the_caregivers(
    world: tuple[FakeBotApi, Any, FakeClock],
) -> None:
    fake, door, _clock = world
    await link(fake, ANN)
    await say(fake, "/delete_my_data", PAT)
    before = len(fake.sent(ANN))
    await press(fake, "Yes, delete it all", PAT)
    told = await fake.replies(ANN, after=before)
    assert texts(told) == ['"Person 101" deleted their data, so your link with them has ended.']
    assert door.app.care.service.links(f"tg:{ANN}") == []


async def test_an_emergency_message_alerts_the_linked_caregivers_but_not_its_words(
    world: tuple[FakeBotApi, Any, FakeClock],
) -> None:
    fake, _door, _clock = world
    await link(fake, ANN)
    await link(fake, BOB)
    before = {who: len(fake.sent(who)) for who in (ANN, BOB)}
    reply = await say(fake, "I think I'm having a seizure and my hands are shaking", PAT)
    assert texts(reply)[0].startswith("Call 911 now.")
    for who in (ANN, BOB):
        alert = texts(await fake.replies(who, after=before[who]))
        assert alert[0].startswith(
            '"Person 101" just sent me a message that sounded like an emergency.'
        )
        assert "seizure" not in alert[0]  # the patient's words stay private
    quiet = len(fake.sent(ANN))
    await say(fake, "what is a baclofen pump", PAT)
    await asyncio.sleep(0.5)  # notices go out right after the reply: give them the time
    assert len(fake.sent(ANN)) == quiet  # a routine question alerts nobody
