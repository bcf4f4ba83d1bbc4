"""The learned second opinion: one linear model over word and character n-grams, several heads.

Trained by `python -m bot train` (scikit-learn, a development tool) on every labelled message
the project holds, and shipped as plain arrays in `bot/core/model/learned.npz` (numpy only, no
pickle, nothing fetched at run time). Heads: P(emergency), P(urgent or worse), the sign family,
P(personal dosing request), P(out of scope) and the intent. Pure after loading. It never decides
alone: the engine lets it raise a safety level, never lower one.
"""

from __future__ import annotations

import itertools
import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.loading import DataError

MODEL_FILE = Path(__file__).resolve().parent / "model" / "learned.npz"

CHAR_SIZES = (3, 4, 5)  # character n-gram lengths, over the normalised words
BUCKETS = 1 << 20  # hashed feature ids (collisions are rare at this size; unused ones cost nothing)
_PRIME = np.uint64(1_000_003)
_MIX = {n: np.uint64(0x9E3779B97F4A7C15 + 2 * n + 1) for n in CHAR_SIZES}  # one per n-gram size
_WORD = "\x01"  # prefixes keep word and pair features apart from character n-grams
_PAIR = "\x02"
_PROFILE = "\x03"
BINARY_HEADS = ("emergency", "urgent", "dosing", "out_of_scope")
# Words that change what a symptom means (contract section 1: itching is urgent on a pump or
# after stopping, a side effect otherwise). Each word of a message is also seen joined to the
# context it stands in, so a linear model can learn "itching with a pump" apart from "itching".
_PUMP_WORDS = frozenset(
    (
        "pump",
        "pumps",
        "refill",
        "refilled",
        "refills",
        "intrathecal",
        "itb",
        "catheter",
        "reservoir",
        "synchromed",
    )
)
_STOP_WORDS = frozenset(
    (
        "stopped",
        "stopping",
        "missed",
        "missing",
        "forgot",
        "forgotten",
        "skipped",
        "ran",
        "run",
        "out",
        "taper",
        "tapering",
        "weaning",
        "wean",
        "vomiting",
        "vomited",
        "lost",
        "confiscated",
        "quit",
        "cut",
        "reduced",
        "lowered",
        "overdue",
        "late",
        "none",
    )
)
MULTI_HEADS = ("family", "intent")


def features(
    words: Sequence[str], route: str | None = None, role: str | None = None
) -> np.ndarray[Any, np.dtype[np.int64]]:
    """The feature ids of a message (sorted, unique): words, word pairs, each word joined to
    its context, character 3- to 5-grams, the profile.

    Every feature is hashed into one of `BUCKETS` ids: character n-grams with a rolling hash
    computed by numpy over the whole text at once, the word features with CRC-32. `words` are
    the normalised tokens without punctuation. Training and inference call this same function,
    so both see exactly the same features.
    """
    present = set(words)
    context = "pump" if route in ("pump", "both") or present & _PUMP_WORDS else "plain"
    if present & _STOP_WORDS:
        context += "+stopped"
    named = [_WORD + w for w in present]
    named += [f"{_PROFILE}{context}|{w}" for w in present]
    named += [f"{_PAIR}{a} {b}" for a, b in itertools.pairwise(words)]
    if route:
        named.append(f"{_PROFILE}route={route}")
    if role:
        named.append(f"{_PROFILE}role={role}")
    ids = np.fromiter((zlib.crc32(n.encode()) for n in named), dtype=np.uint64, count=len(named))
    text = np.frombuffer(f" {' '.join(words)} ".encode(), dtype=np.uint8).astype(np.uint64)
    grams = [ids]
    rolling = text
    for n in range(2, max(CHAR_SIZES) + 1):
        rolling = rolling[:-1] * _PRIME + text[n - 1 :]
        if n in CHAR_SIZES:
            grams.append((rolling * _MIX[n]) >> np.uint64(20))
    everything = np.concatenate(grams) % np.uint64(BUCKETS)
    return np.unique(everything.astype(np.int64))


@dataclass(frozen=True)
class Opinion:
    """What the learned model thinks of one message (probabilities 0-1)."""

    emergency: float
    urgent: float  # urgent or emergency
    dosing: float
    out_of_scope: float
    families: tuple[tuple[str, float], ...]  # best first
    intents: tuple[tuple[str, float], ...]  # best first

    @property
    def family(self) -> str | None:
        return self.families[0][0] if self.families else None


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x > -60 else 0.0


class LearnedModel:
    """Holds feature ids, their IDF and every head's weights. Build once; `opinion` is pure."""

    def __init__(self, arrays: dict[str, Any], source: Path) -> None:
        try:
            self._buckets = np.asarray(arrays["buckets"], dtype=np.int64)  # sorted feature ids
            self._idf = np.asarray(arrays["idf"], dtype=np.float32)
            # (features, outputs): stored as float16, used as float32 (no conversion per message)
            self._weights = np.asarray(arrays["weights"], dtype=np.float32)
            self._bias = np.asarray(arrays["bias"], dtype=np.float64)
            self.families = tuple(str(x) for x in arrays["families"])
            self.intents = tuple(str(x) for x in arrays["intents"])
            self.thresholds = {
                str(k): float(v)
                for k, v in zip(arrays["threshold_names"], arrays["thresholds"], strict=True)
            }
            self.data_digest = str(arrays["data_digest"])
        except (KeyError, ValueError, UnicodeDecodeError) as exc:
            raise DataError(f"{source}: not a learned model file ({exc})") from exc
        n_out = len(BINARY_HEADS) + len(self.families) + len(self.intents)
        n_in = len(self._buckets)
        if self._weights.shape != (n_in, n_out) or self._bias.shape != (n_out,):
            raise DataError(
                f"{source}: weights {self._weights.shape} do not fit {n_in} features and "
                f"{n_out} outputs; rebuild it with 'python -m bot train'"
            )
        self._family_slice = slice(len(BINARY_HEADS), len(BINARY_HEADS) + len(self.families))
        self._intent_slice = slice(self._family_slice.stop, n_out)

    @classmethod
    def silent(cls) -> LearnedModel:
        """A model with no opinion (never raises, never refuses): used while training one."""
        never = {name: 2.0 for name in BINARY_HEADS}
        return cls(
            {
                "buckets": np.zeros(0, np.int64),
                "idf": np.zeros(0, np.float32),
                "weights": np.zeros((0, len(BINARY_HEADS)), np.float16),
                "bias": np.zeros(len(BINARY_HEADS)),
                "families": np.array([], dtype=str),
                "intents": np.array([], dtype=str),
                "threshold_names": np.array(list(never)),
                "thresholds": np.array(list(never.values())),
                "data_digest": np.array("none"),
            },
            Path("(silent)"),
        )

    @classmethod
    def load(cls, path: Path | None = None) -> LearnedModel:
        where = path or MODEL_FILE
        if not where.is_file():
            raise DataError(
                f"{where}: the learned model is missing; build it with 'python -m bot train'"
            )
        with np.load(where, allow_pickle=False) as data:
            return cls(dict(data), where)

    def scores(
        self, ids: np.ndarray[Any, np.dtype[np.int64]]
    ) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Raw linear scores of every output for a message's feature ids (from `features`)."""
        known = self._buckets
        if not len(known):
            return self._bias.copy()
        pos = np.minimum(np.searchsorted(known, ids), len(known) - 1)
        rows = pos[known[pos] == ids]
        if not len(rows):
            return self._bias.copy()
        values = self._idf[rows]
        values /= np.sqrt(float(values @ values))
        raw: np.ndarray[Any, np.dtype[np.float64]] = (values @ self._weights[rows]).astype(
            np.float64
        ) + self._bias
        return raw

    def opinion(
        self, words: Sequence[str], route: str | None = None, role: str | None = None
    ) -> Opinion:
        raw = self.scores(features(words, route, role))
        return Opinion(
            emergency=_sigmoid(raw[0]),
            urgent=_sigmoid(raw[1]),
            dosing=_sigmoid(raw[2]),
            out_of_scope=_sigmoid(raw[3]),
            families=_softmax(self.families, raw[self._family_slice]),
            intents=_softmax(self.intents, raw[self._intent_slice]),
        )


def _softmax(
    names: tuple[str, ...], raw: np.ndarray[Any, np.dtype[np.float64]]
) -> tuple[tuple[str, float], ...]:
    if not names:
        return ()
    exp = np.exp(raw - raw.max())
    probs = exp / exp.sum()
    order = np.argsort(-probs)
    return tuple((names[i], float(probs[i])) for i in order)
