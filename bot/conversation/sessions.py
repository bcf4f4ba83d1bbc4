"""What the bot keeps about one person between messages (`Session`), and where (`SqlSessions`).

A `Session` holds the person's choices (role, route, region, time zone, consent), where the
conversation is (the open question, the last answer for /sources), and the state of the parts
that live inside the conversation: the reminder forms (`ReminderState`) and the caregiver flows
(one short JSON string). `SqlSessions` keeps it as JSON in the store's people table, with the
columns the scheduler reads (time zone, region, voice, consent, risk answers, quiet hours) kept
in step, under the person's chat key ("tg:123", "console:local"). Deleting a person is the
store's `delete_person`, never done here.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from bot.clock import Clock
from bot.core.engine import Profile
from bot.reminders.flows import ReminderState
from bot.storage.store import Store

ROLES = ("patient", "caregiver", "professional")


@dataclass(frozen=True)
class Session:
    """What the bot keeps about one person: their choices, and where the conversation is."""

    consent: bool | None = None
    role: str | None = None
    age: str | None = None  # a caregiver's answer: the person they care for is a child or adult
    route: str | None = None
    region: str | None = None
    timezone: str | None = None  # an IANA zone name, such as "Europe/London"
    step: str | None = None  # the onboarding or confirmation question now open
    last_answer: str | None = None  # for /sources
    onboarding: bool = False  # the /start sequence is running (asks every question in turn)
    reminders: ReminderState = field(default_factory=ReminderState)  # /refill, /taper, ...
    care: str | None = None  # caregiver flows: open checklist, card field (bot/care/flows.py)

    @property
    def voice(self) -> str:
        return self.role if self.role in ROLES else "patient"

    @property
    def profile(self) -> Profile:
        route = self.route if self.route in ("oral", "pump", "both") else None
        return Profile(route=route, role=self.role)


class SqlSessions:
    """Sessions in the people table, by chat key."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def get(self, key: str) -> Session | None:
        with self.store.tx() as db:
            person = self.store.person(db, key, self.clock.now(), create=False)
            text = person.session if person is not None else None
        return decode_session(text) if text else None

    def save(self, key: str, session: Session) -> None:
        now = self.clock.now()
        with self.store.tx() as db:
            person = self.store.person(db, key, now)
            assert person is not None
            if session.consent and not person.consent:
                person.consent_at = now
            person.consent = session.consent
            person.role = session.role
            person.voice = session.voice
            person.route = session.route
            person.region = session.region
            person.timezone = session.timezone
            reminders = session.reminders
            person.high_risk = (
                list(reminders.high_risk) if reminders.high_risk is not None else None
            )
            start, _, end = (reminders.quiet_hours or "").partition("-")
            person.quiet_start, person.quiet_end = (start or None), (end or None)
            person.session = encode_session(session)
            person.updated_at = now
            person.unreachable_at = None  # they wrote to us: they can be reached again


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(type(value).__name__)


def encode_session(session: Session) -> str:
    raw = asdict(session)
    if isinstance(raw.get("reminders"), dict):
        raw["reminders"].pop("plans", None)  # a snapshot from the plans table, never kept here
    return json.dumps(raw, sort_keys=True, default=_plain)


def decode_session(text: str) -> Session:
    """A Session from JSON, ignoring fields an older or newer version kept."""
    raw = json.loads(text)
    known = {f.name for f in fields(Session)}
    values = {k: v for k, v in raw.items() if k in known}
    if "reminders" in values:
        rem = values["reminders"] or {}
        risk = rem.get("high_risk")
        values["reminders"] = ReminderState(
            high_risk=tuple(risk) if risk is not None else None,
            quiet_hours=rem.get("quiet_hours"),
            flow=rem.get("flow"),
        )
    return Session(**values)
