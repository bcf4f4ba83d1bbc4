"""The composition root: everything a door needs, built here once, the same way for every door.

`build(settings, notifier)` loads and checks `intents/` and `content/` (a bad file stops start-up
with the file, the entry and the problem named), opens the store (applying the migrations), and
puts together the clock, the dialogue, the reminder service with the words of every reminder
(caregiver alerts with their "I'm on it" buttons, the checklist's re-check), the caregiver part,
the companion, and the scheduler with its leader election. A door builds its `Notifier` (how it
sends to a chat key), then the app, then only translates between its transport and
`app.companion`; `start` and `stop` run the scheduler. No object is changed after it is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.care.checklist import Checklist, load_checklist
from bot.care.entries import Care
from bot.care.flows import CareFlows, CaregiverButtons, RecheckWording
from bot.care.rules import load_care_words
from bot.care.service import CareService
from bot.clock import Clock, make_clock
from bot.companion import Companion
from bot.conversation.dialogue import Dialogue
from bot.conversation.sessions import SqlSessions
from bot.core.engine import Engine
from bot.reminders.flows import Wording
from bot.reminders.leader import Leadership
from bot.reminders.scheduler import ReminderScheduler
from bot.reminders.service import Notifier, Reminders
from bot.reply.content import REQUIRED_ANSWERS, Content, load_content
from bot.reply.messages import Attachment
from bot.settings import Settings, code_pepper
from bot.storage.files import ExportFiles
from bot.storage.store import Store, open_store


@dataclass(frozen=True)
class App:
    settings: Settings
    clock: Clock
    store: Store
    dialogue: Dialogue
    reminders: Reminders
    care: Care
    companion: Companion
    scheduler: ReminderScheduler
    leadership: Leadership
    notifier: Notifier  # how the door sends to a chat key (reminders, messages for others)
    files: ExportFiles  # export files kept on disk, for a door that cannot send them (local chat)

    @property
    def content(self) -> Content:
        return self.dialogue.content

    async def start(self) -> None:
        """Run the scheduler here once this process is the leader (at once on SQLite)."""
        await self.leadership.start()

    def keep_file(self, key: str, file: Attachment) -> Path:
        """Save an export in the person's folder, dated by their own calendar; return where."""
        session = self.companion.sessions.get(key)
        zone = ZoneInfo((session.timezone if session else None) or "UTC")
        return self.files.keep(key, file.name, file.data, self.clock.now().astimezone(zone).date())

    async def stop(self) -> None:
        await self.leadership.stop()
        self.store.close()


def build_clock(settings: Settings) -> Clock:
    """The one clock for every door and the scheduler (demo time when BOT_CLOCK_SPEED != 1)."""
    return make_clock(settings.bot_clock_speed)


def build_dialogue(
    settings: Settings,
    clock: Clock | None = None,
    intents_dir: Path | None = None,
    content_dir: Path | None = None,
) -> Dialogue:
    """Load and validate `intents/` and `content/`; raise DataError naming any bad file."""
    return Dialogue(
        Engine.load(intents_dir),
        load_content(content_dir, REQUIRED_ANSWERS),
        default_region=settings.emergency_region,
        approved_only=settings.approved_answers_only,
        clock=clock,
    )


def build(
    settings: Settings,
    notifier: Notifier,
    *,
    clock: Clock | None = None,
    dialogue: Dialogue | None = None,
) -> App:
    """Everything, once. `clock` and `dialogue` are for tests (a fake clock, a dialogue kept
    for a whole test session); otherwise they follow the settings."""
    clock = clock or build_clock(settings)
    dialogue = dialogue or build_dialogue(settings, clock)
    content = dialogue.content
    store = open_store(settings.database_url)
    words = load_care_words(content.facts)
    checklist = Checklist(load_checklist(content.facts), dialogue.engine.triage)
    care_service = CareService(store, clock, words, pepper=code_pepper(settings))
    # Every reminder is worded by the reminder flows, but the checklist's re-check (worded by
    # the checklist); every caregiver alert gets "I'm on it" and "Called the clinic".
    wording = Wording(dialogue.reminder_flows, dialogue.number_in)
    renderer = CaregiverButtons(RecheckWording(wording, checklist), care_service)
    reminders = Reminders(store, clock, notifier, renderer)
    flows = CareFlows(
        care_service,
        checklist,
        words,
        triage=dialogue.engine.classify,
        schedule_recheck=reminders.set_recheck,
        number_in=lambda region: dialogue.number_in(region or ""),
    )
    care = Care(flows)
    files = ExportFiles(settings.data_dir)
    companion = Companion(dialogue, SqlSessions(store, clock), store, reminders, care, files)
    scheduler = ReminderScheduler(reminders)
    leadership = Leadership(settings.database_url, scheduler.start, scheduler.stop)
    return App(
        settings, clock, store, dialogue, reminders, care, companion, scheduler, leadership,
        notifier, files,
    )  # fmt: skip
