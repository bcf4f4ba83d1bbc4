"""Calibrate the matcher's weights and thresholds on every labelled file, cross-fitted.

`python -m bot calibrate` analyses each labelled file with a learned model trained WITHOUT that
file (so the learned signal is as good as it will be on a new writer, not better), then searches
a small grid of weights and thresholds and prints the best settings with their scores. Copy them
into `intents/rules/matcher.yaml` by hand, so every change is a reviewed commit. The public
sample is never used here: it stays a check, not a training set.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from bot.core.engine import Analysis, Engine
from bot.core.learned import LearnedModel
from bot.core.matcher import Thresholds, Weights
from bot.tools.evaluate import profile_of, read_jsonl
from bot.tools.train import build, data_files, load_rows


def _correct(engine: Engine, a: Analysis, row: dict[str, Any], w: Weights, t: Thresholds) -> bool:
    d = engine.decide(a, w, t)
    if d.action.value != row["action"]:
        return False
    return row["action"] != "answer" or d.intent == row.get("intent")


def cross_fitted(engine: Engine, files: Iterable[Path]) -> list[tuple[Analysis, dict[str, Any]]]:
    """Each routine row of each file, analysed with a learned model that never saw the file."""
    rows = load_rows(engine, data_files())
    out: list[tuple[Analysis, dict[str, Any]]] = []
    for path in files:
        arrays = build([r for r in rows if r.group != path.stem], lambda _: None)
        arrays["data_digest"] = np.array("cross-fitted")
        engine.use_learned(LearnedModel(arrays, path))
        for row in read_jsonl([path]):
            if row["safety"] == "routine":
                out.append((engine.analyse(row["text"], profile_of(row)), row))
    return out


def _score(
    engine: Engine, pairs: list[tuple[Analysis, dict[str, Any]]], w: Weights, t: Thresholds
) -> float:
    return 100.0 * sum(_correct(engine, a, r, w, t) for a, r in pairs) / len(pairs)


def calibrate(
    engine: Engine, pairs: list[tuple[Analysis, dict[str, Any]]]
) -> list[tuple[float, Weights, Thresholds]]:
    """Weights first (at today's thresholds), then thresholds for the five best weights."""
    today = engine.thresholds
    by_weights: list[tuple[float, Weights]] = []
    grid = itertools.product(
        [0.6, 0.8, 1.0, 1.2, 1.5],  # learned
        [0.0, 0.05, 0.1, 0.2, 0.3],  # fuzzy
        [0.0, 0.05, 0.1, 0.2],  # key terms
    )
    for m, f, k in grid:
        w = Weights(learned=m, fuzzy=f, key_terms=k)
        by_weights.append((_score(engine, pairs, w, today), w))
    by_weights.sort(key=lambda item: -item[0])
    results: list[tuple[float, Weights, Thresholds]] = []
    for _, w in by_weights[:5]:
        for answer, margin, floor, short in itertools.product(
            [15, 20, 25, 30, 35], [3.0, 6.0, 10.0], [8, 12, 15], [1, 2, 3]
        ):
            if floor >= answer:
                continue
            t = Thresholds(
                answer=answer,
                clarify_floor=floor,
                clarify_margin=margin,
                clarify_max_words=short,
                out_of_scope=today.out_of_scope,
            )
            results.append((_score(engine, pairs, w, t), w, t))
    results.sort(key=lambda item: -item[0])
    return results


def main(files: list[Path]) -> int:
    engine = Engine.load()
    pairs = cross_fitted(engine, files)
    print(f"{len(pairs)} routine messages, each analysed by a model that never saw its file")
    for score, w, t in calibrate(engine, pairs)[:10]:
        print(f"{score:5.1f}%  weights {w.model_dump()}  thresholds {t.model_dump()}")
    return 0
