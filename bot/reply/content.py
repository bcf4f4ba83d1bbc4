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
from bot.loading import DataError, load_yaml_model, read_yaml, validate
from bot.paths import data_dir

VOICES: tuple[str, ...] = ("patient", "caregiver", "professional")
# Answers the content must have: every knowledge intent's, and contact_care_team's (a feature
# intent answered from content).
REQUIRED_ANSWERS = frozenset(KNOWLEDGE_IDS) | {"contact_care_team"}
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


class SourcesFile(_Strict):
    sources: list[Source] = Field(min_length=1)


class Fact(_Strict):
    id: str = Field(pattern=r"^F\d{3}$")
    form: Literal["oral", "itb", "both"]
    text: str = Field(min_length=10)
    sources: list[str] = Field(min_length=1)
    derived_from: list[str] = Field(default_factory=list)


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


class SafetyReplies(_Strict):
    emergency: SafetyReply
    urgent: SafetyReply
    pump_line: SafetyReply
    if_happening_now: SafetyReply


class SafetyFile(_Strict):
    emergency_numbers: dict[str, str] = Field(min_length=1)
    replies: SafetyReplies


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
        numbers = self.safety.emergency_numbers
        return numbers.get(region) or next(iter(numbers.values()))


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
    safety_path = folder / "safety.yaml"
    for name in ("emergency", "urgent", "pump_line", "if_happening_now"):
        reply: SafetyReply = getattr(safety.replies, name)
        _check_refs(safety_path, name, reply.facts, reply.sources, content)
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
