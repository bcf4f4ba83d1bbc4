"""Plans turned into dated occurrences: pump refills, prescribed tapers and the one-off re-check
after the withdrawal checklist said "keep watching". Pure: no I/O.

A refill plan (appointment date, pump alarm date, reminder time) gives reminders before the
appointment and, if it passes unconfirmed, the escalation ladder of `bot.reminders.ladder`, keyed to
days left before the alarm date. A taper plan is only ever the prescriber's plan as the person
typed it: this module never invents, changes or suggests a dose, it only lays out the times.
Local wall-clock times become UTC per occurrence with zoneinfo (never 24-hour steps), so a
reminder stays at 09:00 local across DST changes.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from bot.reminders.ladder import RULES, Ladder, refill_step

UTC = dt.UTC
DEFAULT_REMIND_AT = dt.time(9, 0)
STEP_NOTICE_AT = dt.time(19, 0)  # the evening before a taper step changes
CHECK_AT = dt.time(18, 0)  # the daily question about withdrawal signs
MAX_TAPER_DAYS = 366
MAX_DOSES_PER_DAY = 8
_TIME = re.compile(r"^\s*(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Due:
    """One thing to send at one moment."""

    kind: str  # a rule in bot.reminders.ladder.RULES
    group: str  # what one acknowledgement closes ("refill", "dose:2026-12-01T08:00")
    due_at: dt.datetime  # aware UTC
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def level(self) -> int:
        return int(RULES[self.kind].level)

    @property
    def priority(self) -> int:
        return RULES[self.kind].priority


@dataclass(frozen=True)
class PersonInfo:
    key: str
    voice: str
    region: str | None
    timezone: str
    route: str | None


@dataclass(frozen=True)
class Outgoing:
    """Everything a renderer needs to word one delivery."""

    occurrence_id: int
    kind: str
    plan_kind: str
    plan_data: dict[str, Any]
    payload: dict[str, Any]
    due_at: dt.datetime
    person: PersonInfo
    to_caregiver: bool
    has_caregivers: bool
    late: bool
    maybe_repeat: bool


@dataclass(frozen=True)
class PlanInfo:
    id: int
    kind: str
    status: str
    data: dict[str, Any]
    next_due: dt.datetime | None = None


@dataclass(frozen=True)
class AckResult:
    """What an acknowledgement did: `outcome` is a content key suffix the flows word."""

    outcome: str  # refill_done | taken | skip | snoozed | snooze_limit | fine | already | gone
    plan_kind: str | None = None
    plan_data: dict[str, Any] = field(default_factory=dict)
    snoozes_left: int = 0


def local_moment(day: dt.date, at: dt.time, zone: str) -> dt.datetime:
    """`day` at `at` wall-clock time in `zone`, as aware UTC.

    A time that does not exist (spring forward) moves on by the gap; a time that happens twice
    (autumn back) is the first of the two, so a reminder is sent once.
    """
    tz = ZoneInfo(zone)
    local = dt.datetime.combine(day, at).replace(tzinfo=tz, fold=0)
    return local.astimezone(UTC)


def parse_time(text: str) -> dt.time | None:
    """ "8", "08:00", "8.30", "8pm", "20h15" -> a time of day; None if it is not one."""
    match = _TIME.match(text)
    if not match:
        return None
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half.lower().startswith("p") else 0)
    if hour > 23 or minute > 59:
        return None
    return dt.time(hour, minute)


def parse_times(text: str) -> tuple[dt.time, ...] | None:
    """ "8:00, 14:00 and 20:00" -> sorted distinct times; None if any part is not a time."""
    parts = [p for p in re.split(r"\s*(?:,|;|\band\b|\s)\s*", text.strip()) if p]
    # "8 am" was split in two: glue am/pm back to the number before it.
    glued: list[str] = []
    for part in parts:
        if part.lower() in ("am", "pm", "a.m.", "p.m.") and glued:
            glued[-1] += part
        else:
            glued.append(part)
    times = [parse_time(p) for p in glued]
    if not times or any(t is None for t in times) or len(times) > MAX_DOSES_PER_DAY:
        return None
    return tuple(sorted({t for t in times if t is not None}))


def fmt_time(at: dt.time) -> str:
    return at.strftime("%H:%M")


# -- pump refill ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefillPlan:
    appointment: dt.date
    alarm: dt.date
    remind_at: dt.time = DEFAULT_REMIND_AT

    def to_data(self) -> dict[str, Any]:
        return {
            "appointment": self.appointment.isoformat(),
            "alarm": self.alarm.isoformat(),
            "remind_at": fmt_time(self.remind_at),
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> RefillPlan:
        return cls(
            dt.date.fromisoformat(data["appointment"]),
            dt.date.fromisoformat(data["alarm"]),
            dt.time.fromisoformat(data.get("remind_at", "09:00")),
        )

    @property
    def after_alarm(self) -> bool:
        """The appointment is after the pump's alarm date: book an earlier one."""
        return self.appointment > self.alarm


def refill_schedule(plan: RefillPlan, zone: str, ladder: Ladder, now: dt.datetime) -> list[Due]:
    """Reminders before the appointment, then the ladder if it passes unconfirmed.

    Everything is laid out now; "Refill done" cancels what is left. Moments already past are
    left out, except that a ladder never loses its loudest step.
    """
    dues: list[Due] = []
    for days in ladder.refill_before_days:
        day = plan.appointment - dt.timedelta(days=days)
        dues.append(
            Due(
                "refill_before",
                "refill",
                local_moment(day, plan.remind_at, zone),
                {"days": days, "day": day.isoformat()},
            )
        )
    offset, first_time = ladder.refill_first_check
    day = plan.appointment + dt.timedelta(days=offset)
    last = plan.alarm + dt.timedelta(days=ladder.refill_days_after_alarm)
    at = dt.time.fromisoformat(first_time) if first_time else plan.remind_at
    while day <= max(last, plan.appointment + dt.timedelta(days=1)):
        days_left = (plan.alarm - day).days
        kind = refill_step(ladder, days_left)
        dues.append(
            Due(
                kind,
                "refill",
                local_moment(day, at, zone),
                {"days_left": days_left, "day": day.isoformat()},
            )
        )
        day += dt.timedelta(days=1)
        at = plan.remind_at
    return [d for d in dues if d.due_at > now]


# -- taper --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaperStep:
    """One step exactly as the prescriber gave it: the dose in the person's words, the times."""

    dose: str
    times: tuple[dt.time, ...]
    start: dt.date
    days: int

    @property
    def end(self) -> dt.date:
        """The last day of this step."""
        return self.start + dt.timedelta(days=self.days - 1)

    def to_data(self) -> dict[str, Any]:
        return {
            "dose": self.dose,
            "times": [fmt_time(t) for t in self.times],
            "start": self.start.isoformat(),
            "days": self.days,
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> TaperStep:
        return cls(
            str(data["dose"]),
            tuple(dt.time.fromisoformat(t) for t in data["times"]),
            dt.date.fromisoformat(data["start"]),
            int(data["days"]),
        )


@dataclass(frozen=True)
class TaperPlan:
    steps: tuple[TaperStep, ...]

    def to_data(self) -> dict[str, Any]:
        return {"steps": [s.to_data() for s in self.steps]}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> TaperPlan:
        return cls(tuple(TaperStep.from_data(s) for s in data["steps"]))

    @property
    def first_day(self) -> dt.date:
        return min(s.start for s in self.steps)

    @property
    def last_day(self) -> dt.date:
        return max(s.end for s in self.steps)


def taper_problem(plan: TaperPlan) -> str | None:
    """A reason the plan cannot be kept as typed (a content key), or None."""
    if not plan.steps:
        return "taper_no_steps"
    ordered = sorted(plan.steps, key=lambda s: s.start)
    for before, after in itertools.pairwise(ordered):
        if after.start <= before.end:
            return "taper_overlap"
    if (plan.last_day - plan.first_day).days >= MAX_TAPER_DAYS:
        return "taper_too_long"
    return None


def taper_schedule(plan: TaperPlan, zone: str, ladder: Ladder, now: dt.datetime) -> list[Due]:
    """Each dose time with its missed-dose ladder, each step change the evening before, and one
    question a day about withdrawal signs."""
    dues: list[Due] = []
    steps = sorted(plan.steps, key=lambda s: s.start)
    for number, step in enumerate(steps, start=1):
        if number > 1:
            eve = step.start - dt.timedelta(days=1)
            dues.append(
                Due(
                    "taper_step",
                    f"step:{number}",
                    local_moment(eve, STEP_NOTICE_AT, zone),
                    {"step": number},
                )
            )
        for offset in range(step.days):
            day = step.start + dt.timedelta(days=offset)
            for at in step.times:
                due = local_moment(day, at, zone)
                group = f"dose:{day.isoformat()}T{fmt_time(at)}"
                payload = {"step": number, "day": day.isoformat(), "time": fmt_time(at)}
                dues.append(Due("taper_dose", group, due, payload))
                for minutes, kind in ladder.dose_steps:
                    later = due + dt.timedelta(minutes=minutes)
                    dues.append(Due(kind, group, later, payload))
    day = plan.first_day
    while day <= plan.last_day + dt.timedelta(days=1):
        dues.append(
            Due(
                "taper_check",
                f"check:{day.isoformat()}",
                local_moment(day, CHECK_AT, zone),
                {"day": day.isoformat()},
            )
        )
        day += dt.timedelta(days=1)
    return [d for d in dues if d.due_at > now]


# -- the checklist's re-check --------------------------------------------------------------------


@dataclass(frozen=True)
class RecheckPlan:
    """One reminder to go through the withdrawal checklist again, at `due_at` (aware UTC)."""

    due_at: dt.datetime

    def to_data(self) -> dict[str, Any]:
        return {"due_at": self.due_at.astimezone(UTC).isoformat()}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> RecheckPlan:
        return cls(dt.datetime.fromisoformat(data["due_at"]).astimezone(UTC))


def recheck_schedule(plan: RecheckPlan, now: dt.datetime) -> list[Due]:
    """The one occurrence; it never escalates (see the rule in `bot.reminders.ladder`)."""
    due = Due("recheck_due", "recheck", plan.due_at)
    return [due] if due.due_at > now else []


def schedule(
    kind: str, data: dict[str, Any], zone: str, ladder: Ladder, now: dt.datetime
) -> list[Due]:
    """The occurrences of a stored plan."""
    if kind == "refill":
        return refill_schedule(RefillPlan.from_data(data), zone, ladder, now)
    if kind == "taper":
        return taper_schedule(TaperPlan.from_data(data), zone, ladder, now)
    if kind == "recheck":
        return recheck_schedule(RecheckPlan.from_data(data), now)
    raise ValueError(f"unknown plan kind {kind!r}")
