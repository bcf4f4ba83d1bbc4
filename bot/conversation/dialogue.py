"""The conversation: onboarding, commands, free text and button presses, for any door.

`Dialogue` is pure: it takes a person's `Session` and what they did (a message, a button, a
command, a shared location, a sticker) and returns the messages to send and the updated session.
Doors (local chat, Telegram) store the session and send the messages; they hold no rules of their
own. It must never import a transport, touch the network or read the clock except through the
`clock` it was given.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from bot.clock import Clock, SystemClock
from bot.conversation import timezones
from bot.core.engine import Action, Decision, Engine, Profile, Safety
from bot.reminders.flows import COMMANDS as REMINDER_COMMANDS
from bot.reminders.flows import (
    FEATURE_INTENTS,
    FLOW_BUTTONS,
    Ctx,
    Effect,
    FlowResult,
    ReminderFlows,
    ReminderState,
)
from bot.reminders.wording import load_reminder_words
from bot.reply.composer import Audience, Composer
from bot.reply.content import Content
from bot.reply.messages import Button, Message

MAX_MESSAGE_CHARS = 2000  # longer messages are read up to here (the person is told)

ROLES = ("patient", "caregiver", "professional")
ROUTES = ("oral", "pump", "both", "unsure")
SETTINGS = ("role", "route", "region", "timezone")  # what /settings can change
MEDIA = ("voice", "sticker", "photo", "other")  # non-text messages a door may pass on


@dataclass(frozen=True)
class Session:
    """What the bot keeps about one person: their choices, and where the conversation is."""

    consent: bool | None = None
    role: str | None = None
    route: str | None = None
    region: str | None = None
    timezone: str | None = None  # an IANA zone name, such as "Europe/London"
    step: str | None = None  # the onboarding or confirmation question now open
    last_answer: str | None = None  # for /sources
    onboarding: bool = False  # the /start sequence is running (asks every question in turn)
    reminders: ReminderState = field(default_factory=ReminderState)  # /refill, /taper, ...
    care: str | None = None  # caregiver flows: open checklist, card field (bot/care/flows.py)

    @property
    def voice(self) -> str:
        return self.role if self.role in ROLES else "patient"

    @property
    def profile(self) -> Profile:
        route = self.route if self.route in ("oral", "pump", "both") else None
        return Profile(route=route, role=self.role)


@dataclass(frozen=True)
class Turn:
    """The outcome of one step: messages to send, the new session, and what the core decided."""

    messages: list[Message]
    session: Session
    decision: Decision | None = None
    delete_data: bool = False  # the door must delete everything it stores about this person
    notes: tuple[str, ...] = field(default=())
    effects: tuple[Effect, ...] = ()  # reminder changes for the door to apply (ReminderDesk)


class Dialogue:
    def __init__(self, engine: Engine, content: Content, default_region: str = "US",
                 approved_only: bool = False,
                 clock: Clock | None = None) -> None:  # fmt: skip
        if default_region not in content.safety.emergency_numbers:
            raise ValueError(f"unknown emergency-number region {default_region!r}")
        self.engine = engine
        self.content = content
        self.default_region = default_region
        self.clock: Clock = clock or SystemClock()
        self.composer = Composer(content, engine.intents, approved_only)
        self.reminder_flows = ReminderFlows(load_reminder_words(content))

    # -- helpers -------------------------------------------------------------------------

    def audience(self, session: Session) -> Audience:
        return Audience(
            voice=session.voice,
            on_pump=session.profile.route in ("pump", "both"),
            region=session.region or self.default_region,
        )

    def number(self, session: Session) -> str:
        return self.content.emergency_number(session.region or self.default_region)

    def _t(self, key: str, **values: str) -> str:
        return self.content.text(key, **values)

    def _ask(self, step: str) -> Message:
        t = self._t
        if step == "consent":
            buttons = (
                Button(t("button_agree"), "consent:yes"),
                Button(t("button_not_now"), "consent:no"),
            )
            return Message(t("consent_ask"), buttons, kind="prompt")
        if step == "role":
            return Message(
                t("role_ask"),
                tuple(Button(t(f"role_{r}"), f"role:{r}") for r in ROLES),
                kind="prompt",
            )
        if step == "route":
            return Message(
                t("route_ask"),
                tuple(Button(t(f"route_{r}"), f"route:{r}") for r in ROUTES),
                kind="prompt",
            )
        if step == "region":
            regions = self.content.safety.emergency_numbers
            return Message(
                t("region_ask"),
                tuple(Button(t(f"region_{r}"), f"region:{r}") for r in regions),
                kind="prompt",
            )
        if step == "timezone":
            return Message(
                t("timezone_ask"), (Button(t("button_timezone_utc"), "tz:UTC"),), kind="prompt"
            )
        if step == "delete":
            buttons = (
                Button(t("button_delete_yes"), "delete:yes"),
                Button(t("button_delete_no"), "delete:no"),
            )
            return Message(t("delete_confirm"), buttons, kind="prompt")
        raise ValueError(step)

    def _next_onboarding(self, session: Session) -> tuple[Session, list[Message]]:
        """Ask the next unanswered onboarding question, or finish.

        The time zone comes last, after the welcome is complete: a person can ask questions
        straight away, and the question stays open until they answer it or skip it.
        """
        for step, missing in (
            ("role", session.role is None),
            ("route", session.route is None),
            ("region", session.region is None),
        ):
            if missing:
                return replace(session, step=step), [self._ask(step)]
        done = Message(self._t("onboarding_done"), kind="info")
        if session.timezone is None:
            return replace(session, step="timezone"), [done, self._ask("timezone")]
        return replace(session, step=None, onboarding=False), [done]

    def _set_timezone(self, session: Session, zone: str) -> Turn:
        """Keep the zone and confirm it with the time there now, so a wrong guess shows."""
        now = self.clock.now()
        saved = self._t("timezone_saved", zone=zone, time=timezones.local_time(zone, now))
        session = replace(session, timezone=zone, step=None, onboarding=False)
        return Turn([Message(saved, kind="info")], session)

    def _reask(self, session: Session) -> list[Message]:
        """The open onboarding or settings question, asked again (none for a confirmation),
        and the open reminder question."""
        flow = self.reminder_flows.reask(session.reminders)
        if session.step is None or session.step == "delete":
            return flow
        return [self._ask(session.step), *flow]

    # -- reminders (bot/reminder_flows.py; a door applies the effects) -----------------------

    def _reminder_ctx(self, session: Session) -> Ctx:
        return Ctx(
            consent=session.consent,
            timezone=session.timezone,
            region=session.region or self.default_region,
            emergency_number=self.number(session),
            now=self.clock.now(),
        )

    def _reminder_turn(
        self, session: Session, result: FlowResult, decision: Decision | None = None
    ) -> Turn:
        session = replace(session, reminders=result.state)
        messages = list(result.messages)
        if result.triage:  # a sign pressed in the daily check: the same triage as free text
            triaged = self.text(session, result.triage)
            messages = [*triaged.messages, *messages]
            session, decision = triaged.session, triaged.decision
        return Turn(messages, session, decision, effects=result.effects)

    def _reminder_text(self, session: Session, text: str, decision: Decision) -> Turn | None:
        """Routine words for an open reminder question, or asking for a reminder in words."""
        if decision.safety is not Safety.ROUTINE:
            return None  # the safety reply first; the open question is asked again after it
        flows = self.reminder_flows
        ctx = self._reminder_ctx(session)
        state = session.reminders
        if flows.is_open(state):
            result = flows.text(ctx, state, text)
            if result is not None:
                asked = decision.action is Action.ANSWER and decision.intent is not None
                if not result.accepted and asked and decision.intent not in FEATURE_INTENTS:
                    # A question in the middle of a form: answer it, then ask again.
                    answer = self.composer.compose(decision, self.audience(session))
                    return Turn([*answer, *flows.reask(state)], session, decision)
                return self._reminder_turn(session, result, decision)
        if decision.action is Action.ANSWER and decision.intent in FEATURE_INTENTS:
            name = FEATURE_INTENTS[decision.intent]
            return self._reminder_turn(session, flows.command(ctx, state, name), decision)
        return None

    def after_effect(self, session: Session, effect: Effect, result: object) -> Turn:
        """Word what the door did with one of this dialogue's reminder effects."""
        ctx = self._reminder_ctx(session)
        return self._reminder_turn(
            session, self.reminder_flows.after(ctx, session.reminders, effect, result)
        )

    # -- what the person does ------------------------------------------------------------

    def start(self, session: Session) -> Turn:
        """First contact or /start: the disclaimer, then consent and the onboarding questions."""
        disclaimer = Message(
            self._t("disclaimer", emergency_number=self.number(session)), kind="info"
        )
        session = replace(session, step="consent", onboarding=True, role=None, route=None,
                          region=None, timezone=None)  # fmt: skip
        return Turn([disclaimer, self._ask("consent")], session)

    def text(self, session: Session, text: str) -> Turn:
        """A free-text message: always through the core, safety first."""
        notes: tuple[str, ...] = ()
        text = text.strip()
        if not text:
            return Turn([Message(self._t("empty_message"), kind="info")], session)
        if len(text) > MAX_MESSAGE_CHARS:
            text = text[:MAX_MESSAGE_CHARS]
            notes = ("too_long",)
        decision = self.engine.classify(text, session.profile)
        reminder = self._reminder_text(session, text, decision)
        if reminder is not None:
            return reminder
        if session.step == "timezone" and decision.safety is Safety.ROUTINE:
            zone = timezones.zone_from_text(text, self.clock.now())
            if zone is not None:
                return self._set_timezone(session, zone)
            if decision.action in (Action.FALLBACK, Action.OUT_OF_SCOPE):
                retry = self._ask("timezone")
                unknown = Message(self._t("timezone_unknown"), retry.buttons, kind="prompt")
                return Turn([unknown], session, decision)
        audience = self.audience(session)
        if session.role is None and decision.third_person:
            audience = replace(audience, voice="caregiver")  # "my son is having a fit"
        messages = self.composer.compose(decision, audience)
        if notes:
            messages.insert(1 if decision.safety is not Safety.ROUTINE else 0,
                            Message(self._t("too_long"), kind="info"))  # fmt: skip
        if decision.answer_id in self.content.answers:
            session = replace(session, last_answer=decision.answer_id)
        messages.extend(self._reask(session))  # the open question is still open
        return Turn(messages, session, decision, notes=notes)

    def edited(self, session: Session, text: str) -> Turn:
        """A message the person changed after sending: safety is checked again, nothing else.

        An edit that now describes an emergency gets the safety reply at once; any other edit
        gets a note to send it again, so that an answer never silently changes under them.
        """
        text = text.strip()[:MAX_MESSAGE_CHARS]
        decision = self.engine.classify(text, session.profile) if text else None
        if decision is not None and decision.safety is not Safety.ROUTINE:
            return self.text(session, text)
        return Turn([Message(self._t("edited_message"), kind="info")], session, decision)

    def location(self, session: Session, latitude: float, longitude: float) -> Turn:
        """A shared location: used for the time zone when that question is open, never kept."""
        if session.step != "timezone":
            return Turn([Message(self._t("location_not_needed"), kind="info")], session)
        zone = timezones.zone_at(latitude, longitude)
        if zone is None:
            retry = self._ask("timezone")
            unknown = Message(self._t("timezone_location_unknown"), retry.buttons, kind="prompt")
            return Turn([unknown], session)
        return self._set_timezone(session, zone)

    def media(self, session: Session, what: str, caption: str | None = None) -> Turn:
        """A sticker, photo, voice note, file or anything else without text.

        A caption is read as a question (safety first), then the kind note follows.
        """
        key = f"not_text_{what}" if what in MEDIA and what != "other" else "not_text"
        note = Message(self._t(key), kind="info")
        if caption and caption.strip():
            turn = self.text(session, caption)
            return replace(turn, messages=[*turn.messages, note])
        return Turn([note, *self._reask(session)], session)

    def private_only(self, session: Session, command: str, bot_name: str) -> Turn:
        """A personal command sent in a group: point to a private chat, show nothing personal."""
        text = self._t("group_private_only", command=command, bot=bot_name)
        return Turn([Message(text, kind="info")], session)

    def press(self, session: Session, data: str) -> Turn:
        """A button press (`Button.data`)."""
        kind, _, value = data.partition(":")
        audience = self.audience(session)
        if kind in FLOW_BUTTONS:
            result = self.reminder_flows.press(self._reminder_ctx(session), session.reminders, data)
            if result is not None:
                return self._reminder_turn(session, result)
        if kind in ("ask", "pick") and value in FEATURE_INTENTS:
            ctx = self._reminder_ctx(session)
            flow = self.reminder_flows.command(ctx, session.reminders, FEATURE_INTENTS[value])
            return self._reminder_turn(session, flow)
        if kind == "consent" and session.step == "consent":
            session = replace(session, consent=value == "yes")
            first = [] if value == "yes" else [Message(self._t("consent_declined"), kind="info")]
            session, messages = self._next_onboarding(session)
            return Turn(first + messages, session)
        if kind == "role" and value in ROLES and session.step == "role":
            return self._chose(replace(session, role=value))
        if kind == "route" and value in ROUTES and session.step == "route":
            return self._chose(replace(session, route=value))
        if (
            kind == "region"
            and value in self.content.safety.emergency_numbers
            and session.step == "region"
        ):
            return self._chose(replace(session, region=value))
        if kind == "tz" and session.step == "timezone" and timezones.is_zone(value):
            return self._set_timezone(session, value)
        if kind == "set" and value in SETTINGS:
            return Turn([self._ask(value)], replace(session, step=value))
        if kind in ("ask", "pick") and value in self.engine.intents:
            messages = self.composer.topic_messages(value, audience)
            if value in self.content.answers:
                session = replace(session, last_answer=value)
            return Turn(messages, session)
        if kind == "opt" and value in self.content.answers:
            message = self.composer.answer_message(value, audience, value)
            return Turn([message], replace(session, last_answer=value))
        if kind == "none":
            return Turn([Message(self._t("none_of_these"), kind="info")], session)
        if kind == "delete" and session.step == "delete":
            if value == "yes":
                return Turn([Message(self._t("deleted"), kind="info")], Session(), delete_data=True)
            return Turn(
                [Message(self._t("delete_cancelled"), kind="info")], replace(session, step=None)
            )
        return Turn([Message(self._t("button_expired"), kind="info")], session)

    def _chose(self, session: Session) -> Turn:
        if session.onboarding:
            session, messages = self._next_onboarding(session)
            return Turn(messages, session)
        return Turn([Message(self._t("settings_saved"), kind="info")], replace(session, step=None))

    def command(self, session: Session, name: str) -> Turn:
        """A slash command, without the slash."""
        t = self._t
        audience = self.audience(session)
        if name == "start":
            return self.start(session)
        if name == "help":
            return Turn([Message(t("help"), kind="info")], session)
        if name == "about":
            disclaimer = t("disclaimer", emergency_number=self.number(session))
            return Turn([Message(f"{t('about')}\n\n{disclaimer}", kind="info")], session)
        if name == "emergency":
            safety = self.composer.safety_message(Safety.EMERGENCY, audience, pump=False)
            answer = self.composer.answer_message("emergency_plan", audience, "emergency_plan")
            return Turn([safety, answer], replace(session, last_answer="emergency_plan"))
        if name == "sources":
            return Turn([Message(self.sources_text(session), kind="info")], session)
        if name == "settings":
            buttons = tuple(Button(t(f"settings_{k}"), f"set:{k}") for k in SETTINGS)
            intro = t(
                "settings_intro",
                role=t(f"role_{session.role}") if session.role else "-",
                route=t(f"route_{session.route}") if session.route else "-",
                emergency_number=self.number(session),
            )
            zone = t("settings_timezone_line", zone=session.timezone or "-")
            return Turn([Message(f"{intro}\n{zone}", buttons, kind="prompt")], session)
        if name in REMINDER_COMMANDS:
            ctx = self._reminder_ctx(session)
            return self._reminder_turn(
                session, self.reminder_flows.command(ctx, session.reminders, name)
            )
        if name == "delete_my_data":
            return Turn([self._ask("delete")], replace(session, step="delete"))
        return Turn([Message(t("unknown_command"), kind="info")], session)

    def sources_text(self, session: Session) -> str:
        if not session.last_answer or session.last_answer not in self.content.answers:
            return self._t("sources_none")
        answer = self.content.answers[session.last_answer]
        lines = [self._t("sources_header", question=answer.question)]
        for source_id in answer.sources:
            s = self.content.sources[source_id]
            year = f", {s.year}" if s.year else ""
            lines.append(
                self._t("sources_line", title=s.title, publisher=s.publisher, year=year, url=s.url)
            )
        lines.append(self.composer.footer(answer))
        return "\n".join(lines)
