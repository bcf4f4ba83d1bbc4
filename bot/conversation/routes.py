"""The shape of one turn for every part that answers a person, and the routing table.

A handler gets a `Visit` (who is acting, as the door knows them, with their session and their
emergency number) and the argument of what they did: a command's arguments, or a button's data
after its prefix ("ack:done:12" gives "done:12" to the handler of "ack"). It returns a `Turn`:
the messages for that person, the new session, and what else must happen (reminder effects,
messages for other people, deleting the person). `Routes` is the table the companion routes
through: each command and each button prefix to exactly one handler, each feature filling in its
own entries where it lives, plus the readers that may take free text before the dialogue (the
caregiver part's open card field). This module holds no rules and no text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.conversation.sessions import Session
from bot.core.engine import Decision
from bot.reminders.flows import Effect
from bot.reply import callback
from bot.reply.messages import Message, Notice


@dataclass(frozen=True)
class Visit:
    """One person acting: their chat key, the first name the door knows, their session."""

    key: str
    name: str | None
    session: Session
    number: str  # the emergency number for this person's region


@dataclass(frozen=True)
class Turn:
    """The outcome of one step: messages to send, the new session, and what the core decided."""

    messages: list[Message]
    session: Session
    decision: Decision | None = None
    delete_data: bool = False  # the person asked to be forgotten: every row about them goes
    effects: tuple[Effect, ...] = ()  # reminder changes for the companion to apply
    notices: tuple[Notice, ...] = ()  # messages for other people (linked caregivers, say)


@dataclass(frozen=True)
class Passed:
    """A reader did not take the words; `session` is what it leaves (a field it closed)."""

    session: Session


Handler = Callable[[Visit, str], Turn]
Reader = Callable[[Visit, str], Turn | Passed]


@dataclass(frozen=True)
class Route:
    handler: Handler
    personal: bool = False  # private chats only: in a group it shows or changes nobody's data


class Routes:
    """Commands and button prefixes, each to one handler; readers of free text, in order."""

    def __init__(self) -> None:
        self.commands: dict[str, Route] = {}
        self.buttons: dict[str, Route] = {}
        self.readers: list[Reader] = []

    def command(self, name: str, handler: Handler, *, personal: bool = False) -> None:
        if name in self.commands:
            raise ValueError(f"the command /{name} is routed twice")
        self.commands[name] = Route(handler, personal)

    def button(self, prefix: str, handler: Handler, *, personal: bool = False) -> None:
        if prefix in self.buttons or ":" in prefix:
            raise ValueError(f"the button prefix {prefix!r} is routed twice or has a colon")
        self.buttons[prefix] = Route(handler, personal)

    def reader(self, handler: Reader) -> None:
        self.readers.append(handler)

    def for_button(self, data: str) -> tuple[Route, str] | None:
        """The route of a button's data, and the data after its prefix; None: nobody's."""
        if callback.parts(data, 1) is None:  # too long for Telegram, or control characters
            return None
        prefix, _, value = data.partition(":")
        route = self.buttons.get(prefix)
        return None if route is None else (route, value)
