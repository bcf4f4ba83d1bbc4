"""The local chat: the same companion as Telegram, in a terminal, with no token and no network.

Each line becomes an act for `Companion.handle`: a number picks one of the buttons shown
(numbered choices), a line starting with "/" is a command (`/help` adds how the chat works,
`/quit` ends it), anything else is said. A file (the card, the history, the calendar, the chart)
is saved in the person's folder under the data directory (`DATA_DIR`) with a dated name, and
its path is printed. `python -m bot chat` (`run_chat`) builds the app with an
`Outbox` as its notifier: what the scheduler (or someone's turn) has for a chat waits there and
is printed with a header between two lines the person types, so that with BOT_CLOCK_SPEED=3600
a newcomer sets a refill date and watches the ladder arrive, in order, through the very same
code as real time. It holds no rules and no text of its own, and decides nothing.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from bot.app import App, build
from bot.companion import Act, Commanded, Person, Pressed, Said
from bot.reply import callback
from bot.reply.messages import Button, Message, Notice
from bot.settings import Settings

LOCAL = "console:local"


class Outbox:
    """The local chat's `Notifier`: messages for a chat key wait here until a chat prints them."""

    def __init__(self) -> None:
        self.waiting: list[Notice] = []
        self.count = 0
        self.arrived = asyncio.Event()

    async def send(self, chat_key: str, messages: Sequence[Message]) -> list[str]:
        self.waiting.append(Notice(chat_key, tuple(messages)))
        self.count += 1
        self.arrived.set()
        return [f"console:{self.count}"]

    def take(self) -> list[Notice]:
        taken, self.waiting = self.waiting, []
        self.arrived.clear()
        return taken


class Console:
    """One person's chat in a terminal (`key`), printing to `out` what comes back and what
    arrives in `outbox`."""

    def __init__(
        self,
        app: App,
        outbox: Outbox,
        out: TextIO | None = None,
        key: str = LOCAL,
        name: str | None = None,
    ) -> None:
        self.app = app
        self.companion = app.companion
        self.outbox = outbox
        self.out = out or sys.stdout
        self.person = Person(key, name)
        self.choices: list[Button] = []

    def _text(self, key: str, **values: str) -> str:
        return self.app.content.text(key, **values)

    # -- what the person types ---------------------------------------------------------------

    async def handle(self, line: str) -> bool:
        """Handle one line; return False when the person wants to quit."""
        line = line.strip()
        if line in ("/quit", "/exit"):
            print(self._text("console_bye"), file=self.out)
            return False
        if line == "/help":
            print(self._text("help_console"), file=self.out)
        await self._act(self._read(line))
        return True

    def _read(self, line: str) -> Act:
        if line.startswith("/"):
            name, _, args = line[1:].partition(" ")
            return Commanded(name.lower(), args.strip())
        choice = callback.number(line, len(self.choices))  # ASCII digits only ("²" is text)
        if choice:
            return Pressed(self.choices[choice - 1].data)
        return Said(line)

    async def _act(self, act: Act) -> None:
        answer = self.companion.handle(self.person, act)
        self._show(answer.messages)
        for notice in answer.others:
            await self.app.notifier.send(notice.to, notice.messages)
        self.show_arrivals()

    def begin(self) -> None:
        """The chat speaks first: the welcome for someone new, /help for someone known."""
        answer = self.companion.greet(self.person)
        self._show(answer.messages)

    # -- printing ----------------------------------------------------------------------------

    def _show(self, messages: Sequence[Message], header: str | None = None) -> None:
        if header is not None:
            print(f"\n{header}", file=self.out)
        self.choices = []
        for message in messages:
            self._print_message(message)
        if self.choices:
            choice = self._text("console_choice", first="1", last=str(len(self.choices)))
            print(choice, file=self.out)
        self.out.flush()

    def _print_message(self, message: Message) -> None:
        marker = {"emergency": "!!! ", "urgent": "! "}.get(message.kind, "")
        print(file=self.out)
        for line in message.text.splitlines():
            print(f"  {marker}{line}" if line else "", file=self.out)
        if message.file is not None:  # kept in the person's folder; the path is shown
            path = self.app.keep_file(self.person.key, message.file)
            print(f"    [{path.resolve()}]", file=self.out)
        for button in message.buttons:
            self.choices.append(button)
            print(f"    {len(self.choices)}) {button.label}", file=self.out)

    def show_arrivals(self) -> None:
        """What arrived in the outbox (a reminder, a message for someone else), with a header
        saying when, and for whom when it is not for this chat's person."""
        words = self.app.dialogue.reminder_flows.words
        for notice in self.outbox.take():
            when = self.companion.local_time(self.person.key)
            if notice.to == self.person.key:
                header = words.text("console_reminder", when=when)
            else:
                header = words.text("console_reminder_other", when=when, who=notice.to)
            self._show(notice.messages, header)

    async def _print_arrivals(self) -> None:
        while True:
            await self.outbox.arrived.wait()
            self.show_arrivals()

    # -- the loop ----------------------------------------------------------------------------

    async def run(self, read: Callable[[str], str] = input) -> int:
        """The chat, while the event loop (and the scheduler on it) keeps going between lines."""
        printer = asyncio.create_task(self._print_arrivals())
        try:
            self.begin()
            prompt = self._text("console_prompt")
            while True:
                try:
                    line = await asyncio.to_thread(read, f"\n{prompt}")
                except (EOFError, KeyboardInterrupt):
                    print(file=self.out)
                    print(self._text("console_bye"), file=self.out)
                    return 0
                if not await self.handle(line):
                    return 0
        finally:
            printer.cancel()


async def run_chat(settings: Settings, read: Callable[[str], str] = input) -> int:
    """`python -m bot chat`: the app with the scheduler on the injected clock, and the chat."""
    outbox = Outbox()
    app = build(settings, outbox)
    console = Console(app, outbox)
    if app.clock.speed != 1:
        flows = app.dialogue.reminder_flows
        when = flows.when(app.clock.now(), "UTC")
        print(flows.words.text("console_clock", speed=f"{app.clock.speed:g}", when=when))
    await app.start()
    try:
        return await console.run(read)
    finally:
        await app.stop()


def main(settings: Settings) -> int:
    return asyncio.run(run_chat(settings))
