"""Calibrate the matcher's weights and thresholds on the development set (tests/data/).

`python -m bot calibrate` searches a small grid and prints the best settings and their scores;
copy them into `intents/rules/matcher.yaml` by hand, so every change is a reviewed commit.
The public sample is never used here: it stays a check, not a training set.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bot.core.engine import Analysis, Engine
from bot.core.matcher import Thresholds, Weights
from bot.tools.evaluate import profile_of, read_jsonl


def _correct(engine: Engine, a: Analysis, row: dict[str, Any], w: Weights, t: Thresholds) -> bool:
    d = engine.decide(a, w, t)
    if d.action.value != row["action"]:
        return False
    return row["action"] != "answer" or d.intent == row.get("intent")


def calibrate(engine: Engine, files: Iterable[Path]) -> list[tuple[float, Weights, Thresholds]]:
    rows = [r for r in read_jsonl(files) if r["safety"] == "routine"]
    analyses = [engine.analyse(r["text"], profile_of(r)) for r in rows]
    results: list[tuple[float, Weights, Thresholds]] = []
    grid = itertools.product(
        [0.2, 0.3, 0.4],  # centroid
        [0.1],  # nearest
        [0.2, 0.3],  # fuzzy
        [0.05, 0.1],  # key terms
        [0.05, 0.1, 0.2],  # bayes
    )
    for c, n, f, k, b in grid:
        w = Weights(centroid=c, nearest=n, fuzzy=f, key_terms=k, bayes=b)
        for answer, margin, floor, short in itertools.product(
            [18, 20, 22, 25], [3.0, 6.0, 10.0], [12, 15], [2, 3]
        ):
            if floor >= answer:
                continue
            t = Thresholds(
                answer=answer,
                clarify_floor=floor,
                clarify_margin=margin,
                clarify_max_words=short,
                out_of_scope=engine.thresholds.out_of_scope,
            )
            right = sum(_correct(engine, a, r, w, t) for a, r in zip(analyses, rows, strict=True))
            results.append((100.0 * right / len(rows), w, t))
    results.sort(key=lambda item: -item[0])
    return results


def main(files: list[Path]) -> int:
    engine = Engine.load()
    results = calibrate(engine, files)
    for score, w, t in results[:10]:
        print(f"{score:5.1f}%  weights {w.model_dump()}  thresholds {t.model_dump()}")
    return 0
