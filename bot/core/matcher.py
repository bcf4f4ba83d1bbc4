"""Fuzzy intent matcher: rank the intents of `intents/*.yaml` for a normalised message.

Three signals, each 0-100, mixed by the weights in `intents/rules/matcher.yaml`: the learned
model's intent probability (word and character n-grams, trained on the intents' examples and
every labelled message), rapidfuzz token ratios against the examples of the likeliest intents,
and the intent's key terms. Cross-fitted calibration (`python -m bot calibrate`) found the
learned signal strongest; rapidfuzz and the key terms settle close calls and catch wordings
the model has not seen. The matcher only ranks; deciding to answer, clarify or give up is the
pipeline's job.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from rapidfuzz import fuzz, process

from bot.core.intents import Intent
from bot.core.normalize import PUNCTUATION
from bot.loading import load_yaml_model


class Weights(BaseModel):
    model_config = ConfigDict(extra="forbid")

    learned: float = Field(ge=0)
    fuzzy: float = Field(ge=0)
    key_terms: float = Field(ge=0)


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: float = Field(ge=0, le=100)
    clarify_floor: float = Field(ge=0, le=100)
    clarify_margin: float = Field(ge=0, le=100)
    clarify_max_words: int = Field(ge=1, le=50)
    out_of_scope: float = Field(ge=0, le=100)


class MatcherFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stopwords: str
    weights: Weights
    thresholds: Thresholds


@dataclass(frozen=True)
class Ranked:
    """Intents ordered by score, best first (score 0-100)."""

    scores: tuple[tuple[str, float], ...]

    @property
    def top(self) -> tuple[str, float] | None:
        return self.scores[0] if self.scores else None

    def margin(self) -> float:
        if len(self.scores) < 2:
            return self.scores[0][1] if self.scores else 0.0
        return self.scores[0][1] - self.scores[1][1]


Signals = tuple[float, float, float]  # learned, fuzzy, key terms

FUZZY_INTENTS = 4  # how many of the likeliest intents (by the learned model) rapidfuzz compares
SHORT = 6  # words: a short message is also compared with every short example
SHORT_CUTOFF = 50  # a short example counts only from this similarity up


def _plain(tokens: Iterable[str]) -> str:
    """The words of a normalised message, without punctuation, for rapidfuzz and key terms."""
    return " ".join(t for t in tokens if t not in PUNCTUATION)


class Matcher:
    """Ranks intents for a message. Build once from the intents; `rank` is pure."""

    def __init__(
        self,
        intents: Iterable[Intent],
        settings: MatcherFile,
        normalise: Callable[[str], tuple[str, ...]],
    ) -> None:
        self.settings = settings
        self._stop = frozenset(settings.stopwords.split())
        self._intents = list(intents)
        self._ids = [i.id for i in self._intents]
        self._examples: dict[str, list[str]] = {
            i.id: [_plain(normalise(text)) for text in i.examples] for i in self._intents
        }
        # Short examples ("what can you do", "thanks"), compared by sorted words with any short
        # message, whatever the learned model thinks of it.
        self._short = [
            (intent_id, " ".join(sorted(e.split())))
            for intent_id, examples in self._examples.items()
            for e in examples
            if len(e.split()) <= SHORT
        ]
        self._short_strings = [s for _, s in self._short]
        # Key terms: whole-phrase lookups on the plain normalised words, by first word.
        self._key_phrases: dict[str, list[tuple[tuple[str, ...], str]]] = defaultdict(list)
        for intent in self._intents:
            for term in intent.key_terms:
                phrase = tuple(_plain(normalise(term)).split())
                if phrase:
                    self._key_phrases[phrase[0]].append((phrase, intent.id))

    @classmethod
    def from_file(
        cls, path: Path, intents: Iterable[Intent], normalise: Callable[[str], tuple[str, ...]]
    ) -> Matcher:
        return cls(intents, load_yaml_model(path, MatcherFile), normalise)

    def content_words(self, tokens: tuple[str, ...]) -> list[str]:
        """The message's words that can carry a topic (no stopwords, no punctuation)."""
        return [t for t in tokens if t not in PUNCTUATION and t not in self._stop]

    # -- scoring ---------------------------------------------------------------------------

    def components(
        self, tokens: tuple[str, ...], learned: dict[str, float] | None = None
    ) -> dict[str, Signals]:
        """Per intent, the three signals (learned probability, fuzzy, key terms), 0-100."""
        plain = _plain(tokens)
        if not plain:
            return {}
        learned = learned or {}
        fuzzy = self._fuzzy(plain, learned)
        keys = self._key_hits(plain.split())
        return {
            i: (100 * learned.get(i, 0.0), fuzzy.get(i, 0.0), 100.0 if i in keys else 0.0)
            for i in self._ids
        }

    def _fuzzy(self, query: str, learned: dict[str, float]) -> dict[str, float]:
        """rapidfuzz token ratios, mean of the 3 best examples, for the likeliest intents.

        Comparing with every example costs milliseconds; the learned model picks the
        `FUZZY_INTENTS` likeliest intents, and of those only the ones close enough to the best
        for rapidfuzz to change the order. A short message is also compared with the short
        examples of every intent ("what can you do", "thanks").
        """
        best: dict[str, list[float]] = defaultdict(list)
        ranked = sorted(learned, key=lambda i: -learned[i])[:FUZZY_INTENTS]
        # rapidfuzz can add at most `fuzzy` weight x 100 points to an intent, so it can only
        # change the order among intents whose learned probabilities are that close.
        w = self.settings.weights
        reach = w.fuzzy / w.learned if w.learned else 1.0
        top = learned[ranked[0]] if ranked else 0.0
        likeliest = [i for i in ranked if learned[i] >= top - reach]
        # Each scorer compares the message with all their examples in one call.
        strings = [e for i in likeliest for e in self._examples.get(i, [])]
        by_scorer = [
            process.cdist([query], strings, scorer=scorer, dtype=np.float64)[0].tolist()
            if strings
            else []
            for scorer in (fuzz.token_set_ratio, fuzz.token_sort_ratio)
        ]
        first = 0
        for intent_id in likeliest:
            count = len(self._examples.get(intent_id, []))
            scores = [0.0] * count
            for found in by_scorer:
                for pos, score in enumerate(found[first : first + count]):
                    scores[pos] += score / 2
            best[intent_id] = scores
            first += count
        if len(query.split()) <= SHORT:
            ordered = " ".join(sorted(query.split()))
            short = process.cdist(
                [ordered],
                self._short_strings,
                scorer=fuzz.ratio,
                dtype=np.float64,
                score_cutoff=SHORT_CUTOFF,
            )[0].tolist()
            for pos, score in enumerate(short):
                if score >= SHORT_CUTOFF:  # below the cutoff cdist gives 0
                    best[self._short[pos][0]].append(score)
        return {i: sum(sorted(v, reverse=True)[:3]) / 3 for i, v in best.items() if v}

    def _key_hits(self, words: list[str]) -> set[str]:
        hits: set[str] = set()
        for pos, word in enumerate(words):
            for phrase, intent_id in self._key_phrases.get(word, ()):
                if tuple(words[pos : pos + len(phrase)]) == phrase:
                    hits.add(intent_id)
        return hits

    def mix(self, components: dict[str, Signals], weights: Weights | None = None) -> Ranked:
        """Mix the signals into one score per intent (a weighted mean, 0-100), best first."""
        w = weights or self.settings.weights
        total = (w.learned + w.fuzzy + w.key_terms) or 1.0
        scores = [
            (i, round((w.learned * m + w.fuzzy * f + w.key_terms * k) / total, 1))
            for i, (m, f, k) in components.items()
        ]
        scores.sort(key=lambda item: -item[1])
        return Ranked(tuple(scores))

    def rank(self, tokens: tuple[str, ...], learned: dict[str, float] | None = None) -> Ranked:
        return self.mix(self.components(tokens, learned))
