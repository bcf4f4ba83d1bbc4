"""The withdrawal checklist: context questions, tick the signs, one clear next step.

A pure state machine over `ChecklistState` (kept in the dialogue `Session` as a short token):
`start` asks how baclofen is taken, then whether a refill or doses were missed, then shows the
signs grouped as the clinical facts group them (early / danger). Each tap toggles a sign and the
list is shown again with ticks; Done gives exactly one result: call the emergency number now,
call the prescriber or pump clinic today, or keep watching and check again in N hours.

The result is not decided here: every sign (and a missed refill or missed doses) stands for
concepts of the triage rules (`intents/rules/triage.yaml`), and `Triage.assess_concepts` decides
the level from the same signs table as a free-text message, so the checklist and triage can
never disagree about which sign is an emergency. The emergency script names overdose or
withdrawal as the ticked signs suggest.

Every word, every sign, its group and the facts behind each line live in `content/checklist.yaml`,
validated here on load (unknown fact ids, or a number that its cited facts do not contain, stop
start-up). This module must never hold clinical or UI text, never do I/O after loading, never read
the clock, and never suggest, change or interpret a dose.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.core.triage import Profile, Triage
from bot.loading import DataError, load_yaml_model
from bot.paths import data_dir
from bot.reply.content import Fact, Voices, check_cited, fill
from bot.reply.messages import Button, Message

PREFIX = "cl"  # button data: "cl:route:pump", "cl:cause:yes", "cl:t:itching", "cl:done"
ROUTES = ("pump", "tablets", "both")
CAUSES = ("yes", "no", "unsure")
OUTCOMES = ("emergency", "clinic_today", "watch")
PROFILE_ROUTE = {"pump": "pump", "tablets": "oral", "both": "both"}
STEPS = ("route", "cause", "signs")
SEVERE = "severe"
EARLY = "early"
# The kind a door gives each result message (emergency and urgent go first, alone).
OUTCOME_KIND = {"emergency": "emergency", "clinic_today": "urgent", "watch": "info"}

Outcome = Literal["emergency", "clinic_today", "watch"]
# The triage level, as the checklist's result.
OUTCOME_OF_LEVEL: dict[str, Outcome] = {
    "emergency": "emergency", "urgent": "clinic_today", "routine": "watch",
}  # fmt: skip


# -- the content file ----------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Cited(_Strict):
    facts: list[str] = Field(min_length=1)
    voices: Voices


class Group(_Strict):
    id: Literal["early", "severe"]
    title: str = Field(min_length=2, max_length=40)
    facts: list[str] = Field(min_length=1)


class Sign(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z_]*$", max_length=24)
    group: Literal["early", "severe"]
    label: str = Field(min_length=2, max_length=40)
    facts: list[str] = Field(min_length=1)
    concepts: list[str] = Field(min_length=1)  # what triage reads for this sign
    suggests: Literal["withdrawal", "overdose", "either"]  # named in the emergency script


class Buttons(_Strict):
    route_pump: str
    route_tablets: str
    route_both: str
    cause_yes: str
    cause_no: str
    cause_unsure: str
    done: str
    cancel: str
    ticked: str
    unticked: str
    share_yes: str
    share_no: str
    start: str


class Texts(_Strict):
    title: Voices
    route_ask: Voices
    cause_ask_pump: Voices
    cause_ask_tablets: Voices
    cause_ask_both: Voices
    signs_ask: Voices
    severe_ticked: Voices
    you_ticked: Voices
    nothing_ticked: Voices
    recheck_set: Voices
    recheck_manual: Voices
    share_ask: Voices
    cancelled: Voices
    recheck_due: Voices


class Reasons(_Strict):
    severe_sign: Cited
    severe_together: Cited
    missed_refill: Cited
    stopped_doses: Cited
    pump_early: Cited
    signs_today: Cited
    watch: Cited


class Outcomes(_Strict):
    emergency_withdrawal: Cited
    emergency_overdose: Cited
    emergency_either: Cited
    clinic_today: Cited
    watch: Cited


class CauseConcepts(_Strict):
    """What a "yes" (or "not sure") to the missed refill / missed doses question stands for."""

    pump: list[str] = Field(min_length=1)
    tablets: list[str] = Field(min_length=1)
    both: list[str] = Field(min_length=1)


class ChecklistSpec(_Strict):
    recheck_hours: int = Field(ge=1, le=24)
    cause_concepts: CauseConcepts
    fever_note: Cited  # what "mild" and "high" fever mean, in numbers
    text: Texts
    buttons: Buttons
    groups: list[Group] = Field(min_length=2, max_length=2)
    signs: list[Sign] = Field(min_length=2)
    reasons: Reasons
    outcomes: Outcomes

    @model_validator(mode="after")
    def _consistent(self) -> ChecklistSpec:
        ids = [s.id for s in self.signs]
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate sign ids")
        if {g.id for g in self.groups} != {EARLY, SEVERE}:
            raise ValueError("groups must be exactly 'early' and 'severe'")
        for group in (EARLY, SEVERE):
            if not any(s.group == group for s in self.signs):
                raise ValueError(f"no sign in group {group!r}")
        return self

    def sign(self, sign_id: str) -> Sign | None:
        return next((s for s in self.signs if s.id == sign_id), None)

    def cited(self) -> list[tuple[str, list[str], list[str]]]:
        """(entry, facts, texts) for every clinical line, for the load-time checks."""
        rows: list[tuple[str, list[str], list[str]]] = []
        for name in Outcomes.model_fields:
            item: Cited = getattr(self.outcomes, name)
            rows.append((f"outcomes.{name}", item.facts, _voices(item.voices)))
        for name in Reasons.model_fields:
            item = getattr(self.reasons, name)
            rows.append((f"reasons.{name}", item.facts, _voices(item.voices)))
        for sign in self.signs:
            rows.append((f"signs.{sign.id}", sign.facts, [sign.label]))
        for group in self.groups:
            rows.append((f"groups.{group.id}", group.facts, [group.title]))
        rows.append(("fever_note", self.fever_note.facts, _voices(self.fever_note.voices)))
        return rows

    def concepts(self) -> set[str]:
        """Every triage concept a sign or an answer stands for."""
        causes = self.cause_concepts
        return {c for s in self.signs for c in s.concepts} | {
            *causes.pump,
            *causes.tablets,
            *causes.both,
        }


def _voices(voices: Voices) -> list[str]:
    return [voices.patient, voices.caregiver, voices.professional]


def load_checklist(facts: Mapping[str, Fact], folder: Path | None = None) -> ChecklistSpec:
    """Read `content/checklist.yaml`, validate it, and check its facts and numbers."""
    path = (folder or data_dir("content")) / "checklist.yaml"
    spec = load_yaml_model(path, ChecklistSpec)
    for entry, fact_ids, texts in spec.cited():
        check_cited(f"{path}: entry {entry!r}", fact_ids, texts, facts)
    return spec


# -- state ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChecklistState:
    """Where one run of the checklist is: the step, the answers, the ticked signs."""

    step: str = "route"
    route: str | None = None
    cause: str | None = None
    signs: tuple[str, ...] = ()

    def to_token(self) -> str:
        """A short plain string for the Session ("signs|pump|yes|itching,low_fever")."""
        return "|".join((self.step, self.route or "", self.cause or "", ",".join(self.signs)))

    @classmethod
    def from_token(cls, token: str | None) -> ChecklistState | None:
        """The state back from `to_token`; None if there is none or it is not valid."""
        if not token:
            return None
        parts = token.split("|")
        if len(parts) != 4 or parts[0] not in STEPS:
            return None
        step, route, cause, signs = parts
        if (route and route not in ROUTES) or (cause and cause not in CAUSES):
            return None
        return cls(step, route or None, cause or None, tuple(s for s in signs.split(",") if s))


@dataclass(frozen=True)
class Result:
    """What Done decided, and why: the thing that is saved, shared and shown in /history."""

    outcome: Outcome
    reason: str
    route: str
    cause: str
    signs: tuple[str, ...]

    def to_data(self) -> dict[str, object]:
        return {
            "outcome": self.outcome,
            "reason": self.reason,
            "route": self.route,
            "cause": self.cause,
            "signs": list(self.signs),
        }


@dataclass(frozen=True)
class Step:
    """One checklist step: the new state (None once closed), messages, and a result at Done."""

    state: ChecklistState | None
    messages: list[Message]
    result: Result | None = None
    notes: tuple[str, ...] = field(default=())


def triage_input(
    spec: ChecklistSpec, route: str, cause: str, signs: tuple[str, ...]
) -> tuple[set[str], Profile]:
    """The triage concepts these answers stand for, and the profile (route) they give."""
    present: set[str] = set()
    for sign in (spec.sign(i) for i in signs):
        if sign is not None:
            present.update(sign.concepts)
    if cause in ("yes", "unsure"):  # not sure counts as yes: the safer reading
        present.update(getattr(spec.cause_concepts, route))
    return present, Profile(route=PROFILE_ROUTE[route])


def decide(
    spec: ChecklistSpec, triage: Triage, route: str, cause: str, signs: tuple[str, ...]
) -> Result:
    """The one result for these answers: triage's level for the concepts they stand for, and
    never less than the clinic today when a sign listed under danger is ticked (free text may
    read "a high fever" on tablets with nothing missed as routine; a ticked danger box is not)."""
    known = [s for s in (spec.sign(i) for i in signs) if s is not None]
    ticked = tuple(s.id for s in known)
    present, profile = triage_input(spec, route, cause, ticked)
    outcome = OUTCOME_OF_LEVEL[triage.assess_concepts(present, profile=profile).level.value]
    if outcome == "watch" and any(s.group == SEVERE for s in known):
        outcome = "clinic_today"
    missed = cause in ("yes", "unsure")
    if outcome == "emergency":
        reason = "severe_sign" if any(s.group == SEVERE for s in known) else "severe_together"
    elif outcome == "clinic_today" and missed:
        reason = "missed_refill" if route == "pump" else "stopped_doses"
    elif outcome == "clinic_today":
        reason = "pump_early" if route in ("pump", "both") else "signs_today"
    else:
        reason = "watch"
    return Result(outcome, reason, route, cause, ticked)


def suggests(spec: ChecklistSpec, result: Result) -> str:
    """What the ticked signs (and a missed refill or doses) point to: withdrawal, overdose, or
    either; the emergency script names it."""
    found = {s.suggests for s in (spec.sign(i) for i in result.signs) if s is not None}
    if result.cause in ("yes", "unsure"):
        found.add("withdrawal")
    if found in ({"withdrawal"}, {"overdose"}):
        return found.pop()
    return "either"


class Checklist:
    """The checklist's steps, in any voice, for any door. It decides with `triage` (the rules
    of `intents/rules/triage.yaml`, loaded when not given)."""

    def __init__(self, spec: ChecklistSpec, triage: Triage | None = None) -> None:
        self.spec = spec
        self.triage = triage or Triage.from_file(data_dir("intents") / "rules" / "triage.yaml")
        unknown = sorted(spec.concepts() - self.triage.concepts)
        if unknown:
            raise DataError(f"content/checklist.yaml: unknown triage concepts: {unknown}")

    def decide(self, route: str, cause: str, signs: tuple[str, ...]) -> Result:
        return decide(self.spec, self.triage, route, cause, signs)

    def _b(self, key: str) -> str:
        return str(getattr(self.spec.buttons, key))

    def _t(self, key: str, voice: str, **values: str) -> str:
        voices: Voices = getattr(self.spec.text, key)
        return fill(voices.get(voice), values)

    def _stop(self) -> Button:
        return Button(self._b("cancel"), f"{PREFIX}:stop")

    def start(self, voice: str) -> Step:
        state = ChecklistState()
        buttons = tuple(Button(self._b(f"route_{r}"), f"{PREFIX}:route:{r}") for r in ROUTES)
        text = f"{self._t('title', voice)}\n\n{self._t('route_ask', voice)}"
        return Step(state, [Message(text, (*buttons, self._stop()), kind="prompt")])

    def _cause(self, state: ChecklistState, voice: str) -> Message:
        buttons = tuple(Button(self._b(f"cause_{c}"), f"{PREFIX}:cause:{c}") for c in CAUSES)
        text = self._t(f"cause_ask_{state.route}", voice)
        return Message(text, (*buttons, self._stop()), kind="prompt")

    def _danger_now(self, state: ChecklistState) -> bool:
        """Whether the signs ticked so far already mean: call the emergency number now."""
        if not (state.route and state.cause and state.signs):
            return False
        return self.decide(state.route, state.cause, state.signs).outcome == "emergency"

    def signs_message(self, state: ChecklistState, voice: str, number: str) -> Message:
        """The list of signs, grouped, with a tick on each one tapped."""
        lines = [self._t("signs_ask", voice)]
        buttons: list[Button] = []
        for group in self.spec.groups:
            lines.append("")
            lines.append(group.title)
            for sign in (s for s in self.spec.signs if s.group == group.id):
                mark = self._b("ticked" if sign.id in state.signs else "unticked")
                lines.append(f"{mark} {sign.label}")
                buttons.append(Button(f"{mark} {sign.label}", f"{PREFIX}:t:{sign.id}"))
        lines.insert(1, fill(self.spec.fever_note.voices.get(voice), {}))
        if self._danger_now(state):
            lines.insert(0, self._t("severe_ticked", voice, emergency_number=number) + "\n")
        buttons.append(Button(self._b("done"), f"{PREFIX}:done"))
        buttons.append(self._stop())
        return Message("\n".join(lines), tuple(buttons), kind="prompt")

    def press(self, state: ChecklistState | None, value: str, voice: str, number: str) -> Step:
        """A checklist button (`value` is the data after "cl:"). None: an old or stale button."""
        kind, _, arg = value.partition(":")
        if kind == "stop":
            return Step(None, [Message(self._t("cancelled", voice), kind="info")])
        if state is None:
            return Step(None, [], notes=("expired",))
        if kind == "route" and arg in ROUTES and state.step == "route":
            state = replace(state, step="cause", route=arg)
            return Step(state, [self._cause(state, voice)])
        if kind == "cause" and arg in CAUSES and state.step == "cause":
            state = replace(state, step="signs", cause=arg)
            return Step(state, [self.signs_message(state, voice, number)])
        if kind == "t" and state.step == "signs" and self.spec.sign(arg) is not None:
            signs = tuple(s for s in state.signs if s != arg)
            if len(signs) == len(state.signs):
                signs = (*state.signs, arg)
            state = replace(state, signs=signs)
            return Step(state, [self.signs_message(state, voice, number)])
        if kind == "done" and state.step == "signs" and state.route and state.cause:
            result = self.decide(state.route, state.cause, state.signs)
            return Step(None, [self.result_message(result, voice, number)], result)
        return Step(state, [], notes=("expired",))

    # -- results ---------------------------------------------------------------------------

    def signs_line(self, result: Result, voice: str) -> str:
        labels = [s.label for s in (self.spec.sign(i) for i in result.signs) if s is not None]
        if not labels:
            return self._t("nothing_ticked", voice)
        return self._t("you_ticked", voice, signs="; ".join(labels))

    def result_text(self, result: Result, voice: str, number: str) -> str:
        """The result as a person reads it: the step, what was ticked, and why."""
        name: str = result.outcome
        if name == "emergency":
            name = f"emergency_{suggests(self.spec, result)}"
        outcome: Cited = getattr(self.spec.outcomes, name)
        reason: Cited = getattr(self.spec.reasons, result.reason)
        values = {"emergency_number": number, "hours": str(self.spec.recheck_hours)}
        return "\n\n".join(
            (
                fill(outcome.voices.get(voice), values),
                self.signs_line(result, voice),
                fill(reason.voices.get(voice), values),
            )
        )

    def result_message(self, result: Result, voice: str, number: str) -> Message:
        return Message(self.result_text(result, voice, number), kind=OUTCOME_KIND[result.outcome])

    def recheck_message(self, voice: str, scheduled: bool) -> Message:
        """After a "watch" result: the re-check reminder is set, or say honestly it is not."""
        key = "recheck_set" if scheduled else "recheck_manual"
        return Message(self._t(key, voice, hours=str(self.spec.recheck_hours)), kind="info")

    def recheck_due_message(self, voice: str) -> Message:
        """The re-check reminder, when it falls due: its button starts the checklist."""
        start = Button(self._b("start"), f"{PREFIX}:start")
        return Message(self._t("recheck_due", voice), (start,), kind="prompt")

    def share_message(self, voice: str, targets: Sequence[Button], record: int) -> Message:
        """Ask whether to send the result on: one button per target, then "No"."""
        no = Button(self._b("share_no"), f"{PREFIX}:noshare:{record}")
        return Message(self._t("share_ask", voice), (*targets, no), kind="prompt")
