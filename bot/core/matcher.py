"""Fuzzy intent matcher: rank the intents of `intents/*.yaml` for a normalised message.

Five signals, each 0-100, mixed by the weights in `intents/rules/matcher.yaml`: TF-IDF cosine
with the intent as a whole and with its nearest example (word stems and stem pairs, IDF over
the examples), rapidfuzz token ratios against the closest examples, the intent's key terms,
and a naive Bayes posterior over the same terms. The matcher only ranks; deciding to answer,
clarify or give up is the pipeline's job.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path

import snowballstemmer
from pydantic import BaseModel, ConfigDict, Field
from rapidfuzz import fuzz, process

from bot.core.intents import Intent
from bot.core.normalize import PUNCTUATION
from bot.loading import load_yaml_model


class Weights(BaseModel):
    model_config = ConfigDict(extra="forbid")

    centroid: float = Field(ge=0)
    nearest: float = Field(ge=0)
    fuzzy: float = Field(ge=0)
    key_terms: float = Field(ge=0)
    bayes: float = Field(ge=0)


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


Vector = dict[str, float]
Signals = tuple[float, float, float, float, float]  # centroid, nearest, fuzzy, key terms, bayes


NEAREST_INTENTS = 8  # intents whose examples are scored one by one (by TF-IDF as a whole)
FUZZY_INTENTS = 4  # how many of the likeliest intents rapidfuzz compares with
FUZZY_EXAMPLES = 6  # how many of each intent's closest examples
BAYES_ALPHA = 0.3  # Laplace smoothing of the naive Bayes signal
SHORT = 6  # words: a message with no known word is compared with examples this short


def _plain(tokens: Iterable[str]) -> str:
    """The words of a normalised message, without punctuation, for rapidfuzz and key terms."""
    return " ".join(t for t in tokens if t not in PUNCTUATION)


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
        self._intents = list(intents)
        self._ids = [i.id for i in self._intents]

        # Examples: TF-IDF terms (stems and stem pairs) and the plain string for rapidfuzz.
        examples: list[tuple[str, list[str], str]] = []
        for intent in self._intents:
            for text in intent.examples:
                tokens = normalise(text)
                examples.append((intent.id, self._terms(self._words(tokens)), _plain(tokens)))
        df: Counter[str] = Counter()
        for _, terms, _ in examples:
            df.update(set(terms))
        n_docs = len(examples)
        self._idf = {t: math.log((1 + n_docs) / (1 + c)) + 1.0 for t, c in df.items()}

        self._example_intent = [e[0] for e in examples]
        self._example_strings = [e[2] for e in examples]
        # term -> intent -> [(example index, weight)]: examples are scored per candidate intent
        self._example_index: dict[str, dict[str, list[tuple[int, float]]]] = defaultdict(
            lambda: defaultdict(list)
        )
        centroids: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for idx, (intent_id, terms, _) in enumerate(examples):
            for term, weight in self._vector(terms).items():
                self._example_index[term][intent_id].append((idx, weight))
                centroids[intent_id][term] += weight
        self._centroid_index: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for intent_id, weights in centroids.items():
            for term, weight in _norm(dict(weights)).items():
                self._centroid_index[term].append((intent_id, weight))
        # Short examples ("what can you do", "thanks"): the only ones a message with no known
        # word can resemble; compared by sorted words (token_sort_ratio without re-sorting).
        self._short = [i for i, e in enumerate(self._example_strings) if len(e.split()) <= SHORT]
        self._short_sorted = [
            " ".join(sorted(self._example_strings[i].split())) for i in self._short
        ]

        # Naive Bayes over the same terms (each example counts a term once), Laplace-smoothed.
        # Stored sparsely: each intent's log-probability of an unseen term, and per term the
        # extra log-probability for the intents whose examples contain it.
        per_intent: dict[str, Counter[str]] = defaultdict(Counter)
        for intent_id, terms, _ in examples:
            per_intent[intent_id].update(set(terms))
        vocabulary = len(self._idf)
        totals = {i: sum(per_intent[i].values()) + BAYES_ALPHA * vocabulary for i in self._ids}
        self._unseen = {i: math.log(BAYES_ALPHA / totals[i]) for i in self._ids}
        self._seen: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for intent_id, seen in per_intent.items():
            for term, count in seen.items():
                self._seen[term].append((intent_id, math.log((count + BAYES_ALPHA) / BAYES_ALPHA)))

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

    # -- text to terms -----------------------------------------------------------------

    def _stem(self, word: str) -> str:
        stem = self._stem_cache.get(word)
        if stem is None:
            stem = self._stemmer.stemWord(word)
            self._stem_cache[word] = stem
        return stem

    def _words(self, tokens: Iterable[str]) -> list[str]:
        return [t for t in tokens if t not in PUNCTUATION and t not in self._stop]

    def _terms(self, words: list[str]) -> list[str]:
        stems = [self._stem(w) for w in words]
        return stems + [f"{a}_{b}" for a, b in itertools.pairwise(stems)]

    def _vector(self, terms: list[str]) -> Vector:
        counts = Counter(t for t in terms if t in self._idf)
        return _norm({t: (1.0 + math.log(c)) * self._idf[t] for t, c in counts.items()})

    # -- scoring ---------------------------------------------------------------------------

    def content_words(self, tokens: tuple[str, ...]) -> list[str]:
        """The message's words that can carry a topic (no stopwords, no punctuation)."""
        return self._words(tokens)

    def _bayes(self, terms: list[str]) -> dict[str, float]:
        """Naive Bayes posterior of each intent, 0-100 (empty when no term is known)."""
        known = [t for t in terms if t in self._idf]
        if not known:
            return {}
        sums = {i: len(known) * base for i, base in self._unseen.items()}
        for term in known:
            for intent_id, extra in self._seen[term]:
                sums[intent_id] += extra
        top = max(sums.values())
        exp = {i: math.exp(v - top) for i, v in sums.items()}
        total = sum(exp.values())
        return {i: 100 * e / total for i, e in exp.items()}

    def components(self, tokens: tuple[str, ...]) -> dict[str, Signals]:
        """Per intent, the five signals (centroid, nearest, fuzzy, key terms, bayes), 0-100."""
        plain = _plain(tokens)
        if not plain:
            return {}
        terms = self._terms(self._words(tokens))
        vector = self._vector(terms)
        centroid: dict[str, float] = defaultdict(float)
        for term, weight in vector.items():
            for intent_id, cw in self._centroid_index.get(term, ()):
                centroid[intent_id] += weight * cw
        bayes = self._bayes(terms)
        # Example-level scores only for the likeliest intents (the others rank low anyway).
        candidates = set(sorted(centroid, key=lambda i: -centroid[i])[:NEAREST_INTENTS])
        candidates |= set(sorted(bayes, key=lambda i: -bayes[i])[:3])
        by_example: dict[str, dict[int, float]] = {i: defaultdict(float) for i in candidates}
        for term, weight in vector.items():
            postings = self._example_index.get(term)
            if not postings:
                continue
            for intent_id in candidates:
                scores = by_example[intent_id]
                for idx, ew in postings.get(intent_id, ()):
                    scores[idx] += weight * ew
        nearest: dict[str, float] = {}
        closest: dict[str, list[tuple[int, float]]] = {}
        for intent_id, scores in by_example.items():
            if scores:
                best = heapq.nlargest(FUZZY_EXAMPLES, scores.items(), key=itemgetter(1))
                closest[intent_id] = best
                nearest[intent_id] = best[0][1]

        fuzzy = self._fuzzy(plain, centroid, nearest, closest)
        keys = self._key_hits(plain.split())
        return {
            i: (100 * centroid.get(i, 0.0), 100 * nearest.get(i, 0.0), fuzzy.get(i, 0.0),
                100.0 if i in keys else 0.0, bayes.get(i, 0.0))
            for i in self._ids
        }  # fmt: skip

    def _fuzzy(
        self,
        query: str,
        centroid: dict[str, float],
        nearest: dict[str, float],
        closest: dict[str, list[tuple[int, float]]],
    ) -> dict[str, float]:
        """rapidfuzz token ratios, mean of the 3 best examples, for the likeliest intents only.

        Comparing with every example costs milliseconds; the TF-IDF signals pick the
        `FUZZY_INTENTS` likeliest intents and their `FUZZY_EXAMPLES` closest examples. A short
        message with no known word at all ("what can you do") is compared with short examples.
        """
        pair: dict[int, float] = defaultdict(float)
        if centroid:
            ranked = sorted(centroid, key=lambda i: -(centroid[i] + nearest.get(i, 0.0)))
            pool: list[int] = []
            for intent_id in ranked[:FUZZY_INTENTS]:
                pool.extend(idx for idx, _ in closest.get(intent_id, ()))
            strings = [self._example_strings[i] for i in pool]
            for scorer in (fuzz.token_set_ratio, fuzz.token_sort_ratio):
                for _, score, pos in process.extract(query, strings, scorer=scorer, limit=None):
                    pair[pool[pos]] += float(score) / 2
        elif len(query.split()) <= SHORT:
            ordered = " ".join(sorted(query.split()))
            for _, score, pos in process.extract(
                ordered, self._short_sorted, scorer=fuzz.ratio, limit=None, score_cutoff=50
            ):
                pair[self._short[pos]] = float(score)
        per_intent: dict[str, list[float]] = defaultdict(list)
        for idx, score in pair.items():
            per_intent[self._example_intent[idx]].append(score)
        return {i: sum(sorted(v, reverse=True)[:3]) / 3 for i, v in per_intent.items()}

    def _key_hits(self, words: list[str]) -> set[str]:
        hits: set[str] = set()
        for pos, word in enumerate(words):
            for phrase, intent_id in self._key_phrases.get(word, ()):
                if tuple(words[pos : pos + len(phrase)]) == phrase:
                    hits.add(intent_id)
        return hits

    def mix(self, components: dict[str, Signals], weights: Weights | None = None) -> Ranked:
        """Mix the signals into one score per intent, best first."""
        w = weights or self.settings.weights
        scores = [
            (i, round(w.centroid * c + w.nearest * n + w.fuzzy * f + w.key_terms * k
                      + w.bayes * b, 1))
            for i, (c, n, f, k, b) in components.items()
        ]  # fmt: skip
        scores.sort(key=lambda item: -item[1])
        return Ranked(tuple(scores))

    def rank(self, tokens: tuple[str, ...]) -> Ranked:
        return self.mix(self.components(tokens))
