"""Where doors keep each person's `Session` between messages.

`MemorySessions` keeps them in a dict (the local chat, tests). A door asks for a session by a
key it chooses (the Telegram user id), and saves the new one after each turn; `delete` removes
everything kept about that key.
"""

from __future__ import annotations

from typing import Protocol

from bot.dialogue import Session


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
