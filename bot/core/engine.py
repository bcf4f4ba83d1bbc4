"""The decision pipeline: normalise -> triage -> guards -> match -> decide.

`Engine.classify` is the one function every door calls (local chat, Telegram, the CLI's
`classify`). It is pure: no I/O after loading, no clock, no state. It must never let an answer
come before a safety level, and never hand a dose to anyone.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from bot.core.cache import SizedCache
from bot.core.guards import GuardResult, Guards
from bot.core.intents import Intent, load_intents
from bot.core.learned import LearnedModel, Opinion
from bot.core.matcher import Matcher, Ranked, Signals, Thresholds, Weights
from bot.core.normalize import PUNCTUATION, Normaliser
from bot.core.triage import (
    EMERGENCY_FAMILIES,
    FAMILIES,
    Profile,
    Safety,
    Triage,
    TriageResult,
)
from bot.paths import data_dir

__all__ = ["Action", "Decision", "Engine", "Profile", "Safety"]

# Families whose signs count only in a situation (a pump, stopped doses, a dose change): when
# the rules see the sign's words but not its situation, the learned model may not overrule them.
CONTEXT_FAMILIES = frozenset({"withdrawal", "too_much", "pump_device", "pump_wound"})
LEARNED_MIN_WORDS = 3  # topic words a message needs before the learned model may raise it
SELF_HARM_INTENTS = frozenset({"emergency_plan", "overdose"})
# A feature of the bot matched this strongly is in scope whatever else the message names
# ("I've left that job now, delete everything you have on me"). Measured on every labelled
# message: at 80 it answers 9 more feature requests and calls nothing in scope that writers
# called out of scope; at the matcher's answer bar it took 80 chats and recipes for features.
FEATURE_OVER_SCOPE_BAR = 80.0
# A question asked in general: the learned model alone declines it only when this sure.
GENERAL_DOSING_BAR = 0.9
# Raising a level the rules set at urgent to emergency: the learned model must be this sure.
# Out-of-fold, grouped by writer, on the 2,088 labelled messages the rules call urgent: 0.8
# raised 76 of their 98 emergencies and 20 of 1,875 urgent ones; 0.75 raises 87 and 32 (0.7:
# 90 and 48). Round 11 found 7 emergencies one level short.
URGENT_TO_EMERGENCY_BAR = 0.75
# The rules saw sign words and held them back as history, general or hypothetical ("had a
# seizure 10 years ago"): the learned model, which reads no tense, must be this sure to overrule
# them. 0.9 (round 3) hid four real emergencies in round 4 (0.69-0.85, all now also caught by
# the rules); 0.75 let "had a seizure 10 years ago" through after a retrain (0.77).
HELD_BACK_BAR = 0.85
# Self-harm has no urgent tier in the contract. When the family head is this sure a message is
# self-harm, the emergency head needs only SELF_HARM_EMERGENCY_BAR (chosen on out-of-fold
# predictions grouped by writer, 14,518 messages: self-harm emergencies caught 77.2% -> 83.5%,
# routine messages raised 0.63% -> 0.76%; round 11 found 7 self-harm emergencies at routine).
SELF_HARM_FAMILY_BAR = 0.8
SELF_HARM_EMERGENCY_BAR = 0.3
RULES_INTENT_BONUS = 0.15  # probability added to the rules' choice of answer after a safety reply
CACHE_CHARACTERS = 2_000_000  # text the decision cache may hold (repeated messages, bounded)


class Action(StrEnum):
    ANSWER = "answer"
    CLARIFY = "clarify"
    REFUSE_PERSONAL_DOSING = "refuse_personal_dosing"
    OUT_OF_SCOPE = "out_of_scope"
    FALLBACK = "fallback"


@dataclass(frozen=True)
class Decision:
    """What the core decided about one message (the contract's JSON, plus what the reply needs)."""

    text: str
    safety: Safety
    action: Action
    intent: str | None
    score: float
    alternatives: tuple[tuple[str, float], ...]
    answer_id: str | None
    signs: tuple[str, ...] = ()
    sign: str | None = None  # the sign family that set the level (contract section 1)
    families: tuple[str, ...] = ()  # every family that fired, the leading one first
    raised_by: str | None = None  # "rules" or "learned": which detector set the level
    maybe_now: bool = False
    pump: bool = False
    third_person: bool = False  # written about someone else: a caregiver, if role unknown
    options: tuple[str, ...] = field(default=())  # intents offered when action is clarify

    def to_json(self) -> dict[str, Any]:
        """The contract's machine-readable form (triage-contract.md, section 4)."""
        return {
            "text": self.text,
            "safety": self.safety.value,
            "action": self.action.value,
            "intent": self.intent,
            "score": self.score,
            "alternatives": [[i, s] for i, s in self.alternatives],
            "answer_id": self.answer_id,
            "sign": self.sign,
        }


@dataclass(frozen=True)
class Analysis:
    """The pipeline's findings for one message, before thresholds turn them into a Decision."""

    text: str
    triage: TriageResult
    guard: GuardResult
    opinion: Opinion
    components: dict[str, Signals]
    language: bool
    words: int  # topic words in the message (decides what "short" means for clarifying)


class Engine:
    """Holds the loaded rules and the matcher; `classify` turns a message into a Decision."""

    def __init__(
        self,
        intents: dict[str, Intent],
        normaliser: Normaliser,
        triage: Triage,
        guards: Guards,
        matcher: Matcher,
        learned: LearnedModel,
    ) -> None:
        self.intents = intents
        self.normaliser = normaliser
        self.triage = triage
        self.guards = guards
        self.matcher = matcher
        self.learned = learned
        self.thresholds = matcher.settings.thresholds
        self._cache: SizedCache[Profile | None, Decision] = SizedCache(
            self._classify, CACHE_CHARACTERS
        )

    @classmethod
    def load(
        cls, intents_dir: Path | None = None, model: Path | None = None, learned: bool = True
    ) -> Engine:
        """Load and validate `intents/` (intent files and `rules/`) and the learned model
        (`learned=False`: a silent one, for building a new model); raise DataError if bad."""
        folder = intents_dir or data_dir("intents")
        rules = folder / "rules"
        intents = load_intents(folder)
        known = [phrase for i in intents.values() for phrase in (*i.examples, *i.key_terms)]
        normaliser = Normaliser.from_files(
            rules / "vocabulary.yaml", rules / "common_words.yaml", known
        )
        triage = Triage.from_file(rules / "triage.yaml")
        for intent in {s for s in triage.sign_intents()}:
            if intent not in intents:
                from bot.loading import DataError

                raise DataError(f"{rules / 'triage.yaml'}: a sign names unknown intent {intent!r}")
        guards = Guards.from_file(rules / "guards.yaml")
        matcher = Matcher.from_file(
            rules / "matcher.yaml",
            intents.values(),
            lambda text: normaliser.normalise(text).tokens,
        )
        opinion = LearnedModel.load(model) if learned else LearnedModel.silent()
        return cls(intents, normaliser, triage, guards, matcher, opinion)

    def use_learned(self, model: LearnedModel) -> None:
        """Swap the learned model (cross-validation only) and forget cached decisions."""
        self.learned = model
        self._cache.clear()

    # -- the decision --------------------------------------------------------------------

    def classify(self, text: str, profile: Profile | None = None) -> Decision:
        """The decision for one message (cached: the pipeline is a pure function)."""
        return self._cache.get(text, profile)

    def _classify(self, text: str, profile: Profile | None) -> Decision:
        return self.decide(self.analyse(text, profile))

    def model_words(self, normalised_text: str) -> tuple[str, ...]:
        """The words the learned second opinion reads, in training and in use: the normalised
        text with its idioms taken out ("this form is killing me") and no punctuation."""
        plain = self.triage.without_idioms(normalised_text)
        return tuple(t for t in plain.split() if t not in PUNCTUATION)

    def analyse(self, text: str, profile: Profile | None = None) -> Analysis:
        """Everything the decision needs, before thresholds are applied (used by calibration)."""
        normalised = self.normaliser.normalise(text)
        route, role = (profile.route, profile.role) if profile else (None, None)
        opinion = self.learned.opinion(list(self.model_words(normalised.text)), route, role)
        return Analysis(
            text=text,
            triage=self.triage.assess(normalised.text, profile),
            guard=self.guards.check(normalised.text),
            opinion=opinion,
            components=self.matcher.components(normalised.tokens, dict(opinion.intents)),
            language=self._looks_like_language(normalised.tokens),
            words=len(self.matcher.content_words(normalised.tokens)),
        )

    def decide(
        self,
        analysis: Analysis,
        weights: Weights | None = None,
        thresholds: Thresholds | None = None,
    ) -> Decision:
        g = analysis.guard
        op = analysis.opinion
        limits = self.learned.thresholds
        # A general question in our words naming nothing else ("how is the dose usually
        # increased") is ours, whatever the learned out-of-scope head says.
        general_in_our_words = g.general_question and g.domain and not g.other_topic
        off_topic = op.out_of_scope >= limits["out_of_scope"] and not general_in_our_words
        dosing = g.personal_dosing or op.dosing >= limits["dosing"]
        safety = self._safety(analysis.triage, op, analysis.words, dosing)
        return self._decide(
            analysis.text,
            safety,
            g.personal_dosing or self._learned_dosing(analysis, safety.level, off_topic),
            g,
            off_topic,
            self.matcher.mix(analysis.components, weights),
            analysis.language,
            analysis.words,
            thresholds or self.thresholds,
        )

    def _safety(
        self, rules: TriageResult, op: Opinion, words: int, dosing_request: bool
    ) -> TriageResult:
        """The safety call: the rules' level, raised (never lowered) by the learned opinion.

        When the learned model raises the level, the family comes from its family head. The
        answer to follow a safety reply is the learned intent head's best knowledge intent
        (cross-validated, it names the answer people expect more often than the rules' table),
        and the rules' choice where the learned head has none."""
        limits = self.learned.thresholds
        # The rules read sign words as past or general: the model must be surer to overrule.
        # (Only a held-back sign counts: a word of context held back, "baclofen" or "pump" in a
        # frame, holds back no danger.)
        floor = HELD_BACK_BAR if rules.level is Safety.ROUTINE and rules.held_sign else 0.0
        # The rules already named an urgent sign: the model may make it an emergency only when
        # clearly sure ("took it twice by accident", no symptom, is the contract's urgent case).
        if rules.level is Safety.URGENT:
            floor = URGENT_TO_EMERGENCY_BAR
        # ... but not for a request about one's own dose ("going up to 4 a day myself"), which
        # the family head can mistake for self-harm; the rules' self-harm words still count.
        self_harm = (
            dict(op.families).get("self_harm", 0.0) >= SELF_HARM_FAMILY_BAR and not dosing_request
        )
        if op.emergency >= max(limits["emergency"], floor) or (
            self_harm and op.emergency >= max(SELF_HARM_EMERGENCY_BAR, floor)
        ):
            learned = Safety.EMERGENCY
        elif op.urgent >= max(limits["urgent"], floor):
            learned = Safety.URGENT
        else:
            learned = Safety.ROUTINE
        if rules.level is not Safety.ROUTINE:
            # After self-harm the answer named is what to do now or what too much does (its
            # reply shows nothing below it): writers label 621 of the 675 self-harm messages in
            # tests/data one of these two.
            within = SELF_HARM_INTENTS if rules.family == "self_harm" else None
            intent = self._knowledge_intent(op, rules.intent, within)
            rules = replace(rules, intent=intent or rules.intent)
        if learned.rank <= rules.level.rank:
            return rules
        if words < LEARNED_MIN_WORDS:
            return rules  # "in 2 days", "yes": too few words for the model to judge
        allowed = FAMILIES if learned is Safety.URGENT else EMERGENCY_FAMILIES
        family = next((f for f, _ in op.families if f in allowed), "general")
        if rules.without_context and family in CONTEXT_FAMILIES:
            return rules  # the contract's own answer: that symptom alone is a side effect
        return replace(
            rules,
            level=learned,
            intent=self._knowledge_intent(op) or "emergency_plan",
            family=family,
            families=(family, *(f for f in rules.families if f != family)),
            learned=True,
        )

    def _learned_dosing(self, analysis: Analysis, level: Safety, off_topic: bool) -> bool:
        """The learned model's view that this is a personal dosing request: only for routine
        messages (a danger leads with its safety reply and the answer that fits it), never for
        an off-topic message with none of our words ("what should I have for dinner"), and only
        when very sure if the question is asked in general."""
        if level is not Safety.ROUTINE or (off_topic and not analysis.guard.domain):
            return False
        bar = GENERAL_DOSING_BAR if analysis.guard.general_question else None
        return analysis.opinion.dosing >= (bar or self.learned.thresholds["dosing"])

    def _knowledge_intent(
        self,
        op: Opinion,
        suggested: str | None = None,
        within: frozenset[str] | None = None,
    ) -> str | None:
        """The learned head's best knowledge intent (among `within`, when given), with the
        rules' suggestion given a head start (cross-fitted on every labelled safety message:
        73% right, against 71% for the learned head alone and 58% for the rules alone)."""
        known = self.intents
        scores = {
            i: p
            for i, p in op.intents
            if i in known and known[i].kind == "knowledge" and (within is None or i in within)
        }
        if suggested in scores:
            scores[suggested] += RULES_INTENT_BONUS
        return max(scores, key=scores.__getitem__) if scores else None

    @staticmethod
    def _looks_like_language(tokens: tuple[str, ...]) -> bool:
        words = [t for t in tokens if t.isalpha() and len(t) > 1 and any(v in t for v in "aeiouy")]
        return len(words) >= 2

    def _decide(
        self,
        text: str,
        triage: TriageResult,
        personal_dosing: bool,
        guard: GuardResult,
        learned_out_of_scope: bool,
        ranked: Ranked,
        language: bool,
        words: int,
        t: Thresholds,
    ) -> Decision:
        top_id, top_score = ranked.top or (None, 0.0)
        confident = top_id is not None and top_score >= t.answer
        by_intent = dict(ranked.scores)

        def decision(action: Action, intent: str | None, options: tuple[str, ...] = ()) -> Decision:
            answer_id = intent if action in (Action.ANSWER, Action.REFUSE_PERSONAL_DOSING) else None
            shown = intent or top_id
            alternatives = tuple((i, s) for i, s in ranked.scores if i != shown and s > 0)[:3]
            return Decision(
                text=text,
                safety=triage.level,
                action=action,
                intent=intent,
                score=by_intent.get(intent, top_score) if intent else top_score,
                alternatives=alternatives,
                answer_id=answer_id,
                signs=triage.signs,
                sign=triage.family,
                families=triage.families,
                raised_by=None
                if triage.level is Safety.ROUTINE
                else ("learned" if triage.learned else "rules"),
                maybe_now=triage.maybe_now,
                pump=triage.pump,
                third_person=guard.third_person,
                options=options,
            )

        # Another medicine's dose ("how much vitamin D should MS patients take"): the illness
        # or "dose" alone gives it no baclofen angle.
        if personal_dosing and not guard.baclofen_angle and guard.other_topic:
            return decision(Action.OUT_OF_SCOPE, None)
        # "how many would I need to take to not wake up" is a crisis, not a dosing request: when
        # the rules read self-harm, its reply leads, with no dose information below it.
        crisis = triage.family == "self_harm" and not triage.learned
        if personal_dosing and not crisis:
            topic = top_id if confident and ranked.margin() >= t.clarify_margin else None
            return decision(Action.REFUSE_PERSONAL_DOSING, topic)
        if triage.level is not Safety.ROUTINE:
            # "nothing to do with baclofen, my mate is fitting": the safety reply leads, and
            # nothing below it pretends the danger is about baclofen.
            if guard.not_about_baclofen and triage.family in self.guards.disclaimable:
                return decision(Action.OUT_OF_SCOPE, None)
            return decision(Action.ANSWER, triage.intent)
        domain, other_topic = guard.domain, guard.other_topic
        # The bot's own features ("delete everything you have on me", "what can you do") are in
        # scope whatever else the message mentions ("I've left that job now").
        feature = (
            top_id is not None
            and top_score >= FEATURE_OVER_SCOPE_BAR
            and self.intents[top_id].kind == "feature"
        )
        if not feature and (
            learned_out_of_scope or (not domain and (other_topic or top_score < t.out_of_scope))
        ):
            if language:
                return decision(Action.OUT_OF_SCOPE, None)
            return decision(Action.FALLBACK, None)
        short = words <= t.clarify_max_words
        close = [i for i, s in ranked.scores[:3] if top_score - s < t.clarify_margin]
        if confident and not (short and len(close) >= 2):
            return decision(Action.ANSWER, top_id)
        plausible = tuple(i for i, s in ranked.scores[:3] if s >= t.clarify_floor)
        if len(plausible) >= 2:
            options = tuple(i for i in close if i in plausible) if short else plausible
            return decision(Action.CLARIFY, None, options if len(options) >= 2 else plausible)
        return decision(Action.FALLBACK, None)
