"""Guards: decline personal dosing requests, and recognise out-of-scope messages.

Patterns and word lists live in `intents/rules/guards.yaml`. A guard never lowers a safety
level: it only decides what the bot may do with a message once triage has spoken.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from bot.core.triage import FAMILIES, literal_finder, required_literals
from bot.loading import DataError, load_yaml_model

_GAP = r"(?:\S+ ){0,3}"


class GuardsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    personal_dosing: list[str] = Field(min_length=1)
    general_question: list[str] = Field(default_factory=list)
    rule_lifting: list[str]
    third_person: list[str] = Field(min_length=1)
    domain_words: str
    illness_words: str = ""
    other_topics: str
    not_about_baclofen: list[str] = Field(default_factory=list)
    reported_mistake: list[str] = Field(default_factory=list)
    disclaimable: list[str] = Field(default_factory=list)
    takes_baclofen: list[str] = Field(default_factory=list)


def _compile_any(patterns: list[str], where: Path) -> re.Pattern[str]:
    joined = "|".join(f"(?:{p.replace('<w>', _GAP)})" for p in patterns)
    try:
        return re.compile(rf"(?<![a-z0-9])(?:{joined})(?![a-z0-9])")
    except re.error as exc:
        raise DataError(f"{where}: a pattern is not a valid regular expression: {exc}") from exc


@dataclass(frozen=True)
class GuardResult:
    personal_dosing: bool
    general_question: bool  # asked in general ("what should I do if I miss a dose")
    rule_lifting: bool
    domain: bool  # the message has at least one of the bot's domain words
    baclofen_angle: bool  # a domain word that is not only the illness or "dose" in general
    other_topic: bool  # it names another medicine, device or subject
    third_person: bool  # it is written about someone else ("my son is...")
    not_about_baclofen: bool = False  # "nothing to do with baclofen, but ..."


class Guards:
    """Applies the guard rules to normalised text. Build once; `check` is pure."""

    def __init__(self, rules: GuardsFile, source: Path | None = None) -> None:
        where = source or Path("guard rules")
        # One regex per dosing shape, each searched only when the strings every match of it
        # needs are in the message (a message with none of them cannot match that shape).
        self._dosing = [
            (_compile_any([p], where), required_literals(p)) for p in rules.personal_dosing
        ]
        # Those strings, each with the shapes that need it, all looked for in one pass.
        self._dosing_finder = literal_finder(
            {str(i): needs for i, (_, needs) in enumerate(self._dosing)}
        )
        self._lifting = _compile_any(rules.rule_lifting, where) if rules.rule_lifting else None
        self._general = (
            _compile_any(rules.general_question, where) if rules.general_question else None
        )
        self._third_person = _compile_any(rules.third_person, where)
        self._domain = frozenset(rules.domain_words.split())
        self._angle = self._domain - frozenset(rules.illness_words.split())
        self._other = frozenset(rules.other_topics.split())
        self._not_about = (
            _compile_any(rules.not_about_baclofen, where) if rules.not_about_baclofen else None
        )
        self._takes = _compile_any(rules.takes_baclofen, where) if rules.takes_baclofen else None
        self._reported = (
            _compile_any(rules.reported_mistake, where) if rules.reported_mistake else None
        )
        unknown = sorted(set(rules.disclaimable) - set(FAMILIES))
        if unknown:
            raise DataError(f"{where}: disclaimable names unknown sign families: {unknown}")
        self.disclaimable = frozenset(rules.disclaimable)

    @staticmethod
    def _asked(rx: re.Pattern[str], text: str, reported: list[tuple[int, int]]) -> bool:
        """A dosing shape matched outside every report of a mistake already made ("gave him
        10ml instead of 1ml" is triage's business, not a request)."""
        return any(
            not any(start < m.end() and m.start() < end for start, end in reported)
            for m in rx.finditer(text)
        )

    @classmethod
    def from_file(cls, path: Path) -> Guards:
        return cls(load_yaml_model(path, GuardsFile), path)

    def check(self, normalised_text: str) -> GuardResult:
        words = set(normalised_text.split())
        found: set[str] = set()  # the shapes whose strings are in the message
        if self._dosing_finder is not None:
            for _, shapes in self._dosing_finder.iter(normalised_text):
                found.update(shapes)
        reported = (
            [m.span() for m in self._reported.finditer(normalised_text)] if self._reported else []
        )
        return GuardResult(
            personal_dosing=any(
                self._asked(rx, normalised_text, reported)
                for i, (rx, needs) in enumerate(self._dosing)
                if needs is None or str(i) in found
            ),
            general_question=bool(self._general and self._general.search(normalised_text)),
            rule_lifting=bool(self._lifting and self._lifting.search(normalised_text)),
            domain=bool(words & self._domain),
            baclofen_angle=bool(words & self._angle),
            other_topic=bool(words & self._other),
            third_person=bool(self._third_person.search(normalised_text)),
            not_about_baclofen=bool(self._not_about and self._not_about.search(normalised_text))
            and not (self._takes and self._takes.search(normalised_text)),
        )
