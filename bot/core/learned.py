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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.loading import DataError

MODEL_FILE = Path(__file__).resolve().parent / "model" / "learned.npz"

CHAR_SIZES = (3, 4, 5)  # character n-gram lengths, over the normalised words
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


def features(words: Sequence[str], route: str | None = None, role: str | None = None) -> set[str]:
    """The feature strings of a message: words, word pairs, character n-grams, the profile.

    `words` are the normalised tokens without punctuation. Used by training and by inference,
    so both see exactly the same features.
    """
    out = {_WORD + w for w in words}
    present = set(words)
    context = "pump" if route in ("pump", "both") or present & _PUMP_WORDS else "plain"
    if present & _STOP_WORDS:
        context += "+stopped"
    out.update(f"{_PROFILE}{context}|{w}" for w in present)
    out.update(f"{_PAIR}{a} {b}" for a, b in itertools.pairwise(words))
    text = f" {' '.join(words)} "
    size = len(text)
    for n in CHAR_SIZES:
        out.update(text[i : i + n] for i in range(size - n + 1))
    if route:
        out.add(f"{_PROFILE}route={route}")
    if role:
        out.add(f"{_PROFILE}role={role}")
    return out


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
    """Holds the vocabulary and the weights of every head. Build once; `opinion` is pure."""

    def __init__(self, arrays: dict[str, Any], source: Path) -> None:
        try:
            vocab = bytes(arrays["vocabulary"]).decode("utf-8").split("\n")
            self._index = {f: i for i, f in enumerate(vocab)}
            self._idf = np.asarray(arrays["idf"], dtype=np.float32)
            self._weights = np.asarray(arrays["weights"])  # (features, outputs), float16
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
        if self._weights.shape != (len(vocab), n_out) or self._bias.shape != (n_out,):
            raise DataError(
                f"{source}: weights {self._weights.shape} do not fit {len(vocab)} features and "
                f"{n_out} outputs; rebuild it with 'python -m bot train'"
            )
        self._family_slice = slice(len(BINARY_HEADS), len(BINARY_HEADS) + len(self.families))
        self._intent_slice = slice(self._family_slice.stop, n_out)

    @classmethod
    def load(cls, path: Path | None = None) -> LearnedModel:
        where = path or MODEL_FILE
        if not where.is_file():
            raise DataError(
                f"{where}: the learned model is missing; build it with 'python -m bot train'"
            )
        with np.load(where, allow_pickle=False) as data:
            return cls(dict(data), where)

    def scores(self, feats: Iterable[str]) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Raw linear scores of every output for a set of feature strings."""
        get = self._index.get
        ids = [i for i in map(get, feats) if i is not None]
        if not ids:
            return self._bias.copy()
        idx = np.fromiter(ids, dtype=np.int64, count=len(ids))
        values = self._idf[idx]
        values /= np.sqrt(float(values @ values))
        return (values @ self._weights[idx].astype(np.float32)).astype(np.float64) + self._bias

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
