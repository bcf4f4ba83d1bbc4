"""The conversation: onboarding, commands, free text and button presses, for any door.

`Dialogue` is pure: it takes a person's `Session` and what they did (a message, a button, a
command) and returns the messages to send and the updated session. Doors (local chat, Telegram)
store the session and send the messages; they hold no rules of their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from bot.composer import Audience, Button, Composer, Message
from bot.content import Content
from bot.core import Decision, Engine, Profile, Safety

MAX_MESSAGE_CHARS = 2000  # longer messages are read up to here (the person is told)

ROLES = ("patient", "caregiver", "professional")
ROUTES = ("oral", "pump", "both", "unsure")


@dataclass(frozen=True)
class Session:
    """What the bot keeps about one person: their choices, and where the conversation is."""

    consent: bool | None = None
    role: str | None = None
    route: str | None = None
    region: str | None = None
    step: str | None = None  # the onboarding or confirmation question now open
    last_answer: str | None = None  # for /sources
    onboarding: bool = False  # the /start sequence is running (asks every question in turn)

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


class Dialogue:
    def __init__(self, engine: Engine, content: Content, default_region: str = "US",
                 approved_only: bool = False) -> None:  # fmt: skip
        if default_region not in content.safety.emergency_numbers:
            raise ValueError(f"unknown emergency-number region {default_region!r}")
        self.engine = engine
        self.content = content
        self.default_region = default_region
        self.composer = Composer(content, engine.intents, approved_only)

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
            buttons = (Button(t("button_agree"), "consent:yes"), Button(t("button_not_now"), "consent:no"))
            return Message(t("consent_ask"), buttons, kind="prompt")
        if step == "role":
            return Message(t("role_ask"), tuple(Button(t(f"role_{r}"), f"role:{r}") for r in ROLES), kind="prompt")
        if step == "route":
            return Message(t("route_ask"), tuple(Button(t(f"route_{r}"), f"route:{r}") for r in ROUTES), kind="prompt")
        if step == "region":
            regions = self.content.safety.emergency_numbers
            return Message(t("region_ask"), tuple(Button(t(f"region_{r}"), f"region:{r}") for r in regions), kind="prompt")
        if step == "delete":
            buttons = (Button(t("button_delete_yes"), "delete:yes"), Button(t("button_delete_no"), "delete:no"))
            return Message(t("delete_confirm"), buttons, kind="prompt")
        raise ValueError(step)

    def _next_onboarding(self, session: Session) -> tuple[Session, list[Message]]:
        """Ask the next unanswered onboarding question, or finish."""
        for step, missing in (
            ("role", session.role is None),
            ("route", session.route is None),
            ("region", session.region is None),
        ):
            if missing:
                return replace(session, step=step), [self._ask(step)]
        return replace(session, step=None, onboarding=False), [
            Message(self._t("onboarding_done"), kind="info")
        ]

    # -- what the person does ------------------------------------------------------------

    def start(self, session: Session) -> Turn:
        """First contact or /start: the disclaimer, then consent and the onboarding questions."""
        disclaimer = Message(self._t("disclaimer", emergency_number=self.number(session)), kind="info")
        session = replace(session, step="consent", onboarding=True, role=None, route=None,
                          region=None)  # fmt: skip
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
        messages = self.composer.compose(decision, self.audience(session))
        if notes:
            messages.insert(1 if decision.safety is not Safety.ROUTINE else 0,
                            Message(self._t("too_long"), kind="info"))  # fmt: skip
        if decision.answer_id in self.content.answers:
            session = replace(session, last_answer=decision.answer_id)
        if session.step is not None and session.step != "delete":
            messages.append(self._ask(session.step))  # the open question is still open
        return Turn(messages, session, decision, notes=notes)

    def press(self, session: Session, data: str) -> Turn:
        """A button press (`Button.data`)."""
        kind, _, value = data.partition(":")
        audience = self.audience(session)
        if kind == "consent" and session.step == "consent":
            session = replace(session, consent=value == "yes")
            first = [] if value == "yes" else [Message(self._t("consent_declined"), kind="info")]
            session, messages = self._next_onboarding(session)
            return Turn(first + messages, session)
        if kind == "role" and value in ROLES and session.step == "role":
            return self._chose(replace(session, role=value))
        if kind == "route" and value in ROUTES and session.step == "route":
            return self._chose(replace(session, route=value))
        if kind == "region" and value in self.content.safety.emergency_numbers and session.step == "region":
            return self._chose(replace(session, region=value))
        if kind == "set" and value in ("role", "route", "region"):
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
            return Turn([Message(self._t("delete_cancelled"), kind="info")], replace(session, step=None))
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
            buttons = tuple(Button(t(f"settings_{k}"), f"set:{k}") for k in ("role", "route", "region"))
            intro = t(
                "settings_intro",
                role=t(f"role_{session.role}") if session.role else "-",
                route=t(f"route_{session.route}") if session.route else "-",
                emergency_number=self.number(session),
            )
            return Turn([Message(intro, buttons, kind="prompt")], session)
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
            lines.append(self._t("sources_line", title=s.title, publisher=s.publisher, year=year, url=s.url))
        lines.append(self.composer.footer(answer))
        return "\n".join(lines)
