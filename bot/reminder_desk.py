"""Where a door meets the reminder part: one dialogue step with the person's stored session,
then the step's effects applied through the reminder service, then their outcomes worded.

Both doors (local chat, Telegram) call `ReminderDesk.turn` instead of keeping sessions
themselves, so a reminder set in either behaves the same. It holds no rules and no text.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from bot.conversation.dialogue import Dialogue, Session, Turn
from bot.conversation.sessions import SqlSessions
from bot.reminders.flows import Acknowledge, Effect, Export, Saved, SavePlan, SetStatus
from bot.reminders.plans import AckResult
from bot.reminders.service import Reminders

log = logging.getLogger(__name__)


class ReminderDesk:
    def __init__(self, dialogue: Dialogue, sessions: SqlSessions, reminders: Reminders) -> None:
        self.dialogue = dialogue
        self.sessions = sessions
        self.reminders = reminders

    def load(self, key: str) -> Session:
        """The person's session, with a fresh snapshot of their plans."""
        session: Session = self.sessions.get(key) or Session()
        plans = tuple(self.reminders.plans(self.sessions.key(key)))
        return replace(session, reminders=replace(session.reminders, plans=plans))

    def turn(self, key: str, step: Callable[[Session], Turn]) -> Turn:
        """Run `step` for the person behind `key`, keep the result, apply its effects."""
        before = self.load(key)
        turn = step(before)
        chat = self.sessions.key(key)
        if turn.delete_data:
            self.sessions.delete(key)
            return turn
        self.sessions.save(key, turn.session)
        if (before.timezone, before.reminders.high_risk) != (
            turn.session.timezone,
            turn.session.reminders.high_risk,
        ):
            self.reminders.reschedule(chat)
        messages = list(turn.messages)
        session = turn.session
        for effect in turn.effects:
            result = self._apply(chat, effect)
            if isinstance(effect, (SavePlan, SetStatus, Acknowledge)):
                plans = tuple(self.reminders.plans(chat))
                session = replace(session, reminders=replace(session.reminders, plans=plans))
            after = self.dialogue.after_effect(session, effect, result)
            messages.extend(after.messages)
            session = after.session
        if session is not turn.session:
            self.sessions.save(key, session)
        return replace(turn, messages=messages, session=session, effects=())

    def _apply(self, chat: str, effect: Effect) -> Any:
        if isinstance(effect, SavePlan):
            plan_id = self.reminders.create_plan(chat, effect.kind, effect.data)
            plan = next((p for p in self.reminders.plans(chat) if p.id == plan_id), None)
            return Saved(plan_id, plan.next_due if plan else None)
        if isinstance(effect, Acknowledge):
            result: AckResult = self.reminders.acknowledge(
                chat, effect.occurrence_id, effect.action
            )
            return result
        if isinstance(effect, SetStatus):
            return self.reminders.set_status(chat, effect.plan_id, effect.status)
        if isinstance(effect, Export):
            return self.reminders.plans(chat)
        raise TypeError(type(effect).__name__)
