"""Reminders on Telegram end to end: a person sets a pump refill over the loopback Bot API, the
demo clock runs (BOT_CLOCK_SPEED), and every step of the ladder arrives in order, with its
"Refill done" button, through the same scheduler and store as production (SQLite file)."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from bot.clock import ScaledClock
from bot.doors.telegram import build_app
from tests.e2e.conftest import bot_settings, running
from tests.e2e.fake_bot_api import FakeBotApi, buttons, message_id_of

SPEED = 120_000.0  # about 33 demo hours a real second
START = dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.UTC)  # a Monday; the refill is on Saturday
LADDER = (
    "Reminder: your pump refill is on Sat 07 Mar 2026",
    "your pump refill is tomorrow",
    "Today is your pump refill day",
    "I have not heard that it was done",
    "Please call your pump clinic today",
    "You have not linked a caregiver, so I could not tell anyone",
    "Your pump may now be empty",
)


async def act(
    fake: FakeBotApi, text: str | None = None, label: str | None = None, until: str | None = None
) -> None:
    """Type or press; then wait for the reply (`until`: for a reply holding these words, never
    for an amount of time, so that a busy machine cannot reorder what the test reads)."""
    before = len(fake.sent(42))
    if text is not None:
        fake.user_says(text)
    else:
        assert label is not None
        message_id, data = message_id_of(fake, 42, label)
        fake.user_presses(message_id, data)
    if until is None:
        await fake.replies(42, after=before, quiet=0.05)
    else:
        await fake.wait_for(lambda: any(until in m["text"] for m in fake.sent(42)[before:]), 30)


async def test_a_refill_set_on_telegram_climbs_the_ladder_in_order_on_the_demo_clock(
    fake: FakeBotApi, tmp_path: Path
) -> None:
    settings = bot_settings(database_url=f"sqlite:///{tmp_path}/bot.sqlite3",
                            bot_clock_speed=SPEED)  # fmt: skip
    clock = ScaledClock(SPEED, start=START)
    base_url = f"http://127.0.0.1:{fake.port}/bot"
    app = build_app(settings, base_url=base_url, clock=clock)
    async with running(app, fake):
        for step in ("/start", "I agree", "I take baclofen", "A pump", "UK (999)",
                     "Skip, use UTC for now"):  # fmt: skip
            await act(fake, step) if step.startswith("/") else await act(fake, label=step)
        # The demo clock stands at START while the form is filled in (however long a busy
        # machine takes to answer), so that every date typed means the same day.
        steps: list[tuple[str | None, str | None, str]] = [
            ("/refill", None, "spinal cord injury"),
            *[(None, "No", q) for q in ("hard to tell", "withdrawal before", "pump alarm date")],
            ("13 march", None, "refill appointment"),  # the pump's alarm date first
            ("2026-03-07", None, "What time"),  # then the appointment
            (None, "Use 09:00", "Please check this"),
        ]
        for text, label, reply in steps:
            clock.set(START)
            await act(fake, text, label, until=reply)
        summary = fake.sent(42)[-1]
        assert "Sat 07 Mar 2026" in summary["text"] and "Fri 13 Mar 2026" in summary["text"]
        clock.set(START)
        saved_at = len(fake.sent(42))  # the week runs from this press on
        await act(fake, label="Save", until="Saved. Your next reminder is")

        def arrived() -> bool:
            return any(LADDER[-1] in m["text"] for m in fake.sent(42)[saved_at:])

        await fake.wait_for(arrived, timeout=30)
        reminders = [m for m in fake.sent(42)[saved_at:] if "Saved." not in m["text"]]
        texts = [m["text"] for m in reminders]
        found = [next((i for i, t in enumerate(texts) if marker in t), -1) for marker in LADDER]
        assert -1 not in found and found == sorted(found), texts  # each step, in order
        assert all("Refill done" in buttons(m) for m in reminders)
        assert "999" in texts[found[-1]]  # the emergency advice names the person's number

        await act(fake, label="Refill done", until="a reminder for the next refill?")
        assert any("The refill is marked done" in m["text"] for m in fake.sent(42)[-2:])
        done_at = len(fake.sent(42))
        app_reminders = app.bot_data["door"].app.reminders
        await app_reminders.deliver_due()  # whatever was due is out
        passed = clock.now()
        while clock.now() < passed + dt.timedelta(days=1):  # the demo day passing, not a nap
            await asyncio.sleep(0.01)
        await app_reminders.deliver_due()  # a demo day later: nothing more comes
        assert [m["text"][:40] for m in fake.sent(42)[done_at:]] == []


async def test_a_taper_is_shown_back_with_its_chart_and_exported_as_a_calendar(
    fake: FakeBotApi, tmp_path: Path
) -> None:
    settings = bot_settings(database_url=f"sqlite:///{tmp_path}/bot.sqlite3")
    base_url = f"http://127.0.0.1:{fake.port}/bot"
    app = build_app(settings, base_url=base_url)
    async with running(app, fake):
        for step in ("/start", "I agree", "I take baclofen", "Tablets or liquid", "UK (999)",
                     "Skip, use UTC for now"):  # fmt: skip
            await act(fake, step) if step.startswith("/") else await act(fake, label=step)
        await act(fake, "/taper")
        for _ in range(3):
            await act(fake, label="No")
        for typed in ("20 mg", "8:00, 20:00", "tomorrow", "3"):
            await act(fake, typed)
        await act(fake, label="That is all")
        assert "Step 1: 20 mg, at 08:00, 20:00" in fake.sent(42)[-1]["text"]
        (chart,) = fake.sent(42, "sendPhoto")
        assert fake.files and next(iter(fake.files.values())).startswith(b"\x89PNG")
        assert "chart" in chart["caption"]
        await act(fake, label="Save")
        assert "Saved. Your first reminder is" in fake.sent(42)[-1]["text"]
        await act(fake, "/reminders")
        assert any("Steps: 1." in m["text"] for m in fake.sent(42)[-3:])
        before = len(fake.sent(42, "sendDocument"))
        message_id, data = message_id_of(fake, 42, "Calendar file")
        fake.user_presses(message_id, data)
        await fake.wait_for(lambda: len(fake.sent(42, "sendDocument")) > before)
        document = fake.sent(42, "sendDocument")[-1]
        assert document["document"]["filename"] == "reminders.ics"
        assert b"BEGIN:VCALENDAR" in document["document"]["data"]
        assert b"Taper step 1: 20 mg" in document["document"]["data"]
