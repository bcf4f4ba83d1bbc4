"""The composer: turn a Decision into the messages a person reads, from `content/` only.

Order is fixed here and nowhere else: an emergency reply comes first and alone, an urgent reply
leads, then the answer (or the refusal, the clarifying question, out-of-scope or fallback), its
review footer and the related questions. The composer adds no clinical words of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.engine import Action, Decision, Safety
from bot.core.intents import Intent
from bot.reply.content import VOICES, Answer, Content
from bot.reply.messages import Button, Message

MAX_SOURCE_NAMES = 3  # publishers named under an answer; /sources lists them all
# Feature intents whose reply carries a button that starts the flow: (ui string, button data).
FEATURE_STARTS = {"withdrawal_checklist": ("button_checklist_start", "cl:start")}


@dataclass(frozen=True)
class Audience:
    """Who is reading: the voice (patient / caregiver / professional), route and region."""

    voice: str = "patient"
    on_pump: bool = False
    region: str = "US"

    def __post_init__(self) -> None:
        if self.voice not in VOICES:
            raise ValueError(f"unknown voice {self.voice!r}")


class Composer:
    def __init__(
        self, content: Content, intents: dict[str, Intent], approved_only: bool = False
    ) -> None:
        self.content = content
        self.intents = intents
        self.approved_only = approved_only

    # -- pieces ------------------------------------------------------------------------

    def _number(self, audience: Audience) -> str:
        return self.content.emergency_number(audience.region)

    def safety_message(self, level: Safety, audience: Audience, pump: bool) -> Message:
        replies = self.content.safety.replies
        reply = replies.emergency if level is Safety.EMERGENCY else replies.urgent
        parts = [reply.voices.get(audience.voice)]
        if pump or audience.on_pump:
            parts.append(replies.pump_line.voices.get(audience.voice))
        text = "\n".join(parts).format(emergency_number=self._number(audience))
        return Message(text, kind=level.value)

    def footer(self, answer: Answer) -> str:
        """The sources line and the review line shown under every answer."""
        names: list[str] = []
        for source_id in answer.sources:
            name = self.content.sources[source_id].publisher.split(" (")[0].split(" /")[0]
            if name not in names:
                names.append(name)
        shown = ", ".join(names[:MAX_SOURCE_NAMES])
        if len(names) > MAX_SOURCE_NAMES:
            shown = self.content.text(
                "sources_more", names=shown, count=str(len(names) - MAX_SOURCE_NAMES)
            )
        reviewer = answer.review.reviewer or self.content.text("reviewer_pending")
        return "\n".join(
            (
                self.content.text("sources_short", names=shown),
                self.content.text("footer", reviewer=reviewer, date=answer.review.date.isoformat()),
            )
        )

    def question_label(self, intent_id: str) -> str:
        answer = self.content.answers.get(intent_id)
        if answer is not None:
            return answer.question
        return self.intents[intent_id].covers.capitalize()[:40]

    def related_buttons(self, intent_id: str) -> tuple[Button, ...]:
        intent = self.intents.get(intent_id)
        if intent is None:
            return ()
        return tuple(
            Button(
                self.question_label(r), FEATURE_STARTS[r][1] if r in FEATURE_STARTS else f"ask:{r}"
            )
            for r in intent.related[:3]
        )

    def answer_message(self, answer_id: str, audience: Audience, intent_id: str) -> Message:
        """A vetted answer in the reader's voice, with its footer and related questions."""
        answer = self.content.answers[answer_id]
        if self.approved_only and answer.review.status != "approved":
            return Message(self.content.text("not_approved"), kind="info")
        text = answer.voices.get(audience.voice).replace(
            "{emergency_number}", self._number(audience)
        )
        return Message(
            f"{text}\n\n{self.footer(answer)}", self.related_buttons(intent_id), kind="answer"
        )

    def followup_message(self, intent_id: str, audience: Audience) -> Message | None:
        followup = self.content.followups.get(intent_id)
        if followup is None:
            return None
        buttons = tuple(Button(o.label, f"opt:{o.answer}") for o in followup.options)
        return Message(followup.ask.get(audience.voice), buttons, kind="prompt")

    def topic_messages(self, intent_id: str, audience: Audience) -> list[Message]:
        """What to show for an intent: a guided question, a vetted answer or a feature reply."""
        followup = self.followup_message(intent_id, audience)
        if followup is not None:
            return [followup]
        messages: list[Message] = []
        feature = self.content.ui.features.get(intent_id)
        if feature is not None:
            text = feature.get(audience.voice).format(help=self.content.text("help"))
            start = FEATURE_STARTS.get(intent_id)
            buttons = (Button(self.content.text(start[0]), start[1]),) if start else ()
            messages.append(Message(text, buttons, kind="prompt" if buttons else "info"))
        if intent_id in self.content.answers:
            messages.append(self.answer_message(intent_id, audience, intent_id))
        return messages

    # -- the whole reply -----------------------------------------------------------------

    def compose(self, decision: Decision, audience: Audience) -> list[Message]:
        content = self.content
        messages: list[Message] = []
        if decision.safety is not Safety.ROUTINE:
            messages.append(self.safety_message(decision.safety, audience, decision.pump))
        elif decision.maybe_now:
            line = content.safety.replies.if_happening_now.voices.get(audience.voice)
            messages.append(
                Message(line.format(emergency_number=self._number(audience)), kind="info")
            )

        if decision.action is Action.REFUSE_PERSONAL_DOSING:
            messages.append(
                Message(content.voiced("refuse_personal_dosing", audience.voice), kind="info")
            )
            if decision.intent and decision.intent in content.answers:
                intro = content.voiced("general_info_below", audience.voice)
                answer = self.answer_message(decision.intent, audience, decision.intent)
                messages.append(Message(f"{intro}\n{answer.text}", answer.buttons, answer.kind))
        elif decision.action is Action.ANSWER and decision.intent:
            messages.extend(self.topic_messages(decision.intent, audience))
        elif decision.action is Action.CLARIFY:
            buttons = tuple(Button(self.question_label(i), f"pick:{i}") for i in decision.options)
            none = Button(content.text("button_none_of_these"), "none")
            messages.append(Message(content.text("clarify_ask"), (*buttons, none), kind="prompt"))
        elif decision.action is Action.OUT_OF_SCOPE:
            messages.append(Message(content.text("out_of_scope"), kind="info"))
        else:
            messages.append(Message(content.text("fallback"), kind="info"))
        return messages
