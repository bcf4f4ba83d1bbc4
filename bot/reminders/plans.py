"""Plans turned into dated occurrences: pump refills, prescribed tapers and the one-off re-check
after the withdrawal checklist said "keep watching". Pure: no I/O.

A refill plan (pump alarm date, appointment date, reminder time) is keyed to the alarm date:
reminders before a timely appointment, or a countdown to the alarm date asking to rebook a late
one; then the escalation ladder of `bot.reminders.ladder`, by days left before the alarm date,
until the refill is confirmed. Plans are laid out lazily, a few days at a time (`lay_out`).
A taper plan is only ever the prescriber's plan as the person typed it: this module never
invents, changes or suggests a dose, it only lays out the times.
Local wall-clock times become UTC per occurrence with zoneinfo (never 24-hour steps), so a
reminder stays at 09:00 local across DST changes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import re
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from bot.reminders.ladder import DIGEST_AT, RULES, Ladder, refill_step

UTC = dt.UTC
DEFAULT_REMIND_AT = dt.time(9, 0)
STEP_NOTICE_AT = dt.time(19, 0)  # the evening before a taper step changes
CHECK_AT = dt.time(18, 0)  # the daily question about withdrawal signs
MAX_TAPER_DAYS = 366
MAX_DOSES_PER_DAY = 8
WINDOW = dt.timedelta(days=3)  # occurrences are laid out this far ahead (more as time passes)
SCAN_DAYS = 30
MAX_SCAN_DAYS = 800  # how far ahead the next moment of a plan is looked for
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
    plan_id: int = 0
    notes: tuple[str, ...] = ()  # later | caregiver_on_it | unreachable (content notes)


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

    # refill_done | taken | skip | snoozed | snooze_limit | snooze_too_close | later |
    # later_limit | not_yet | fine | already | gone
    outcome: str
    plan_kind: str | None = None
    plan_data: dict[str, Any] = field(default_factory=dict)
    snoozes_left: int = 0
    when: dt.datetime | None = None  # the next dose (too close to snooze), or the later reminder
    occurrence_id: int = 0


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

    def needs_rebook(self, ladder: Ladder) -> bool:
        """Too late: the appointment is after the alarm date or too close to it."""
        return (self.alarm - self.appointment).days < ladder.rebook_margin_days


def _at(base: dt.time, hours: int) -> dt.time:
    """`hours` after `base`, on the clock (past midnight it wraps to that day's early hours, so
    a 21:00 reminder time still gives the emergency step its several times a day)."""
    moment = dt.datetime.combine(dt.date(2000, 1, 1), base) + dt.timedelta(hours=hours)
    return moment.time()


def _ladder_day(
    plan: RefillPlan, ladder: Ladder, day: dt.date, at: dt.time
) -> list[tuple[str, dt.time, dict[str, Any]]]:
    days_left = (plan.alarm - day).days
    kind = refill_step(ladder, days_left)
    payload = {"days_left": days_left, "day": day.isoformat()}
    if kind == "refill_emergency":  # several times a day, through quiet hours
        times = sorted({_at(plan.remind_at, h) for h in ladder.emergency_hours})
        return [(kind, t, payload) for t in times]
    return [(kind, at, payload)]


def refill_day(
    plan: RefillPlan, ladder: Ladder, day: dt.date
) -> list[tuple[str, dt.time, dict[str, Any]]]:
    """What a refill plan sends on one local day: (rule, time, payload).

    Keyed to the alarm date first. When the appointment is in time: reminders before it, then
    (unconfirmed) the ladder by days left before the alarm date. When it is after the alarm date
    or too close: a countdown to the alarm date asking to rebook, then the ladder from
    `urgent_days` before it. Either way the ladder never ends on its own: after the alarm date
    the emergency step comes several times a day until "Refill done" or the plan is stopped.
    """
    out: list[tuple[str, dt.time, dict[str, Any]]] = []
    if plan.needs_rebook(ladder):
        days_left = (plan.alarm - day).days
        if days_left > ladder.urgent_days:
            if days_left in ladder.rebook_days:
                out.append(
                    (
                        "refill_rebook",
                        plan.remind_at,
                        {"days_left": days_left, "day": day.isoformat()},
                    )
                )
            return out
        return _ladder_day(plan, ladder, day, plan.remind_at)
    before = (plan.appointment - day).days
    if before >= 0 and before in ladder.refill_before_days:
        out.append(("refill_before", plan.remind_at, {"days": before, "day": day.isoformat()}))
    offset, first_time = ladder.refill_first_check
    first_day = plan.appointment + dt.timedelta(days=offset)
    if day >= first_day:
        at = dt.time.fromisoformat(first_time) if first_time and day == first_day else None
        out += _ladder_day(plan, ladder, day, at or plan.remind_at)
    return out


def _days(after: dt.datetime, until: dt.datetime, zone: str) -> list[dt.date]:
    """The local days that may hold a moment in (after, until], with a day's margin each side."""
    tz = ZoneInfo(zone)
    first, last = after.astimezone(tz).date(), until.astimezone(tz).date()
    with contextlib.suppress(OverflowError):
        first, last = first - dt.timedelta(days=1), last + dt.timedelta(days=1)
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def refill_schedule(
    plan: RefillPlan, zone: str, ladder: Ladder, after: dt.datetime, until: dt.datetime
) -> list[Due]:
    """The refill plan's moments in (after, until] (laid out a few days at a time: the ladder
    runs until the refill is confirmed, so it has no end to lay out)."""
    dues: list[Due] = []
    for day in _days(after, until, zone):
        for kind, at, payload in refill_day(plan, ladder, day):
            dues.append(Due(kind, "refill", local_moment(day, at, zone), payload))
    return sorted((d for d in dues if after < d.due_at <= until), key=lambda d: d.due_at)


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


def taper_day(plan: TaperPlan, ladder: Ladder, day: dt.date, zone: str) -> list[Due]:
    """One local day of a taper: each dose with its follow-ups, the notice the evening before a
    step changes, the daily question about withdrawal signs and the digest of missed doses."""
    dues: list[Due] = []
    steps = sorted(plan.steps, key=lambda s: s.start)
    for number, step in enumerate(steps, start=1):
        if number > 1 and day == step.start - dt.timedelta(days=1):
            dues.append(
                Due(
                    "taper_step",
                    f"step:{number}",
                    local_moment(day, STEP_NOTICE_AT, zone),
                    {"step": number},
                )
            )
        if not step.start <= day <= step.end:
            continue
        for at in step.times:
            due = local_moment(day, at, zone)
            group = f"dose:{day.isoformat()}T{fmt_time(at)}"
            payload = {"step": number, "day": day.isoformat(), "time": fmt_time(at)}
            dues.append(Due("taper_dose", group, due, payload))
            for minutes, kind in ladder.dose_steps:
                dues.append(Due(kind, group, due + dt.timedelta(minutes=minutes), payload))
        dues.append(
            Due(
                "taper_digest",
                f"digest:{day.isoformat()}",
                local_moment(day, DIGEST_AT, zone),
                {"day": day.isoformat()},
            )
        )
    if plan.first_day <= day <= plan.last_day + dt.timedelta(days=1):
        dues.append(
            Due(
                "taper_check",
                f"check:{day.isoformat()}",
                local_moment(day, CHECK_AT, zone),
                {"day": day.isoformat()},
            )
        )
    return dues


def taper_schedule(
    plan: TaperPlan, zone: str, ladder: Ladder, after: dt.datetime, until: dt.datetime
) -> list[Due]:
    """The taper's moments in (after, until]."""
    dues = [d for day in _days(after, until, zone) for d in taper_day(plan, ladder, day, zone)]
    return sorted((d for d in dues if after < d.due_at <= until), key=lambda d: d.due_at)


def _dose_times(plan: TaperPlan, day: dt.date) -> tuple[dt.time, ...]:
    return next((s.times for s in plan.steps if s.start <= day <= s.end), ())


def _dose_of(group: str) -> tuple[dt.date, dt.time] | None:
    try:
        day, _, at = group.removeprefix("dose:").partition("T")
        return dt.date.fromisoformat(day), dt.time.fromisoformat(at)
    except ValueError:
        return None


def in_one_digest(earlier: str, later: str) -> bool:
    """Will the day's digest list both doses (the same day, both before the digest time)?"""
    a, b = _dose_of(earlier), _dose_of(later)
    return a is not None and b is not None and a[0] == b[0] and b[1] < DIGEST_AT


def next_dose(plan: TaperPlan, zone: str, group: str) -> dt.datetime | None:
    """When the dose after the one of `group` is due (None: it was the last one)."""
    found = _dose_of(group)
    if found is None:
        return None
    day, at = found
    later = [t for t in _dose_times(plan, day) if t > at]
    while not later:
        day += dt.timedelta(days=1)
        if day > plan.last_day:
            return None
        later = list(_dose_times(plan, day))
    return local_moment(day, later[0], zone)


def previous_dose(plan: TaperPlan, group: str) -> str | None:
    """The group of the dose before the one of `group` (None: it was the first one)."""
    found = _dose_of(group)
    if found is None:
        return None
    day, at = found
    earlier = [t for t in _dose_times(plan, day) if t < at]
    while not earlier:
        day -= dt.timedelta(days=1)
        if day < plan.first_day:
            return None
        earlier = list(_dose_times(plan, day))
    return f"dose:{day.isoformat()}T{fmt_time(earlier[-1])}"


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


def recheck_schedule(plan: RecheckPlan, after: dt.datetime, until: dt.datetime) -> list[Due]:
    """The one occurrence; it never escalates (see the rule in `bot.reminders.ladder`)."""
    due = Due("recheck_due", "recheck", plan.due_at)
    return [due] if after < due.due_at <= until else []


def schedule(
    kind: str,
    data: dict[str, Any],
    zone: str,
    ladder: Ladder,
    after: dt.datetime,
    until: dt.datetime,
) -> list[Due]:
    """The occurrences of a stored plan due in (after, until]."""
    if kind == "refill":
        return refill_schedule(RefillPlan.from_data(data), zone, ladder, after, until)
    if kind == "taper":
        return taper_schedule(TaperPlan.from_data(data), zone, ladder, after, until)
    if kind == "recheck":
        return recheck_schedule(RecheckPlan.from_data(data), after, until)
    raise ValueError(f"unknown plan kind {kind!r}")


def lay_out(
    kind: str,
    data: dict[str, Any],
    zone: str,
    ladder: Ladder,
    after: dt.datetime,
    now: dt.datetime,
) -> tuple[list[Due], dt.datetime]:
    """What to lay out next, lazily: the moments in (after, now + WINDOW], and at least the
    next one however far it is (so a plan always shows its next reminder). Returns them and the
    moment they are laid out until."""
    until = max(after, now + WINDOW)
    dues = schedule(kind, data, zone, ladder, after, until)
    if dues:
        return dues, until
    step = after
    for _ in range(MAX_SCAN_DAYS // SCAN_DAYS):  # the next moment, a few weeks at a time
        try:
            nxt = step + dt.timedelta(days=SCAN_DAYS)
        except OverflowError:
            break
        found = schedule(kind, data, zone, ladder, step, nxt)
        if found:
            first = found[0].due_at
            return [d for d in found if d.due_at == first], first
        step = nxt
    return [], until
