"""Safety triage: decide emergency / urgent / routine before anything else looks at a message.

The rules live in `intents/rules/triage.yaml` (concepts, signs and the qualifiers for negation,
hypotheticals and history); this module only applies them. It must never be skipped, never
depend on the matcher, and never lower a level because an answer exists.
"""

from __future__ import annotations

import bisect
import re
import re._constants as _c
import re._parser as _parser
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import ahocorasick
from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.core.numbers import CONCEPTS as NUMBER_CONCEPTS
from bot.core.numbers import read_numbers
from bot.loading import DataError, load_yaml_model

_GAP = r"(?:\S+ ){0,3}"
_SENTENCE_END = {".", "?", "!", ";", ":"}
# Words that negate before a sign but describe it inside one ("gasping, cannot get breath").
_INABILITY = frozenset({"cannot"})
_CLAUSE_END = {","}
_FIRST_PERSON_WORDS = {"i", "me", "my", "myself", "im"}
_LIST_JOINERS = frozenset({",", "or", "and", "nor", "/"})
_WINDOW = 400  # characters around a match read for its clause, negation and exclusions
_LIST_ITEMS = 6  # how many list items a negation may cover


# The sign families of the contract (section 1), in the order that decides which leads when
# several fire at the same level (section 4).
FAMILIES = (
    "self_harm",
    "poisoning",
    "withdrawal",
    "dysreflexia",
    "baby",
    "general",
    "pump_wound",
    "too_much",
    "pump_device",
)
_FAMILY_RANK = {f: i for i, f in enumerate(FAMILIES)}
# Families that can hold an emergency sign (the others are urgent only).
EMERGENCY_FAMILIES = tuple(f for f in FAMILIES if f not in ("too_much", "pump_device"))


class Safety(StrEnum):
    ROUTINE = "routine"
    URGENT = "urgent"
    EMERGENCY = "emergency"

    @property
    def rank(self) -> int:
        return {"routine": 0, "urgent": 1, "emergency": 2}[self.value]


class QualifierModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    negation_window: int = Field(ge=1, le=8)
    negators: list[str]
    clause_breaks: list[str]
    hypothetical: list[str]
    present: list[str]
    history: list[str]
    still_happening: list[str]
    happening_now: list[str]
    idioms: list[str] = Field(default_factory=list)
    plans: list[str] = Field(default_factory=list)
    plans_are_signs: list[str] = Field(default_factory=list)
    all_clear: list[str] = Field(default_factory=list)
    false_alarm: list[str] = Field(default_factory=list)
    now: list[str] = Field(default_factory=list)
    present_tense: list[str] = Field(default_factory=list)
    never_cleared: list[str] = Field(default_factory=list)
    # A question about oneself ("what if I took the whole box", "if I just stopped my refills
    # and let it take me, would it be quick?") is no hypothetical for these concepts.
    first_person: list[str] = Field(default_factory=list)
    first_person_keeps: list[str] = Field(default_factory=list)
    # Words that say a situation ("pump") are negated only by a negator right before them,
    # across these small words ("not on a pump"), never across another noun ("itchy no rash
    # pump": the rash is negated, not the pump).
    lasting_context: list[str] = Field(default_factory=list)
    frames_never_hold: list[str] = Field(default_factory=list)
    # A keyword search that ends with its question ("autonomic dysreflexia what is it"): in a
    # sentence that names no one (`names_someone`), the question frames the whole sentence.
    asked_after: list[str] = Field(default_factory=list)
    names_someone: list[str] = Field(default_factory=list)
    narrow_negation: list[str] = Field(default_factory=list)
    narrow_negation_gap: list[str] = Field(default_factory=list)


class SignModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    level: Safety
    all: list[str] = Field(min_length=1)
    any: list[str] = Field(default_factory=list)
    context: list[str] = Field(default_factory=list)
    none: list[str] = Field(default_factory=list)  # the sign does not fire if one is present
    near: int | None = Field(default=None, ge=1)  # its `all` entries within this many sentences
    intent: str
    family: str
    keep: bool = False  # the sign's intent is never replaced by intent_by_context

    @model_validator(mode="after")
    def _not_routine(self) -> SignModel:
        if self.level is Safety.ROUTINE:
            raise ValueError("a sign must be urgent or emergency")
        if self.family not in _FAMILY_RANK:
            raise ValueError(f"unknown sign family {self.family!r} (contract: {FAMILIES})")
        return self


class FamilyRuleModel(BaseModel):
    """A cause named in the message moves a sign to another family ("fitting" + "ran out")."""

    model_config = ConfigDict(extra="forbid")

    when: list[str] = Field(min_length=1)
    family: str
    over: list[str] = Field(min_length=1)  # the families this rule may replace

    @model_validator(mode="after")
    def _known(self) -> FamilyRuleModel:
        unknown = [f for f in (self.family, *self.over) if f not in _FAMILY_RANK]
        if unknown:
            raise ValueError(f"unknown sign families {unknown} (contract: {FAMILIES})")
        return self


class IntentRuleModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    when: list[str] = Field(min_length=1)
    also: list[str] = Field(default_factory=list)
    intent: str
    over: list[str] | None = None  # sign intents this rule may replace (default: generic)
    signs: list[str] = Field(default_factory=list)  # or these signs, whatever their intent


class IntentByContextModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    generic: list[str]
    rules: list[IntentRuleModel]


class TriageFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    qualifiers: QualifierModel
    concepts: dict[str, list[str]]
    intent_by_context: IntentByContextModel
    family_by_context: list[FamilyRuleModel]
    signs: list[SignModel] = Field(min_length=1)


@dataclass(frozen=True)
class Profile:
    """What onboarding tells us about the person: route (oral / pump / both) and role."""

    route: str | None = None
    role: str | None = None

    @property
    def on_pump(self) -> bool:
        return self.route in {"pump", "both"}


@dataclass(frozen=True)
class TriageResult:
    """The safety level, the signs that fired (most serious first) and the intent they suggest."""

    level: Safety
    signs: tuple[str, ...] = ()
    intent: str | None = None
    family: str | None = None  # the sign family that leads (contract section 4)
    families: tuple[str, ...] = ()  # every family that fired, the leading one first
    learned: bool = False  # the level was raised by the learned second opinion
    without_context: bool = False  # a sign's words are there, its situation is not
    maybe_now: bool = False  # a danger sign was mentioned but held back as general or past
    held_sign: bool = False  # a sign (any level) would fire but for what was held back
    pump: bool = False  # the message or the profile says the person has a pump


PROFILE_CONCEPTS = ("profile_pump_only", "profile_oral_only")  # from sign-up, not the words


def _near(sign: SignModel, where: dict[str, set[int]]) -> bool:
    """All of the sign's `all` entries are present within `near` consecutive sentences."""
    span = sign.near or 1
    places = [set().union(*(where.get(c, set()) for c in entry.split("|"))) for entry in sign.all]
    if any(not p for p in places):
        return True  # a concept known without a place (from the profile): nothing to measure
    return any(
        all(any(start <= i < start + span for i in p) for p in places)
        for start in set().union(*places)
    )


def _has(entry: str, found: set[str]) -> bool:
    """A sign's entry is one concept, or alternatives joined by "|" ("child|number_young_child")."""
    return any(c in found for c in entry.split("|")) if "|" in entry else entry in found


@dataclass(frozen=True)
class _Entries:
    """A list of a sign's entries (`all`, `any` or `none`), split once for set tests: the
    plain concepts, and each entry of alternatives ("child|number_young_child")."""

    plain: frozenset[str]
    alternatives: tuple[frozenset[str], ...]

    @classmethod
    def of(cls, entries: list[str]) -> _Entries:
        return cls(
            frozenset(e for e in entries if "|" not in e),
            tuple(frozenset(e.split("|")) for e in entries if "|" in e),
        )

    def all_in(self, found: set[str]) -> bool:
        """Like all(_has(e, found) for e in entries)."""
        return self.plain <= found and all(not a.isdisjoint(found) for a in self.alternatives)

    def any_in(self, found: set[str]) -> bool:
        """Like any(_has(e, found) for e in entries)."""
        return not self.plain.isdisjoint(found) or any(
            not a.isdisjoint(found) for a in self.alternatives
        )


def _compile(pattern: str) -> re.Pattern[str]:
    body = pattern.replace("<w>", _GAP)
    return re.compile(rf"(?<![a-z0-9]){body}(?![a-z0-9])")


_MANY = 64  # at most this many literal texts are followed for one part of a pattern


def _texts(item: tuple[Any, Any]) -> set[str] | None:
    """Every text one parsed item can match, when that is a short list of literal texts
    ("pump", "(kms|kys)", "[2-8]"), else None."""
    op, av = item
    if op is _c.LITERAL:
        return {chr(av)}
    if op is _c.IN:
        chars: set[str] = set()
        for kind, value in av:
            if kind is _c.LITERAL:
                chars.add(chr(value))
            elif kind is _c.RANGE and value[1] - value[0] < _MANY:
                chars.update(map(chr, range(value[0], value[1] + 1)))
            else:
                return None  # a negated set or a category (such as \s or \w): too many texts
        return chars if len(chars) <= _MANY else None
    if op is _c.SUBPATTERN:
        return _sequence_texts(list(av[3].data))
    if op is _c.BRANCH:
        out: set[str] = set()
        for branch in av[1]:
            found = _sequence_texts(list(branch.data))
            if found is None:
                return None
            out |= found
        return out if len(out) <= _MANY else None
    return None


def _sequence_texts(items: list[tuple[Any, Any]]) -> set[str] | None:
    out = {""}
    run = ""  # literal characters since the last other item, joined once
    for op, av in items:
        if op is _c.LITERAL:
            run += chr(av)
            continue
        found = _texts((op, av))
        if found is None or len(out) * len(found) > _MANY:
            return None
        out = {a + run + b for a in out for b in found}
        run = ""
    return {a + run for a in out}


def _leading_literals(
    items: list[tuple[Any, Any]], texts: list[set[str] | None] | None = None
) -> set[str] | None:
    """The literal texts a regex sequence can start with, or None if it can start otherwise.

    Items that match only a few literal texts are followed one after the other ("(kms|kys)",
    "(boob|boobs|breast)"), then the texts the next item starts with, if it is a group.
    `texts`: each item's `_texts`, when already known."""
    prefixes = {""}
    for k, (op, av) in enumerate(items):
        whole = texts[k] if texts is not None else _texts((op, av))
        if whole is not None and len(prefixes) * len(whole) <= _MANY:
            prefixes = {p + w for p in prefixes for w in whole}
            continue
        lead: set[str] | None = None
        if op is _c.SUBPATTERN:
            lead = _leading_literals(list(av[3].data))
        elif op is _c.BRANCH:
            lead = set()
            for branch in av[1]:
                found = _leading_literals(list(branch.data))
                if found is None:
                    lead = None
                    break
                lead |= found
        if lead is not None and len(prefixes) * len(lead) <= _MANY:
            prefixes = {p + w for p in prefixes for w in lead}
        break
    return prefixes if prefixes != {""} else None


def required_literals(pattern: str) -> frozenset[str] | None:
    """A set of strings of which every match must contain one, or None if none is known.

    Used only to skip regex scans that cannot match: a message containing none of a concept's
    required strings cannot match it. Derived from the parsed pattern, so it is always sound.
    """
    return _required_literals(_parse(pattern))


def _parse(pattern: str) -> Any:
    return _parser.parse(pattern.replace("<w>", _GAP))


def _required_literals(parsed: Any) -> frozenset[str] | None:
    """`required_literals` of a pattern already parsed (`_parse`)."""
    items = list(parsed.data)
    texts = [_texts(item) for item in items]  # once, not once per place a sequence starts
    best: set[str] | None = None
    for k, (op, av) in enumerate(items):
        if op in (_c.ASSERT, _c.ASSERT_NOT, _c.AT):
            continue
        if k and texts[k - 1] is not None:
            continue  # the sequence from the literal before this one already starts here
        if op in (_c.MAX_REPEAT, _c.MIN_REPEAT):
            if av[0] < 1:
                continue
            found = _leading_literals(list(av[2].data))
        else:
            found = _leading_literals(items[k:], texts[k:])
        shortest = min((len(x) for x in found), default=0) if found else 0
        if shortest >= 2 and (best is None or shortest > min(len(x) for x in best)):
            best = found
    return frozenset(best) if best else None


def _all_needed(sets: Iterable[frozenset[str] | None]) -> tuple[str, ...] | None:
    """The strings of which any match of several patterns must contain one (each pattern's
    `required_literals`), or None when a pattern has none (its scan can never be skipped)."""
    out: set[str] = set()
    for found in sets:
        if found is None:
            return None
        out |= found
    return tuple(out)


# What a pattern may hold and still never match a newline (anything else: assume it may).
_LINE_CATEGORIES = {_c.CATEGORY_DIGIT, _c.CATEGORY_WORD, _c.CATEGORY_NOT_SPACE}
_LINE_ASSERTIONS = {_c.AT_BOUNDARY, _c.AT_NON_BOUNDARY}


def _within_line(parsed: Any) -> bool:
    """True when no match of a pattern (parsed by `_parse`), look-arounds included, can hold
    or test a newline (so its matches in a message lie within one sentence); unsure means
    False."""
    if parsed.state.flags & _c.SRE_FLAG_DOTALL:
        return False
    return _no_newline(list(parsed.data))


def _no_newline(items: list[tuple[Any, Any]]) -> bool:
    for op, av in items:
        if op is _c.LITERAL:
            ok = av != ord("\n")
        elif op is _c.ANY:
            ok = True  # "." without DOTALL (checked above)
        elif op is _c.IN:
            ok = all(
                (o is _c.LITERAL and a != ord("\n"))
                or (o is _c.RANGE and not a[0] <= ord("\n") <= a[1])
                or (o is _c.CATEGORY and a in _LINE_CATEGORIES)
                for o, a in av
            )
        elif op is _c.AT:
            ok = av in _LINE_ASSERTIONS
        elif op is _c.SUBPATTERN:
            ok = _no_newline(list(av[3].data))
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT):
            ok = _no_newline(list(av[2].data))
        elif op in (_c.ASSERT, _c.ASSERT_NOT):
            ok = _no_newline(list(av[1].data))
        elif op is _c.ATOMIC_GROUP:
            ok = _no_newline(list(av.data))
        elif op is _c.BRANCH:
            ok = all(_no_newline(list(b.data)) for b in av[1])
        else:
            ok = False  # NOT_LITERAL, back-references, conditionals: not worth the risk
        if not ok:
            return False
    return True


def literal_finder(needs: Mapping[str, Iterable[str] | None]) -> Any:
    """One Aho-Corasick automaton over the required strings of many patterns (a concept, a
    qualifier, a guard's shape: `needs` maps a name to its strings); each string found in a
    message gives the names that need it. None when there are no such strings."""
    by_literal: dict[str, list[str]] = {}
    for name, literals in needs.items():
        for literal in literals or ():
            by_literal.setdefault(literal, []).append(name)
    if not by_literal:
        return None
    finder = ahocorasick.Automaton()
    for literal, names in by_literal.items():
        finder.add_word(literal, tuple(names))
    finder.make_automaton()
    return finder


def _compile_named(patterns: list[str], prefix: str) -> re.Pattern[str]:
    """One regex for a concept; each pattern is a named group, so a match tells which."""
    joined = "|".join(f"(?P<{prefix}{i}>{p.replace('<w>', _GAP)})" for i, p in enumerate(patterns))
    return re.compile(rf"(?<![a-z0-9])(?:{joined})(?![a-z0-9])")


@dataclass(frozen=True)
class _LocalMatch:
    """A concept match, with offsets inside its sentence and the pattern that made it."""

    start: int
    end: int
    text: str
    pattern: str


def _followed_by_words(pattern: str) -> str:
    """A pattern written with a trailing space ("what is a ") means "followed by more words";
    the space becomes a look-ahead, or the whole-word check after it could never pass."""
    return pattern[:-1] + "(?= )" if pattern.endswith(" ") else pattern


def _compile_any(patterns: Iterable[str]) -> re.Pattern[str]:
    joined = "|".join(f"(?:{_followed_by_words(p).replace('<w>', _GAP)})" for p in patterns)
    return re.compile(rf"(?<![a-z0-9])(?:{joined})(?![a-z0-9])")


class _Qualifier:
    """A qualifier's patterns as one regex, searched only when the text holds one of the
    strings every match needs (`required_literals`, all looked for in one pass): the same
    result as searching always, without the scans that cannot match."""

    def __init__(self, patterns: list[str]) -> None:
        self._regex = _compile_any(patterns)
        needed = _all_needed(required_literals(p) for p in patterns)
        self._finder = None if needed is None else literal_finder({"": needed})

    def search(self, text: str) -> re.Match[str] | None:
        if self._finder is not None and next(self._finder.iter(text), None) is None:
            return None
        return self._regex.search(text)

    def sub(self, replace: Any, text: str) -> str:
        return self._regex.sub(replace, text)


@dataclass(frozen=True)
class _Sentence:
    text: str
    start: int  # character offset in the whole normalised text


class Triage:
    """Applies the triage rules to normalised text. Build once; `assess` is pure."""

    def __init__(self, rules: TriageFile, source: Path | None = None) -> None:
        where = source or Path("triage rules")
        q = rules.qualifiers
        try:
            clash = sorted(set(rules.concepts) & set(NUMBER_CONCEPTS))
            if clash:
                raise DataError(f"{where}: concepts {clash} are read from numbers (numbers.py)")
            self._concepts = (
                frozenset(rules.concepts) | frozenset(NUMBER_CONCEPTS) | frozenset(PROFILE_CONCEPTS)
            )
            self._concept_order = (*rules.concepts, *NUMBER_CONCEPTS)
            self._combined = {
                name: _compile_named(
                    [p for p in patterns if not p.startswith("NOT ")], prefix=f"{name}__"
                )
                for name, patterns in rules.concepts.items()
            }
            # Per concept, strings of which any match must contain one (None: always scan).
            self._needs: dict[str, tuple[str, ...] | None] = {}
            within_lines: set[str] = set()  # concepts whose matches never cross a newline
            for name, patterns in rules.concepts.items():
                parsed = [_parse(p) for p in patterns if not p.startswith("NOT ")]
                self._needs[name] = _all_needed(_required_literals(p) for p in parsed)
                if all(_within_line(p) for p in parsed):
                    within_lines.add(name)
            self._always = frozenset(n for n, needs in self._needs.items() if needs is None)
            self._finder = literal_finder(self._needs)
            self._within_lines = frozenset(within_lines)
            self._exclusions = {
                name: [_compile(p[4:]) for p in patterns if p.startswith("NOT ")]
                for name, patterns in rules.concepts.items()
            }
            self._hypothetical = _Qualifier(q.hypothetical)
            self._present = _Qualifier(q.present)
            self._history = _Qualifier(q.history)
            self._still = _Qualifier(q.still_happening)
            self._happening_now = _Qualifier(q.happening_now)
            self._idioms = _Qualifier(q.idioms) if q.idioms else None
            self._plans = _Qualifier(q.plans) if q.plans else None
            self._plans_are_signs = frozenset(q.plans_are_signs)
            self._all_clear = _Qualifier(q.all_clear) if q.all_clear else None
            self._false_alarm = _Qualifier(q.false_alarm) if q.false_alarm else None
            self._now = _Qualifier(q.now) if q.now else None
            self._present_tense = frozenset(q.present_tense)
            self._never_cleared = frozenset(q.never_cleared)
            self._first_person = _Qualifier(q.first_person) if q.first_person else None
            self._first_person_keeps = frozenset(q.first_person_keeps)
            self._lasting = frozenset(q.lasting_context)
            self._frames_never_hold = frozenset(q.frames_never_hold)
            self._asked_after = (
                _Qualifier([f"(?:{p})$" for p in q.asked_after]) if q.asked_after else None
            )
            self._names_someone = frozenset(q.names_someone)
            self._narrow = frozenset(q.narrow_negation)
            self._narrow_gap = frozenset(q.narrow_negation_gap)
        except re.error as exc:
            raise DataError(f"{where}: a pattern is not a valid regular expression: {exc}") from exc
        self._negators = {n for n in q.negators if " " not in n}
        # A pattern that spells one of the negators itself ("not breathing", "nobody knows")
        # is not negated by that word.
        spelt = re.compile(rf"\b(?:{'|'.join(map(re.escape, q.negators))})\b")
        self._spells_negation = {
            f"{name}__{i}": bool(spelt.search(p))
            for name, patterns in rules.concepts.items()
            for i, p in enumerate(x for x in patterns if not x.startswith("NOT "))
        }
        self._negator_phrases = [tuple(n.split()) for n in q.negators if " " in n]
        self._clause_breaks = {b for b in q.clause_breaks if " " not in b}
        # Two-word breaks ("and he"): a new subject starts a new clause.
        self._pair_breaks = {tuple(b.split()) for b in q.clause_breaks if len(b.split()) == 2}
        self._window = q.negation_window
        for sign in rules.signs:
            unknown = [
                c
                for entry in (*sign.all, *sign.any, *sign.context, *sign.none)
                for c in entry.split("|")
                if c not in self._concepts
            ]
            if unknown:
                raise DataError(
                    f"{where}: entry {sign.id!r}: unknown concepts: {', '.join(unknown)}"
                )
        order = sorted(rules.signs, key=lambda s: -s.level.rank)
        self._signs = tuple(order)
        # Per sign (same order): its `all`, `any` and `none` entries, split for set tests.
        self._sign_entries = tuple(
            (_Entries.of(s.all), _Entries.of(s.any), _Entries.of(s.none)) for s in order
        )
        self._family_rules = tuple(rules.family_by_context)
        for family_rule in self._family_rules:
            unknown = [c for c in family_rule.when if c not in self._concepts]
            if unknown:
                raise DataError(f"{where}: family_by_context: unknown concepts: {unknown}")
        self._generic_intents = frozenset(rules.intent_by_context.generic)
        self._intent_rules = tuple(rules.intent_by_context.rules)
        sign_ids = {sign.id for sign in rules.signs}
        for rule in self._intent_rules:
            unknown = [c for c in (*rule.when, *rule.also) if c not in self._concepts]
            unknown += [f"sign {x}" for x in rule.signs if x not in sign_ids]
            if unknown:
                raise DataError(f"{where}: intent_by_context: unknown concepts: {unknown}")

    @classmethod
    def from_file(cls, path: Path) -> Triage:
        return cls(load_yaml_model(path, TriageFile), path)

    def sign_intents(self) -> frozenset[str]:
        """The intents the signs suggest (checked against the intent catalogue at load)."""
        return frozenset(s.intent for s in self._signs) | {r.intent for r in self._intent_rules}

    def _intent_for(self, sign: SignModel, mentioned: set[str]) -> str:
        """The answer to follow the safety reply: the sign's intent, unless a rule fits."""
        if sign.keep:
            return sign.intent
        for rule in self._intent_rules:
            over = self._generic_intents if rule.over is None else frozenset(rule.over)
            if sign.intent not in over and sign.id not in rule.signs:
                continue
            if any(c in mentioned for c in rule.when) and all(c in mentioned for c in rule.also):
                return rule.intent
        return sign.intent

    @staticmethod
    def _profile_concepts(profile: Profile | None) -> set[str]:
        """What sign-up tells triage: a pump alone (tablets lost are the backup supply), or
        tablets alone ("the refill" is the pharmacy's)."""
        if profile is None:
            return set()
        return {"pump": {"profile_pump_only"}, "oral": {"profile_oral_only"}}.get(
            profile.route or "", set()
        )

    def _family_for(self, sign: SignModel, mentioned: set[str]) -> str:
        """The sign's family, unless the message names a cause that moves it (first rule)."""
        for rule in self._family_rules:
            if sign.family in rule.over and any(c in mentioned for c in rule.when):
                return rule.family
        return sign.family

    # -- qualifiers ---------------------------------------------------------------------

    @staticmethod
    def _sentences(tokens: tuple[str, ...]) -> list[_Sentence]:
        out: list[_Sentence] = []
        current: list[str] = []
        offset = 0
        start = 0
        for token in tokens:
            if token in _SENTENCE_END:
                if current:
                    out.append(_Sentence(" ".join(current), start))
                current = []
                offset += len(token) + 1
                start = offset
                continue
            current.append(token)
            offset += len(token) + 1
        if current:
            out.append(_Sentence(" ".join(current), start))
        return out

    def _clause_before(self, sentence: str, pos: int) -> list[str]:
        """Words of the clause that ends where a match starts (for negation), within a window
        (a clause is never longer; without it a message with no punctuation costs its length
        squared)."""
        words = sentence[max(0, pos - _WINDOW) : pos].split()
        if pos > _WINDOW and words:
            words = words[1:]  # the first word may be cut
        clause: list[str] = []
        for word in reversed(words):
            if word in _CLAUSE_END or word in self._clause_breaks:
                break
            if clause and (word, clause[-1]) in self._pair_breaks:
                break
            clause.append(word)
        return list(reversed(clause))

    def _clause_around(self, sentence: str, start: int, end: int) -> str:
        """The clause that holds a match (for history)."""
        before = self._clause_before(sentence, start)
        after: list[str] = []
        following = sentence[end : end + _WINDOW].split()
        for k, word in enumerate(following):
            if word in _CLAUSE_END or word in self._clause_breaks:
                break
            if tuple(following[k : k + 2]) in self._pair_breaks:
                break
            after.append(word)
        return " ".join([*before, sentence[start:end], *after])

    def _negated(self, sentence: str, match: _LocalMatch) -> bool:
        """Negated when a negator comes just before the match, or inside its gaps
        ("pump is not beeping"), unless the pattern itself spells a negation ("not breathing")."""
        if self._spells_negation.get(match.pattern, False):
            return False  # "cannot stay awake": the negation is the sign, one before it too
        inside = match.text.split()[1:-1]
        if any(w in self._negators and w not in _INABILITY for w in inside):
            return True
        before = self._clause_before(sentence, match.start)[-self._window :]
        if any(w in self._negators or w.endswith("n't") for w in before):
            return True
        joined = tuple(before)
        if any(
            joined[i : i + len(p)] == p
            for p in self._negator_phrases
            for i in range(len(joined) - len(p) + 1)
        ):
            return True
        return self._list_negated(sentence[max(0, match.start - _WINDOW) : match.start].split())

    def _narrowly_negated(self, sentence: str, match: _LocalMatch) -> bool:
        """A negator right before the match, with only small words between."""
        for word in reversed(self._clause_before(sentence, match.start)):
            if word in self._negators or word.endswith("n't"):
                return True
            if word not in self._narrow_gap:
                return False
        return False

    def _list_negated(self, words: list[str]) -> bool:
        """A negation at the head of a list covers its items: "no fever, itching or stiffness".

        Walks back from the match over short items (at most three words) joined by commas,
        "or", "and" or "nor"; any other word ends the list.
        """
        i = len(words) - 1
        if i < 0 or words[i] not in _LIST_JOINERS:
            return False
        for _ in range(_LIST_ITEMS):
            while i >= 0 and words[i] in _LIST_JOINERS:
                i -= 1
            end = i
            while i >= 0 and words[i] not in _LIST_JOINERS:
                if words[i] in self._negators:
                    return True
                if end - i >= 3:
                    return False  # a long stretch: a new clause, not a list item
                i -= 1
            if i < 0:
                return False
        return False

    def _told_as_past(self, texts: list[str], alarms: list[re.Match[str] | None]) -> list[bool]:
        """Per sentence: is it told as the past or as all-clear, not as now?

        A message that says all is well now ("to be clear, nothing happening now") counts a sign
        only in a sentence with a `now` word. A story begun with a history marker ("Two years
        ago my brother ...") goes on in the past tense until a sentence uses the present tense
        or a `now` word. A sentence that itself says the danger never was (`alarms`: "panicked
        last night, turned out it was the smoke alarm") is cleared whatever time words it has
        before that, unless a `now` word follows it ("... but now he is fitting").
        """
        now = [self._says_now(text, alarm) for text, alarm in zip(texts, alarms, strict=True)]
        clear = any(alarms) or any(self._all_clear and self._all_clear.search(t) for t in texts)
        out: list[bool] = []
        story = False
        for text, is_now in zip(texts, now, strict=True):
            present = is_now or bool(self._present_tense & set(text.split()))
            if present:
                story = False
            out.append((clear and not is_now) or (story and not present))
            if self._history.search(text) and not present:
                story = True  # a sentence told in the present tense begins no story of the past
        return out

    def _says_now(self, sentence: str, alarm: re.Match[str] | None) -> bool:
        """A `now` word in the sentence, after its false alarm if it has one."""
        if self._now is None:
            return False
        return bool(self._now.search(sentence[alarm.end() :] if alarm else sentence))

    def _in_the_past(
        self, sentence: str, match: _LocalMatch, marks: dict[str, tuple[int | None, bool]]
    ) -> bool:
        """History, not now: a history marker in the match's clause ("had a fit 10 years
        ago"), or earlier in its sentence when nothing in the sentence says it is happening
        ("Last March my son, who was two, swallowed one"); never when it is "again" or "now"."""
        clause = self._clause_around(sentence, match.start, match.end)
        if self._still.search(clause):
            return False
        if self._history.search(clause):
            return True
        if self._present_tense & set(clause.split()):
            return False  # "I came off it last week and my baby is shaky": this clause is now
        first_history, now = self._sentence_marks(sentence, marks)
        return first_history is not None and first_history < match.start and not now

    def _sentence_marks(
        self, sentence: str, marks: dict[str, tuple[int | None, bool]]
    ) -> tuple[int | None, bool]:
        """Where the sentence's first history marker starts, and whether it says "now" or
        "again" anywhere: once per sentence (kept in `marks`, one message's), however many
        signs it holds."""
        if sentence not in marks:
            found = self._history.search(sentence)
            now = bool(self._still.search(sentence) or self._present.search(sentence))
            marks[sentence] = (found.start() if found else None, now)
        return marks[sentence]

    def _excluded(self, concept: str, sentence: str, match: _LocalMatch) -> bool:
        """A `NOT` pattern of the concept covers the match ("seizure threshold")."""
        patterns = self._exclusions.get(concept, ())
        if not patterns:
            return False
        base = max(0, match.start - _WINDOW)
        window = sentence[base : match.end + _WINDOW]
        return any(
            base + e.start() <= match.start and base + e.end() >= match.end
            for pattern in patterns
            for e in pattern.finditer(window)
        )

    # -- assessment -----------------------------------------------------------------------

    def _matches(
        self,
        name: str,
        full: str,
        numbers: dict[str, list[tuple[int, int]]],
        span: tuple[int, int],
    ) -> Iterator[tuple[int, int, str]]:
        """A concept's matches in the message, in order: its word patterns (searched in `span`
        only, see `_candidates`), or its numbers."""
        if name in numbers:
            for start, end in numbers[name]:
                yield start, end, name
            return
        regex = self._combined.get(name)
        if regex is None:
            return
        for m in regex.finditer(full, *span):
            yield m.start(), m.end(), m.lastgroup or ""

    def _kept_in_a_frame(self, name: str, sentence: str, match: _LocalMatch) -> bool:
        """A sign a hypothetical or general frame does not hold back: the concepts listed in
        `frames_never_hold` or `lasting_context`, and self-harm words (`first_person_keeps`)
        said about oneself, in the first person, or in another clause than the frame."""
        if name in self._frames_never_hold or name in self._lasting:
            return True  # a situation stays true in any frame ("the doctor said to taper")
        return name in self._first_person_keeps and (
            self._about_oneself(sentence)
            or self._said_as_i(sentence, match)
            or self._frame_elsewhere(sentence, match)
        )

    def _frame_elsewhere(self, sentence: str, match: _LocalMatch) -> bool:
        """The sentence's frame is in another clause than the match ("how do I turn off my
        reminders, I won't be needing them"): for self-harm words, it frames nothing."""
        clause = self._clause_around(sentence, match.start, match.end)
        return not self._hypothetical.search(clause)

    def _said_as_i(self, sentence: str, match: _LocalMatch) -> bool:
        """The match is worded in the first person ("I would rather not be here"), whatever
        frame the sentence began with ("what is the point any more, I ...")."""
        near = self._clause_before(sentence, match.start)[-3:] + match.text.split()
        return bool(_FIRST_PERSON_WORDS & set(near))

    def _candidates(self, full: str, starts: list[int]) -> dict[str, tuple[int, int]]:
        """The concepts whose patterns can match the message, each with the part of the
        message its scan needs.

        A concept can match only if the message holds one of the strings every match of
        theirs needs (`required_literals`; all found in one pass over the message), or if it
        has no such strings; every other concept's scan would find nothing. A concept whose
        patterns cannot cross a newline (`_within_lines`) can match only in the sentences
        that hold one of its strings: its scan runs from the first such sentence to the end
        of the last (with that newline, so a look-ahead sees what it would see in the whole
        message; a look-behind sees the whole message anyway).
        """
        whole = (0, len(full))
        spans = dict.fromkeys(self._always, whole)
        if self._finder is None:
            return spans
        if len(starts) == 1:
            for _, names in self._finder.iter(full):
                for name in names:
                    spans[name] = whole
            return spans
        first: dict[str, int] = {}
        last: dict[str, int] = {}
        for end, names in self._finder.iter(full):
            line = bisect.bisect_right(starts, end) - 1
            for name in names:
                first.setdefault(name, line)
                last[name] = line
        ends = [*starts[1:], len(full)]  # each sentence's end, with its newline
        for name, line in first.items():
            lines = name in self._within_lines and name not in spans
            spans[name] = (starts[line], ends[last[name]]) if lines else whole
        return spans

    def _keyword_question(self, sentence: str) -> bool:
        """Keywords followed by their question, naming no one ("baclofen withdrawal
        hallucinations how long after stopping"): a search for information, not a report."""
        return (
            self._asked_after is not None
            and self._asked_after.search(sentence) is not None
            and not self._names_someone & set(sentence.split())
        )

    def _about_oneself(self, sentence: str) -> bool:
        return bool(self._first_person and self._first_person.search(sentence))

    def without_idioms(self, normalised_text: str) -> str:
        """The text with its idioms taken out ("this form is going to kill me" -> "this form"),
        for the learned second opinion, which would otherwise read them as signs."""
        if self._idioms is None or not self._idioms.search(normalised_text):
            return normalised_text
        return self._idioms.sub(" ", normalised_text)

    def _blank_idioms(self, full: str) -> str:
        """Idioms are not signs ("my back is killing me"): blank them out, keeping offsets."""
        if self._idioms is None or not self._idioms.search(full):
            return full
        return self._idioms.sub(lambda m: re.sub(r"[^ \n]", "~", m.group()), full)

    def _concept_status(
        self, sentences: list[_Sentence], happening_now: bool
    ) -> tuple[dict[str, set[int]], set[str], set[str]]:
        """Return (present, with the sentences it is present in; mentioned-but-not-negated;
        held back as general or past)."""
        marks: dict[str, tuple[int | None, bool]] = {}  # per sentence, this message only
        present: dict[str, set[int]] = {}
        mentioned: set[str] = set()
        held_back: set[str] = set()
        # One scan per concept over the whole message; sentences are joined by newlines,
        # which no pattern can cross.
        texts = [s.text for s in sentences]
        full = "\n".join(texts)
        starts: list[int] = []
        offset = 0
        for text in texts:
            starts.append(offset)
            offset += len(text) + 1
        present_now: dict[int, bool] = {}
        first_frame: dict[int, int] = {}
        first_plan: dict[int, int] = {}
        searched: dict[int, bool] = {}
        full = self._blank_idioms(full)
        texts = full.split("\n")  # the sentences as read: an idiom negates nothing ("oh no")
        # Each sentence's "the danger never was" ("they were his tic tacs"), searched once.
        alarms = [self._false_alarm.search(t) if self._false_alarm else None for t in texts]
        told = self._told_as_past(texts, alarms)
        never_was = any(alarms)
        numbers: dict[str, list[tuple[int, int]]] = {}
        for finding in read_numbers(full):
            numbers.setdefault(finding.concept, []).append((finding.start, finding.end))
        candidates = self._candidates(full, starts)
        for name in self._concept_order:
            span = candidates.get(name)
            if span is None and name not in numbers:
                continue  # none of the strings every match needs: a scan cannot match
            for start, end, pattern in self._matches(name, full, numbers, span or (0, 0)):
                index = bisect.bisect_right(starts, start) - 1
                text, base = texts[index], starts[index]
                local = _LocalMatch(start - base, end - base, full[start:end], pattern)
                # A value is a value ("cannot see her until the 20th"): no negation to check.
                negated = name not in numbers and (
                    self._narrowly_negated(text, local)
                    if name in self._narrow
                    else self._negated(text, local)
                )
                if negated or self._excluded(name, text, local):
                    continue
                mentioned.add(name)
                # "had fits as a kid ... just had another one now": history does not lower a
                # sign the message says is happening again now.
                if (
                    not happening_now
                    and name not in self._lasting
                    and (
                        self._in_the_past(text, local, marks)
                        or (told[index] and (never_was or name not in self._never_cleared))
                    )
                ):
                    held_back.add(name)
                    continue
                if index not in first_frame:
                    frame = self._hypothetical.search(text)
                    first_frame[index] = frame.start() if frame else len(text) + 1
                    searched[index] = self._keyword_question(text)
                    plan = self._plans.search(text) if self._plans else None
                    first_plan[index] = plan.start() if plan else len(text) + 1
                    present_now[index] = bool(self._present.search(text))
                if (
                    first_plan[index] < local.start
                    and name not in self._plans_are_signs
                    and not present_now[index]
                ):
                    held_back.add(name)
                    continue
                # A frame starting the sign is its words; a search's question frames it all,
                # except a report of what was taken ("popped a handful ... how long b4 it hits").
                framed = first_frame[index] < local.start or (
                    searched[index] and name not in self._never_cleared
                )
                if (
                    framed
                    and not present_now[index]
                    and not happening_now
                    and not self._kept_in_a_frame(name, text, local)
                ):
                    held_back.add(name)
                    continue
                present.setdefault(name, set()).add(index)
        return present, mentioned, held_back - present.keys()

    def assess(self, normalised_text: str, profile: Profile | None = None) -> TriageResult:
        tokens = tuple(normalised_text.split())
        sentences = self._sentences(tokens)
        happening_now = bool(self._happening_now.search(normalised_text))
        where, mentioned, held_back = self._concept_status(sentences, happening_now)
        return self.assess_concepts(set(where), mentioned, held_back, profile, where)

    @property
    def concepts(self) -> frozenset[str]:
        """Every concept name a sign may use (word patterns and numbers)."""
        return self._concepts

    def assess_concepts(
        self,
        present: set[str],
        mentioned: set[str] | None = None,
        held_back: set[str] | None = None,
        profile: Profile | None = None,
        where: dict[str, set[int]] | None = None,
    ) -> TriageResult:
        """The signs, level and family for concepts already known to be present.

        `assess` calls it with what it read in a message; the withdrawal checklist calls it
        with the concepts its ticked boxes stand for, so both decide from the same signs.
        """
        unknown = set(present) - self._concepts
        if unknown:
            raise ValueError(f"unknown triage concepts: {sorted(unknown)}")
        mentioned = set(present) if mentioned is None else mentioned
        held_back = set() if held_back is None else held_back
        present = set(present) | self._profile_concepts(profile)
        context = set(mentioned) | present
        oral_only = profile is not None and profile.route == "oral"
        if (profile is not None and profile.on_pump) or (
            "refill_word" in mentioned and not oral_only
        ):
            context.add("pump_context")
        either = present | held_back
        shown = [
            sign
            for sign, (all_of, any_of, none_of) in zip(self._signs, self._sign_entries, strict=True)
            if all_of.all_in(present)
            and (not sign.any or any_of.any_in(present))
            and not none_of.any_in(present)
        ]
        fired = [
            sign
            for sign in shown
            if (not sign.context or any(_has(c, context) for c in sign.context))
            and (sign.near is None or where is None or _near(sign, where))
        ]
        # A sign whose words are there but whose situation is not ("itchy, no rash" with no
        # pump and no missed doses): the contract calls it routine (a side effect).
        without_context = any(sign not in fired for sign in shown)
        held = [
            sign.level
            for sign, (all_of, _, _) in zip(self._signs, self._sign_entries, strict=True)
            if all_of.all_in(either) and all_of.any_in(held_back)
        ]
        held_emergency = Safety.EMERGENCY in held
        pump = "pump_context" in context
        if not fired:
            return TriageResult(
                Safety.ROUTINE,
                without_context=without_context,
                maybe_now=held_emergency,
                held_sign=bool(held),
                pump=pump,
            )
        known = mentioned | context
        family_of = {sign.id: self._family_for(sign, known) for sign in fired}
        fired.sort(key=lambda s: (-s.level.rank, _FAMILY_RANK[family_of[s.id]]))
        top = fired[0]
        families = tuple(dict.fromkeys(family_of[s.id] for s in fired))
        return TriageResult(
            level=top.level,
            signs=tuple(s.id for s in fired),
            intent=self._intent_for(top, known),
            family=family_of[top.id],
            families=families,
            maybe_now=held_emergency and top.level is not Safety.EMERGENCY,
            pump=pump,
        )
