"""The reminder conversations: /refill, /taper, /reminders, the risk questions, quiet hours,
the reminder buttons, and the wording of every reminder sent (`render`). Pure: no I/O.

A flow takes what the person did and their `ReminderState` and returns messages, the new state
and `effects` (save a plan, acknowledge, pause...) that the companion applies through the
reminder service, then `after` words the outcome. `commands()` and `buttons()` say which step
answers which command and button prefix (the dialogue puts them in the routing table: the forms
live in its session). Taper plans are only ever the prescriber's plan as the person typed it:
nothing here invents, changes or suggests a dose. Consent gates every reminder. All words come
from content/reminders.yaml; this module holds none.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo

from bot.reminders.ladder import (
    HIGH_RISK_QUESTIONS,
    LATER,
    MAX_DAYS_AHEAD,
    RULES,
    SNOOZE_GAP,
    SNOOZE_MINUTES,
    Level,
    ladder_for,
)
from bot.reminders.plans import (
    DEFAULT_REMIND_AT,
    AckResult,
    Outgoing,
    PlanInfo,
    RefillPlan,
    TaperPlan,
    TaperStep,
    fmt_time,
    local_moment,
    parse_time,
    parse_times,
    refill_schedule,
    taper_problem,
)
from bot.reminders.wording import ReminderWords
from bot.reply import callback
from bot.reply.messages import Attachment, Button, Message

MAX_STEPS = 12
MAX_DOSE_CHARS = 60
FEATURE_INTENTS = {
    "set_refill_reminder": "refill",
    "set_taper_reminder": "taper",
    "my_reminders": "reminders",
}


@dataclass(frozen=True)
class ReminderState:
    """What the reminder part keeps in a person's session."""

    high_risk: tuple[str, ...] | None = None  # the yes answers; None: not asked yet
    quiet_hours: str | None = None  # "22:00-07:00"
    flow: str | None = None  # the open flow, as JSON
    plans: tuple[PlanInfo, ...] = ()  # a snapshot from the store, never saved in the session


@dataclass(frozen=True)
class Ctx:
    """What flows read about the person and the moment."""

    consent: bool | None
    timezone: str | None
    region: str
    emergency_number: str
    now: dt.datetime

    @property
    def zone(self) -> str:
        return self.timezone or "UTC"

    @property
    def today(self) -> dt.date:
        return self.now.astimezone(ZoneInfo(self.zone)).date()


# -- effects (applied through bot.reminders.service.Reminders) ---------------------------------


@dataclass(frozen=True)
class SavePlan:
    kind: str
    data: dict[str, Any]


@dataclass(frozen=True)
class Acknowledge:
    occurrence_id: int
    action: str


@dataclass(frozen=True)
class SetStatus:
    plan_id: int
    status: str  # active | paused | cancelled


@dataclass(frozen=True)
class Export:
    what: str  # ics | chart


@dataclass(frozen=True)
class MoveAppointment:
    """A new appointment date for a refill plan (from "New appointment date")."""

    plan_id: int
    day: dt.date


Effect = SavePlan | Acknowledge | SetStatus | Export | MoveAppointment


@dataclass(frozen=True)
class FlowResult:
    messages: list[Message]
    state: ReminderState
    effects: tuple[Effect, ...] = ()
    triage: str | None = None  # words to run through the free-text triage next
    reask: bool = True  # the dialogue may re-ask its own open question after this
    accepted: bool = True  # False: typed text did not fit the open question (a reprompt)


FlowCommand = Callable[[Ctx, ReminderState], FlowResult]
FlowButton = Callable[[Ctx, ReminderState, str], FlowResult]


@dataclass(frozen=True)
class Saved:
    """What saving a plan gave back."""

    plan_id: int
    next_due: dt.datetime | None


@dataclass
class _Flow:
    name: str
    step: str
    data: dict[str, Any] = field(default_factory=dict)

    def dump(self) -> str:
        return json.dumps({"name": self.name, "step": self.step, "data": self.data})

    @classmethod
    def load(cls, text: str | None) -> _Flow | None:
        if not text:
            return None
        raw = json.loads(text)
        return cls(raw["name"], raw["step"], raw.get("data", {}))


def parse_date(text: str, ctx: Ctx) -> dt.date | None:
    """A date in the person's words ("next friday", "14 march", "2026-12-03"), or None."""
    import dateparser  # type: ignore[import-untyped]

    text = text.strip()
    if not text or len(text) > 40:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    base = ctx.now.astimezone(ZoneInfo(ctx.zone)).replace(tzinfo=None)
    order = "MDY" if ctx.region in ("US", "CA") else "DMY"
    settings: Any = {
        "RELATIVE_BASE": base,
        "PREFER_DATES_FROM": "future",
        "DATE_ORDER": order,
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    parsed = dateparser.parse(text, languages=["en"], settings=settings)
    return parsed.date() if parsed else None


class ReminderFlows:
    def __init__(self, words: ReminderWords) -> None:
        self.words = words

    # -- small helpers ------------------------------------------------------------------------

    def _t(self, key: str, **values: str) -> str:
        return self.words.text(key, **values)

    def _b(self, key: str, data: str, **values: str) -> Button:
        return Button(self.words.button(key, **values), data)

    def day(self, day: dt.date) -> str:
        return day.strftime(self._t("date_format"))

    def when(self, moment: dt.datetime, zone: str) -> str:
        return moment.astimezone(ZoneInfo(zone)).strftime(self._t("when_format"))

    def _info(self, key: str, **values: str) -> Message:
        return Message(self._t(key, **values), kind="info")

    def _prompt(self, key: str, buttons: tuple[Button, ...] = (), **values: str) -> Message:
        return Message(self._t(key, **values), buttons, kind="prompt")

    def _with(self, state: ReminderState, flow: _Flow | None) -> ReminderState:
        return replace(state, flow=flow.dump() if flow else None)

    def is_open(self, state: ReminderState) -> bool:
        return state.flow is not None

    # -- entry points -------------------------------------------------------------------------

    def commands(self) -> dict[str, FlowCommand]:
        """The commands of this part (the dialogue routes them: the forms live in its session)."""
        return {"refill": self.refill, "taper": self.taper, "reminders": self.reminders}

    def buttons(self) -> dict[str, FlowButton]:
        """The button prefixes of this part, each to its handler (given the data after ":")."""
        return {
            "ack": self.ack,  # a reminder answered: "ack:done:<occurrence>", taken, skip...
            "sign": self.sign,  # a withdrawal sign ticked in the daily check
            "signother": self.sign_other,
            "risk": self.risk,  # the high-risk questions
            "rf": self.form,  # the /refill and /taper forms
            "rp": self.plan,  # one plan in /reminders: pause, resume, change, delete
            "rm": self.menu,  # the /reminders menu: new plans, quiet hours, exports
        }

    def refill(self, ctx: Ctx, state: ReminderState) -> FlowResult:
        return self.command(ctx, state, "refill")

    def taper(self, ctx: Ctx, state: ReminderState) -> FlowResult:
        return self.command(ctx, state, "taper")

    def reminders(self, ctx: Ctx, state: ReminderState) -> FlowResult:
        return self.command(ctx, state, "reminders")

    def command(self, ctx: Ctx, state: ReminderState, name: str) -> FlowResult:
        """/refill, /taper or /reminders (also reached from the feature intents)."""
        if not ctx.consent:
            return FlowResult([self._info("need_consent")], self._with(state, None), reask=False)
        if name == "reminders":
            return FlowResult(self.list_messages(ctx, state), self._with(state, None))
        if state.high_risk is None:
            flow = _Flow("risk", HIGH_RISK_QUESTIONS[0], {"then": name, "yes": []})
            return FlowResult(
                [self._info("risk_intro"), self._risk_ask(HIGH_RISK_QUESTIONS[0])],
                self._with(state, flow),
            )
        return self._begin(ctx, state, name, [])

    def _begin(self, ctx: Ctx, state: ReminderState, name: str, lead: list[Message]) -> FlowResult:
        messages = list(lead)
        if ctx.timezone is None:
            messages.append(self._info("no_timezone_note"))
        if name == "refill":
            messages += [self._info("refill_intro"), self._prompt("refill_ask_alarm")]
            return FlowResult(messages, self._with(state, _Flow("refill", "alarm")))
        messages += [self._info("taper_intro"), self._prompt("taper_ask_dose", n="1")]
        return FlowResult(
            messages, self._with(state, _Flow("taper", "dose", {"steps": [], "cur": {}}))
        )

    def _risk_ask(self, question: str) -> Message:
        buttons = (
            self._b("yes", f"risk:{question}:yes"),
            self._b("no", f"risk:{question}:no"),
        )
        return self._prompt(f"risk_{question}", buttons)

    def reask(self, state: ReminderState) -> list[Message]:
        """The open flow's question, asked again (after a safety reply, say)."""
        flow = _Flow.load(state.flow)
        if flow is None:
            return []
        if flow.name == "risk":
            return [self._risk_ask(flow.step)]
        key = {
            ("refill", "appointment"): "refill_ask_appointment",
            ("refill", "alarm"): "refill_ask_alarm",
            ("refill", "time"): "refill_ask_time",
            ("quiet", "hours"): "quiet_ask",
            ("newdate", "date"): "newdate_ask",
        }.get((flow.name, flow.step))
        if key:
            return [self._prompt(key)]
        if flow.name == "taper" and flow.step in ("dose", "times", "start", "days"):
            n = str(len(flow.data["steps"]) + 1)
            return [self._prompt(f"taper_ask_{flow.step}", n=n)]
        return []

    # -- typed text while a flow is open ------------------------------------------------------

    def text(self, ctx: Ctx, state: ReminderState, text: str) -> FlowResult | None:
        flow = _Flow.load(state.flow)
        if flow is None:
            return None
        text = text.strip()
        if flow.name == "refill" and flow.step in ("appointment", "alarm", "time"):
            return self._refill_text(ctx, state, flow, text)
        if flow.name == "taper" and flow.step in ("dose", "times", "start", "days"):
            return self._taper_text(ctx, state, flow, text)
        if flow.name == "quiet":
            return self._quiet_text(state, text)
        if flow.name == "newdate":
            return self._newdate_text(ctx, state, flow, text)
        if flow.name in ("refill", "taper"):  # a summary or "another step?" waits for a button
            return FlowResult([self._prompt("use_buttons")], state, accepted=False)
        return None  # the risk questions are answered with buttons (and asked again)

    def _read_date(
        self, ctx: Ctx, text: str, past_key: str
    ) -> tuple[dt.date | None, Message | None, bool]:
        """A date from today up to about a year ahead, or the kind reprompt that says why not.
        A date in the past ("yesterday", "last friday") or too far ahead is still read as a
        date (the third value: words that are a date at all, so they are not answered as a
        question)."""
        return self._check_date(ctx, parse_date(text, ctx), text, past_key)

    def _check_date(
        self, ctx: Ctx, day: dt.date | None, text: str, past_key: str
    ) -> tuple[dt.date | None, Message | None, bool]:
        """The same checks for a typed date and a button's: readable, not in the past, not too
        far ahead."""
        if day is None:
            return None, self._prompt("date_unreadable", text=text[:40]), False
        if day < ctx.today:
            return None, self._prompt(past_key, date=self.day(day)), True
        if (day - ctx.today).days > MAX_DAYS_AHEAD:
            return None, self._prompt("date_too_far", date=self.day(day)), True
        return day, None, True

    def _refill_text(self, ctx: Ctx, state: ReminderState, flow: _Flow, text: str) -> FlowResult:
        if flow.step in ("appointment", "alarm"):
            day, problem, readable = self._read_date(
                ctx, text, "date_past" if flow.step == "appointment" else "alarm_past"
            )
            if problem is not None or day is None:
                return FlowResult([problem] if problem else [], state, accepted=readable)
            flow.data[flow.step] = day.isoformat()
            if flow.step == "alarm":
                flow.step = "appointment"
                return FlowResult([self._prompt("refill_ask_appointment")], self._with(state, flow))
            if "time" in flow.data:  # a new appointment date from the summary
                return self._refill_summary(ctx, state, flow, parse_time(flow.data["time"]))
            flow.step = "time"
            use = self._b(
                "use_time",
                f"rf:time:{fmt_time(DEFAULT_REMIND_AT)}",
                time=fmt_time(DEFAULT_REMIND_AT),
            )
            return FlowResult([self._prompt("refill_ask_time", (use,))], self._with(state, flow))
        if flow.step == "time":
            at = parse_time(text)
            if at is None:
                return FlowResult([self._prompt("time_unreadable")], state, accepted=False)
            return self._refill_summary(ctx, state, flow, at)
        return FlowResult([self._prompt("use_buttons")], state, accepted=False)

    def _refill_plan(self, flow: _Flow) -> RefillPlan:
        return RefillPlan(
            dt.date.fromisoformat(flow.data["appointment"]),
            dt.date.fromisoformat(flow.data["alarm"]),
            dt.time.fromisoformat(flow.data.get("time", "09:00")),
        )

    def _refill_summary(
        self, ctx: Ctx, state: ReminderState, flow: _Flow, at: dt.time | None
    ) -> FlowResult:
        flow.data["time"] = fmt_time(at or DEFAULT_REMIND_AT)
        flow.step = "confirm"
        message, listed = self._refill_summary_message(ctx, state, flow)
        flow.data["listed"] = listed
        return FlowResult([message], self._with(state, flow))

    def _refill_listed(self, ctx: Ctx, state: ReminderState, flow: _Flow) -> list[str]:
        """The reminders the summary lists (local dates and times), exactly as they will be laid
        out if saved now: up to the appointment, or up to the alarm date when rebooking."""
        plan = self._refill_plan(flow)
        ladder = ladder_for(state.high_risk)
        last = plan.alarm if plan.needs_rebook(ladder) else min(plan.appointment, plan.alarm)
        end = local_moment(last + dt.timedelta(days=1), dt.time(0), ctx.zone)
        dues = refill_schedule(plan, ctx.zone, ladder, ctx.now, end)
        return [d.due_at.isoformat() for d in dues]

    def _refill_summary_message(
        self, ctx: Ctx, state: ReminderState, flow: _Flow
    ) -> tuple[Message, list[str]]:
        plan = self._refill_plan(flow)
        listed = self._refill_listed(ctx, state, flow)
        days = dict.fromkeys(
            self.day(dt.datetime.fromisoformat(m).astimezone(ZoneInfo(ctx.zone)).date())
            for m in listed
        )
        rebook = plan.needs_rebook(ladder_for(state.high_risk))
        text = self._t(
            "refill_summary_rebook" if rebook else "refill_summary",
            appointment=self.day(plan.appointment),
            alarm=self.day(plan.alarm),
            time=fmt_time(plan.remind_at),
            dates=", ".join(days) or "-",
        )
        if rebook:
            text += "\n" + self._t(
                "refill_after_alarm" if plan.after_alarm else "refill_too_close",
                alarm=self.day(plan.alarm),
            )
        buttons = (
            self._b("save", "rf:save"),
            *((self._b("new_date", "rf:newdate"),) if rebook else ()),
            self._b("start_again", "rf:restart"),
            self._b("cancel", "rf:cancel"),
        )
        return Message(text, buttons, kind="prompt"), listed

    def _taper_text(self, ctx: Ctx, state: ReminderState, flow: _Flow, text: str) -> FlowResult:
        cur: dict[str, Any] = flow.data.setdefault("cur", {})
        n = str(len(flow.data["steps"]) + 1)
        if flow.step == "dose":
            if not text or len(text) > MAX_DOSE_CHARS:
                return FlowResult([self._prompt("taper_dose_unreadable")], state, accepted=False)
            cur["dose"] = text
            flow.step = "times"
            return FlowResult([self._prompt("taper_ask_times", n=n)], self._with(state, flow))
        if flow.step == "times":
            times = parse_times(text)
            if not times:
                return FlowResult([self._prompt("time_unreadable")], state, accepted=False)
            cur["times"] = [fmt_time(t) for t in times]
            flow.step = "start"
            return FlowResult([self._start_ask(flow, n)], self._with(state, flow))
        if flow.step == "start":
            day, problem, readable = self._read_date(ctx, text, "date_past")
            if problem is not None or day is None:
                return FlowResult([problem] if problem else [], state, accepted=readable)
            return self._taper_start(state, flow, day, n)
        if flow.step == "days":
            try:
                days = int(text.split()[0]) if text else 0
            except ValueError:
                days = 0
            if not 1 <= days <= 366:
                return FlowResult([self._prompt("taper_days_unreadable")], state, accepted=False)
            cur["days"] = days
            flow.data["steps"].append(cur)
            flow.data["cur"] = {}
            if len(flow.data["steps"]) >= MAX_STEPS:
                return self._taper_summary(ctx, state, flow)
            flow.step = "more"
            buttons = (self._b("add_step", "rf:addstep"), self._b("no_more_steps", "rf:nomore"))
            return FlowResult([self._prompt("taper_more", buttons, n=n)], self._with(state, flow))
        return FlowResult([self._prompt("use_buttons")], state, accepted=False)

    def _start_ask(self, flow: _Flow, n: str) -> Message:
        steps = flow.data["steps"]
        if not steps:
            return self._prompt("taper_ask_start", n=n)
        last = TaperStep.from_data(steps[-1])
        nxt = last.end + dt.timedelta(days=1)
        button = self._b("from_date", f"rf:from:{nxt.isoformat()}", date=self.day(nxt))
        return self._prompt("taper_ask_start", (button,), n=n)

    def _taper_start(self, state: ReminderState, flow: _Flow, day: dt.date, n: str) -> FlowResult:
        flow.data["cur"]["start"] = day.isoformat()
        flow.step = "days"
        return FlowResult([self._prompt("taper_ask_days", n=n)], self._with(state, flow))

    def _taper_plan(self, flow: _Flow) -> TaperPlan:
        return TaperPlan.from_data({"steps": flow.data["steps"]})

    def _taper_summary(self, ctx: Ctx, state: ReminderState, flow: _Flow) -> FlowResult:
        plan = self._taper_plan(flow)
        problem = taper_problem(plan)
        if problem is not None:
            restart = _Flow("taper", "dose", {"steps": [], "cur": {}})
            return FlowResult(
                [self._info(problem), self._prompt("taper_ask_dose", n="1")],
                self._with(state, restart),
            )
        flow.step = "confirm"
        lines = [self._t("taper_summary_header")]
        for number, step in enumerate(sorted(plan.steps, key=lambda s: s.start), start=1):
            lines.append(
                self._t(
                    "taper_summary_step",
                    n=str(number),
                    dose=step.dose,
                    times=", ".join(fmt_time(t) for t in step.times),
                    start=self.day(step.start),
                    end=self.day(step.end),
                    days=str(step.days),
                )
            )
        lines += [self._t("taper_summary_footer"), self._t("taper_reminder_note")]
        buttons = (
            self._b("save", "rf:save"),
            self._b("start_again", "rf:restart"),
            self._b("cancel", "rf:cancel"),
        )
        messages = [Message("\n".join(lines), buttons, kind="prompt")]
        return FlowResult(messages, self._with(state, flow), (Export("chart_preview"),))

    def _newdate_text(self, ctx: Ctx, state: ReminderState, flow: _Flow, text: str) -> FlowResult:
        day, problem, readable = self._read_date(ctx, text, "date_past")
        if problem is not None or day is None:
            return FlowResult([problem] if problem else [], state, accepted=readable)
        move = MoveAppointment(int(flow.data["plan"]), day)
        return FlowResult([], self._with(state, None), (move,))

    def _quiet_text(self, state: ReminderState, text: str) -> FlowResult:
        parts = [p for p in text.replace("to", "-").replace("–", "-").split("-") if p.strip()]
        times = [parse_time(p) for p in parts]
        if len(times) != 2 or times[0] is None or times[1] is None or times[0] == times[1]:
            return FlowResult([self._prompt("quiet_unreadable")], state, accepted=False)
        start, end = fmt_time(times[0]), fmt_time(times[1])
        state = replace(state, quiet_hours=f"{start}-{end}", flow=None)
        return FlowResult([self._info("quiet_saved", start=start, end=end)], state)

    # -- buttons ------------------------------------------------------------------------------

    def ack(self, ctx: Ctx, state: ReminderState, rest: str) -> FlowResult:
        action, _, occ_text = rest.partition(":")
        occ = callback.number(occ_text)
        if occ is None:
            return FlowResult([self._info("ack_gone")], state)
        return FlowResult([], state, (Acknowledge(occ, action),), reask=False)

    def sign(self, ctx: Ctx, state: ReminderState, rest: str) -> FlowResult:
        index_text, _, occ_text = rest.partition(":")
        buttons = self.words.file.signs.buttons
        index, occ = callback.index(index_text, len(buttons)), callback.number(occ_text)
        if index is None or occ is None:
            return FlowResult([self._info("ack_gone")], state)
        effects = (Acknowledge(occ, "signs"),)
        return FlowResult([], state, effects, triage=buttons[index].says)

    def sign_other(self, ctx: Ctx, state: ReminderState, rest: str) -> FlowResult:
        occ = callback.number(rest)
        closes: tuple[Effect, ...] = (Acknowledge(occ, "signs"),) if occ is not None else ()
        return FlowResult([self._prompt("check_other")], state, closes, reask=False)

    def _no_consent(self, ctx: Ctx, state: ReminderState) -> FlowResult | None:
        if ctx.consent:
            return None
        return FlowResult([self._info("need_consent")], self._with(state, None), reask=False)

    def risk(self, ctx: Ctx, state: ReminderState, rest: str) -> FlowResult:
        return self._no_consent(ctx, state) or self._risk_press(ctx, state, rest)

    def form(self, ctx: Ctx, state: ReminderState, rest: str) -> FlowResult:
        return self._no_consent(ctx, state) or self._flow_press(ctx, state, rest)

    def plan(self, ctx: Ctx, state: ReminderState, rest: str) -> FlowResult:
        return self._no_consent(ctx, state) or self._plan_press(ctx, state, rest)

    def menu(self, ctx: Ctx, state: ReminderState, rest: str) -> FlowResult:
        return self._no_consent(ctx, state) or self._menu_press(ctx, state, rest)

    def _risk_press(self, ctx: Ctx, state: ReminderState, rest: str) -> FlowResult:
        question, _, answer = rest.partition(":")
        flow = _Flow.load(state.flow)
        if flow is None or flow.name != "risk" or flow.step != question:
            return FlowResult([self._info("ack_gone")], state)
        if answer == "yes":
            flow.data["yes"].append(question)
        index = HIGH_RISK_QUESTIONS.index(question) + 1
        if index < len(HIGH_RISK_QUESTIONS):
            flow.step = HIGH_RISK_QUESTIONS[index]
            return FlowResult([self._risk_ask(flow.step)], self._with(state, flow))
        high = tuple(flow.data["yes"])
        state = replace(state, high_risk=high, flow=None)
        saved = self._info("risk_saved_high" if high else "risk_saved_standard")
        return self._begin(ctx, state, flow.data["then"], [saved])

    def _flow_press(self, ctx: Ctx, state: ReminderState, rest: str) -> FlowResult:
        action, _, value = rest.partition(":")
        flow = _Flow.load(state.flow)
        if flow is None:
            return FlowResult([self._info("ack_gone")], state)
        if action == "cancel":
            return FlowResult([self._info("flow_cancelled")], self._with(state, None))
        if action == "restart":
            return self._begin(ctx, self._with(state, None), flow.name, [])
        if action == "time" and flow.name == "refill" and flow.step == "time":
            at = parse_time(value)
            if at is not None:
                return self._refill_summary(ctx, state, flow, at)
        if action == "from" and flow.name == "taper" and flow.step == "start":
            # The button's date is checked as a typed one is: a forged past date is refused.
            pressed = callback.day(value)
            if pressed is None:
                return FlowResult([self._info("ack_gone")], state)
            day, problem, _ = self._check_date(ctx, pressed, value, "date_past")
            if problem is not None or day is None:
                return FlowResult([problem] if problem else [], state, accepted=False)
            n = str(len(flow.data["steps"]) + 1)
            return self._taper_start(state, flow, day, n)
        if action == "addstep" and flow.name == "taper" and flow.step == "more":
            flow.step = "dose"
            n = str(len(flow.data["steps"]) + 1)
            return FlowResult([self._prompt("taper_ask_dose", n=n)], self._with(state, flow))
        if action == "nomore" and flow.name == "taper" and flow.step == "more":
            return self._taper_summary(ctx, state, flow)
        if action == "newdate" and flow.name == "refill" and flow.step == "confirm":
            flow.step = "appointment"
            return FlowResult([self._prompt("refill_ask_appointment")], self._with(state, flow))
        if action == "save" and flow.step == "confirm":
            if flow.name == "refill":
                if self._refill_listed(ctx, state, flow) != flow.data.get("listed"):
                    # Time went on since the summary: never save a list that is not true.
                    message, listed = self._refill_summary_message(ctx, state, flow)
                    flow.data["listed"] = listed
                    changed = self._info("refill_summary_changed")
                    return FlowResult([changed, message], self._with(state, flow))
                data = self._refill_plan(flow).to_data()
            else:
                data = self._taper_plan(flow).to_data()
            return FlowResult([], self._with(state, None), (SavePlan(flow.name, data),))
        return FlowResult([self._info("ack_gone")], state)

    def _plan_press(self, ctx: Ctx, state: ReminderState, rest: str) -> FlowResult:
        action, _, plan_id = rest.partition(":")
        plan = next((p for p in state.plans if str(p.id) == plan_id), None)
        if plan is None:
            return FlowResult([self._info("plan_missing")], state)
        if action == "pause":
            return FlowResult([], state, (SetStatus(plan.id, "paused"),))
        if action == "resume":
            return FlowResult([], state, (SetStatus(plan.id, "active"),))
        if action == "delete":
            buttons = (
                self._b("delete_plan_yes", f"rp:deleteyes:{plan.id}"),
                self._b("keep_plan", f"rp:keep:{plan.id}"),
            )
            return FlowResult([self._prompt("plan_delete_ask", buttons)], state)
        if action == "deleteyes":
            return FlowResult([], state, (SetStatus(plan.id, "cancelled"),))
        if action == "keep":
            return FlowResult([self._info("ack_already")], state)
        if action == "newdate" and plan.kind == "refill":
            flow = _Flow("newdate", "date", {"plan": plan.id})
            return FlowResult([self._prompt("newdate_ask")], self._with(state, flow))
        if action == "change" and plan.kind in ("refill", "taper"):
            return self.command(ctx, state, plan.kind)
        return FlowResult([self._info("ack_gone")], state)

    def _menu_press(self, ctx: Ctx, state: ReminderState, action: str) -> FlowResult:
        if action == "quiet":
            off = self._b("quiet_off", "rm:quietoff")
            return FlowResult(
                [self._prompt("quiet_ask", (off,))], self._with(state, _Flow("quiet", "hours"))
            )
        if action == "quietoff":
            state = replace(state, quiet_hours=None, flow=None)
            return FlowResult([self._info("quiet_off_saved")], state)
        if action in ("ics", "chart"):
            return FlowResult([], state, (Export(action),))
        if action == "newrefill":
            return self.command(ctx, state, "refill")
        if action == "newtaper":
            return self.command(ctx, state, "taper")
        return FlowResult([self._info("ack_gone")], state)

    # -- /reminders ---------------------------------------------------------------------------

    def list_messages(self, ctx: Ctx, state: ReminderState) -> list[Message]:
        messages: list[Message] = []
        if not state.plans:
            messages.append(self._info("list_empty"))
        else:
            messages.append(self._info("list_header"))
        for plan in state.plans:
            if plan.status == "paused":
                status = self._t("status_paused")
            elif plan.next_due is not None:
                status = self._t("status_active", next=self.when(plan.next_due, ctx.zone))
            else:
                status = self._t("status_active_none")
            if plan.kind == "refill":
                refill = RefillPlan.from_data(plan.data)
                text = self._t(
                    "list_refill",
                    appointment=self.day(refill.appointment),
                    alarm=self.day(refill.alarm),
                    time=fmt_time(refill.remind_at),
                    status=status,
                )
            elif plan.kind == "taper":
                taper = TaperPlan.from_data(plan.data)
                text = self._t(
                    "list_taper",
                    steps=str(len(taper.steps)),
                    start=self.day(taper.first_day),
                    end=self.day(taper.last_day),
                    status=status,
                )
            else:  # the checklist's one-off re-check: it can only be deleted
                text = self._t("list_recheck", status=status)
                delete = self._b("delete_plan", f"rp:delete:{plan.id}")
                messages.append(Message(text, (delete,), kind="prompt"))
                continue
            toggle = (
                self._b("resume", f"rp:resume:{plan.id}")
                if plan.status == "paused"
                else self._b("pause", f"rp:pause:{plan.id}")
            )
            buttons = (
                toggle,
                self._b("change", f"rp:change:{plan.id}"),
                self._b("delete_plan", f"rp:delete:{plan.id}"),
            )
            messages.append(Message(text, buttons, kind="prompt"))
        menu: list[Button] = [
            self._b("new_refill", "rm:newrefill"),
            self._b("new_taper", "rm:newtaper"),
        ]
        menu.append(self._b("quiet_hours", "rm:quiet"))
        if state.plans:
            menu.append(self._b("calendar", "rm:ics"))
        if any(p.kind == "taper" for p in state.plans):
            menu.append(self._b("chart", "rm:chart"))
        lines = [self._t("list_menu")]
        if state.quiet_hours:
            start, _, end = state.quiet_hours.partition("-")
            lines.insert(0, self._t("list_quiet", start=start, end=end))
        messages.append(Message("\n".join(lines), tuple(menu), kind="prompt"))
        return messages

    # -- after the companion applied an effect -----------------------------------------------

    def after(self, ctx: Ctx, state: ReminderState, effect: Effect, result: Any) -> FlowResult:
        """Word the outcome of an applied effect (`result` is what the service gave back)."""
        if isinstance(effect, SavePlan):
            assert isinstance(result, Saved)
            nxt = self.when(result.next_due, ctx.zone) if result.next_due else "-"
            key = "refill_saved" if effect.kind == "refill" else "taper_saved"
            return FlowResult([self._info(key, next=nxt)], state)
        if isinstance(effect, Acknowledge):
            assert isinstance(result, AckResult)
            return self._ack_reply(ctx, state, effect, result)
        if isinstance(effect, SetStatus):
            if not result:
                return FlowResult([self._info("plan_missing")], state)
            key = {"paused": "plan_paused", "active": "plan_resumed"}.get(
                effect.status, "plan_deleted"
            )
            return FlowResult([self._info(key)], state)
        if isinstance(effect, Export):
            return FlowResult(self._export(ctx, state, effect, result), state)
        if isinstance(effect, MoveAppointment):
            if not isinstance(result, PlanInfo):
                return FlowResult([self._info("plan_missing")], state)
            refill = RefillPlan.from_data(result.data)
            nxt = self.when(result.next_due, ctx.zone) if result.next_due else "-"
            messages = [self._info("newdate_saved", date=self.day(refill.appointment), next=nxt)]
            if refill.needs_rebook(ladder_for(state.high_risk)):
                key = "refill_after_alarm" if refill.after_alarm else "refill_too_close"
                messages.append(self._info(key, alarm=self.day(refill.alarm)))
            return FlowResult(messages, state)
        return FlowResult([], state)

    def _ack_reply(
        self, ctx: Ctx, state: ReminderState, effect: Acknowledge, result: AckResult
    ) -> FlowResult:
        if effect.action == "signs" and result.outcome in ("signs", "already"):
            return FlowResult([], state)  # the triage reply says what to do
        if result.outcome == "refill_done":
            buttons = (self._b("new_refill", "rm:newrefill"),)
            return FlowResult(
                [self._info("refill_done_reply"), self._prompt("refill_next_ask", buttons)], state
            )
        if result.outcome == "snoozed":
            return FlowResult([self._info("ack_snoozed", minutes=str(SNOOZE_MINUTES))], state)
        if result.outcome == "snooze_too_close" and result.when is not None:
            skip = self._b("skip_this_one", f"ack:skip:{result.occurrence_id}")
            time = result.when.astimezone(ZoneInfo(ctx.zone)).strftime("%H:%M")
            gap = _hours(SNOOZE_GAP)
            return FlowResult(
                [self._prompt("ack_snooze_too_close", (skip,), time=time, hours=gap)], state
            )
        if result.outcome == "later" and result.when is not None:
            return FlowResult([self._info("ack_later", when=self.when(result.when, ctx.zone))],
                              state)  # fmt: skip
        key = {
            "later_limit": "ack_later_limit",
            "not_yet": "ack_not_yet",
            "taken": "ack_taken",
            "skip": "ack_skip",
            "fine": "ack_fine",
            "snooze_limit": "ack_snooze_limit",
            "already": "ack_already",
        }.get(result.outcome, "ack_gone")
        return FlowResult([self._info(key)], state)

    def _export(self, ctx: Ctx, state: ReminderState, effect: Export, plans: Any) -> list[Message]:
        from bot.reminders import exports

        found: list[PlanInfo] = list(plans or ())
        if effect.what == "chart_preview":
            flow = _Flow.load(state.flow)
            if flow is None or flow.name != "taper":
                return []
            png = exports.taper_chart(self._taper_plan(flow), self.words)
            return [
                Message(
                    self._t("chart_caption"),
                    kind="info",
                    file=Attachment("taper.png", png, "image/png"),
                )
            ]
        if effect.what == "chart":
            taper = next((p for p in found if p.kind == "taper"), None)
            if taper is None:
                return [self._info("nothing_to_export")]
            png = exports.taper_chart(TaperPlan.from_data(taper.data), self.words)
            return [
                Message(
                    self._t("chart_caption"),
                    kind="info",
                    file=Attachment("taper.png", png, "image/png"),
                )
            ]
        if not found:
            return [self._info("nothing_to_export")]
        ics = exports.calendar(found, ctx.zone, self.words, ctx.now)
        return [
            Message(
                self._t("calendar_caption"),
                kind="info",
                file=Attachment("reminders.ics", ics, "text/calendar"),
            )
        ]

    # -- the reminders themselves (bot.reminders.service.Renderer) ------------------------------

    def render(self, item: Outgoing, emergency_number: str) -> list[Message]:
        """The words of one delivery, with its notes and buttons."""
        rule = RULES[item.kind]
        zone = item.person.timezone
        values: dict[str, str] = {
            "signs": self.words.file.signs.early,
            "emergency_number": emergency_number,
        }
        kind = item.kind
        if item.plan_kind == "refill":
            refill = RefillPlan.from_data(item.plan_data)
            values.update(date=self.day(refill.appointment), alarm=self.day(refill.alarm))
            if kind == "refill_before":
                days = int(item.payload.get("days", 0))
                kind = {0: "refill_today", 1: "refill_tomorrow"}.get(days, kind)
                values["days"] = str(days)
            if "days_left" in item.payload:
                values["days"] = str(item.payload["days_left"])
        elif item.plan_kind == "taper":
            values.update(missed=str(item.payload.get("missed", "")),
                          count=str(item.payload.get("count", "")))  # fmt: skip
            taper = TaperPlan.from_data(item.plan_data)
            ordered = sorted(taper.steps, key=lambda s: s.start)
            number = int(item.payload.get("step", 1))
            step = ordered[min(max(number, 1), len(ordered)) - 1]
            values.update(
                dose=step.dose,
                times=", ".join(fmt_time(t) for t in step.times),
                time=str(item.payload.get("time", "")),
                date=self.day(step.start),
            )
        lines: list[str] = []
        if item.maybe_repeat:
            lines.append(self.words.file.notes.maybe_repeat)
        if item.late:
            local = item.due_at.astimezone(ZoneInfo(zone))
            lines.append(
                self.words.file.notes.late.format(
                    time=local.strftime("%H:%M"), date=self.day(local.date())
                )
            )
        for note in item.notes:
            lines.append(getattr(self.words.file.notes, note))
        alone = rule.to_caregivers and not item.has_caregivers
        lines.append(self.words.message(kind, item.to_caregiver, alone, **values))
        buttons = self._buttons(item)
        level = rule.level
        message_kind = (
            "emergency"
            if level >= Level.EMERGENCY
            else "urgent"
            if level >= Level.WARNING
            else "prompt"
        )
        return [Message("\n".join(lines), buttons, kind=message_kind)]

    def _buttons(self, item: Outgoing) -> tuple[Button, ...]:
        rule = RULES[item.kind]
        occ = item.occurrence_id
        if not rule.ackable:
            return ()
        if item.plan_kind == "refill":
            done = self._b("refill_done", f"ack:done:{occ}")
            if item.kind == "refill_checkback":
                return (done, self._b("not_yet", f"ack:notyet:{occ}"))
            if item.to_caregiver:
                return (done,)
            new_date = self._b("new_date", f"rp:newdate:{item.plan_id}")
            if rule.level >= Level.EMERGENCY:
                return (done, new_date)  # the pump may be empty: nothing to put off
            return (done, new_date, self._b("later", f"ack:later:{occ}", hours=_hours(LATER)))
        if item.to_caregiver:
            return ()
        if item.kind == "taper_check":
            signs = tuple(
                Button(s.label, f"sign:{i}:{occ}")
                for i, s in enumerate(self.words.file.signs.buttons)
            )
            return (
                self._b("fine", f"ack:fine:{occ}"),
                *signs,
                self._b("other_sign", f"signother:{occ}"),
            )
        return (
            self._b("taken", f"ack:taken:{occ}"),
            self._b("skip", f"ack:skip:{occ}"),
            self._b("snooze", f"ack:snooze:{occ}"),
        )


class Wording:
    """The `Renderer` the scheduler uses: the flows' words, with the person's emergency number."""

    def __init__(self, flows: ReminderFlows, number_for: Callable[[str], str]) -> None:
        self.flows = flows
        self.number_for = number_for

    def render(self, item: Outgoing) -> list[Message]:
        return self.flows.render(item, self.number_for(item.person.region or ""))


def _hours(span: dt.timedelta) -> str:
    """A whole number of hours, as the reminder texts show it ("2")."""
    return str(int(span.total_seconds() // 3600))
