"""The injected clock and the two settings the reminder part adds."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.clock import FakeClock, ScaledClock, make_clock
from bot.settings import SettingsError, load_settings

UTC = dt.UTC


def test_demo_time_runs_faster_and_converts_due_moments_to_real_ones() -> None:
    real = FakeClock(dt.datetime(2026, 1, 1, 12, 0, tzinfo=UTC))
    demo = ScaledClock(3600, start=dt.datetime(2026, 3, 1, 0, 0, tzinfo=UTC), real=real)
    real.advance(dt.timedelta(seconds=2))
    assert demo.now() == dt.datetime(2026, 3, 1, 2, 0, tzinfo=UTC)  # an hour a second
    wake = demo.wake_at(dt.datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    assert wake == dt.datetime(2026, 1, 1, 12, 0, 9, tzinfo=UTC)
    demo.set(dt.datetime(2026, 4, 1, tzinfo=UTC))
    assert demo.now() == dt.datetime(2026, 4, 1, tzinfo=UTC)
    assert make_clock(1).speed == 1 and make_clock(60).speed == 60


def test_settings_default_to_a_sqlite_file_and_real_time() -> None:
    settings = load_settings(_env_file=None)
    assert settings.database_url.startswith("sqlite:///")
    assert settings.bot_clock_speed == 1


@pytest.mark.parametrize("speed", [0, -5])
def test_a_clock_speed_that_is_not_above_zero_stops_start_up(speed: float) -> None:
    with pytest.raises(SettingsError, match="BOT_CLOCK_SPEED"):
        load_settings(_env_file=None, bot_clock_speed=speed)
