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
from bot.storage.models import Person as PersonRow
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
    # Today at 10:00 UTC: a fixed time of day, so the reminders' order never depends on the hour.
    clock = FakeClock(dt.datetime.combine(dt.datetime.now(UTC).date(), dt.time(10), UTC))
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
        " Please still tell me when it is done."
    ]
    to_bob = await fake.replies(BOB, after=before[BOB])
    assert texts(to_bob)[0].startswith('"Person 102" is on it for "Person 101".')

    # Bob taps his (older) button too late: he is told who took it; nobody else hears.
    late = await press(fake, "Called the clinic", BOB)
    assert texts(late)[0].startswith('"Person 102" already took this at')

    # "I'm on it" closes the caregiver step, not the danger: the patient's own reminders go on
    # until the refill is confirmed; once it is, nothing more is sent to anyone.
    clock.advance(dt.timedelta(days=1))
    await reminders.deliver_due()
    assert any("Refill done" in buttons(m) for m in fake.sent(PAT)[before[PAT] + 1 :])
    done = await press(fake, "Refill done", PAT)
    assert "The refill is marked done" in "\n".join(texts(done))
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


async def test_files_sent_on_telegram_never_stay_on_disk(
    world: tuple[FakeBotApi, Any, FakeClock], data_dir: Path
) -> None:
    """The card and the history PDF go to the chat from memory: nothing is written, in the
    data directory or the working directory."""
    fake, _, _ = world
    before = set(Path.cwd().iterdir())
    await say(fake, "/card", PAT)
    await link(fake, ANN)
    await say(fake, "/history", PAT)
    message_id, data = message_id_of(fake, PAT, "PDF file")
    fake.user_presses(message_id, data, user_id=PAT)
    await fake.wait_for(lambda: len(fake.sent(PAT, "sendDocument")) == 1)
    (photo,) = fake.sent(PAT, "sendPhoto")
    (document,) = fake.sent(PAT, "sendDocument")
    assert photo["photo"]["filename"].startswith("emergency-card-")
    assert document["document"]["filename"].startswith("history-")
    assert fake.files and all(data[:4] in (b"\x89PNG", b"%PDF") for data in fake.files.values())
    assert not data_dir.exists() or not any(p.is_file() for p in data_dir.rglob("*"))
    assert set(Path.cwd().iterdir()) == before


@pytest.mark.parametrize("blocked", ["patient", "first caregiver"])
async def test_a_blocked_chat_never_keeps_an_alert_from_the_others(
    world: tuple[FakeBotApi, Any, FakeClock], blocked: str
) -> None:
    """Over the loopback Bot API: every send to the blocked chat is a 403. A blocked patient is
    marked unreachable and the ladder goes to the caregivers at once, every step of it; a blocked
    caregiver never stops the other one."""
    fake, door, clock = world
    await link(fake, ANN)
    await link(fake, BOB)
    fake.blocked.add(PAT if blocked == "patient" else ANN)
    reminders = door.app.reminders
    today = clock.now().date()
    plan = RefillPlan(today + dt.timedelta(days=2), today + dt.timedelta(days=7))
    reminders.create_plan(f"tg:{PAT}", "refill", plan.to_data())
    before = {u: len(fake.sent(u)) for u in (PAT, ANN, BOB)}
    end = dt.datetime.combine(today + dt.timedelta(days=8), dt.time(0), tzinfo=dt.UTC)
    occurrences = 0
    while True:
        with reminders.store.tx() as db:
            due = db.scalar(
                select(func.min(Occurrence.due_at)).where(Occurrence.status == "pending")
            )
        if due is None or due > end:
            break
        clock.set(max(due, clock.now()))
        with reminders.store.tx() as db:
            occurrences += len(
                db.scalars(select(Occurrence.id).where(
                    Occurrence.status == "pending", Occurrence.due_at <= clock.now()
                )).all()
            )  # fmt: skip
        await reminders.deliver_due()
    got = {u: [m["text"] for m in fake.sent(u)[before[u] :]] for u in (PAT, ANN, BOB)}
    if blocked == "patient":
        assert got[PAT] == []
        # Both caregivers got every step, from the first reminder (1 day before the refill) to
        # the emergency advice, each saying the patient cannot be reached.
        for user in (ANN, BOB):
            assert len(got[user]) == occurrences, got[user]
            assert all("I cannot reach the person who linked you" in t for t in got[user])
            assert "refill is tomorrow" in got[user][0]
            assert any("may now be empty" in t for t in got[user])
        with reminders.store.tx() as db:
            person = db.scalar(select(PersonRow).where(PersonRow.key == f"tg:{PAT}"))
            assert person is not None and person.unreachable_at is not None
    else:
        assert got[ANN] == []
        alerts = [t for t in got[BOB] if "person who linked you" in t]
        steps = ("still not done", "may now be empty")
        assert all(any(s in t for t in alerts) for s in steps), alerts
        assert len(got[PAT]) == occurrences  # the patient got every one of theirs
