"""The companion: the one place that knows what a person did and where it goes.

A door turns an update into a `Person` (who, as the door knows them, and whether this is a
private chat) and an act: `Said`, `Commanded`, `Pressed` (a button, on an answer or on a
scheduled reminder), `Edited`, `Located` or `Sent` (a picture, a sticker...). `handle` does the
rest: it loads the person's session, routes the act through one routing table (commands and
button prefixes, filled by each feature where it lives: the dialogue with its reminder forms,
and the caregiver part), applies the reminder effects through the reminder service, alerts
linked caregivers after an emergency message, forgets a person who asked (every row, and the
export files kept for them), opens the onboarding with consent for someone it keeps nothing
about (new, or back after deleting), saves, and returns a
`Reply`: the messages for that person, then the messages for other people, for the door to send
in that order. It holds no rules and no text, never sends anything and never calls a door.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from bot.care.entries import Care
from bot.conversation.dialogue import Dialogue
from bot.conversation.routes import Routes, Turn, Visit
from bot.conversation.sessions import Session, SqlSessions
from bot.reminders.flows import (
    Acknowledge,
    Effect,
    Export,
    MoveAppointment,
    Saved,
    SavePlan,
    SetStatus,
)
from bot.reminders.service import Reminders
from bot.reply.messages import Message, Notice
from bot.storage.files import ExportFiles
from bot.storage.store import Store

# The order a door's command menu shows (every routed command, each once: checked at start-up).
MENU = ("start", "help", "refill", "taper", "reminders", "checklist", "invite", "join",
        "unlink", "history", "card", "settings", "about", "sources", "emergency",
        "delete_my_data")  # fmt: skip


@dataclass(frozen=True)
class Person:
    """Who acts, as the door knows them."""

    key: str  # the chat key: "tg:<Telegram user id>", "console:local"
    name: str | None = None  # a first name, shown to the people they are linked with
    private: bool = True  # False: a group chat, where nobody's own data is used or kept
    bot: str = ""  # the door's own name, to point to from a group ("baclofen_bot")


@dataclass(frozen=True)
class Said:
    text: str


@dataclass(frozen=True)
class Commanded:
    name: str  # without the slash
    args: str = ""


@dataclass(frozen=True)
class Pressed:
    data: str  # the button's data


@dataclass(frozen=True)
class Edited:
    text: str  # the new text of a message sent before


@dataclass(frozen=True)
class Located:
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Sent:
    what: str  # voice | sticker | photo | other (bot.conversation.dialogue.MEDIA)
    caption: str | None = None


Act = Said | Commanded | Pressed | Edited | Located | Sent


@dataclass(frozen=True)
class Reply:
    """What a door sends: first `messages` to the person, then `others` to other people."""

    messages: list[Message]
    others: list[Notice] = field(default_factory=list)


class Companion:
    def __init__(
        self,
        dialogue: Dialogue,
        sessions: SqlSessions,
        store: Store,
        reminders: Reminders,
        care: Care,
        files: ExportFiles | None = None,
    ) -> None:
        self.dialogue = dialogue
        self.sessions = sessions
        self.store = store
        self.reminders = reminders
        self.care = care
        self.files = files  # export files on disk (the local chat's), removed with the person
        self.routes = Routes()
        dialogue.register(self.routes)
        care.register(self.routes)
        if sorted(MENU) != sorted(self.routes.commands):
            raise ValueError(f"the menu {MENU} does not list the routed commands once each")

    # -- one act of one person ---------------------------------------------------------------

    def handle(self, person: Person, act: Act) -> Reply:
        if not person.private:  # nothing personal is read or kept, so nothing can leak there
            session = Session()
            visit = Visit(person.key, person.name, session, self.dialogue.number(session))
            return Reply(self._route(person, visit, act).messages)
        stored = self.sessions.get(person.key)
        before = self._with_plans(person.key, stored or Session())
        if stored is None and act != Commanded("start"):  # nobody kept: onboarding, consent
            return self._first_contact(person, before, act)
        visit = Visit(person.key, person.name, before, self.dialogue.number(before))
        turn = self._route(person, visit, act)
        if turn.delete_data:
            others = self.care.farewells(person.key)  # linked people are told the link ended
            self.store.delete_person(person.key)  # then every row about them, in every table
            removed = self.files.remove(person.key) if self.files else 0  # and their exports
            return Reply([*turn.messages, *self.dialogue.files_deleted(removed)], others)
        messages = self._keep(person.key, before, turn)
        return Reply(messages, [*turn.notices, *self.care.alert(visit, turn.decision)])

    def _first_contact(self, person: Person, before: Session, act: Act) -> Reply:
        """Someone the bot keeps nothing about: what they did is answered on a session with the
        onboarding open (safety first, as always), then the disclaimer and the consent question.
        A button is from before (a deleted person's old message): it is no longer open."""
        opened = self.dialogue.start(before).session
        visit = Visit(person.key, person.name, opened, self.dialogue.number(opened))
        if isinstance(act, Pressed):
            turn = self.dialogue.expired(opened)
        else:
            turn = self._route(person, visit, act)
        if turn.delete_data:  # nothing to delete
            turn = replace(turn, session=opened, delete_data=False)
        turn = self.dialogue.first_contact(turn)
        messages = self._keep(person.key, before, turn)
        return Reply(messages, [*turn.notices, *self.care.alert(visit, turn.decision)])

    def _route(self, person: Person, visit: Visit, act: Act) -> Turn:
        dialogue, session = self.dialogue, visit.session
        if isinstance(act, Commanded):
            route = self.routes.commands.get(act.name)
            if route is None:
                return dialogue.unknown_command(session)
            if route.personal and not person.private:
                return dialogue.private_only(session, f"/{act.name}", person.bot)
            return route.handler(visit, act.args)
        if isinstance(act, Pressed):
            found = self.routes.for_button(act.data)
            if found is None or (found[0].personal and not person.private):
                return dialogue.expired(session)
            return found[0].handler(visit, found[1])
        if isinstance(act, Said):
            for read in self.routes.readers:  # an open card field, say; then the dialogue
                taken = read(visit, act.text)
                if isinstance(taken, Turn):
                    return taken
                visit = replace(visit, session=taken.session)
            return dialogue.text(visit.session, act.text)
        if isinstance(act, Edited):
            return dialogue.edited(session, act.text)
        if isinstance(act, Located):
            return dialogue.location(session, act.latitude, act.longitude)
        return dialogue.media(session, act.what, act.caption)

    def _keep(self, key: str, before: Session, turn: Turn) -> list[Message]:
        """Save the session, apply the turn's reminder effects and word their outcome."""
        self.sessions.save(key, turn.session)
        moved = (before.timezone, before.reminders.high_risk)
        if moved != (turn.session.timezone, turn.session.reminders.high_risk):
            self.reminders.reschedule(key)
        messages, session = list(turn.messages), turn.session
        for effect in turn.effects:
            result = self._apply(key, effect)
            if isinstance(effect, (SavePlan, SetStatus, Acknowledge, MoveAppointment)):
                session = self._with_plans(key, session)
            after = self.dialogue.after_effect(session, effect, result)
            messages.extend(after.messages)
            session = after.session
        if session is not turn.session:
            self.sessions.save(key, session)
        return messages

    def _apply(self, key: str, effect: Effect) -> Any:
        if isinstance(effect, SavePlan):
            plan_id = self.reminders.create_plan(key, effect.kind, effect.data)
            plan = next((p for p in self.reminders.plans(key) if p.id == plan_id), None)
            return Saved(plan_id, plan.next_due if plan else None)
        if isinstance(effect, Acknowledge):
            return self.reminders.acknowledge(key, effect.occurrence_id, effect.action)
        if isinstance(effect, SetStatus):
            return self.reminders.set_status(key, effect.plan_id, effect.status)
        if isinstance(effect, Export):
            return self.reminders.plans(key)
        if isinstance(effect, MoveAppointment):
            return self.reminders.move_appointment(key, effect.plan_id, effect.day)
        raise TypeError(type(effect).__name__)

    # -- around the turns --------------------------------------------------------------------

    def load(self, key: str) -> Session:
        """The person's session, with a fresh snapshot of their plans."""
        return self._with_plans(key, self.sessions.get(key) or Session())

    def _with_plans(self, key: str, session: Session) -> Session:
        plans = tuple(self.reminders.plans(key))
        return replace(session, reminders=replace(session.reminders, plans=plans))

    def greet(self, person: Person) -> Reply:
        """A door that speaks first (the local chat): someone known picks up where they were,
        someone new gets the welcome."""
        known = self.sessions.get(person.key) is not None
        return self.handle(person, Commanded("help" if known else "start"))

    def failed(self, person: Person) -> list[Message]:
        """The apology when handling an act failed, with the person's emergency number."""
        stored = self.sessions.get(person.key) if person.private else None
        return self.dialogue.failed(stored or Session()).messages

    def menu(self) -> list[tuple[str, str]]:
        """The commands a door offers in its menu, in order, each with its description."""
        return [(name, self.dialogue.content.text(f"command_{name}")) for name in MENU]

    def local_time(self, key: str) -> str:
        """Now, as the person behind `key` reads the time (in their zone; UTC until set)."""
        zone = (self.sessions.get(key) or Session()).timezone or "UTC"
        return self.dialogue.reminder_flows.when(self.reminders.clock.now(), zone)
