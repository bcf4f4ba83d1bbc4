"""Build the shared pieces once (engine, content, dialogue, clock, reminders) for any door.

Every door takes its clock from `build_clock`, so BOT_CLOCK_SPEED drives them all alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from bot.conversation.dialogue import Dialogue
from bot.core.engine import Engine
from bot.reply.content import REQUIRED_ANSWERS, load_content
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.conversation.sessions import SqlSessions
    from bot.reminders.service import Notifier, Reminders
    from bot.storage.store import Store


def build_clock(settings: Settings) -> Clock:
    """The one clock for every door and the scheduler (demo time when BOT_CLOCK_SPEED != 1)."""
    from bot.clock import make_clock

    return make_clock(settings.bot_clock_speed)


def build_dialogue(
    settings: Settings,
    intents_dir: Path | None = None,
    content_dir: Path | None = None,
    clock: Clock | None = None,
) -> Dialogue:
    """Load and validate `intents/` and `content/`; raise DataError naming any bad file."""
    engine = Engine.load(intents_dir)
    content = load_content(content_dir, REQUIRED_ANSWERS)
    return Dialogue(
        engine,
        content,
        default_region=settings.emergency_region,
        approved_only=settings.approved_answers_only,
        clock=clock,
    )


def build_reminders(
    settings: Settings, dialogue: Dialogue, clock: Clock, notifier: Notifier, prefix: str = ""
) -> tuple[Store, SqlSessions, Reminders]:
    """The store (migrated), the sessions kept in it, and the reminder service for a door."""
    from bot.conversation.sessions import SqlSessions
    from bot.reminders.flows import Wording
    from bot.reminders.service import Reminders
    from bot.storage.store import open_store

    store = open_store(settings.database_url)
    sessions = SqlSessions(store, clock.now, prefix=prefix)
    content = dialogue.content
    region = settings.emergency_region

    def number(person_region: str) -> str:
        return content.emergency_number(person_region or region)

    reminders = Reminders(store, clock, notifier, Wording(dialogue.reminder_flows, number))
    return store, sessions, reminders
