"""The caregiver conversations: /invite, /join, /unlink, /checklist, /history, /card and their
buttons ("ca:", "cl:", "hi:", "cd:"), and free text while a card field is open. `commands()` and
`buttons()` say which step answers what (`bot.care.entries` puts them in the companion's routing
table); each step gives back messages for the person who acted, and `Notice`s for the other
people concerned.

The state kept between turns (`CareState`: the open checklist, the card field being typed) lives
in the person's dialogue `Session` as one short JSON string. The rules about who may see what
are in `bot.care.service`; the checklist's rules in `bot.care.checklist`. This module holds no
user-facing text (content/care.yaml, content/checklist.yaml), never interprets a dose, and
never lets a free-text message skip the safety triage (an urgent or emergency message typed
into a card field goes back to the dialogue instead).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo

from bot.care import export, rules
from bot.care.checklist import PREFIX, Checklist, ChecklistState
from bot.care.rules import CareWords
from bot.care.service import CareService, Event, LinkedPerson
from bot.core.engine import Decision, Safety
from bot.reminders.ladder import RULES
from bot.reminders.plans import RefillPlan, TaperPlan, fmt_time
from bot.reply import callback
from bot.reply.messages import Attachment, Button, Message, Notice

HISTORY_LINES = 15  # lines shown in the chat; the files have everything


@dataclass(frozen=True)
class CareState:
    """What the caregiver part keeps in a person's session."""

    checklist: str | None = None  # a ChecklistState token
    step: str | None = None  # "card:<field>" while a card value is being typed

    def dump(self) -> str | None:
        if self.checklist is None and self.step is None:
            return None
        return json.dumps({"checklist": self.checklist, "step": self.step})

    @classmethod
    def load(cls, text: str | None) -> CareState:
        if not text:
            return cls()
        try:
            raw = json.loads(text)
            return cls(raw.get("checklist"), raw.get("step"))
        except (ValueError, AttributeError):
            return cls()


@dataclass(frozen=True)
class Who:
    """The person acting, as the door and their session know them."""

    key: str
    name: str | None
    voice: str
    emergency_number: str
    consent: bool | None
    route: str | None
    timezone: str | None


@dataclass(frozen=True)
class CareTurn:
    messages: list[Message]
    state: CareState
    notices: list[Notice] = field(default_factory=list)


CareStep = Callable[[Who, CareState, str], CareTurn]


class CareFlows:
    def __init__(
        self,
        service: CareService,
        checklist: Checklist,
        words: CareWords,
        triage: Callable[[str], Decision] | None = None,
        schedule_recheck: Callable[[str, dt.timedelta], bool] | None = None,
        number_in: Callable[[str | None], str] | None = None,
    ) -> None:
        self.service = service
        self.checklist = checklist
        self.words = words
        self.triage = triage  # the core's decision about free text (None: never urgent)
        # Sets a one-off "check again" reminder; None (or False back) when there is no way to.
        self.schedule_recheck = schedule_recheck
        # The emergency number of a region (None: the bot's default), for another person's card.
        self.number_in = number_in

    def is_urgent(self, text: str) -> bool:
        return self.triage is not None and self.triage(text).safety is not Safety.ROUTINE

    def commands(self) -> dict[str, CareStep]:
        """The commands of this part, each to its step (given the command's arguments)."""
        return {
            "invite": self.invite,
            "join": self.join,
            "unlink": self.unlink,
            "checklist": self.checklist_command,
            "history": self.history,
            "card": self.card,
        }

    def buttons(self) -> dict[str, CareStep]:
        """The button prefixes of this part, each to its step (given the data after ":")."""
        return {
            rules.PREFIX: self.link_press,  # "ca:": confirm or end a link, take an alert
            PREFIX: self.checklist_press,  # "cl:": the withdrawal checklist
            "hi": self.history_press,  # "hi:": /history, for one person, and its files
            "cd": self.card_press,  # "cd:": editing the emergency card
        }

    def _met(self, who: Who) -> None:
        """Remember the first name the door knows for the person acting."""
        self.service.set_name(who.key, who.name)

    def _t(self, key: str, **values: str) -> str:
        return self.words.text(key, **values)

    def _info(self, key: str, **values: str) -> Message:
        return Message(self._t(key, **values), kind="info")

    def _mine(self, who: Who, notices: list[Notice]) -> tuple[list[Message], list[Notice]]:
        """Split notices into the actor's messages and everyone else's."""
        mine = [m for n in notices if n.to == who.key for m in n.messages]
        return mine, [n for n in notices if n.to != who.key]

    # -- commands ------------------------------------------------------------------------------

    def invite(self, who: Who, state: CareState, args: str) -> CareTurn:
        self._met(who)
        if not who.consent:
            return CareTurn([self._info("need_consent")], state)
        return CareTurn(list(self.service.invite(who.key, who.name).messages), state)

    def join(self, who: Who, state: CareState, args: str) -> CareTurn:
        self._met(who)
        if not args.strip():
            return CareTurn([self._info("join_how")], state)
        mine, others = self._mine(who, self.service.join(who.key, args, who.name))
        return CareTurn(mine, state, others)

    def unlink(self, who: Who, state: CareState, args: str) -> CareTurn:
        self._met(who)
        return CareTurn([self.service.unlink_menu(who.key)], state)

    def checklist_command(self, who: Who, state: CareState, args: str) -> CareTurn:
        self._met(who)
        return self.start_checklist(who, state)

    def history(self, who: Who, state: CareState, args: str) -> CareTurn:
        self._met(who)
        return self._history_menu(who, state)

    def card(self, who: Who, state: CareState, args: str) -> CareTurn:
        self._met(who)
        return self._cards(who, state)

    def start_checklist(self, who: Who, state: CareState) -> CareTurn:
        step = self.checklist.start(who.voice)
        token = step.state.to_token() if step.state else None
        return CareTurn(step.messages, replace(state, checklist=token, step=None))

    # -- buttons -------------------------------------------------------------------------------

    def link_press(self, who: Who, state: CareState, rest: str) -> CareTurn:
        """A link confirmed or declined, a link ended, or a caregiver alert taken."""
        self._met(who)
        action, _, arg = rest.partition(":")
        number = callback.number(arg)
        if number is None:
            return CareTurn([self._info("ack_gone")], state)
        if action in ("ok", "no"):
            notices = self.service.confirm(who.key, number, yes=action == "ok")
        elif action == "un":
            notices = self.service.unlink(who.key, number)
        elif action in rules.ACK_ACTIONS:
            notices = self.service.acknowledge(who.key, number, action).notices
        else:
            return CareTurn([self._info("ack_gone")], state)
        mine, others = self._mine(who, notices)
        return CareTurn(mine, state, others)

    def checklist_press(self, who: Who, state: CareState, rest: str) -> CareTurn:
        self._met(who)
        return self._checklist_press(who, state, rest)

    def history_press(self, who: Who, state: CareState, rest: str) -> CareTurn:
        self._met(who)
        return self._history_press(who, state, rest)

    def card_press(self, who: Who, state: CareState, rest: str) -> CareTurn:
        self._met(who)
        return self._card_press(who, state, rest)

    # -- the checklist -------------------------------------------------------------------------

    def _checklist_press(self, who: Who, state: CareState, rest: str) -> CareTurn:
        kind, _, arg = rest.partition(":")
        if kind == "start":
            return self.start_checklist(who, state)
        if kind in ("share", "noshare"):
            return self._share(who, state, kind, arg)
        current = ChecklistState.from_token(state.checklist)
        step = self.checklist.press(current, rest, who.voice, who.emergency_number)
        if "expired" in step.notes:
            return CareTurn([self._info("ack_gone")], state)
        new = replace(state, checklist=step.state.to_token() if step.state else None)
        messages = list(step.messages)
        if step.result is None:
            return CareTurn(messages, new)
        record = self.service.save_checklist(who.key, step.result.to_data())
        if step.result.outcome == "watch":
            hours = dt.timedelta(hours=self.checklist.spec.recheck_hours)
            scheduled = bool(self.schedule_recheck and self.schedule_recheck(who.key, hours))
            messages.append(self.checklist.recheck_message(who.voice, scheduled))
        targets = self.service.share_targets(who.key)
        if targets:
            messages.append(self._share_prompt(who, targets, record))
        return CareTurn(messages, new)

    def _share_prompt(self, who: Who, targets: Sequence[LinkedPerson], record: int) -> Message:
        patients = [t for t in targets if t.key != who.key and self._is_patient(who, t)]
        buttons: list[Button] = []
        mine = [t for t in targets if t not in patients]
        if mine:  # the person's own caregivers: one link is enough to reach them all
            buttons.append(
                Button(self._t("share_to_caregivers"), f"cl:share:{record}:{mine[0].link_id}")
            )
        for target in patients:
            buttons.append(
                Button(
                    self._t("share_to", name=target.name)[:60],
                    f"cl:share:{record}:{target.link_id}",
                )
            )
        return self.checklist.share_message(who.voice, buttons, record)

    def _is_patient(self, who: Who, target: LinkedPerson) -> bool:
        return target.key in {p.key for p in self.service.patients(who.key)}

    def _share(self, who: Who, state: CareState, kind: str, arg: str) -> CareTurn:
        record_text, _, link_text = arg.partition(":")
        if kind == "noshare":
            return CareTurn([self._info("not_shared")], state)
        record, link = callback.number(record_text), callback.number(link_text)
        if record is None or link is None:
            return CareTurn([self._info("ack_gone")], state)
        result = self.service.checklist_result(who.key, record)
        if result is None:
            return CareTurn([self._info("ack_gone")], state)
        texts = {
            voice: self.checklist.result_text(result, voice, who.emergency_number)
            for voice in ("patient", "caregiver")
        }
        notices = self.service.share_checklist(who.key, record, link, texts)
        mine, others = self._mine(who, notices)
        return CareTurn(mine, state, others)

    # -- /history --------------------------------------------------------------------------------

    def _history_menu(self, who: Who, state: CareState) -> CareTurn:
        people = self.service.viewable(who.key)
        if len(people) == 1:
            return self._history_show(who, state, people[0])
        buttons = tuple(Button(p.name[:60], f"hi:show:{p.link_id}") for p in people)
        return CareTurn([Message(self._t("history_pick"), buttons, kind="prompt")], state)

    def _subject(self, who: Who, link_text: str) -> LinkedPerson | None:
        link = callback.number(link_text)
        if link is None:
            return None
        return next((p for p in self.service.viewable(who.key) if p.link_id == link), None)

    def _history_press(self, who: Who, state: CareState, rest: str) -> CareTurn:
        action, _, link_text = rest.partition(":")
        subject = self._subject(who, link_text)
        if subject is None:
            return CareTurn([self._info("ack_gone")], state)
        if action == "show":
            return self._history_show(who, state, subject)
        events = self.service.history(who.key, subject.key) or []
        rows = self.history_rows(who, events)
        header = [self._t(f"history_col_{c}") for c in ("time", "event", "by")]
        stamp = self._local(who, self.service.clock.now()).date().isoformat()
        if action == "csv":
            data = export.history_csv(rows, header)
            file = Attachment(f"history-{stamp}.csv", data, "text/csv")
        elif action == "pdf":
            plans = self.plan_texts(who, subject, steps=True)
            sections = [export.Section(self._t("history_pdf_plans"), tuple(plans))] if plans else []
            data = export.history_pdf(
                self._t("history_pdf_title", name=subject.name),
                self._t("history_pdf_note", zone=who.timezone or "UTC"),
                rows,
                header,
                sections,
                self._t("history_pdf_page", page="{page}", pages="{pages}"),
            )
            file = Attachment(f"history-{stamp}.pdf", data, "application/pdf")
        else:
            return CareTurn([self._info("ack_gone")], state)
        caption = self._t("history_header", name=subject.name)
        return CareTurn([Message(caption, kind="info", file=file)], state)

    def _history_show(self, who: Who, state: CareState, subject: LinkedPerson) -> CareTurn:
        events = self.service.history(who.key, subject.key) or []
        rows = self.history_rows(who, events)
        lines = [*self.plan_lines(who, subject), self._t("history_header", name=subject.name)]
        if not rows:
            lines.append(self._t("history_empty"))
        for row in rows[:HISTORY_LINES]:
            lines.append(
                self._t("history_line", time=row.when, what=row.what)
                + (f" ({row.by})" if row.by else "")
            )
        if len(rows) > HISTORY_LINES:
            lines.append(self._t("history_more", count=str(len(rows) - HISTORY_LINES)))
        buttons = (
            Button(self._t("button_csv"), f"hi:csv:{subject.link_id}"),
            Button(self._t("button_pdf"), f"hi:pdf:{subject.link_id}"),
        )
        return CareTurn([Message("\n".join(lines), buttons if rows else (), kind="info")], state)

    def plan_lines(self, who: Who, subject: LinkedPerson) -> list[str]:
        """For a caregiver: the refill and taper dates the person they care for has set."""
        if subject.key == who.key:
            return []
        return self.plan_texts(who, subject)

    def plan_texts(self, who: Who, subject: LinkedPerson, steps: bool = False) -> list[str]:
        """The refill and taper plans of `subject` in force; with `steps`, each taper step as
        the person typed it (the dose, the times, the days). A plan that cannot be read is
        left out rather than stopping the history."""
        lines: list[str] = []
        for kind, data in self.service.plans(who.key, subject.key) or []:
            try:
                lines += self._plan_text(subject, kind, data, steps)
            except (KeyError, ValueError, TypeError):
                continue
        return lines

    def _plan_text(
        self, subject: LinkedPerson, kind: str, data: dict[str, Any], steps: bool
    ) -> list[str]:
        if kind == "refill":
            refill = RefillPlan.from_data(data)
            return [
                self._t(
                    "plan_refill",
                    name=subject.name,
                    date=refill.appointment.isoformat(),
                    alarm=refill.alarm.isoformat(),
                )
            ]
        if kind != "taper":
            return []
        taper = TaperPlan.from_data(data)
        lines = [
            self._t(
                "plan_taper",
                name=subject.name,
                start=taper.first_day.isoformat(),
                end=taper.last_day.isoformat(),
            )
        ]
        ordered = sorted(taper.steps, key=lambda s: s.start) if steps else []
        for number, step in enumerate(ordered, start=1):
            lines.append(
                self._t(
                    "history_pdf_step",
                    n=str(number),
                    dose=step.dose,
                    times=", ".join(fmt_time(t) for t in step.times),
                    start=step.start.isoformat(),
                    end=step.end.isoformat(),
                )
            )
        return lines

    def _local(self, who: Who, moment: dt.datetime) -> dt.datetime:
        return moment.astimezone(ZoneInfo(who.timezone or "UTC"))

    def history_rows(self, who: Who, events: Sequence[Event]) -> list[export.HistoryRow]:
        rows: list[export.HistoryRow] = []
        for e in events:
            when = self._local(who, e.at).strftime("%Y-%m-%d %H:%M")
            rows.append(export.HistoryRow(when, self._event_text(e), e.by))
        return rows

    def _event_text(self, e: Event) -> str:
        if e.kind == "checklist":
            labels = [s.label for s in (self.checklist.spec.sign(i) for i in e.signs) if s]
            return self._t(
                "event_checklist",
                result=self._t(f"result_{e.detail}"),
                signs="; ".join(labels) or "-",
            )
        if e.kind in ("alert", "missed"):
            key = f"kind_{e.detail}" if e.detail in RULES else "kind_other"
            what = self._t(key) if key in self.words.file.strings else self._t("kind_other")
            text = self._t(f"event_{e.kind}", what=what)
            if e.told:
                text += " " + self._t("event_sent_to", names=", ".join(e.told))
            rule = RULES.get(e.detail)
            if rule is not None and rule.to_caregivers and not e.caregivers:
                text += " " + self._t("event_nobody_linked")
            return text
        if e.kind == "emergency":
            told = (
                self._t("event_caregivers_alerted", count=str(e.caregivers))
                if e.caregivers
                else self._t("event_nobody_linked")
            )
            return f"{self._t('event_emergency')} {told}"
        if e.kind == "ack":
            return self._t("event_ack", what=self._t(f"button_{e.detail}"))
        return self._t(f"event_{e.kind}")

    # -- /card -----------------------------------------------------------------------------------

    def card_lines(self, who: Who, key: str) -> list[str]:
        """The card of the person behind `key`, as `who` sees it today: the emergency number of
        that person's own region, and the day in `who`'s calendar."""
        route, region = self.service.route_and_region(key)
        if key == who.key:
            route = who.route
        number = self.number_in(region) if self.number_in else who.emergency_number
        today = self._local(who, self.service.clock.now()).date()
        made = f"{today.day} {today:%B %Y}"
        fields = self.service.card_fields(key)
        caregivers = self.service.caregiver_names(key)
        return rules.card_lines(self.words, route, fields, caregivers, number, made)

    def _card_messages(
        self, who: Who, lines: list[str], lead: str | None, buttons: tuple[Button, ...]
    ) -> list[Message]:
        text = "\n".join(([lead] if lead else []) + lines)
        png = export.card_png(lines, strong=(rules.CARD_EMERGENCY_LINE,))
        day = self._local(who, self.service.clock.now()).date().isoformat()
        image = Attachment(f"emergency-card-{day}.png", png, "image/png")
        return [
            Message(text, kind="info"),
            Message(lead or lines[0], buttons, kind="info", file=image),
        ]

    def _cards(self, who: Who, state: CareState) -> CareTurn:
        people = self.service.viewable(who.key)
        messages: list[Message] = []
        edit = (Button(self._t("button_card_edit"), "cd:edit"),)
        messages += self._card_messages(who, self.card_lines(who, who.key), None, edit)
        if self.service.caregiver_names(who.key):  # the patient is told who can see it
            messages.append(self._info("card_shared_note"))
        for person in people[1:]:
            lead = self._t("card_for", name=person.name)
            messages += self._card_messages(who, self.card_lines(who, person.key), lead, ())
        return CareTurn(messages, replace(state, step=None))

    def _card_menu(self) -> Message:
        buttons = tuple(
            Button(self._t(f"button_field_{f}"), f"cd:f:{f}") for f in rules.CARD_FIELDS
        )
        done = Button(self._t("button_card_done"), "cd:done")
        return Message(self._t("card_edit_intro"), (*buttons, done), kind="prompt")

    def _card_press(self, who: Who, state: CareState, rest: str) -> CareTurn:
        action, _, name = rest.partition(":")
        if action == "edit":
            return CareTurn([self._card_menu()], replace(state, step=None))
        if action == "f" and name in rules.CARD_FIELDS:
            ask = Message(self._t("card_ask", field=self._t(f"field_{name}")), kind="prompt")
            return CareTurn([ask], replace(state, step=f"card:{name}"))
        if action == "done":
            return self._cards(who, replace(state, step=None))
        return CareTurn([self._info("ack_gone")], state)

    def text(self, who: Who, state: CareState, text: str) -> CareTurn | None:
        """Free text while a card field is open; None when nothing of ours is open, or when the
        words need the safety triage (the dialogue answers, and the field is closed)."""
        if not state.step or not state.step.startswith("card:"):
            return None
        name = state.step.partition(":")[2]
        if name not in rules.CARD_FIELDS or self.is_urgent(text):
            return None
        value = rules.clean_field(text)
        if value is None:
            too_long = self._info("card_too_long", max=str(rules.CARD_FIELD_MAX))
            return CareTurn([too_long], state)
        self.service.set_card_field(who.key, name, value)
        return CareTurn([self._info("card_saved"), self._card_menu()], replace(state, step=None))


class CaregiverButtons:
    """Wraps the reminder `Renderer`: every ackable alert to a caregiver gets "I'm on it" and
    "Called the clinic", so the first caregiver to take it can close the loop."""

    def __init__(self, inner: Any, service: CareService) -> None:
        self.inner = inner
        self.service = service

    def render(self, item: Any) -> list[Message]:
        messages: list[Message] = list(self.inner.render(item))
        rule = RULES.get(item.kind)
        if not messages or not item.to_caregiver or rule is None or not rule.ackable:
            return messages
        last = messages[-1]
        buttons = (*self.service.alert_buttons(item.occurrence_id), *last.buttons)
        return [*messages[:-1], replace(last, buttons=buttons)]


class RecheckWording:
    """Wraps the reminder `Renderer`: the checklist's one-off re-check is worded from
    content/checklist.yaml (in the person's voice), with a button that starts the checklist;
    everything else goes to the inner renderer."""

    def __init__(self, inner: Any, checklist: Checklist) -> None:
        self.inner = inner
        self.checklist = checklist

    def render(self, item: Any) -> list[Message]:
        if item.plan_kind != "recheck":
            return list(self.inner.render(item))
        return [self.checklist.recheck_due_message(item.person.voice)]
