"""Fuzzy intent matcher: rank the intents of `intents/*.yaml` for a normalised message.

Four signals, each 0-100, mixed by the weights in `intents/rules/matcher.yaml`: TF-IDF cosine
with the intent as a whole and with its nearest example (word stems and stem pairs, IDF over
the examples), rapidfuzz token ratios against the examples, and the intent's key terms. The
matcher only ranks; deciding to answer, clarify or give up is the pipeline's job.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import snowballstemmer
from pydantic import BaseModel, ConfigDict, Field
from rapidfuzz import fuzz, process

from bot.intents import Intent
from bot.loading import load_yaml_model
from bot.normalize import PUNCTUATION


class Weights(BaseModel):
    model_config = ConfigDict(extra="forbid")

    centroid: float = Field(ge=0)
    nearest: float = Field(ge=0)
    fuzzy: float = Field(ge=0)
    key_terms: float = Field(ge=0)


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answer: float = Field(ge=0, le=100)
    clarify_floor: float = Field(ge=0, le=100)
    clarify_margin: float = Field(ge=0, le=100)
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


Vector = dict[str, float]


def _norm(vec: Vector) -> Vector:
    length = math.sqrt(sum(v * v for v in vec.values()))
    return {k: v / length for k, v in vec.items()} if length else {}


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
        self._stemmer = snowballstemmer.stemmer("english")
        self._stem_cache: dict[str, str] = {}
        self._normalise = normalise
        self._intents = list(intents)
        self._ids = [i.id for i in self._intents]

        examples: list[tuple[str, list[str], str]] = []  # (intent id, terms, fuzzy string)
        for intent in self._intents:
            for text in intent.examples:
                tokens = normalise(text)
                plain = " ".join(t for t in tokens if t not in PUNCTUATION)
                examples.append((intent.id, self._terms(self._words(tokens)), plain))
        df: Counter[str] = Counter()
        for _, terms, _ in examples:
            df.update(set(terms))
        n_docs = len(examples)
        self._idf = {t: math.log((1 + n_docs) / (1 + c)) + 1.0 for t, c in df.items()}
        self._default_idf = math.log(1 + n_docs) + 1.0

        self._example_intent = [e[0] for e in examples]
        self._example_strings = [e[2] for e in examples]
        self._example_index: dict[str, list[tuple[int, float]]] = defaultdict(list)
        centroids: dict[str, Counter[str]] = defaultdict(Counter)
        for idx, (intent_id, terms, _) in enumerate(examples):
            vec = self._vector(terms)
            for term, weight in vec.items():
                self._example_index[term].append((idx, weight))
                centroids[intent_id][term] += weight
        self._centroid_index: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for intent_id, counter in centroids.items():
            for term, weight in _norm(dict(counter)).items():
                self._centroid_index[term].append((intent_id, weight))

        self._key_terms: dict[str, list[tuple[str, ...]]] = {}
        for intent in self._intents:
            phrases = {tuple(self._terms(self._words(normalise(k)), pairs=False)) for k in intent.key_terms}
            self._key_terms[intent.id] = [p for p in phrases if p]

    @classmethod
    def from_file(
        cls, path: Path, intents: Iterable[Intent], normalise: Callable[[str], tuple[str, ...]]
    ) -> Matcher:
        return cls(intents, load_yaml_model(path, MatcherFile), normalise)

    # -- text to terms -----------------------------------------------------------------

    def _stem(self, word: str) -> str:
        stem = self._stem_cache.get(word)
        if stem is None:
            stem = self._stemmer.stemWord(word)
            self._stem_cache[word] = stem
        return stem

    def _words(self, tokens: Iterable[str]) -> list[str]:
        return [t for t in tokens if t not in PUNCTUATION and t not in self._stop]

    def _terms(self, words: list[str], pairs: bool = True) -> list[str]:
        stems = [self._stem(w) for w in words]
        if not pairs:
            return stems
        return stems + [f"{a}_{b}" for a, b in zip(stems, stems[1:], strict=False)]

    def _vector(self, terms: list[str]) -> Vector:
        counts = Counter(terms)
        return _norm(
            {
                t: (1.0 + math.log(c)) * self._idf.get(t, self._default_idf)
                for t, c in counts.items()
            }
        )

    # -- scoring ---------------------------------------------------------------------------

    def content_words(self, tokens: tuple[str, ...]) -> list[str]:
        """The message's words that can carry a topic (no stopwords, no punctuation)."""
        return self._words(tokens)

    def components(self, tokens: tuple[str, ...]) -> dict[str, tuple[float, float, float, float]]:
        """Per intent, the four raw signals (centroid, nearest, fuzzy, key terms), each 0-100."""
        words = self._words(tokens)
        plain = [t for t in tokens if t not in PUNCTUATION]
        if not plain:
            return {}
        vec = self._vector([t for t in self._terms(words) if t in self._idf])
        centroid: dict[str, float] = defaultdict(float)
        nearest_by_example: dict[int, float] = defaultdict(float)
        for term, weight in vec.items():
            for intent_id, cw in self._centroid_index.get(term, ()):
                centroid[intent_id] += weight * cw
            for idx, ew in self._example_index.get(term, ()):
                nearest_by_example[idx] += weight * ew
        nearest: dict[str, float] = defaultdict(float)
        for idx, score in nearest_by_example.items():
            intent_id = self._example_intent[idx]
            nearest[intent_id] = max(nearest[intent_id], score)

        pair: dict[int, float] = defaultdict(float)
        query = " ".join(plain)
        for scorer in (fuzz.token_set_ratio, fuzz.token_sort_ratio):
            for _, score, idx in process.extract(
                query, self._example_strings, scorer=scorer, limit=None, score_cutoff=25
            ):
                pair[idx] += float(score) / 2
        fuzzy: dict[str, list[float]] = defaultdict(list)
        for idx, score in pair.items():
            fuzzy[self._example_intent[idx]].append(score)

        stems = self._terms(words, pairs=False)
        joined = " " + " ".join(stems) + " "
        stem_set = set(stems)
        out: dict[str, tuple[float, float, float, float]] = {}
        for intent_id in self._ids:
            best3 = sorted(fuzzy[intent_id], reverse=True)[:3]
            out[intent_id] = (
                100 * centroid.get(intent_id, 0.0),
                100 * nearest.get(intent_id, 0.0),
                sum(best3) / 3 if best3 else 0.0,
                self._key_score(intent_id, joined, stem_set),
            )
        return out

    def mix(
        self, components: dict[str, tuple[float, float, float, float]], weights: Weights | None = None
    ) -> Ranked:
        """Mix the signals into one score per intent, best first."""
        w = weights or self.settings.weights
        scores = [
            (i, round(w.centroid * c + w.nearest * n + w.fuzzy * f + w.key_terms * k, 1))
            for i, (c, n, f, k) in components.items()
        ]
        scores.sort(key=lambda item: -item[1])
        return Ranked(tuple(scores))

    def rank(self, tokens: tuple[str, ...]) -> Ranked:
        return self.mix(self.components(tokens))

    def _key_score(self, intent_id: str, joined: str, stems: set[str]) -> float:
        best = 0.0
        for phrase in self._key_terms[intent_id]:
            if len(phrase) > 1 and f" {' '.join(phrase)} " in joined:
                return 100.0
            hit = sum(1 for s in phrase if s in stems) / len(phrase)
            best = max(best, hit * (60.0 if len(phrase) > 1 else 80.0))
        return best
