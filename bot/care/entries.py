"""The caregiver part as the companion sees it: its steps on a person's `Session`.

`Care.register` puts the caregiver commands and buttons in the routing table (private chats
only) and a reader for free text while a card field is open; each maps the session to the
flows' own state (`CareState`, kept in `Session.care`) and back. `alert` is the triage contract's
emergency alert to linked caregivers; `farewells` says who must be told when a person deletes
their data (the store deletes them). This module holds no rules and no text; words a card field
does not take (or that need the safety triage) go on to the dialogue, with the field closed.
"""

from __future__ import annotations

from dataclasses import replace

from bot.care.flows import CareFlows, CareState, CareStep, CareTurn, Who
from bot.care.service import CareService
from bot.conversation.routes import Handler, Passed, Routes, Turn, Visit
from bot.conversation.sessions import Session
from bot.core.engine import Decision, Safety
from bot.reply.messages import Notice


class Care:
    def __init__(self, flows: CareFlows) -> None:
        self.flows = flows

    @property
    def service(self) -> CareService:
        return self.flows.service

    def register(self, routes: Routes) -> None:
        for name, step in self.flows.commands().items():
            routes.command(name, self._on_session(step), personal=True)
        for prefix, step in self.flows.buttons().items():
            routes.button(prefix, self._on_session(step), personal=True)
        routes.reader(self.read)

    @staticmethod
    def who(visit: Visit) -> Who:
        session = visit.session
        return Who(
            key=visit.key,
            name=visit.name,
            voice=session.voice,
            emergency_number=visit.number,
            consent=session.consent,
            route=session.route,
            timezone=session.timezone,
        )

    @staticmethod
    def _turn(session: Session, result: CareTurn) -> Turn:
        session = replace(session, care=result.state.dump())
        return Turn(result.messages, session, notices=tuple(result.notices))

    def _on_session(self, step: CareStep) -> Handler:
        def handle(visit: Visit, arg: str) -> Turn:
            state = CareState.load(visit.session.care)
            return self._turn(visit.session, step(self.who(visit), state, arg))

        return handle

    def read(self, visit: Visit, text: str) -> Turn | Passed:
        """Free text for an open card field; anything else is passed on to the dialogue."""
        state = CareState.load(visit.session.care)
        result = self.flows.text(self.who(visit), state, text)
        if result is not None:
            return self._turn(visit.session, result)
        if state.step:  # the field is closed: the dialogue answers these words instead
            return Passed(replace(visit.session, care=replace(state, step=None).dump()))
        return Passed(visit.session)

    def alert(self, visit: Visit, decision: Decision | None) -> list[Notice]:
        """The triage contract: an emergency alerts the person's linked caregivers."""
        if decision is None or decision.safety is not Safety.EMERGENCY:
            return []
        return self.service.safety_alert(visit.key, visit.number)

    def farewells(self, key: str) -> list[Notice]:
        """`/delete_my_data` confirmed: the linked people to tell that the link ended."""
        return self.service.farewells(key)
