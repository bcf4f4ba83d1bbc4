"""Run the conversations in tests/stories/*.yaml through the dialogue, as a person would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.conversation.dialogue import Dialogue, Session, Turn
from bot.reply.messages import Message

STORIES = Path(__file__).resolve().parent / "stories"


def _load() -> list[dict[str, Any]]:
    stories: list[dict[str, Any]] = []
    for path in sorted(STORIES.glob("*.yaml")):
        stories.extend(yaml.safe_load(path.read_text(encoding="utf-8"))["stories"])
    return stories


def _text(messages: list[Message]) -> str:
    return "\n".join(m.text for m in messages)


@pytest.mark.parametrize("story", _load(), ids=lambda s: s["name"])
def test_story(dialogue: Dialogue, story: dict[str, Any]) -> None:
    session = Session()
    offered: dict[str, str] = {}
    for number, step in enumerate(story["steps"], start=1):
        where = f"step {number}: {step}"
        turn: Turn
        if step.get("start"):
            turn = dialogue.start(session)
        elif "say" in step:
            turn = dialogue.text(session, step["say"])
        elif "press" in step:
            assert step["press"] in offered, f"{where}: no button {step['press']!r} on offer"
            turn = dialogue.press(session, offered[step["press"]])
        elif "command" in step:
            turn = dialogue.command(session, step["command"])
        else:
            raise AssertionError(f"{where}: unknown step")
        session = turn.session
        offered = {b.label: b.data for m in turn.messages for b in m.buttons}
        text = _text(turn.messages)
        if "first_kind" in step:
            assert turn.messages[0].kind == step["first_kind"], f"{where}\n{text}"
        for expected in step.get("contains", []):
            assert expected in text, f"{where}: {expected!r} not in reply\n{text}"
        for unexpected in step.get("not_contains", []):
            assert unexpected not in text, f"{where}: {unexpected!r} in reply\n{text}"
        for label in step.get("buttons", []):
            assert label in offered, f"{where}: no button {label!r}; offered {list(offered)}"
