"""The content library: every sentence a person reads, loaded from `content/` and validated.

Answers (three voices each), the sources catalogue, the facts they rest on, the safety replies,
guided follow-up questions and the UI strings. Loading checks every cross-reference, so a bad
file stops start-up with the file, the entry and the problem named. This module holds no
clinical text; it only reads and checks it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.core.intents import KNOWLEDGE_IDS
from bot.core.triage import EMERGENCY_FAMILIES, FAMILIES
from bot.loading import DataError, load_yaml_model, read_yaml, validate
from bot.paths import data_dir
from bot.reply.lines import REGIONS, all_lines, placeholders, tag_problems

VOICES: tuple[str, ...] = ("patient", "caregiver", "professional")
# Answers the content must have: every knowledge intent's (the contract's list, with
# autonomic_dysreflexia, which the core's list does not name yet), and contact_care_team's (a
# feature intent answered from content).
REQUIRED_ANSWERS = frozenset(KNOWLEDGE_IDS) | {"contact_care_team"}
# What a safety reply may name, filled from the reader's region (content/safety.yaml, regions).
REGION_PLACEHOLDERS = ("emergency_number", "crisis_line", "poison_centre")
SourceKind = Literal["primary", "copy", "secondary", "wiki"]
_NUMBER = re.compile(r"(?<![A-Za-z0-9-])\d+(?:[.,]\d+)?")
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
Voice = Literal["patient", "caregiver", "professional"]
Status = Literal["draft", "under_review", "approved"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Source(_Strict):
    id: str = Field(pattern=r"^[A-Z0-9][A-Z0-9-]*$")
    title: str = Field(min_length=3)
    publisher: str = Field(min_length=2)
    year: int | None = Field(default=None, ge=1900, le=2100)
    url: str = Field(pattern=r"^https?://")
    kind: SourceKind  # primary, or a copy, a secondary summary or a wiki (listed by the check)


class SourcesFile(_Strict):
    sources: list[Source] = Field(min_length=1)


class Fact(_Strict):
    id: str = Field(pattern=r"^F\d{3}$")
    form: Literal["oral", "itb", "both"]
    text: str = Field(min_length=10)
    sources: list[str] = Field(min_length=1)
    derived_from: list[str] = Field(default_factory=list)
    check: str | None = None  # a number or threshold a clinician must check before release


class FactsFile(_Strict):
    facts: list[Fact] = Field(min_length=1)


class Review(_Strict):
    status: Status
    reviewer: str | None = None
    date: dt.date

    @model_validator(mode="after")
    def _approved_needs_reviewer(self) -> Review:
        if self.status == "approved" and not (self.reviewer and self.reviewer.strip()):
            raise ValueError("an approved answer needs a named clinical reviewer")
        return self


class Voices(_Strict):
    patient: str
    caregiver: str
    professional: str

    @field_validator("patient", "caregiver", "professional")
    @classmethod
    def _not_empty(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("empty text")
        return text.strip()

    def get(self, voice: str) -> str:
        return str(getattr(self, voice))


class Answer(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    question: str = Field(min_length=3, max_length=40)
    facts: list[str] = Field(min_length=1)
    sources: list[str] = Field(min_length=1)
    review: Review
    voices: Voices


class AnswersFile(_Strict):
    answers: list[Answer] = Field(min_length=1)


class SafetyReply(_Strict):
    facts: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    voices: Voices


class Region(_Strict):
    """One region's numbers: the emergency number, the crisis line and the poison centre
    (none where the region has no single one), the facts they come from, and what a clinician
    must check before release."""

    emergency: str = Field(min_length=2)
    crisis: str | None = None
    poison: str | None = None
    facts: list[str] = Field(min_length=1)
    check: str = Field(min_length=10)

    def values(self) -> dict[str, str | None]:
        return {"emergency_number": self.emergency, "crisis_line": self.crisis,
                "poison_centre": self.poison}  # fmt: skip


class AnswerRule(_Strict):
    """Which answer may follow a family's safety reply: the decision's own answer if it is
    in `keep`, else `default` (none: no answer below, as for self-harm)."""

    default: str | None = None
    keep: list[str] = Field(default_factory=list)

    def pick(self, intent: str | None) -> str | None:
        return intent if intent in self.keep else self.default


class Variant(_Strict):
    """Another emergency reply for when every sign that fired is one of `when_only` (poisoning:
    an amount taken and no danger sign named, so the poison centre comes first)."""

    when_only: list[str] = Field(min_length=1)
    emergency: SafetyReply


class FamilyReplies(_Strict):
    """A sign family's replies (contract section 1): one per level it can reach, each in three
    voices, with tagged lines per route, age and region."""

    forbidden: list[str] = Field(default_factory=list)  # never in this family's reply
    answer: AnswerRule
    also: Voices  # one line, added when this family fired but another one leads
    emergency: SafetyReply | None = None
    urgent: SafetyReply | None = None
    variant: Variant | None = None

    @model_validator(mode="after")
    def _some_level(self) -> FamilyReplies:
        if self.emergency is None and self.urgent is None:
            raise ValueError("a family needs an emergency or an urgent reply")
        return self

    def reply(self, level: str, signs: Sequence[str] = ()) -> SafetyReply:
        """The reply for `level` and the signs that fired; a family that never reaches a level
        answers with its other one."""
        variant = self.variant
        if level == "emergency" and variant and signs and set(signs) <= set(variant.when_only):
            return variant.emergency
        first, other = (
            (self.emergency, self.urgent) if level == "emergency" else (self.urgent, self.emergency)
        )
        found = first or other
        assert found is not None
        return found


class CarerStrain(_Strict):
    """Someone who says they cannot go on (a carer, often): a kind reply with the crisis line,
    never "out of scope". Found in the reply layer by these phrases (lower case, "'" as typed
    or left out)."""

    phrases: list[str] = Field(min_length=5)
    facts: list[str] = Field(min_length=1)
    sources: list[str] = Field(min_length=1)
    voices: Voices


class SafetyFile(_Strict):
    max_lines: int = Field(ge=4, le=12)  # lines a safety reply may have before any answer
    said_once: dict[str, str] = Field(min_length=1)  # topics an answer below must not repeat
    regions: dict[str, Region] = Field(min_length=1)
    families: dict[str, FamilyReplies]
    if_happening_now: SafetyReply
    carer_strain: CarerStrain

    @model_validator(mode="after")
    def _complete(self) -> SafetyFile:
        unknown = sorted(set(self.regions) - set(REGIONS))
        if unknown:
            raise ValueError(f"unknown regions {unknown} (known: {REGIONS})")
        if set(self.families) != set(FAMILIES):
            missing = sorted(set(FAMILIES) - set(self.families))
            extra = sorted(set(self.families) - set(FAMILIES))
            raise ValueError(f"families must be the contract's: missing {missing}, extra {extra}")
        for family in EMERGENCY_FAMILIES:
            if self.families[family].emergency is None:
                raise ValueError(f"family {family!r} can be an emergency but has no reply for it")
        for name, pattern in self.said_once.items():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"said_once.{name}: not a regular expression ({exc})") from exc
        return self

    def topics(self, line: str) -> set[str]:
        """The `said_once` topics a line (before its numbers are filled) speaks of."""
        return {n for n, p in self.said_once.items() if re.search(p, line, re.IGNORECASE)}

    @property
    def emergency_numbers(self) -> dict[str, str]:
        """Region code to emergency number, in the file's order (the region buttons' order)."""
        return {code: region.emergency for code, region in self.regions.items()}


class FollowupOption(_Strict):
    label: str = Field(min_length=1, max_length=40)
    answer: str


class Followup(_Strict):
    intent: str
    ask: Voices
    options: list[FollowupOption] = Field(min_length=2)


class FollowupsFile(_Strict):
    followups: list[Followup]


class UiFile(_Strict):
    strings: dict[str, str] = Field(min_length=1)
    voiced: dict[str, Voices] = Field(default_factory=dict)
    features: dict[str, Voices] = Field(default_factory=dict)


def numbers_in(text: str) -> set[str]:
    """The numbers a text states (placeholders such as {emergency_number} are not numbers)."""
    return {n.replace(",", "") for n in _NUMBER.findall(_PLACEHOLDER.sub("", text))}


def unsupported_numbers(text: str, facts: Iterable[Fact]) -> list[str]:
    """The content rule for numbers: those in `text` that appear in none of `facts` (as whole
    numbers, or as a part of a range or a decimal there)."""
    known: set[str] = set()
    for fact in facts:
        found = numbers_in(fact.text)
        known |= found | {part for n in found for part in re.split(r"[-.]", n)}
    return sorted(n for n in numbers_in(text) if n not in known)


def check_cited(
    where: str, fact_ids: Sequence[str], texts: Iterable[str], facts: Mapping[str, Fact]
) -> None:
    """Texts that cite facts: each fact id exists, and every number they state is in those
    facts. `where` names the file and entry in the `DataError`."""
    unknown = [f for f in fact_ids if f not in facts]
    if unknown:
        raise DataError(f"{where}: unknown fact ids: {', '.join(unknown)}")
    for text in texts:
        loose = unsupported_numbers(text, (facts[f] for f in fact_ids))
        if loose:
            raise DataError(f"{where}: numbers not in its facts: {', '.join(loose)}")


def fill(template: str, values: Mapping[str, str]) -> str:
    """A content text with its `{placeholders}` filled (as written when there are no values)."""
    return template.format(**values) if values else template


@dataclass(frozen=True)
class Strings:
    """One table of short texts by key (the `strings:` of ui.yaml, reminders.yaml, care.yaml...):
    the one lookup every part uses, `text(key, **values)`."""

    where: str  # the file (and table) the texts come from, named when a key is missing
    table: Mapping[str, str]

    def text(self, key: str, **values: str) -> str:
        try:
            template = self.table[key]
        except KeyError:
            raise KeyError(f"{self.where} has no string {key!r}") from None
        return fill(template, values)


class Worded:
    """A part with a table of words (`strings`): `text(key, **values)` is the one lookup."""

    strings: Strings

    def text(self, key: str, **values: str) -> str:
        """A string by key, with `{placeholders}` filled."""
        return self.strings.text(key, **values)


@dataclass(frozen=True)
class Content(Worded):
    """Everything a person can read, validated and cross-checked."""

    answers: dict[str, Answer]
    answer_files: dict[str, Path]
    sources: dict[str, Source]
    facts: dict[str, Fact]
    safety: SafetyFile
    followups: dict[str, Followup]
    ui: UiFile
    strings: Strings  # ui.yaml's strings

    def voiced(self, key: str, voice: str, **values: str) -> str:
        return fill(self.ui.voiced[key].get(voice), values)

    def emergency_number(self, region: str) -> str:
        return self.region(region).emergency

    def region(self, code: str) -> Region:
        """A region's numbers (the first region's for an unknown code)."""
        regions = self.safety.regions
        return regions.get(code) or next(iter(regions.values()))

    def region_values(self, code: str) -> dict[str, str | None]:
        """What the `{placeholders}` of a safety reply or an answer are filled with."""
        return self.region(code).values()


def _load_answers(folder: Path) -> tuple[dict[str, Answer], dict[str, Path]]:
    answers: dict[str, Answer] = {}
    files: dict[str, Path] = {}
    paths = sorted((folder / "answers").glob("*.yaml"))
    if not paths:
        raise DataError(f"{folder / 'answers'}: no answer files (*.yaml) found")
    for path in paths:
        for answer in load_yaml_model(path, AnswersFile).answers:
            if answer.id in answers:
                raise DataError(
                    f"{path}: entry {answer.id!r}: duplicate id, already in {files[answer.id]}"
                )
            answers[answer.id] = answer
            files[answer.id] = path
    return answers, files


def _check_refs(
    path: Path, entry: str, facts: list[str], sources: list[str], content: Content
) -> None:
    unknown_facts = [f for f in facts if f not in content.facts]
    if unknown_facts:
        raise DataError(f"{path}: entry {entry!r}: unknown fact ids: {', '.join(unknown_facts)}")
    unknown_sources = [s for s in sources if s not in content.sources]
    if unknown_sources:
        raise DataError(
            f"{path}: entry {entry!r}: unknown source ids: {', '.join(unknown_sources)}"
        )


def _check_lines(where: str, text: str, content: Content) -> None:
    """A text's tags are known, and every region that can see a line fills its placeholders."""
    problems = tag_problems(text)
    if problems:
        raise DataError(f"{where}: {problems[0]}")
    for code, region in content.safety.regions.items():
        used = placeholders(all_lines(text, code))
        unknown = sorted(used - set(REGION_PLACEHOLDERS))
        if unknown:
            raise DataError(f"{where}: unknown placeholders {unknown}")
        empty = sorted(n for n in used if region.values()[n] is None)
        if empty:
            raise DataError(f"{where}: region {code} has no {', '.join(empty)} for a line it sees")


def _check_safety(path: Path, content: Content) -> None:
    """Every safety reply: known facts and sources, tags and placeholders per region, numbers in
    its facts, no phrase its family forbids; each region's numbers appear in its facts."""
    safety = content.safety
    for code, region in safety.regions.items():
        _check_refs(path, f"regions.{code}", region.facts, [], content)
        said = " ".join(content.facts[f].text for f in region.facts)
        for number in (region.emergency, region.crisis, region.poison):
            for part in (number or "").split(" or "):
                if part and part not in said:
                    raise DataError(
                        f"{path}: entry 'regions.{code}': {part!r} is in none of its facts"
                    )
    replies: list[tuple[str, SafetyReply, list[str]]] = [
        ("if_happening_now", safety.if_happening_now, []),
        ("carer_strain", SafetyReply(facts=safety.carer_strain.facts,
                                     sources=safety.carer_strain.sources,
                                     voices=safety.carer_strain.voices), []),
    ]  # fmt: skip
    for name, family in safety.families.items():
        for level in ("emergency", "urgent"):
            reply = getattr(family, level)
            if reply is not None:
                replies.append((f"families.{name}.{level}", reply, family.forbidden))
        if family.variant is not None:
            replies.append((f"families.{name}.variant", family.variant.emergency, family.forbidden))
        replies.append((f"families.{name}.also", SafetyReply(voices=family.also), []))
        for intent in (family.answer.default, *family.answer.keep):
            if intent is not None and intent not in content.answers:
                raise DataError(f"{path}: entry 'families.{name}.answer': no answer {intent!r}")
    for entry, reply, forbidden in replies:
        _check_refs(path, entry, reply.facts, reply.sources, content)
        facts = [content.facts[f] for f in reply.facts]
        for voice in VOICES:
            text = reply.voices.get(voice)
            _check_lines(f"{path}: entry {entry!r} ({voice})", text, content)
            bad = [p for p in forbidden if p.lower() in text.lower()]
            if bad:
                raise DataError(f"{path}: entry {entry!r} ({voice}) says {bad[0]!r}")
            if facts:
                loose = unsupported_numbers("\n".join(all_lines(text)), facts)
                if loose:
                    raise DataError(f"{path}: entry {entry!r} ({voice}): numbers not in its "
                                    f"facts: {', '.join(loose)}")  # fmt: skip


def load_content(
    folder: Path | None = None, required_answers: frozenset[str] = frozenset()
) -> Content:
    """Load and cross-check `content/`. `required_answers`: ids that must have an answer."""
    folder = folder or data_dir("content")
    sources_list = load_yaml_model(folder / "sources.yaml", SourcesFile).sources
    sources = {s.id: s for s in sources_list}
    if len(sources) != len(sources_list):
        raise DataError(f"{folder / 'sources.yaml'}: duplicate source ids")
    facts_list = load_yaml_model(folder / "facts.yaml", FactsFile).facts
    facts = {f.id: f for f in facts_list}
    if len(facts) != len(facts_list):
        raise DataError(f"{folder / 'facts.yaml'}: duplicate fact ids")
    answers, answer_files = _load_answers(folder)
    safety = load_yaml_model(folder / "safety.yaml", SafetyFile)
    followups_path = folder / "followups.yaml"
    followups = {f.intent: f for f in load_yaml_model(followups_path, FollowupsFile).followups}
    ui_path = folder / "ui.yaml"
    ui = validate(ui_path, read_yaml(ui_path), UiFile)
    strings = Strings(str(ui_path.relative_to(folder.parent)), ui.strings)
    content = Content(answers, answer_files, sources, facts, safety, followups, ui, strings)

    facts_path = folder / "facts.yaml"
    for fact in facts.values():
        _check_refs(facts_path, fact.id, fact.derived_from, fact.sources, content)
    for answer in answers.values():
        _check_refs(answer_files[answer.id], answer.id, answer.facts, answer.sources, content)
    _check_safety(folder / "safety.yaml", content)
    for answer in answers.values():
        where = f"{answer_files[answer.id]}: entry {answer.id!r}"
        for voice in VOICES:
            _check_lines(f"{where} ({voice})", answer.voices.get(voice), content)
    for followup in followups.values():
        for option in followup.options:
            if option.answer not in answers:
                raise DataError(
                    f"{followups_path}: entry {followup.intent!r}: option {option.label!r} "
                    f"opens unknown answer {option.answer!r}"
                )
    missing = sorted(required_answers - answers.keys())
    if missing:
        raise DataError(f"{folder / 'answers'}: no answer for: {', '.join(missing)}")
    return content
