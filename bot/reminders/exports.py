"""Exports a person can keep: an .ics calendar of refill dates and taper steps, and a PNG step
chart of the taper plan. Pure: plans in, bytes out.

The chart draws the plan exactly as the person typed it (the number in each step's dose, or the
doses per day when a dose has no number); it never computes, rounds or suggests a dose. Titles
come from content/reminders.yaml.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Sequence

from bot.reminders.plans import PlanInfo, RefillPlan, TaperPlan, fmt_time
from bot.reminders.wording import ReminderWords

_AMOUNT = re.compile(r"(\d+(?:[.,]\d+)?)")
PRODID = "-//Baclofen Companion//reminders//EN"


def calendar(plans: Sequence[PlanInfo], zone: str, words: ReminderWords) -> bytes:
    """An .ics file: refill appointments and alarm dates as all-day events, taper steps as
    events over their days (with the dose times in the title)."""
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    stamp = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)

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


def _amount(dose: str) -> float | None:
    match = _AMOUNT.search(dose)
    return float(match.group(1).replace(",", ".")) if match else None


def taper_chart(plan: TaperPlan, words: ReminderWords) -> bytes:
    """A PNG step chart of the plan as typed, one labelled step per dose change."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import dates as mdates
    from matplotlib import pyplot as plt

    steps = sorted(plan.steps, key=lambda s: s.start)
    amounts = [_amount(s.dose) for s in steps]
    by_amount = all(a is not None for a in amounts)
    values = (
        [a if a is not None else 0.0 for a in amounts]
        if by_amount
        else [float(len(s.times)) for s in steps]
    )
    label = words.text("chart_y_label" if by_amount else "chart_y_label_count")
    figure, axes = plt.subplots(figsize=(8, 4), dpi=100)
    try:
        xs: list[float] = []
        ys: list[float] = []
        for step, value in zip(steps, values, strict=True):
            xs += [_num(step.start), _num(step.end + dt.timedelta(days=1))]
            ys += [value, value]
            axes.annotate(
                step.dose,
                (step.start, value),
                textcoords="offset points",
                xytext=(2, 6),
                fontsize=9,
            )
        axes.plot(xs, ys, drawstyle="steps-post", linewidth=2.5, color="#1f5f99")
        axes.set_ylim(bottom=0, top=max(values) * 1.25 if max(values) > 0 else 1)
        axes.set_ylabel(label)
        axes.set_title(words.text("chart_title"))
        axes.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))  # type: ignore[no-untyped-call]
        axes.grid(True, alpha=0.3)
        figure.autofmt_xdate()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", bbox_inches="tight")
    finally:
        plt.close(figure)
    return buffer.getvalue()
