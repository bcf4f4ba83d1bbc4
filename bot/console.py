"""The local chat: the same dialogue as Telegram, in a terminal, with no token and no network.

Buttons become numbered choices; `/help` and `/quit` work as expected. `Console(dialogue)` keeps
the session in memory only. `python -m bot chat` (`main`) adds the reminder part: the store
(SQLite by default), and the scheduler running in this process on the injected clock, so that
with BOT_CLOCK_SPEED=3600 a newcomer sets a refill date and watches the ladder arrive, in order,
through the very same code as real time. It holds no rules and no text of its own.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TextIO

from bot.care_door import CareDoor, DoorTurn
from bot.conversation.dialogue import Dialogue, Session, Turn
from bot.reply.messages import Button, Message

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.reminder_desk import ReminderDesk
    from bot.settings import Settings

LOCAL = "console:local"


class Console:
    def __init__(
        self,
        dialogue: Dialogue,
        out: TextIO | None = None,
        desk: ReminderDesk | None = None,
        key: str = LOCAL,
    ) -> None:
        self.dialogue = dialogue
        self.out = out or sys.stdout
        self.session = Session()
        self.choices: list[Button] = []
        self.desk = desk
        self.key = key
        self.care: CareDoor | None = None  # the caregiver part (checklist, card, history)

    def _care_step(self, run: Callable[[CareDoor, Session], DoorTurn | None]) -> bool:
        """A caregiver-part step (bot/care_door.py); False when it is not for that part."""
        care = self.care
        if care is None:
            return False
        handled = False

        def step(session: Session) -> Turn:
            nonlocal handled
            result = run(care, session)
            if result is None or not result.handled:
                return Turn([], result.session if result else session)
            handled = True
            return Turn(result.messages, result.session)

        turn = self.desk.turn(self.key, step) if self.desk else step(self.session)
        if handled:
            self._show(turn)
        else:
            self.session = turn.session
        return handled

    def _step(self, step: Callable[[Session], Turn]) -> None:
        turn = self.desk.turn(self.key, step) if self.desk else step(self.session)
        self._show(turn)

    def _show(self, turn: Turn) -> None:
        self.session = turn.session
        self.choices = []
        for message in turn.messages:
            self._print_message(message)
        self._print_choices()

    def _print_choices(self) -> None:
        if self.choices:
            text = self.dialogue.content.text(
                "console_choice", first="1", last=str(len(self.choices))
            )
            print(text, file=self.out)

    def _print_message(self, message: Message) -> None:
        marker = {"emergency": "!!! ", "urgent": "! "}.get(message.kind, "")
        print(file=self.out)
        for line in message.text.splitlines():
            print(f"  {marker}{line}" if line else "", file=self.out)
        if message.file is not None:
            from pathlib import Path

            path = Path.cwd() / message.file.name
            path.write_bytes(message.file.data)
            print(f"    [{path}]", file=self.out)
        for button in message.buttons:
            self.choices.append(button)
            print(f"    {len(self.choices)}) {button.label}", file=self.out)

    def show_reminder(self, header: str, messages: Sequence[Message]) -> None:
        """A reminder arriving from the scheduler: printed with its own numbered buttons."""
        print(f"\n{header}", file=self.out)
        self.choices = []
        for message in messages:
            self._print_message(message)
        self._print_choices()
        self.out.flush()

    def handle(self, line: str) -> bool:
        """Handle one line; return False when the person wants to quit."""
        line = line.strip()
        d = self.dialogue
        if line in ("/quit", "/exit"):
            print(d.content.text("console_bye"), file=self.out)
            return False
        if line == "/help":
            print(d.content.text("help_console"), file=self.out)
            self._step(lambda s: d.command(s, "help"))
        elif line.startswith("/"):
            name, _, args = line[1:].partition(" ")
            name = name.lower()
            if not (
                self.care is not None
                and self.care.is_command(name)
                and self._care_step(lambda c, s: c.command(self.key, None, s, name, args.strip()))
            ):
                self._step(lambda s: d.command(s, name))
        elif line.isdigit() and 1 <= int(line) <= len(self.choices):
            data = self.choices[int(line) - 1].data
            if not (
                self.care is not None
                and self.care.is_ours(data)
                and self._care_step(lambda c, s: c.press(self.key, None, s, data))
            ):
                self._step(lambda s: d.press(s, data))
        elif not self._care_step(lambda c, s: c.text(self.key, None, s, line)):
            self._step(lambda s: d.text(s, line))
        return True

    def begin(self) -> None:
        """A stored person picks up where they were; a new one gets the welcome."""
        if self.desk is not None and self.desk.sessions.get(self.key) is not None:
            self._step(lambda s: self.dialogue.command(s, "help"))
        else:
            self._step(self.dialogue.start)

    def run(self, read: Callable[[str], str] = input) -> int:
        """The chat without reminders (no store): `run_async` on a fresh event loop."""
        return asyncio.run(self.run_async(read))

    async def run_async(self, read: Callable[[str], str] = input) -> int:
        """`run`, while the event loop (and the scheduler on it) keeps going between lines."""
        self.begin()
        prompt = self.dialogue.content.text("console_prompt")
        while True:
            try:
                line = await asyncio.to_thread(read, f"\n{prompt}")
            except (EOFError, KeyboardInterrupt):
                print(file=self.out)
                print(self.dialogue.content.text("console_bye"), file=self.out)
                return 0
            if not self.handle(line):
                return 0


class ConsoleNotifier:
    """The `Notifier` of the local chat: reminders print into the running chat."""

    def __init__(self, console: Console, clock: Clock) -> None:
        self.console = console
        self.clock = clock
        self.count = 0

    async def send(self, chat_key: str, messages: Sequence[Message]) -> list[str]:
        flows = self.console.dialogue.reminder_flows
        when = flows.when(self.clock.now(), self.console.session.timezone or "UTC")
        if chat_key == self.console.key:  # anyone else is a caregiver linked to this person
            header = flows.words.text("console_reminder", when=when)
        else:
            header = flows.words.text("console_reminder_other", when=when, who=chat_key)
        self.console.show_reminder(header, messages)
        self.count += 1
        return [f"console:{self.count}"]


async def run_chat(settings: Settings, read: Callable[[str], str] = input) -> int:
    """The local chat with reminders: store, scheduler on the injected clock, and the chat."""
    from bot.reminder_desk import ReminderDesk
    from bot.reminders.scheduler import ReminderScheduler
    from bot.runtime import build_clock, build_dialogue, build_reminders

    clock = build_clock(settings)
    dialogue = build_dialogue(settings, clock=clock)
    console = Console(dialogue)
    store, sessions, reminders = build_reminders(
        settings, dialogue, clock, ConsoleNotifier(console, clock)
    )
    console.desk = ReminderDesk(dialogue, sessions, reminders)
    from bot.care_door import build_care

    console.care = build_care(store, clock, dialogue, reminders)
    scheduler = ReminderScheduler(reminders)
    if clock.speed != 1:
        flows = dialogue.reminder_flows
        print(
            flows.words.text(
                "console_clock", speed=f"{clock.speed:g}", when=flows.when(clock.now(), "UTC")
            )
        )
    await scheduler.start()
    try:
        return await console.run_async(read)
    finally:
        await scheduler.stop()
        store.close()


def main(settings: Settings) -> int:
    return asyncio.run(run_chat(settings))
