"""The caregiver part as a door sees it: one call per command, button or message, on a Session.

`CareDoor` maps a person's dialogue `Session` to the caregiver flows and back (the flows' state
is kept in `Session.care`), and hands the door the messages for this person and the `Notice`s
for other people (chat keys such as "tg:123"). `build_care` is the one place the caregiver part
is put together. This module holds no rules and no text; it must never send anything itself,
and never skip the dialogue's safety triage for free text (see `CareFlows.text`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.care import load_care_words
from bot.care_flows import COMMANDS, PREFIXES, CareFlows, CareState, CareTurn, Who
from bot.care_store import CareService, Notice
from bot.checklist import Checklist, load_checklist
from bot.clock import Clock
from bot.composer import Message
from bot.core import Safety
from bot.dialogue import Dialogue, Session
from bot.store import Store


@dataclass(frozen=True)
class DoorTurn:
    session: Session
    messages: list[Message]
    notices: list[Notice]
    handled: bool = True  # False: the door passes the words on to the dialogue (with `session`)


class CareDoor:
    def __init__(self, flows: CareFlows, dialogue: Dialogue) -> None:
        self.flows = flows
        self.dialogue = dialogue

    @property
    def service(self) -> CareService:
        return self.flows.service

    def who(self, key: str, name: str | None, session: Session) -> Who:
        return Who(
            key=key,
            name=name,
            voice=session.voice,
            emergency_number=self.dialogue.number(session),
            consent=session.consent,
            route=session.route,
            timezone=session.timezone,
        )

    def _turn(self, session: Session, result: CareTurn) -> DoorTurn:
        return DoorTurn(replace(session, care=result.state.dump()), result.messages, result.notices)

    def is_command(self, name: str) -> bool:
        return name in COMMANDS

    def is_ours(self, data: str) -> bool:
        return data.partition(":")[0] in PREFIXES

    def command(
        self, key: str, name: str | None, session: Session, command: str, args: str = ""
    ) -> DoorTurn | None:
        if command not in COMMANDS:
            return None
        state = CareState.load(session.care)
        return self._turn(session, self.flows.command(self.who(key, name, session), state,
                                                      command, args))  # fmt: skip

    def press(self, key: str, name: str | None, session: Session, data: str) -> DoorTurn | None:
        state = CareState.load(session.care)
        result = self.flows.press(self.who(key, name, session), state, data)
        return None if result is None else self._turn(session, result)

    def text(self, key: str, name: str | None, session: Session, text: str) -> DoorTurn:
        state = CareState.load(session.care)
        result = self.flows.text(self.who(key, name, session), state, text)
        if result is None:
            if state.step:  # the field is closed: the dialogue answers these words instead
                session = replace(session, care=replace(state, step=None).dump())
            return DoorTurn(session, [], [], handled=False)
        return self._turn(session, result)

    def deleted(self, key: str) -> list[Notice]:
        """`/delete_my_data` confirmed: remove every row and say who must be told."""
        return self.service.delete_everything(key)


def build_care(store: Store, clock: Clock, dialogue: Dialogue) -> CareDoor:
    """The caregiver part, on the same store and clock as the reminders."""
    content = dialogue.content
    words = load_care_words(content.facts)
    checklist = Checklist(load_checklist(content.facts))
    service = CareService(store, clock, words)

    def is_urgent(text: str) -> bool:
        return dialogue.engine.classify(text).safety is not Safety.ROUTINE

    return CareDoor(CareFlows(service, checklist, words, is_urgent=is_urgent), dialogue)
