"""The conversation: onboarding, settings, answers to free text, and the reminder forms in it.

`Dialogue` is pure: it takes a person's `Session` and what they did (a message, a command, a
button, a shared location, a sticker) and returns a `Turn`: the messages to send and the updated
session. It puts its commands and button prefixes in the companion's routing table
(`register`), with those of the reminder forms, whose state lives in the session it keeps; free
text always goes through the core, safety first. The companion stores the session and applies
the effects; doors send the messages. It must never import a transport, touch the network or
read the clock except through the `clock` it was given.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from bot.clock import Clock, SystemClock
from bot.conversation import timezones
from bot.conversation.routes import Handler, Routes, Turn, Visit
from bot.conversation.sessions import ROLES, Session
from bot.core.engine import Action, Decision, Engine, Safety
from bot.reminders.flows import (
    FEATURE_INTENTS,
    Ctx,
    Effect,
    FlowButton,
    FlowCommand,
    FlowResult,
    ReminderFlows,
)
from bot.reminders.wording import load_reminder_words
from bot.reply.composer import Audience, Composer
from bot.reply.content import Content
from bot.reply.messages import Button, Message

LONG_MESSAGE_CHARS = 2000  # longer messages are triaged whole; the person is told the answer
# is to the main question found

ROUTES = ("oral", "pump", "both", "unsure")
AGES = ("child", "adult")  # a caregiver is asked once whether they care for a child or an adult
SETTINGS = ("role", "age", "route", "region", "timezone")  # what /settings can change
MEDIA = ("voice", "sticker", "photo", "other")  # non-text messages a door may pass on


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
            route=session.profile.route,
            age=session.age if session.role == "caregiver" else None,
            region=session.region or self.default_region,
        )

    def number(self, session: Session) -> str:
        return self.number_in(session.region or "")

    def number_in(self, region: str) -> str:
        """The emergency number of `region` ("" or None: the bot's default region)."""
        return self.content.emergency_number(region or self.default_region)

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
        regions = self.content.safety.emergency_numbers
        choices: dict[str, Iterable[str]] = {
            "role": ROLES, "age": AGES, "route": ROUTES, "region": regions,
        }  # fmt: skip
        if step in choices:  # one button per choice: "role_patient" says it, "role:patient" is it
            options = tuple(Button(t(f"{step}_{c}"), f"{step}:{c}") for c in choices[step])
            return Message(t(f"{step}_ask"), options, kind="prompt")
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
            ("age", session.role == "caregiver" and session.age is None),
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

    # -- the routing table ---------------------------------------------------------------

    def register(self, routes: Routes) -> None:
        """The dialogue's commands and buttons, and the reminder forms' (their state lives in
        the session the dialogue keeps; the companion applies their effects)."""
        routes.command("start", self.on_start, personal=True)
        routes.command("help", self.on_help)
        routes.command("settings", self.on_settings, personal=True)
        routes.command("about", self.on_about)
        routes.command("sources", self.on_sources, personal=True)
        routes.command("emergency", self.on_emergency)
        routes.command("delete_my_data", self.on_delete_my_data, personal=True)
        for name, command in self.reminder_flows.commands().items():
            routes.command(name, self._reminder_command(command), personal=True)
        routes.button("consent", self.on_consent)
        routes.button("role", self.on_role)
        routes.button("age", self.on_age)
        routes.button("route", self.on_route)
        routes.button("region", self.on_region)
        routes.button("tz", self.on_timezone)
        routes.button("set", self.on_set)
        routes.button("ask", self.on_topic)  # a related question under an answer
        routes.button("pick", self.on_topic)  # a choice when the words were unclear
        routes.button("opt", self.on_option)  # an option of a guided follow-up question
        routes.button("none", self.on_none)
        routes.button("delete", self.on_delete)
        for prefix, button in self.reminder_flows.buttons().items():
            routes.button(prefix, self._reminder_button(button))

    # -- reminders (bot/reminders/flows.py; the companion applies the effects) -----------------

    def _reminder_command(self, command: FlowCommand) -> Handler:
        def handle(visit: Visit, args: str) -> Turn:
            session = visit.session
            return self._reminder_turn(
                session, command(self._reminder_ctx(session), session.reminders)
            )

        return handle

    def _reminder_button(self, button: FlowButton) -> Handler:
        def handle(visit: Visit, value: str) -> Turn:
            session = visit.session
            ctx = self._reminder_ctx(session)
            return self._reminder_turn(session, button(ctx, session.reminders, value))

        return handle

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
        """Word what the companion did with one of this dialogue's reminder effects."""
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
        session = replace(session, step="consent", onboarding=True, role=None, age=None,
                          route=None, region=None, timezone=None)  # fmt: skip
        return Turn([disclaimer, self._ask("consent")], session)

    def first_contact(self, turn: Turn) -> Turn:
        """Someone the bot keeps nothing about (new, or back after /delete_my_data) did
        something other than /start: the reply to it (`turn`, routed on the session `start`
        opened), then the disclaimer and the consent question, once. Nobody is kept silently:
        the onboarding is open, and asks for the region before anything relies on it."""
        if turn.session.step != "consent" or turn.session.consent is not None:
            return turn
        opening = self.start(Session())
        asked = set(opening.messages)
        kept = [m for m in turn.messages if m not in asked]
        return replace(turn, messages=[*kept, *opening.messages])

    def files_deleted(self, count: int) -> list[Message]:
        """After /delete_my_data: the export files removed from this computer, if any."""
        if not count:
            return []
        return [Message(self._t("deleted_files", count=str(count)), kind="info")]

    def text(self, session: Session, text: str) -> Turn:
        """A free-text message: always through the core, safety first."""
        text = text.strip()
        if not text:
            return Turn([Message(self._t("empty_message"), kind="info")], session)
        too_long = len(text) > LONG_MESSAGE_CHARS
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
        if too_long:
            messages.insert(1 if decision.safety is not Safety.ROUTINE else 0,
                            Message(self._t("too_long"), kind="info"))  # fmt: skip
        if decision.answer_id in self.content.answers:
            session = replace(session, last_answer=decision.answer_id)
        messages.extend(self._reask(session))  # the open question is still open
        return Turn(messages, session, decision)

    def edited(self, session: Session, text: str) -> Turn:
        """A message the person changed after sending: safety is checked again, nothing else.

        An edit that now describes an emergency gets the safety reply at once; any other edit
        gets a note to send it again, so that an answer never silently changes under them.
        """
        text = text.strip()
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

    def unknown_command(self, session: Session) -> Turn:
        return Turn([Message(self._t("unknown_command"), kind="info")], session)

    def expired(self, session: Session) -> Turn:
        """A button that is no longer open (or nobody's)."""
        return Turn([Message(self._t("button_expired"), kind="info")], session)

    def failed(self, session: Session) -> Turn:
        """Something went wrong on our side: say so kindly, with the emergency number."""
        text = self._t("error", emergency_number=self.number(session))
        return Turn([Message(text, kind="info")], session)

    # -- buttons (`Button.data` is "prefix:value"; each handler gets the value) -----------

    def on_consent(self, visit: Visit, value: str) -> Turn:
        session = visit.session
        if session.step != "consent":
            return self.expired(session)
        session = replace(session, consent=value == "yes")
        first = [] if value == "yes" else [Message(self._t("consent_declined"), kind="info")]
        session, messages = self._next_onboarding(session)
        return Turn(first + messages, session)

    def on_role(self, visit: Visit, value: str) -> Turn:
        session = visit.session
        if value not in ROLES or session.step != "role":
            return self.expired(session)
        return self._chose(replace(session, role=value))

    def on_age(self, visit: Visit, value: str) -> Turn:
        session = visit.session
        if value not in AGES or session.step != "age":
            return self.expired(session)
        return self._chose(replace(session, age=value))

    def on_route(self, visit: Visit, value: str) -> Turn:
        session = visit.session
        if value not in ROUTES or session.step != "route":
            return self.expired(session)
        return self._chose(replace(session, route=value))

    def on_region(self, visit: Visit, value: str) -> Turn:
        session = visit.session
        if value not in self.content.safety.emergency_numbers or session.step != "region":
            return self.expired(session)
        return self._chose(replace(session, region=value))

    def on_timezone(self, visit: Visit, value: str) -> Turn:
        session = visit.session
        if session.step != "timezone" or not timezones.is_zone(value):
            return self.expired(session)
        return self._set_timezone(session, value)

    def on_set(self, visit: Visit, value: str) -> Turn:
        if value not in SETTINGS:
            return self.expired(visit.session)
        return Turn([self._ask(value)], replace(visit.session, step=value))

    def on_topic(self, visit: Visit, value: str) -> Turn:
        """A topic chosen by button: a feature starts its flow, a question gets its answer."""
        session = visit.session
        if value in FEATURE_INTENTS:
            ctx = self._reminder_ctx(session)
            flow = self.reminder_flows.command(ctx, session.reminders, FEATURE_INTENTS[value])
            return self._reminder_turn(session, flow)
        if value not in self.engine.intents:
            return self.expired(session)
        messages = self.composer.topic_messages(value, self.audience(session))
        if value in self.content.answers:
            session = replace(session, last_answer=value)
        return Turn(messages, session)

    def on_option(self, visit: Visit, value: str) -> Turn:
        if value not in self.content.answers:
            return self.expired(visit.session)
        message = self.composer.answer_message(value, self.audience(visit.session), value)
        return Turn([message], replace(visit.session, last_answer=value))

    def on_none(self, visit: Visit, value: str) -> Turn:
        return Turn([Message(self._t("none_of_these"), kind="info")], visit.session)

    def on_delete(self, visit: Visit, value: str) -> Turn:
        session = visit.session
        if session.step != "delete":
            return self.expired(session)
        if value == "yes":
            return Turn([Message(self._t("deleted"), kind="info")], Session(), delete_data=True)
        return Turn(
            [Message(self._t("delete_cancelled"), kind="info")], replace(session, step=None)
        )

    def _chose(self, session: Session) -> Turn:
        if session.onboarding:
            session, messages = self._next_onboarding(session)
            return Turn(messages, session)
        return Turn([Message(self._t("settings_saved"), kind="info")], replace(session, step=None))

    # -- commands ---------------------------------------------------------------------------

    def on_start(self, visit: Visit, args: str) -> Turn:
        return self.start(visit.session)

    def on_help(self, visit: Visit, args: str) -> Turn:
        return Turn([Message(self._t("help"), kind="info")], visit.session)

    def on_about(self, visit: Visit, args: str) -> Turn:
        disclaimer = self._t("disclaimer", emergency_number=self.number(visit.session))
        return Turn([Message(f"{self._t('about')}\n\n{disclaimer}", kind="info")], visit.session)

    def on_emergency(self, visit: Visit, args: str) -> Turn:
        messages = self.composer.emergency_messages(self.audience(visit.session))
        return Turn(messages, replace(visit.session, last_answer="emergency_plan"))

    def on_sources(self, visit: Visit, args: str) -> Turn:
        return Turn([Message(self.sources_text(visit.session), kind="info")], visit.session)

    def on_settings(self, visit: Visit, args: str) -> Turn:
        t, session = self._t, visit.session
        shown = [k for k in SETTINGS if k != "age" or session.role == "caregiver"]
        buttons = tuple(Button(t(f"settings_{k}"), f"set:{k}") for k in shown)
        intro = t(
            "settings_intro",
            role=t(f"role_{session.role}") if session.role else "-",
            route=t(f"route_{session.route}") if session.route else "-",
            emergency_number=self.number(session),
        )
        zone = t("settings_timezone_line", zone=session.timezone or "-")
        return Turn([Message(f"{intro}\n{zone}", buttons, kind="prompt")], session)

    def on_delete_my_data(self, visit: Visit, args: str) -> Turn:
        return Turn([self._ask("delete")], replace(visit.session, step="delete"))

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
