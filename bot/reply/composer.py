"""The composer: turn a Decision into the messages a person reads, from `content/` only.

Order is fixed here and nowhere else: a safety reply comes first (chosen by the sign family
that leads, in the reader's voice, with the lines for their route, age and region), then the
answer that family allows (never repeating a line the safety reply gave), or the refusal, the
clarifying question, out-of-scope or fallback, its review footer and the related questions.
Someone who says they cannot go on gets the kind reply with the crisis line, never
"out of scope". The composer adds no words of its own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from bot.core.engine import Action, Decision, Safety
from bot.core.intents import Intent
from bot.reply.content import VOICES, Answer, Content
from bot.reply.lines import Reader, fill_known, lines_for
from bot.reply.messages import Button, Message

MAX_SOURCE_NAMES = 3  # publishers named under an answer; /sources lists them all
# Feature intents whose reply carries a button that starts the flow: (ui string, button data).
FEATURE_STARTS = {"withdrawal_checklist": ("button_checklist_start", "cl:start")}
SAME_LINE = 85  # rapidfuzz token-sort similarity at which an answer line repeats a safety line
CHILD_SIGNS = frozenset({"child_swallowed"})
# A line that leans on the one before it; left out when the one before it is left out.
LEANS_ON_BEFORE = (
    "Then ",
    "So ",
    "This ",
    "These ",
    "That ",
    "Also ",
)  # the person in danger is a child, whoever writes
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'"})
_CANT = re.compile(r"\b(?:cannot|can not|cant)\b")
_WORDS = re.compile(r"[a-z0-9']+")


@dataclass(frozen=True)
class Audience:
    """Who is reading: the voice (patient / caregiver / professional), the route (oral, pump,
    both or not known), the age of the person on baclofen (child, adult or not known; a patient
    is taken to be an adult) and the region."""

    voice: str = "patient"
    route: str | None = None
    age: str | None = None
    region: str = "US"

    def __post_init__(self) -> None:
        if self.voice not in VOICES:
            raise ValueError(f"unknown voice {self.voice!r}")

    @property
    def on_pump(self) -> bool:
        return self.route in ("pump", "both")

    def reader(self, pump: bool = False, child: bool = False) -> Reader:
        """The groups whose tagged lines this reader sees (`pump`: the message names a pump;
        `child`: the message is about a child)."""
        age = "child" if child else self.age or ("adult" if self.voice == "patient" else None)
        return Reader.of(self.route, age, self.region, pump=pump)


def _plain(text: str) -> str:
    """Lower case, one kind of apostrophe, "cannot" / "cant" as "can't", single spaces."""
    text = _CANT.sub("can't", text.lower().translate(_APOSTROPHES))
    return " ".join(text.split())


def _norm(line: str) -> str:
    return " ".join(_WORDS.findall(line.lower()))


def nearly_same(line: str, said: Sequence[str]) -> bool:
    """Whether a line is (nearly) word for word one of `said`."""
    mine = _norm(line)
    return any(
        mine in other or fuzz.token_sort_ratio(mine, other) >= SAME_LINE
        for other in (_norm(s) for s in said)
    )


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

    def _lines(self, text: str, reader: Reader) -> list[str]:
        return self._fill(lines_for(text, reader), reader.region)

    def _fill(self, lines: Sequence[str], region: str) -> list[str]:
        values = self.content.region_values(region)
        return [fill_known(line, values) for line in lines]

    def repeats(self, line: str, said: Sequence[str]) -> bool:
        """Whether an answer line says again what the safety reply above it said: the same
        `said_once` topic (a number to call, the card, staying with them...) or nearly the
        same words. Both are compared before their numbers are filled in."""
        topics = self.content.safety.topics
        given = set().union(*(topics(s) for s in said)) if said else set()
        return bool(topics(line) & given) or nearly_same(line, said)

    def safety_lines(self, decision: Decision, audience: Audience) -> list[str]:
        """The safety reply's lines (numbers not yet filled in): the leading family's reply for
        this level, voice, route, age and region, then one line for each other family that
        fired, within the limit."""
        safety = self.content.safety
        lead = decision.sign if decision.sign in safety.families else "general"
        family = safety.families[lead]
        child = bool(CHILD_SIGNS & set(decision.signs))
        voice = audience.voice
        if voice == "patient" and (decision.third_person or child):
            voice = "caregiver"  # about someone else: never the patient's own script
        reader = audience.reader(pump=decision.pump, child=child)
        reply = family.reply(decision.safety.value, decision.signs)
        lines = lines_for(reply.voices.get(voice), reader)
        for other in decision.families:
            if other == lead or other not in safety.families:
                continue
            also = lines_for(safety.families[other].also.get(voice), reader)
            said = " ".join(also).lower()
            if any(phrase.lower() in said for phrase in family.forbidden):
                continue
            if all(self.repeats(line, lines) for line in also):
                continue  # the leading reply already says it
            if len(lines) + len(also) <= safety.max_lines:
                lines.extend(also)
        return lines

    def strain_message(self, decision: Decision, audience: Audience) -> Message | None:
        """The kind reply with the crisis line, when the words say someone cannot go on."""
        strain = self.content.safety.carer_strain
        text = _plain(decision.text)
        if not any(phrase in text for phrase in strain.phrases):
            return None
        lines = self._lines(strain.voices.get(audience.voice), audience.reader())
        return Message("\n".join(lines), kind="info")

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

    def answer_text(
        self, answer_id: str, audience: Audience, reader: Reader | None = None,
        said: Sequence[str] = (), forbidden: Sequence[str] = (),
    ) -> str:  # fmt: skip
        """An answer's lines for this reader, less any line a safety reply above already said
        and any line with a phrase the safety reply's family forbids."""
        reader = reader or audience.reader()
        text = self.content.answers[answer_id].voices.get(audience.voice)
        kept: list[str] = []
        dropped = False
        for line in lines_for(text, reader):
            header = line.endswith(":")  # a list's first line stays with its list
            dropped = (
                bool(said)
                and not header
                and (self.repeats(line, said) or (dropped and line.startswith(LEANS_ON_BEFORE)))
            )
            if any(phrase.lower() in line.lower() for phrase in forbidden):
                dropped = True
            if not dropped:
                kept.append(line)
        return "\n".join(self._fill(kept, reader.region))

    def answer_message(
        self, answer_id: str, audience: Audience, intent_id: str,
        reader: Reader | None = None, said: Sequence[str] = (), forbidden: Sequence[str] = (),
    ) -> Message:  # fmt: skip
        """A vetted answer in the reader's voice, with its footer and related questions."""
        answer = self.content.answers[answer_id]
        if self.approved_only and answer.review.status != "approved":
            return Message(self.content.text("not_approved"), kind="info")
        text = self.answer_text(answer_id, audience, reader, said, forbidden)
        return Message(
            f"{text}\n\n{self.footer(answer)}", self.related_buttons(intent_id), kind="answer"
        )

    def followup_message(self, intent_id: str, audience: Audience) -> Message | None:
        followup = self.content.followups.get(intent_id)
        if followup is None:
            return None
        buttons = tuple(Button(o.label, f"opt:{o.answer}") for o in followup.options)
        return Message(followup.ask.get(audience.voice), buttons, kind="prompt")

    def topic_messages(
        self, intent_id: str, audience: Audience, reader: Reader | None = None,
        said: Sequence[str] = (), forbidden: Sequence[str] = (),
    ) -> list[Message]:  # fmt: skip
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
            messages.append(
                self.answer_message(intent_id, audience, intent_id, reader, said, forbidden)
            )
        return messages

    def emergency_messages(self, audience: Audience) -> list[Message]:
        """/emergency: the general emergency reply, then the emergency plan below it."""
        reply = self.content.safety.families["general"].reply("emergency")
        said = lines_for(reply.voices.get(audience.voice), audience.reader())
        text = "\n".join(self._fill(said, audience.region))
        answer = self.answer_message("emergency_plan", audience, "emergency_plan", said=said)
        return [Message(text, kind="emergency"), answer]

    # -- the whole reply -----------------------------------------------------------------

    def compose(self, decision: Decision, audience: Audience) -> list[Message]:
        content = self.content
        messages: list[Message] = []
        said: list[str] = []
        danger = decision.safety is not Safety.ROUTINE
        lead = content.safety.families.get(decision.sign or "general")
        if danger:
            said = self.safety_lines(decision, audience)
            text = "\n".join(self._fill(said, audience.region))
            messages.append(Message(text, kind=decision.safety.value))
        elif decision.maybe_now:
            line = content.safety.if_happening_now.voices.get(audience.voice)
            messages.append(
                Message(line.format(emergency_number=self._number(audience)), kind="info")
            )
        strain = None if decision.sign == "self_harm" else self.strain_message(decision, audience)
        if strain is not None:
            messages.append(strain)
            if not danger:
                return messages  # the kind reply stands alone: never "out of scope" below it
        reader = audience.reader(pump=decision.pump)
        topic = decision.intent
        forbidden: Sequence[str] = ()
        if danger and lead is not None:
            topic = lead.answer.pick(decision.intent)  # the answer that fits this danger
            forbidden = lead.forbidden

        if decision.action is Action.REFUSE_PERSONAL_DOSING:
            key = "refuse_dosing_in_danger" if danger else "refuse_personal_dosing"
            messages.append(Message(content.voiced(key, audience.voice), kind="info"))
            if topic and topic in content.answers:
                intro = content.voiced("general_info_below", audience.voice)
                answer = self.answer_message(topic, audience, topic, reader, said, forbidden)
                messages.append(Message(f"{intro}\n{answer.text}", answer.buttons, answer.kind))
        elif decision.action is Action.ANSWER and topic:
            messages.extend(self.topic_messages(topic, audience, reader, said, forbidden))
        elif decision.action is Action.ANSWER:
            pass  # a safety reply with no answer below it (self-harm)
        elif decision.action is Action.CLARIFY:
            buttons = tuple(Button(self.question_label(i), f"pick:{i}") for i in decision.options)
            none = Button(content.text("button_none_of_these"), "none")
            messages.append(Message(content.text("clarify_ask"), (*buttons, none), kind="prompt"))
        elif decision.action is Action.OUT_OF_SCOPE:
            messages.append(Message(content.text("out_of_scope"), kind="info"))
        else:
            messages.append(Message(content.text("fallback"), kind="info"))
        return messages
