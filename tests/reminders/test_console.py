"""The local chat with reminders: a newcomer sets a refill date and, on the demo clock
(BOT_CLOCK_SPEED), watches the reminders and then the ladder arrive in order in the chat."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.doors.console import run_chat
from bot.settings import load_settings

SPEED = 200_000.0  # about 55 demo hours a real second
ORDER = (
    "your pump refill is tomorrow",
    "Today is your pump refill day",
    "I have not heard that it was done",
    "Please call your pump clinic today",
    "You have not linked a caregiver, so I could not tell anyone",
    "Your pump may now be empty",
)


async def test_a_newcomer_watches_the_ladder_arrive_in_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings(_env_file=None, emergency_region="UK", bot_clock_speed=SPEED,
                             database_url=f"sqlite:///{tmp_path}/chat.sqlite3")  # fmt: skip
    script = iter(["1", "1", "2", "2", "London", "/refill", "2", "2", "2", "in 9 days",
                   "in 2 days", "1", "1"])  # fmt: skip
    seen: list[str] = []

    def read(prompt: str) -> str:
        line = next(script, None)
        if line is not None:
            return line
        end = time.monotonic() + 20  # then wait while the demo days pass
        while time.monotonic() < end:
            seen.append(capsys.readouterr().out)
            if ORDER[-1] in "".join(seen):
                break
            time.sleep(0.1)
        return "/quit"

    assert await run_chat(settings, read) == 0
    out = "".join(seen) + capsys.readouterr().out
    assert "Saved. Your next reminder is" in out
    positions = [out.find(marker) for marker in ORDER]
    assert -1 not in positions and positions == sorted(positions), positions
    assert out.count("--- ") >= len(ORDER)  # each one arrives as a reminder, with its time
    assert "1) Refill done" in out
