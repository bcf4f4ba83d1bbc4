"""Where doors keep each person's `Session` between messages.

`SqlSessions` keeps them in the store's people table (with the columns the scheduler reads kept
in step); `MemorySessions` keeps them in a dict (tests). A door asks for a session by a key it
chooses (the Telegram user id), and saves the new one after each turn; `delete` removes
everything kept about that key.
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from typing import Any, Protocol

from bot.conversation.dialogue import Session
from bot.reminders.flows import ReminderState
from bot.storage.store import Store


class SessionStore(Protocol):
    def get(self, key: str) -> Session | None: ...

    def save(self, key: str, session: Session) -> None: ...

    def delete(self, key: str) -> None: ...


class MemorySessions:
    """Sessions in memory: forgotten when the process ends."""

    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}

    def get(self, key: str) -> Session | None:
        return self._sessions.get(key)

    def save(self, key: str, session: Session) -> None:
        self._sessions[key] = session

    def delete(self, key: str) -> None:
        self._sessions.pop(key, None)


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(type(value).__name__)


class SqlSessions:
    """`SessionStore` over the people table: the dialogue Session as JSON, and the
    columns the scheduler reads (time zone, region, voice, consent, risk answers, quiet hours)
    kept in step with it. `prefix` turns a door's own key ("123") into a chat key ("tg:123")."""

    def __init__(self, store: Store, now: Any, prefix: str = "") -> None:
        self.store = store
        self.now = now  # a () -> aware datetime (the injected clock's `now`)
        self.prefix = prefix

    def key(self, key: str) -> str:
        return key if key.startswith(self.prefix) else f"{self.prefix}{key}"

    def get(self, key: str) -> Session | None:
        with self.store.tx() as db:
            person = self.store.person(db, self.key(key), self.now(), create=False)
            text = person.session if person is not None else None
        return decode_session(text) if text else None

    def save(self, key: str, session: Session) -> None:
        now = self.now()
        with self.store.tx() as db:
            person = self.store.person(db, self.key(key), now)
            assert person is not None
            if session.consent and not person.consent:
                person.consent_at = now
            person.consent = session.consent
            person.role = session.role
            person.voice = session.voice
            person.route = session.route
            person.region = session.region
            person.timezone = session.timezone
            reminders = getattr(session, "reminders", None)
            if reminders is not None:
                person.high_risk = (
                    list(reminders.high_risk) if reminders.high_risk is not None else None
                )
                start, _, end = (reminders.quiet_hours or "").partition("-")
                person.quiet_start, person.quiet_end = (start or None), (end or None)
            person.session = encode_session(session)
            person.updated_at = now

    def delete(self, key: str) -> None:
        self.store.delete_person(self.key(key))

    def close(self) -> None:
        """The store is shared with the scheduler: the door that built it closes it."""


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
