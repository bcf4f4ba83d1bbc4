"""Run the conversations in tests/stories/*.yaml through the companion, as a person would."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.app import build
from bot.clock import FakeClock
from bot.companion import Act, Commanded, Companion, Person, Pressed, Said
from bot.conversation.dialogue import Dialogue
from bot.reply.messages import Message
from bot.settings import load_settings
from tests.databases import RecordingNotifier

STORIES = Path(__file__).resolve().parent / "stories"


def _load() -> list[dict[str, Any]]:
    stories: list[dict[str, Any]] = []
    for path in sorted(STORIES.glob("*.yaml")):
        stories.extend(yaml.safe_load(path.read_text(encoding="utf-8"))["stories"])
    return stories


def _text(messages: list[Message]) -> str:
    return "\n".join(m.text for m in messages)


@pytest.fixture
def companion(dialogue: Dialogue, tmp_path: Path) -> Iterator[Companion]:
    settings = load_settings(_env_file=None, database_url=f"sqlite:///{tmp_path}/db.sqlite3")
    clock = FakeClock(dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC))
    app = build(settings, RecordingNotifier(clock), clock=clock, dialogue=dialogue)
    yield app.companion
    app.store.close()


@pytest.mark.parametrize("story", _load(), ids=lambda s: s["name"])
def test_story(companion: Companion, story: dict[str, Any]) -> None:
    person = Person("test:1")
    offered: dict[str, str] = {}
    for number, step in enumerate(story["steps"], start=1):
        where = f"step {number}: {step}"
        act: Act
        if step.get("start"):
            act = Commanded("start")
        elif "say" in step:
            act = Said(step["say"])
        elif "press" in step:
            assert step["press"] in offered, f"{where}: no button {step['press']!r} on offer"
            act = Pressed(offered[step["press"]])
        elif "command" in step:
            act = Commanded(step["command"])
        else:
            raise AssertionError(f"{where}: unknown step")
        messages = companion.handle(person, act).messages
        offered = {b.label: b.data for m in messages for b in m.buttons}
        text = _text(messages)
        if "first_kind" in step:
            assert messages[0].kind == step["first_kind"], f"{where}\n{text}"
        for expected in step.get("contains", []):
            assert expected in text, f"{where}: {expected!r} not in reply\n{text}"
        for unexpected in step.get("not_contains", []):
            assert unexpected not in text, f"{where}: {unexpected!r} in reply\n{text}"
        for label in step.get("buttons", []):
            assert label in offered, f"{where}: no button {label!r}; offered {list(offered)}"
