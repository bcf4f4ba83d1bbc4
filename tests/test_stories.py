"""Run the conversations in tests/stories/*.yaml as people would, on every way in: the companion
itself, the local chat, and Telegram over the loopback Bot API.

A story names the people in it (with the choices they already made) and lists steps. A step is
one thing a person does (`start`, `say`, `command`, `press` a button by its label) or time
passing (`until` someone is offered a button, or `after` a while), with what must come back:
`contains`, `not_contains` and `buttons` for the person who acted, `to` for what others received,
`first_kind` where the kind of a message can be seen (the companion; a door shows no kinds);
`first_line` (words the first line of the first message must hold, in any case) and
`max_lines` (the most lines that first message may have: a safety reply before any answer).
`remember` keeps a value from a reply (a link code) for later steps, as `{name}`. A step with
`doors` runs only there (only Telegram keeps old messages' buttons pressable); a story with
`doors` runs only on those ways in.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from bot.app import App, build
from bot.clock import FakeClock
from bot.companion import Act, Commanded, Person, Pressed, Said
from bot.conversation.dialogue import Dialogue
from bot.conversation.sessions import Session
from bot.doors.console import Console, Outbox
from bot.doors.telegram import TelegramDoor, build_app
from bot.reply.messages import Message
from bot.settings import Settings, load_settings
from bot.storage.models import Occurrence
from tests.e2e.conftest import bot_settings, running
from tests.e2e.fake_bot_api import FakeBotApi, buttons, message_id_of

STORIES = Path(__file__).resolve().parent / "stories"
DOORS = ("companion", "console", "telegram")
FIRST_ID = 101  # Telegram user ids of the people in a story, in order (42 when nobody is named)
Json = dict[str, Any]


def _load() -> list[dict[str, Any]]:
    stories: list[dict[str, Any]] = []
    for path in sorted(STORIES.glob("*.yaml")):
        stories.extend(yaml.safe_load(path.read_text(encoding="utf-8"))["stories"])
    return stories


@dataclass
class Seen:
    """What one person was shown: text, button labels and (where a door shows it) kinds."""

    text: str = ""
    buttons: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    first: str = ""  # the first message's text


# -- the ways in -------------------------------------------------------------------------------


class Way:
    """One way in, with the people of a story. Subclasses say how a person acts and what they
    have been shown since a mark; time and the app are shared."""

    door = ""
    app: App
    clock: FakeClock

    def __init__(self, names: Sequence[str]) -> None:
        self.names = list(names)

    def key(self, who: str) -> str:
        raise NotImplementedError

    def mark(self) -> dict[str, int]:
        raise NotImplementedError

    def seen(self, who: str, since: dict[str, int]) -> Seen:
        raise NotImplementedError

    async def act(self, who: str, step: dict[str, Any], text: str) -> None:
        raise NotImplementedError

    async def settle(self, waiting_for: Sequence[str], since: dict[str, int]) -> None:
        """Let messages in flight arrive (only a network door has any)."""

    def settings(self, folder: Path, **overrides: Any) -> Settings:
        return load_settings(
            _env_file=None, database_url=f"sqlite:///{folder}/story.sqlite3", **overrides
        )


class ByCompanion(Way):
    """Straight into `Companion.handle`, seeing every message with its kind."""

    door = "companion"

    def __init__(self, names: Sequence[str], app_for: Any) -> None:
        super().__init__(names)
        self.log: dict[str, list[Message]] = {}
        self.app = app_for(self)

    async def send(self, chat_key: str, messages: Sequence[Message]) -> list[str]:
        self.log.setdefault(chat_key, []).extend(messages)
        return ["1"]

    def key(self, who: str) -> str:
        return f"test:{who}"

    def mark(self) -> dict[str, int]:
        return {who: len(self.log.get(self.key(who), [])) for who in self.names}

    def seen(self, who: str, since: dict[str, int]) -> Seen:
        messages = self.log.get(self.key(who), [])[since[who] :]
        return Seen(
            "\n".join(m.text for m in messages),
            [b.label for m in messages for b in m.buttons],
            [m.kind for m in messages],
            messages[0].text if messages else "",
        )

    async def act(self, who: str, step: dict[str, Any], text: str) -> None:
        act: Act
        if "press" in step:
            offered = self.log.get(self.key(who), [])
            data = next(
                (b.data for m in reversed(offered) for b in m.buttons if b.label == text), None
            )
            assert data is not None, f"no button {text!r} offered to {who}"
            act = Pressed(data)
        elif text.startswith("/"):
            name, _, args = text[1:].partition(" ")
            act = Commanded(name, args)
        else:
            act = Said(text)
        reply = self.app.companion.handle(Person(self.key(who), _name(self, who)), act)
        self.log.setdefault(self.key(who), []).extend(reply.messages)
        for notice in reply.others:
            await self.send(notice.to, notice.messages)


class ByConsole(Way):
    """The local chat: one `Console` per person on one app; a button is pressed by typing the
    number the chat shows for it."""

    door = "console"

    def __init__(self, names: Sequence[str], app_for: Any) -> None:
        super().__init__(names)
        self.boxes = {f"console:{who}": Outbox() for who in names}
        self.app = app_for(self)
        self.outs = {who: io.StringIO() for who in names}
        self.consoles = {
            who: Console(
                self.app, self.boxes[self.key(who)], self.outs[who], self.key(who), _name(self, who)
            )
            for who in names
        }

    async def send(self, chat_key: str, messages: Sequence[Message]) -> list[str]:
        return await self.boxes[chat_key].send(chat_key, messages)

    def key(self, who: str) -> str:
        return f"console:{who}"

    def mark(self) -> dict[str, int]:
        return {who: len(self.outs[who].getvalue()) for who in self.names}

    def seen(self, who: str, since: dict[str, int]) -> Seen:
        printed = self.outs[who].getvalue()[since[who] :]
        labels = re.findall(r"^    \d+\) (.*)$", printed, flags=re.MULTILINE)
        lines = (line.strip() for line in printed.splitlines())
        text = "\n".join(line.removeprefix("!!! ").removeprefix("! ") for line in lines)
        first = next((block for block in text.split("\n\n") if block.strip()), "")
        return Seen(text, labels, first=first.strip())

    async def act(self, who: str, step: dict[str, Any], text: str) -> None:
        console = self.consoles[who]
        if "press" in step:
            labels = [b.label for b in console.choices]
            assert text in labels, f"no button {text!r} on offer in {who}'s chat: {labels}"
            text = str(labels.index(text) + 1)
        await console.handle(text)

    async def settle(self, waiting_for: Sequence[str], since: dict[str, int]) -> None:
        for console in self.consoles.values():
            console.show_arrivals()


class ByTelegram(Way):
    """Telegram over the loopback Bot API, the bot built by `build_app` and long polling."""

    door = "telegram"
    fake: FakeBotApi

    def __init__(self, names: Sequence[str]) -> None:
        super().__init__(names)
        self.ids = {who: FIRST_ID + n for n, who in enumerate(names)} if names[0] != "me" else {}
        self.ids.setdefault("me", 42)

    def settings(self, folder: Path, **overrides: Any) -> Settings:
        return bot_settings(
            telegram_base_url=f"http://127.0.0.1:{self.fake.port}/bot",
            database_url=f"sqlite:///{folder}/story.sqlite3",
            **overrides,
        )

    def key(self, who: str) -> str:
        return f"tg:{self.ids[who]}"

    def _shown(self, who: str) -> list[Json]:
        methods = ("sendMessage", "sendPhoto", "sendDocument")
        return [
            c.params
            for c in self.fake.calls
            if c.method in methods
            and c.status == 200
            and int(c.params.get("chat_id", 0)) == self.ids[who]
        ]

    def mark(self) -> dict[str, int]:
        return {who: len(self._shown(who)) for who in self.names}

    def seen(self, who: str, since: dict[str, int]) -> Seen:
        shown = self._shown(who)[since[who] :]
        texts = [str(m.get("text") or m.get("caption") or "") for m in shown]
        return Seen(
            "\n".join(texts),
            [label for m in shown for label in buttons(m)],
            first=texts[0] if texts else "",
        )

    async def act(self, who: str, step: dict[str, Any], text: str) -> None:
        user = self.ids[who]
        if "press" in step:
            message_id, data = message_id_of(self.fake, user, text)
            self.fake.user_presses(message_id, data, user_id=user)
        else:
            self.fake.user_says(text, user_id=user)

    async def settle(self, waiting_for: Sequence[str], since: dict[str, int]) -> None:
        for who in waiting_for:
            with contextlib.suppress(TimeoutError):
                await self.fake.wait_for(lambda w=who: len(self._shown(w)) > since[w], timeout=5)
        count = -1
        while count != len(self.fake.calls):  # then until the bot has been quiet for a moment
            count = len(self.fake.calls)
            await asyncio.sleep(0.08)


def _name(way: Way, who: str) -> str:
    """The first name a door knows (Telegram's fake calls everyone "Person <id>")."""
    return f"Person {FIRST_ID + way.names.index(who)}" if who != "me" else "Person 42"


# -- the story runner --------------------------------------------------------------------------


def _fill(text: str, remembered: dict[str, str]) -> str:
    return text.format(**remembered) if remembered else text


def _check(seen: Seen, checks: dict[str, Any], where: str) -> None:
    for expected in checks.get("contains", []):
        assert expected in seen.text, f"{where}: {expected!r} not in\n{seen.text}"
    for unexpected in checks.get("not_contains", []):
        assert unexpected not in seen.text, f"{where}: {unexpected!r} in\n{seen.text}"
    for label in checks.get("buttons", []):
        assert label in seen.buttons, f"{where}: no button {label!r}; offered {seen.buttons}"
    if "first_kind" in checks and seen.kinds:
        assert seen.kinds[0] == checks["first_kind"], f"{where}: kinds {seen.kinds}\n{seen.text}"
    first_line = seen.first.splitlines()[0].lower() if seen.first else ""
    for expected in checks.get("first_line", []):
        assert expected.lower() in first_line, (
            f"{where}: {expected!r} not in the first line\n{seen.text}"
        )
    if "max_lines" in checks:
        lines = len(seen.first.splitlines())
        assert lines <= checks["max_lines"], (
            f"{where}: {lines} lines before any answer\n{seen.first}"
        )


async def _time_passes(way: Way, step: dict[str, Any], since: dict[str, int]) -> None:
    """Time passes: the clock jumps to each next due reminder and everything due goes out."""
    goal = step.get("until")
    if "after" in step:
        amount, unit = str(step["after"]).split()
        way.clock.advance(dt.timedelta(**{unit.rstrip("s") + "s": float(amount)}))
        await way.app.reminders.deliver_due()
        await way.settle([], since)
        return
    assert goal is not None
    for _ in range(100):
        await way.settle([], since)
        if goal["button"] in way.seen(goal["who"], since).buttons:
            return
        with way.app.store.tx() as db:
            due = db.scalar(
                select(func.min(Occurrence.due_at)).where(Occurrence.status == "pending")
            )
        assert due is not None, f"nothing more is due, and {goal} never came"
        way.clock.set(max(due, way.clock.now()))
        await way.app.reminders.deliver_due()
    raise AssertionError(f"{goal} never came")


async def play(way: Way, story: dict[str, Any]) -> None:
    remembered: dict[str, str] = {}
    for number, step in enumerate(story["steps"], start=1):
        where = f"{story['name']}, step {number}: {step}"
        if "doors" in step and way.door not in step["doors"]:
            continue
        since = way.mark()
        who = step.get("who", way.names[0])
        if "until" in step or "after" in step:
            await _time_passes(way, step, since)
        else:
            if step.get("start"):
                text = "/start"
            elif "command" in step:
                text = "/" + _fill(step["command"], remembered)
            else:
                text = _fill(step.get("say", step.get("press", "")), remembered)
            await way.act(who, step, text)
            await way.settle([who, *step.get("to", {})], since)
            seen = way.seen(who, since)
            _check(seen, step, where)
            for name, pattern in step.get("remember", {}).items():
                found = re.search(pattern, seen.text)
                assert found, f"{where}: {pattern!r} not in\n{seen.text}"
                remembered[name] = found.group(1)
        for other, checks in step.get("to", {}).items():
            _check(way.seen(other, since), checks, f"{where} (to {other})")


@contextlib.asynccontextmanager
async def _way(
    door: str, story: dict[str, Any], dialogue: Dialogue, folder: Path
) -> AsyncIterator[Way]:
    people: dict[str, dict[str, Any]] = story.get("people") or {"me": {}}
    names = list(people)
    # Today at 10:00 UTC: a fixed time of day, so which reminder comes first never depends on
    # when the suite runs; the real scheduler's wake-ups stay hours off either way.
    clock = FakeClock(dt.datetime.combine(dt.datetime.now(dt.UTC).date(), dt.time(10), dt.UTC))
    region = story.get("region", "US")
    # The story's own dialogue: the loaded intents and content, on the story's clock.
    talk = Dialogue(dialogue.engine, dialogue.content, region, clock=clock)

    def app_for(way: Way) -> App:
        settings = way.settings(folder, emergency_region=region)
        return build(settings, way, clock=clock, dialogue=talk)  # type: ignore[arg-type]

    way: Way
    if door == "companion":
        way = ByCompanion(names, app_for)
    elif door == "console":
        way = ByConsole(names, app_for)
    else:
        way = ByTelegram(names)
        way.fake = fake = FakeBotApi()
        await fake.start()
        application = build_app(
            way.settings(folder, emergency_region=region), clock=clock, dialogue=talk
        )
        door_: TelegramDoor = application.bot_data["door"]
        way.app = door_.app
    way.clock = clock
    for who, choices in people.items():
        if choices:
            session = Session(**{"consent": True, "region": region, "timezone": "UTC", **choices})
            way.app.companion.sessions.save(way.key(who), session)
    if door == "telegram":
        try:
            async with running(application, fake):
                yield way
        finally:
            await fake.stop()
        return
    await way.app.start()
    try:
        yield way
    finally:
        await way.app.stop()


CASES = [(story, door) for story in _load() for door in story.get("doors", DOORS)]


@pytest.mark.parametrize(("story", "door"), CASES, ids=[f"{s['name']}-{d}" for s, d in CASES])
async def test_story(
    story: dict[str, Any],
    door: str,
    dialogue: Dialogue,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # the local chat saves the files it shows (a chart, a card)
    async with _way(door, story, dialogue, tmp_path) as way:
        await play(way, story)
