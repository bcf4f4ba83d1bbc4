"""The reminder part through the companion, as a door drives it: sessions kept in the store,
plans saved from a conversation, buttons on reminders, triage of the daily check, and
/delete_my_data removing everything."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from bot.app import build
from bot.clock import FakeClock
from bot.companion import Act, Commanded, Companion, Person, Pressed, Said
from bot.conversation.dialogue import Dialogue
from bot.conversation.sessions import Session
from bot.reminders.service import Reminders
from bot.reply.messages import Message
from bot.settings import load_settings
from bot.storage.models import Occurrence
from bot.storage.models import Person as PersonRow
from bot.storage.store import Store
from tests.databases import RecordingNotifier

UTC = dt.UTC
KEY = "console:local"


class Chat:
    """Plays the person: types, presses buttons by label, reads what comes back."""

    def __init__(self, companion: Companion) -> None:
        self.companion = companion
        self.last: list[Message] = []

    def _do(self, act: Act) -> list[str]:
        self.last = self.companion.handle(Person(KEY), act).messages
        return [m.text for m in self.last]

    def say(self, text: str) -> str:
        if text.startswith("/"):
            return "\n".join(self._do(Commanded(text[1:])))
        return "\n".join(self._do(Said(text)))

    def press(self, label: str, messages: list[Message] | None = None) -> str:
        data = next(b.data for m in (messages or self.last) for b in m.buttons if b.label == label)
        return "\n".join(self._do(Pressed(data)))


@pytest.fixture
def setup(
    db_url: str, store: Store, clock: FakeClock, notifier: RecordingNotifier, dialogue: Dialogue
) -> Iterator[tuple[Chat, Reminders]]:
    """A person onboarded in the UK (Europe/London), on the test's database and clock."""
    settings = load_settings(_env_file=None, emergency_region="UK", database_url=db_url)
    uk = Dialogue(dialogue.engine, dialogue.content, "UK", clock=clock)
    app = build(settings, notifier, clock=clock, dialogue=uk)
    chat = Chat(app.companion)
    chat.say("/start")
    for label in ("I agree", "I take baclofen", "A pump", "UK (999)"):
        chat.press(label)
    chat.say("London")
    yield chat, app.reminders
    app.store.close()


async def test_a_refill_set_in_the_chat_is_stored_reminded_and_confirmed(
    setup: tuple[Chat, Reminders], store: Store, clock: FakeClock, notifier: RecordingNotifier
) -> None:
    chat, reminders = setup
    assert "spinal cord injury at T6" in chat.say("/refill")
    chat.press("Yes")
    chat.press("No")
    chat.press("No")
    assert "past" in chat.say("1 january 2026") or "passed" in chat.say("1 january 2026")
    chat.say("26 march")  # the pump alarm date first
    chat.say("20 march")  # then the appointment
    assert "Please check this" in chat.press("Use 09:00")
    saved = chat.press("Save")
    assert "Saved. Your next reminder is Fri 06 Mar at 09:00" in saved
    with store.tx() as db:
        person = db.scalar(select(PersonRow).where(PersonRow.key == KEY))
        assert person is not None
        assert (person.timezone, person.high_risk, person.consent) == (
            "Europe/London", ["spinal_t6"], True,
        )  # fmt: skip
    listing = chat.say("/reminders")
    assert "Pump refill on Fri 20 Mar 2026" in listing and "Next: Fri 06 Mar at 09:00" in listing

    clock.set(dt.datetime(2026, 3, 6, 9, 0, tzinfo=UTC))
    await reminders.deliver_due()
    (reminder,) = notifier.to(KEY)
    assert "in 14 days" in reminder.message.text
    reply = chat.press("Refill done", [reminder.message])
    assert "The refill is marked done" in reply and "next refill" in reply
    assert "You have no reminders yet" in chat.say("/reminders")


async def test_a_sign_pressed_in_the_daily_check_gets_the_safety_reply_first(
    setup: tuple[Chat, Reminders], store: Store, clock: FakeClock, notifier: RecordingNotifier
) -> None:
    chat, reminders = setup
    chat.say("/taper")
    for label in ("No", "No", "No"):
        chat.press(label)
    for typed in ("20 mg", "8:00, 20:00", "2 march", "3"):
        chat.say(typed)
    summary = chat.press("That is all")
    assert "Step 1: 20 mg, at 08:00, 20:00, from Mon 02 Mar 2026 to Wed 04 Mar 2026" in summary
    assert any(m.file is not None and m.file.is_image for m in chat.last)  # the chart
    chat.press("Save")
    clock.set(dt.datetime(2026, 3, 2, 18, 0, tzinfo=UTC))
    await reminders.deliver_due()
    check = notifier.to(KEY)[-1].message
    assert check.text.startswith("Daily check")
    reply = chat.press("Seeing things", [check])
    assert chat.last[0].kind == "emergency" and "999" in reply
    assert "Call 999" in reply


async def test_delete_my_data_removes_the_person_and_their_reminders(
    setup: tuple[Chat, Reminders], store: Store, clock: FakeClock, notifier: RecordingNotifier
) -> None:
    chat, reminders = setup
    chat.say("/refill")
    for label in ("No", "No", "No"):
        chat.press(label)
    chat.say("26 march")  # the pump alarm date first
    chat.say("20 march")  # then the appointment
    chat.press("Use 09:00")
    chat.press("Save")
    chat.say("/delete_my_data")
    chat.press("Yes, delete it all")
    with store.tx() as db:
        assert db.scalar(select(func.count()).select_from(PersonRow)) == 0
        assert db.scalar(select(func.count()).select_from(Occurrence)) == 0
    clock.set(dt.datetime(2026, 4, 1, tzinfo=UTC))
    await reminders.deliver_due()
    assert notifier.to(KEY) == []
    assert Session() == Session()


async def test_reminders_can_be_paused_resumed_stopped_and_quiet_hours_set(
    setup: tuple[Chat, Reminders], store: Store, clock: FakeClock, notifier: RecordingNotifier
) -> None:
    chat, reminders = setup
    chat.say("/refill")
    for label in ("No", "No", "No"):
        chat.press(label)
    chat.say("26 march")  # the pump alarm date first
    chat.say("20 march")  # then the appointment
    chat.press("Use 09:00")
    chat.press("Save")
    chat.say("/reminders")
    assert "Paused" in chat.press("Pause")
    clock.set(dt.datetime(2026, 3, 8, tzinfo=UTC))
    await reminders.deliver_due()
    assert notifier.to(KEY) == []  # nothing while paused
    assert "Paused." in chat.say("/reminders")
    assert "Turned back on" in chat.press("Turn back on")
    assert "Next: Fri 13 Mar at 09:00" in chat.say("/reminders")  # from now on, not the past
    assert "22:00-07:00" in chat.press("Quiet hours")
    assert "Quiet hours: 22:00 to 07:00" in chat.say("22:00-07:00")
    with store.tx() as db:
        person = db.scalar(select(PersonRow).where(PersonRow.key == KEY))
        assert person is not None and (person.quiet_start, person.quiet_end) == ("22:00", "07:00")
    chat.say("/reminders")
    assert "Stop this reminder for good" in chat.press("Stop this reminder")
    assert "Stopped" in chat.press("Yes, stop it")
    assert "You have no reminders yet" in chat.say("/reminders")


async def test_a_new_time_zone_moves_the_reminders_to_the_new_wall_clock(
    setup: tuple[Chat, Reminders], store: Store, clock: FakeClock, notifier: RecordingNotifier
) -> None:
    chat, reminders = setup  # Europe/London
    chat.say("/refill")
    for label in ("No", "No", "No"):
        chat.press(label)
    chat.say("26 march")  # the pump alarm date first
    chat.say("20 march")  # then the appointment
    chat.press("Use 09:00")
    chat.press("Save")
    chat.say("/settings")
    chat.press("My time zone")
    chat.say("New York")
    clock.set(dt.datetime(2026, 3, 6, 13, 59, tzinfo=UTC))
    await reminders.deliver_due()
    assert notifier.to(KEY) == []  # 09:00 in London has passed, 09:00 in New York has not
    clock.set(dt.datetime(2026, 3, 6, 14, 0, tzinfo=UTC))  # 09:00 EST
    await reminders.deliver_due()
    assert len(notifier.to(KEY)) == 1 and "in 14 days" in notifier.to(KEY)[0].message.text
