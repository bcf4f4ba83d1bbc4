"""The reminder part through the dialogue and the desk, as a door drives it: sessions kept in the
store, plans saved from a conversation, buttons on reminders, triage of the daily check, and
/delete_my_data removing everything."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from bot.clock import FakeClock
from bot.conversation.dialogue import Dialogue, Session, Turn
from bot.conversation.sessions import SqlSessions
from bot.reminder_desk import ReminderDesk
from bot.reminders.flows import Wording
from bot.reminders.service import Reminders
from bot.reply.messages import Message
from bot.runtime import build_dialogue
from bot.settings import load_settings
from bot.storage.models import Occurrence, Person
from bot.storage.store import Store
from tests.databases import RecordingNotifier

UTC = dt.UTC
KEY = "console:local"


class Chat:
    """Plays the person: types, presses buttons by label, reads what comes back."""

    def __init__(self, desk: ReminderDesk, dialogue: Dialogue) -> None:
        self.desk, self.d = desk, dialogue
        self.last: list[Message] = []

    def _do(self, step: object) -> list[str]:
        turn: Turn = self.desk.turn(KEY, step)  # type: ignore[arg-type]
        self.last = turn.messages
        return [m.text for m in turn.messages]

    def say(self, text: str) -> str:
        if text.startswith("/"):
            return "\n".join(self._do(lambda s: self.d.command(s, text[1:])))
        return "\n".join(self._do(lambda s: self.d.text(s, text)))

    def press(self, label: str, messages: list[Message] | None = None) -> str:
        data = next(b.data for m in (messages or self.last) for b in m.buttons if b.label == label)
        return "\n".join(self._do(lambda s: self.d.press(s, data)))


def setup(store: Store, clock: FakeClock, notifier: RecordingNotifier) -> tuple[Chat, Reminders]:
    dialogue = build_dialogue(load_settings(_env_file=None, emergency_region="UK"), clock=clock)
    sessions = SqlSessions(store, clock.now)
    wording = Wording(dialogue.reminder_flows, dialogue.content.emergency_number)
    reminders = Reminders(store, clock, notifier, wording)
    chat = Chat(ReminderDesk(dialogue, sessions, reminders), dialogue)
    chat._do(dialogue.start)
    for label in ("I agree", "I take baclofen", "A pump", "UK (999)"):
        chat.press(label)
    chat.say("London")
    return chat, reminders


async def test_a_refill_set_in_the_chat_is_stored_reminded_and_confirmed(
    store: Store, clock: FakeClock, notifier: RecordingNotifier
) -> None:
    chat, reminders = setup(store, clock, notifier)
    assert "spinal cord injury at T6" in chat.say("/refill")
    chat.press("Yes")
    chat.press("No")
    chat.press("No")
    assert "past" in chat.say("1 january 2026") or "passed" in chat.say("1 january 2026")
    chat.say("20 march")
    chat.say("26 march")
    assert "Please check this" in chat.press("Use 09:00")
    saved = chat.press("Save")
    assert "Saved. Your next reminder is Fri 06 Mar at 09:00" in saved
    with store.tx() as db:
        person = db.scalar(select(Person).where(Person.key == KEY))
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
    store: Store, clock: FakeClock, notifier: RecordingNotifier
) -> None:
    chat, reminders = setup(store, clock, notifier)
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
    store: Store, clock: FakeClock, notifier: RecordingNotifier
) -> None:
    chat, reminders = setup(store, clock, notifier)
    chat.say("/refill")
    for label in ("No", "No", "No"):
        chat.press(label)
    chat.say("20 march")
    chat.say("26 march")
    chat.press("Use 09:00")
    chat.press("Save")
    chat.say("/delete_my_data")
    chat.press("Yes, delete it all")
    with store.tx() as db:
        assert db.scalar(select(func.count()).select_from(Person)) == 0
        assert db.scalar(select(func.count()).select_from(Occurrence)) == 0
    clock.set(dt.datetime(2026, 4, 1, tzinfo=UTC))
    await reminders.deliver_due()
    assert notifier.to(KEY) == []
    assert Session() == Session()


async def test_reminders_can_be_paused_resumed_stopped_and_quiet_hours_set(
    store: Store, clock: FakeClock, notifier: RecordingNotifier
) -> None:
    chat, reminders = setup(store, clock, notifier)
    chat.say("/refill")
    for label in ("No", "No", "No"):
        chat.press(label)
    chat.say("20 march")
    chat.say("26 march")
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
        person = db.scalar(select(Person).where(Person.key == KEY))
        assert person is not None and (person.quiet_start, person.quiet_end) == ("22:00", "07:00")
    chat.say("/reminders")
    assert "Stop this reminder for good" in chat.press("Stop this reminder")
    assert "Stopped" in chat.press("Yes, stop it")
    assert "You have no reminders yet" in chat.say("/reminders")


async def test_a_new_time_zone_moves_the_reminders_to_the_new_wall_clock(
    store: Store, clock: FakeClock, notifier: RecordingNotifier
) -> None:
    chat, reminders = setup(store, clock, notifier)  # Europe/London
    chat.say("/refill")
    for label in ("No", "No", "No"):
        chat.press(label)
    chat.say("20 march")
    chat.say("26 march")
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
