"""The local chat: the same dialogue as Telegram, in a terminal, with no token and no network.

Buttons become numbered choices; `/help` and `/quit` work as expected. It keeps the session in
memory only, so closing the chat forgets everything.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

from bot.composer import Button, Message
from bot.dialogue import Dialogue, Session, Turn


class Console:
    def __init__(self, dialogue: Dialogue, out: TextIO | None = None) -> None:
        self.dialogue = dialogue
        self.out = out or sys.stdout
        self.session = Session()
        self.choices: list[Button] = []

    def _show(self, turn: Turn) -> None:
        self.session = turn.session
        self.choices = []
        for message in turn.messages:
            self._print_message(message)
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
        for button in message.buttons:
            self.choices.append(button)
            print(f"    {len(self.choices)}) {button.label}", file=self.out)

    def handle(self, line: str) -> bool:
        """Handle one line; return False when the person wants to quit."""
        line = line.strip()
        d = self.dialogue
        if line in ("/quit", "/exit"):
            print(d.content.text("console_bye"), file=self.out)
            return False
        if line == "/help":
            print(d.content.text("help_console"), file=self.out)
            self._show(d.command(self.session, "help"))
        elif line.startswith("/"):
            self._show(d.command(self.session, line[1:].split()[0].lower() if line[1:] else ""))
        elif line.isdigit() and 1 <= int(line) <= len(self.choices):
            self._show(d.press(self.session, self.choices[int(line) - 1].data))
        else:
            self._show(d.text(self.session, line))
        return True

    def run(self, read: Callable[[str], str] = input) -> int:
        self._show(self.dialogue.start(self.session))
        prompt = self.dialogue.content.text("console_prompt")
        while True:
            try:
                line = read(f"\n{prompt}")
            except (EOFError, KeyboardInterrupt):
                print(file=self.out)
                print(self.dialogue.content.text("console_bye"), file=self.out)
                return 0
            if not self.handle(line):
                return 0
