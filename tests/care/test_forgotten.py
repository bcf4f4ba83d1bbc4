"""`/delete_my_data` leaves nothing (issue 12): no row on SQLite or PostgreSQL, no export file,
no byte of the person in the SQLite file or its write-ahead log while the bot still runs; and
the next message opens the onboarding with consent again, never a silent new person.

Played through the local chat, as a person would: onboarding in the UK, a card with their name
and phone, the card and the history exported to their folder, then the deletion."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

from bot.app import App, build
from bot.clock import FakeClock
from bot.conversation.dialogue import Dialogue
from bot.doors.console import Console, Outbox
from bot.settings import load_settings
from bot.storage.models import Person
from tests.databases import rows_about

NAME = "Maria José Núñez-López"
PHONE = "+44 7700 900123"
KEY = "console:local"
TRACES = (
    NAME.encode("utf-8"),
    "Núñez".encode(),
    b"Maria Jos",
    PHONE.encode(),
    b"7700 900123",
    NAME.encode("utf-16-le"),
    b"N\\u00fa\\u00f1ez",  # as JSON would escape it
)


class Typist:
    """Types lines into the local chat and reads what it printed."""

    def __init__(self, app: App) -> None:
        self.out = io.StringIO()
        self.console = Console(app, Outbox(), self.out, name="Maria")

    async def type(self, line: str) -> str:
        start = self.out.tell()
        await self.console.handle(line)
        return self.out.getvalue()[start:]

    async def press(self, label: str) -> str:
        labels = [b.label for b in self.console.choices]
        assert label in labels, (label, labels)
        return await self.type(str(labels.index(label) + 1))


@pytest.fixture
def app(db_url: str, clock: FakeClock, dialogue: Dialogue, data_dir: Path) -> Iterator[App]:
    settings = load_settings(_env_file=None, database_url=db_url, data_dir=data_dir)
    built = build(settings, Outbox(), clock=clock, dialogue=dialogue)
    yield built
    built.store.close()


async def fill(chat: Typist) -> None:
    await chat.type("/start")
    for label in ("I agree", "I take baclofen", "A pump", "UK (999)"):
        await chat.press(label)
    await chat.type("London")
    await chat.type("/card")
    await chat.press("Change the card")
    await chat.press("Name")
    await chat.type(NAME)
    await chat.press("Prescriber phone")
    await chat.type(PHONE)
    await chat.press("Done")
    await chat.type("/history")


def leftovers(app: App) -> list[str]:
    """Every table's rows that still hold the name or the phone (a raw scan)."""
    found = []
    with app.store.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                joined = " ".join(str(v) for v in row)
                if NAME in joined or PHONE in joined or KEY in joined:
                    found.append(table)
    return found


def sqlite_files(db_url: str) -> list[Path]:
    path = Path(db_url.removeprefix("sqlite:///"))
    return [p for p in (path, Path(f"{path}-wal")) if p.exists()]


async def test_deleting_leaves_no_row_no_file_and_no_byte_then_consent_is_asked_again(
    app: App, db_url: str, data_dir: Path
) -> None:
    chat = Typist(app)
    await fill(chat)
    kept = app.files.files(KEY)
    assert len(kept) >= 2  # the card as a picture, twice (before and after the changes)
    assert leftovers(app)  # there is something to delete
    if db_url.startswith("sqlite"):  # and, while the bot runs, the log holds it
        assert any(trace in f.read_bytes() for f in sqlite_files(db_url) for trace in TRACES)
        # SQLite's own checkpoint (every 1000 pages) copies it into the database file too.
        with app.store.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
            # Deleted rows are zeroed: set by the store, whatever the build's default (Debian's
            # SQLite has it on already, so this machine cannot show the difference in bytes).
            assert conn.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
        assert NAME.encode() in Path(db_url.removeprefix("sqlite:///")).read_bytes()
        await chat.type("/history")  # and the bot goes on writing to the log

    await chat.type("/delete_my_data")
    said = await chat.press("Yes, delete it all")
    assert "I have deleted everything I kept about you" in said
    assert f"I also deleted the {len(kept)} files I saved for you" in said

    assert {k: v for k, v in rows_about(app.store, KEY).items() if v} == {}
    assert leftovers(app) == []
    assert not app.files.folder(KEY).exists() and all(not p.exists() for p in kept)
    if db_url.startswith("sqlite"):
        files = sqlite_files(db_url)
        assert files, "the database file is there"
        for file in files:
            data = file.read_bytes()
            for trace in TRACES:
                assert trace not in data, (file.name, trace)

    # The next message: answered, then the disclaimer and consent; the region is asked later.
    again = await chat.type("can I drink alcohol on baclofen")
    assert "alcohol" in again.lower()
    assert "I agree" in [b.label for b in chat.console.choices]
    assert again.rindex("I am not a doctor") > again.lower().index("alcohol")
    with app.store.tx() as db:
        person = db.scalar(select(Person).where(Person.key == KEY))
    assert person is not None and person.consent is None and person.region is None
    assert app.companion.sessions.get(KEY).step == "consent"  # type: ignore[union-attr]
    onboarding = await chat.press("I agree")
    assert "Who are you?" in onboarding or "I take baclofen" in onboarding


async def test_an_old_button_after_deleting_is_closed_and_consent_is_asked(app: App) -> None:
    chat = Typist(app)
    await fill(chat)
    await chat.type("/delete_my_data")
    old = chat.console.choices  # "Yes, delete it all" / "No, keep it", from before
    await chat.press("Yes, delete it all")
    chat.console.choices = old
    reply = await chat.press("Yes, delete it all")
    assert "no longer open" in reply or "expired" in reply.lower() or "not open" in reply
    assert "I agree" in [b.label for b in chat.console.choices]
    assert rows_about(app.store, KEY)["people"] == 1  # a new person, now asked for consent
