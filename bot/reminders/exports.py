"""Exports a person can keep: an .ics calendar of refill dates and taper steps, and a PNG step
chart of the taper plan. Pure: plans in, bytes out; the calendar is stamped with the `now` it is
given (the injected clock).

The chart shows what the person takes in a day: the amount they typed for each dose ("20 mg")
times the doses of that day, with the unit on the axis ("mg per day"), so 20 mg three times a
day reads as 60. That product is the only arithmetic: it never rounds or suggests a dose, and a
plan whose doses have no number, or mixed units, is drawn as doses per day. It is drawn in
DejaVu Sans (`bot.reply.fonts`); titles come from content/reminders.yaml.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Sequence

from bot.reminders.plans import PlanInfo, RefillPlan, TaperPlan, fmt_time
from bot.reminders.wording import ReminderWords
from bot.reply.fonts import FAMILY, drawable

_AMOUNT = re.compile(r"(\d+(?:[.,]\d+)?)\s*([^\W\d_]+)?")
_UNITS = {"mg": "mg", "milligrams": "mg", "milligram": "mg", "mcg": "mcg", "µg": "mcg",
          "ug": "mcg", "micrograms": "mcg", "ml": "ml", "millilitres": "ml", "milliliters": "ml",
          "g": "g", "grams": "g"}  # fmt: skip
PRODID = "-//Baclofen Companion//reminders//EN"


def calendar(plans: Sequence[PlanInfo], zone: str, words: ReminderWords, now: dt.datetime) -> bytes:
    """An .ics file: refill appointments and alarm dates as all-day events, taper steps as
    events over their days (with the dose times in the title); every DTSTAMP is `now`."""
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    stamp = now.astimezone(dt.UTC).replace(microsecond=0)

    def add(uid: str, title: str, start: dt.date, days: int = 1) -> None:
        event = Event()
        event.add("uid", f"{uid}@baclofen-companion")
        event.add("dtstamp", stamp)
        event.add("summary", title)
        event.add("dtstart", start)
        event.add("dtend", start + dt.timedelta(days=days))
        cal.add_component(event)

    for plan in plans:
        if plan.kind == "refill":
            refill = RefillPlan.from_data(plan.data)
            add(f"refill-{plan.id}", words.text("calendar_refill_title"), refill.appointment)
            add(f"alarm-{plan.id}", words.text("calendar_alarm_title"), refill.alarm)
        elif plan.kind == "taper":
            taper = TaperPlan.from_data(plan.data)
            ordered = sorted(taper.steps, key=lambda s: s.start)
            for number, step in enumerate(ordered, start=1):
                title = words.text(
                    "calendar_step_title",
                    n=str(number),
                    dose=step.dose,
                    times=", ".join(fmt_time(t) for t in step.times),
                )
                add(f"taper-{plan.id}-{number}", title, step.start, step.days)
    return bytes(cal.to_ical())


def _num(day: dt.date) -> float:
    """Matplotlib's day number (days since 1970-01-01)."""
    return float((day - dt.date(1970, 1, 1)).days)


def _amount(dose: str) -> tuple[float, str] | None:
    """The number the person typed for one dose and its unit ("" when none), or None when the
    dose is more than a number and a unit ("60 mg a day", "2 x 10 mg", "1/2 tablet"): nothing
    is worked out from words the bot cannot be sure of."""
    match = _AMOUNT.fullmatch(dose.strip())
    if match is None:
        return None
    unit = (match.group(2) or "").lower()
    return float(match.group(1).replace(",", ".")), _UNITS.get(unit, unit)


def _fmt(value: float) -> str:
    return f"{value:g}"


def daily_amounts(plan: TaperPlan) -> tuple[list[float], str] | None:
    """Each step's amount per day (the typed amount times that day's doses), in step order, and
    their one unit ("" when none was typed); None when a dose has no number or units differ."""
    steps = sorted(plan.steps, key=lambda s: s.start)
    amounts = [_amount(s.dose) for s in steps]
    units = {a[1] for a in amounts if a is not None}
    if any(a is None for a in amounts) or len(units) != 1:
        return None
    return [a[0] * len(s.times) for a, s in zip(amounts, steps, strict=True) if a], units.pop()


def taper_chart(plan: TaperPlan, words: ReminderWords) -> bytes:
    """A PNG step chart of the plan: the amount per day of each step, labelled with the dose as
    typed and how many times a day; the unit on the axis."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import dates as mdates
    from matplotlib import pyplot as plt

    steps = sorted(plan.steps, key=lambda s: s.start)
    per_day = daily_amounts(plan)
    if per_day is not None:
        values, unit = per_day
        label = (
            words.text("chart_y_label", unit=unit) if unit else words.text("chart_y_label_as_typed")
        )
        notes = [
            words.text(
                "chart_step_label",
                total=_fmt(value),
                unit=unit,
                dose=step.dose,
                count=str(len(step.times)),
            )
            for value, step in zip(values, steps, strict=True)
        ]
    else:
        values = [float(len(s.times)) for s in steps]
        label = words.text("chart_y_label_count")
        notes = [step.dose for step in steps]
    figure, axes = plt.subplots(figsize=(8, 4.5), dpi=100)
    try:
        xs: list[float] = []
        ys: list[float] = []
        for step, value, note in zip(steps, values, notes, strict=True):
            xs += [_num(step.start), _num(step.end + dt.timedelta(days=1))]
            ys += [value, value]
            axes.annotate(
                drawable(" ".join(note.split())),
                (_num(step.start), value),
                textcoords="offset points",
                xytext=(2, 6),
                fontsize=9,
                fontfamily=FAMILY,
            )
        axes.plot(xs, ys, drawstyle="steps-post", linewidth=2.5, color="#1f5f99")
        axes.set_ylim(bottom=0, top=max(values) * 1.3 if max(values) > 0 else 1)
        axes.set_ylabel(drawable(label), fontfamily=FAMILY)
        axes.set_title(drawable(words.text("chart_title")), fontfamily=FAMILY)
        axes.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))  # type: ignore[no-untyped-call]
        axes.grid(True, alpha=0.3)
        figure.autofmt_xdate()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", bbox_inches="tight")
    finally:
        plt.close(figure)
    return buffer.getvalue()
