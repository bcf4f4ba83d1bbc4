"""The caregiver part as a door sees it: one call per command, button or message, on a Session.

`CareDoor` maps a person's dialogue `Session` to the caregiver flows and back (the flows' state
is kept in `Session.care`), and hands the door the messages for this person and the `Notice`s
for other people (chat keys such as "tg:123"). `build_care` is the one place the caregiver part
is put together. This module holds no rules and no text; it must never send anything itself,
and never skip the dialogue's safety triage for free text (see `CareFlows.text`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bot.care.checklist import Checklist, load_checklist
from bot.care.flows import COMMANDS, PREFIXES, CareFlows, CareState, CareTurn, RecheckWording, Who
from bot.care.rules import load_care_words
from bot.care.service import CareService
from bot.clock import Clock
from bot.conversation.dialogue import Dialogue, Session
from bot.core.engine import Decision, Safety
from bot.reminders.plans import RecheckPlan
from bot.reply.messages import Message, Notice
from bot.storage.store import Store

if TYPE_CHECKING:
    from bot.reminders.service import Reminders


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

    def after_text(self, key: str, session: Session, decision: Decision | None) -> list[Notice]:
        """The triage contract: an emergency alerts the person's linked caregivers."""
        if decision is None or decision.safety is not Safety.EMERGENCY:
            return []
        return self.service.safety_alert(key, self.dialogue.number(session))

    def deleted(self, key: str) -> list[Notice]:
        """`/delete_my_data` confirmed: remove every row and say who must be told."""
        return self.service.delete_everything(key)


def _recheck_hook(reminders: Reminders, clock: Clock) -> Callable[[str, dt.timedelta], bool]:
    """Sets the checklist's re-check as a one-off reminder plan of the person (a newer one
    replaces an older one)."""

    def schedule(key: str, after: dt.timedelta) -> bool:
        reminders.create_plan(key, "recheck", RecheckPlan(clock.now() + after).to_data())
        return True

    return schedule


def build_care(
    store: Store, clock: Clock, dialogue: Dialogue, reminders: Reminders | None = None
) -> CareDoor:
    """The caregiver part, on the same store and clock as the reminders. With the reminder
    service, a "keep watching" checklist sets a real re-check reminder, worded by the checklist
    (its renderer is wrapped); without it, the person is told to set their own alarm."""
    content = dialogue.content
    words = load_care_words(content.facts)
    checklist = Checklist(load_checklist(content.facts))
    service = CareService(store, clock, words)

    def is_urgent(text: str) -> bool:
        return dialogue.engine.classify(text).safety is not Safety.ROUTINE

    schedule_recheck = None
    if reminders is not None:
        reminders.renderer = RecheckWording(reminders.renderer, checklist)
        schedule_recheck = _recheck_hook(reminders, clock)
    flows = CareFlows(
        service, checklist, words, is_urgent=is_urgent, schedule_recheck=schedule_recheck
    )
    return CareDoor(flows, dialogue)
