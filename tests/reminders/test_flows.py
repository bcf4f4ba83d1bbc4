"""The reminder conversations, pure: dates in a person's own words, kind reprompts, consent,
the risk questions asked once, the schedule shown back, and the exports."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.loading import DataError
from bot.reminders.exports import calendar, taper_chart
from bot.reminders.flows import (
    Ctx,
    Export,
    FlowResult,
    ReminderFlows,
    ReminderState,
    SavePlan,
    parse_date,
)
from bot.reminders.plans import PlanInfo, RefillPlan, TaperPlan, TaperStep
from bot.reminders.wording import load_reminder_words
from bot.reply.content import Content
from bot.reply.messages import Message

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)  # a Wednesday


def ctx(**changes: object) -> Ctx:
    values: dict[str, object] = dict(consent=True, timezone="Europe/London", region="UK",
                                     emergency_number="999", now=NOW)  # fmt: skip
    values.update(changes)
    return Ctx(**values)  # type: ignore[arg-type]


def texts(result: FlowResult) -> str:
    return "\n".join(m.text for m in result.messages)


def press_label(flows: ReminderFlows, c: Ctx, state: ReminderState, messages: list[Message],
                label: str) -> FlowResult:  # fmt: skip
    data = next(b.data for m in messages for b in m.buttons if b.label == label)
    return press(flows, c, state, data)


def press(flows: ReminderFlows, c: Ctx, state: ReminderState, data: str) -> FlowResult:
    """A button of this part, to the handler its prefix is routed to."""
    prefix, _, value = data.partition(":")
    return flows.buttons()[prefix](c, state, value)


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("2026-12-03", dt.date(2026, 12, 3)),
        ("14 march", dt.date(2027, 3, 14)),
        ("next friday", dt.date(2026, 11, 27)),
        ("tomorrow", dt.date(2026, 11, 26)),
        ("3/12/2026", dt.date(2026, 12, 3)),  # UK order: day first
        ("31 february", None),
        ("banana", None),
    ],
)
def test_dates_in_the_persons_own_words(words: str, expected: dt.date | None) -> None:
    assert parse_date(words, ctx()) == expected


def test_us_people_write_the_month_first() -> None:
    assert parse_date("3/12/2026", ctx(region="US")) == dt.date(2026, 3, 12)


def test_reminders_need_consent(flows: ReminderFlows) -> None:
    result = flows.command(ctx(consent=False), ReminderState(), "refill")
    assert "need your OK" in texts(result) and result.state.flow is None


def test_refill_flow_end_to_end(flows: ReminderFlows) -> None:
    c = ctx()
    r = flows.command(c, ReminderState(), "refill")
    assert "spinal cord injury at T6" in texts(r)  # the risk questions come first, once
    for _ in range(3):
        r = press_label(flows, c, r.state, r.messages, "No")
    assert r.state.high_risk == ()
    assert "pump alarm date" in texts(r)  # keyed to the alarm date: asked first
    again = flows.command(c, r.state, "refill")
    assert "spinal" not in texts(again)  # not asked twice
    state = r.state
    for typed, reply in (
        ("yesterday", "That date has passed"),
        ("31 february", 'could not read "31 february"'),
        ("2026-12-14", "next pump refill appointment"),
        ("last friday", "That date has passed"),
        ("10 december", "What time of day"),
        ("25:00", "could not read that time"),
        ("8am", "Please check this"),
    ):
        result = flows.text(c, state, typed)
        assert result is not None
        assert reply in texts(result), (typed, texts(result))
        state = result.state
    summary = texts(result)
    assert "Thu 10 Dec 2026" in summary and "Mon 14 Dec 2026" in summary and "08:00" in summary
    assert "Wed 09 Dec 2026" in summary  # the day-before reminder is listed
    saved = press_label(flows, c, state, result.messages, "Save")
    assert saved.effects == (
        SavePlan(
            "refill", {"appointment": "2026-12-10", "alarm": "2026-12-14", "remind_at": "08:00"}
        ),
    )
    assert saved.state.flow is None


def test_an_appointment_after_the_alarm_date_is_flagged(flows: ReminderFlows) -> None:
    c = ctx()
    state = ReminderState(high_risk=())
    state = flows.command(c, state, "refill").state
    for typed in ("15 december", "20 december"):  # the alarm date, then a later appointment
        r = flows.text(c, state, typed)
        assert r is not None
        state = r.state
    r2 = press(flows, c, state, "rf:time:09:00")
    assert r2 is not None and "after the pump alarm date" in texts(r2)


def test_taper_flow_shows_the_whole_plan_back_and_never_a_dose_of_its_own(
    flows: ReminderFlows,
) -> None:
    c = ctx()
    state = flows.command(c, ReminderState(high_risk=()), "taper").state
    steps = [
        ("20 mg", "8:00, 14:00, 20:00", "1 december", "7"),
        ("half a tablet", "8 am, 8 pm", None, "5"),
    ]
    result: FlowResult | None = None
    for n, (dose, times, start, days) in enumerate(steps):
        if n:
            result = press_label(flows, c, state, result.messages, "Add a step")  # type: ignore[union-attr]
            state = result.state
        for typed in (dose, times):
            result = flows.text(c, state, typed)
            assert result is not None
            state = result.state
        if start:
            result = flows.text(c, state, start)
        else:  # the next step starts the day after the last one ended, offered as a button
            result = press_label(flows, c, state, result.messages, "From Tue 08 Dec 2026")  # type: ignore[union-attr]
        assert result is not None
        state = result.state
        result = flows.text(c, state, days)
        assert result is not None
        state = result.state
    result = press_label(flows, c, state, result.messages, "That is all")  # type: ignore[union-attr]
    summary = texts(result)
    assert (
        "Step 1: 20 mg, at 08:00, 14:00, 20:00, from Tue 01 Dec 2026 to Mon 07 Dec 2026 (7 days)"
        in summary
    )
    assert (
        "Step 2: half a tablet, at 08:00, 20:00, from Tue 08 Dec 2026 to Sat 12 Dec 2026" in summary
    )
    assert Export("chart_preview") in result.effects
    saved = press_label(flows, c, result.state, result.messages, "Save")
    (effect,) = saved.effects
    assert isinstance(effect, SavePlan) and effect.kind == "taper"
    assert [s["dose"] for s in effect.data["steps"]] == ["20 mg", "half a tablet"]


def test_exports(flows: ReminderFlows) -> None:
    from icalendar import Calendar

    start = dt.date(2026, 12, 1)
    later = start + dt.timedelta(days=7)
    taper = TaperPlan(
        (TaperStep("20 mg", (dt.time(8),), start, 7), TaperStep("10 mg", (dt.time(8),), later, 7))
    )
    plans = [
        PlanInfo(
            1,
            "refill",
            "active",
            RefillPlan(dt.date(2026, 12, 10), dt.date(2026, 12, 14)).to_data(),
        ),
        PlanInfo(2, "taper", "active", taper.to_data()),
    ]
    cal = Calendar.from_ical(
        calendar(plans, "Europe/London", flows.words, dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC))
    )
    events = [(str(e["summary"]), e.decoded("dtstart")) for e in cal.walk("VEVENT")]
    assert ("Pump refill appointment", dt.date(2026, 12, 10)) in events
    assert ("Pump alarm date", dt.date(2026, 12, 14)) in events
    assert ("Taper step 2: 10 mg, at 08:00", dt.date(2026, 12, 8)) in events
    png = taper_chart(taper, flows.words)
    assert png.startswith(b"\x89PNG") and len(png) > 5000


def test_reminder_words_must_keep_to_their_facts(content: Content, tmp_path: object) -> None:
    from pathlib import Path

    from bot.paths import data_dir

    folder = Path(str(tmp_path))
    text = (data_dir("content") / "reminders.yaml").read_text(encoding="utf-8")
    (folder / "reminders.yaml").write_text(
        text.replace("Please call your pump clinic today.", "Please call within 48 hours.", 1),
        encoding="utf-8",
    )
    with pytest.raises(DataError, match="numbers not in its facts: 48"):
        load_reminder_words(content, folder)


@pytest.mark.parametrize("typed", ["9999-12-30", "in 1000 years", "2028-01-01"])
def test_a_far_future_alarm_date_is_refused_kindly(flows: ReminderFlows, typed: str) -> None:
    c = ctx()
    state = flows.command(c, ReminderState(high_risk=()), "refill").state
    result = flows.text(c, state, typed)
    assert result is not None and result.accepted  # understood as a date, not a question
    assert "more than a year away" in texts(result) and "Please check the date" in texts(result)
    assert result.state == state  # nothing lost: the same question is still open


@pytest.mark.parametrize("typed", ["yesterday", "last friday", "2026-11-01"])
def test_a_past_date_gets_the_kind_reprompt_at_every_date_prompt(
    flows: ReminderFlows, typed: str
) -> None:
    c = ctx()
    refill = flows.command(c, ReminderState(high_risk=()), "refill").state
    appointment = flows.text(c, refill, "2026-12-14")
    assert appointment is not None
    taper = flows.command(c, ReminderState(high_risk=()), "taper").state
    for words in ("10 mg", "8:00"):
        step = flows.text(c, taper, words)
        assert step is not None
        taper = step.state
    plan = PlanInfo(7, "refill", "active", RefillPlan(dt.date(2026, 12, 10),
                    dt.date(2026, 12, 14)).to_data())  # fmt: skip
    newdate = press(flows, c, ReminderState(high_risk=(), plans=(plan,)), "rp:newdate:7").state
    for state in (refill, appointment.state, taper, newdate):
        result = flows.text(c, state, typed)
        assert result is not None and result.accepted
        assert texts(result).startswith("That date has passed"), texts(result)


def test_the_summary_never_lists_a_reminder_that_will_not_be_sent(flows: ReminderFlows) -> None:
    c = ctx(now=dt.datetime(2026, 11, 25, 7, 0, tzinfo=dt.UTC))
    state = flows.command(c, ReminderState(high_risk=()), "refill").state
    for typed in ("9 december", "26 november"):  # the appointment is tomorrow
        r = flows.text(c, state, typed)
        assert r is not None
        state = r.state
    shown = press(flows, c, state, "rf:time:08:00")  # today 08:00 and tomorrow 08:00
    assert "Wed 25 Nov 2026, Thu 26 Nov 2026" in texts(shown)
    later = ctx(now=dt.datetime(2026, 11, 25, 8, 30, tzinfo=dt.UTC))  # Save after 08:00
    again = press(flows, later, shown.state, "rf:save")
    assert again.effects == ()  # not saved with a list that is no longer true
    assert "some reminder times changed" in texts(again)
    assert "Wed 25 Nov" not in texts(again).split("Please check this")[1]
    saved = press(flows, later, again.state, "rf:save")
    assert [type(e).__name__ for e in saved.effects] == ["SavePlan"]


def test_an_appointment_too_late_offers_a_button_for_the_new_date(flows: ReminderFlows) -> None:
    c = ctx()
    state = flows.command(c, ReminderState(high_risk=()), "refill").state
    for typed in ("5 december", "20 december"):  # alarm, then an appointment after it
        r = flows.text(c, state, typed)
        assert r is not None
        state = r.state
    summary = press(flows, c, state, "rf:time:09:00")
    assert "I will count down to the alarm date" in texts(summary)
    assert "New appointment date" in [b.label for b in summary.messages[-1].buttons]
    asked = press_label(flows, c, summary.state, summary.messages, "New appointment date")
    assert "next pump refill appointment" in texts(asked)
    back = flows.text(c, asked.state, "1 december")
    assert back is not None and "Please check this" in texts(back)
    assert "count down" not in texts(back) and "Tue 01 Dec 2026" in texts(back)


def test_a_forged_date_button_gets_the_same_checks_as_a_typed_date(flows: ReminderFlows) -> None:
    c = ctx()
    state = flows.command(c, ReminderState(high_risk=()), "taper").state
    for typed in ("20 mg", "8:00"):
        state = flows.text(c, state, typed).state  # type: ignore[union-attr]
    past = press(flows, c, state, "rf:from:2020-01-01")
    assert "That date has passed" in texts(past) and past.state == state
    typed = flows.text(c, state, "2020-01-01")
    assert typed is not None and texts(typed) == texts(past)
    for forged in ("rf:from:2026-02-30", "rf:from:２０２７-01-01", "rf:from:"):
        result = press(flows, c, state, forged)
        assert texts(result) == "That reminder is no longer open." and result.state == state
    ahead = press(flows, c, state, "rf:from:2026-12-01")
    assert "from what date" not in texts(ahead) and ahead.state != state
