"""The one clock every door and the scheduler read: real time, a test's fake time, or demo time.

`SystemClock` is real UTC time. `FakeClock` is set and advanced by tests. `ScaledClock` runs the
demo (`BOT_CLOCK_SPEED`, e.g. 3600 = an hour per second) and converts a demo-time due moment to
the real moment to wake at, so the demo drives the very same code paths as real time. Nothing
else in the code may call `datetime.now()`; this module must never hold any reminder rule.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

UTC = dt.UTC


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current moment, an aware UTC datetime."""
        ...

    def wake_at(self, due: dt.datetime) -> dt.datetime:
        """The real moment (aware UTC) to wake up for something due at `due` on this clock."""
        ...

    @property
    def speed(self) -> float:
        """How many clock seconds pass per real second (1 for real time)."""
        ...


def _aware(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError("the clock only deals in aware datetimes")
    return moment.astimezone(UTC)


class SystemClock:
    """Real time."""

    speed = 1.0

    def now(self) -> dt.datetime:
        return dt.datetime.now(UTC)

    def wake_at(self, due: dt.datetime) -> dt.datetime:
        return _aware(due)


class FakeClock:
    """Time that moves only when a test says so."""

    speed = 1.0

    def __init__(self, start: dt.datetime) -> None:
        self._now = _aware(start)

    def now(self) -> dt.datetime:
        return self._now

    def set(self, moment: dt.datetime) -> None:
        self._now = _aware(moment)

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        self._now += delta
        return self._now

    def wake_at(self, due: dt.datetime) -> dt.datetime:
        return _aware(due)


class ScaledClock:
    """Demo time: starts at `start` (default: now) and runs `speed` times faster than real time."""

    def __init__(
        self,
        speed: float,
        start: dt.datetime | None = None,
        real: Clock | None = None,
    ) -> None:
        if speed <= 0:
            raise ValueError("the clock speed must be above 0")
        self._speed = float(speed)
        self._real = real or SystemClock()
        self._real_start = self._real.now()
        self._start = _aware(start) if start else self._real_start

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> dt.datetime:
        return self._start + (self._real.now() - self._real_start) * self._speed

    def wake_at(self, due: dt.datetime) -> dt.datetime:
        return self._real_start + (_aware(due) - self._start) / self._speed

    def set(self, moment: dt.datetime) -> None:
        """Jump: demo time is `moment` now, and runs on from there at the same speed."""
        self._real_start = self._real.now()
        self._start = _aware(moment)


def make_clock(speed: float = 1.0) -> Clock:
    """The clock for a door: real time at speed 1, demo time otherwise."""
    return SystemClock() if speed == 1 else ScaledClock(speed)
