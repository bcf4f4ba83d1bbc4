"""Score the engine on labelled messages (the contract's JSONL format) with the issue's metrics.

Used by the tests (thresholds on the development set and the public sample) and by
`python -m bot evaluate FILE...`, which prints the numbers and the misses.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.core import Decision, Engine, Profile

_RANK = {"routine": 0, "urgent": 1, "emergency": 2}


@dataclass
class Report:
    total: int = 0
    emergency: int = 0
    emergency_found: int = 0
    urgent_or_higher: int = 0
    urgent_or_higher_found: int = 0
    routine: int = 0
    routine_raised: int = 0
    answerable: int = 0
    answerable_right: int = 0
    action_right: int = 0
    misses: list[str] = field(default_factory=list)

    @staticmethod
    def _pct(a: int, b: int) -> float:
        return 100.0 * a / b if b else 100.0

    @property
    def emergency_recall(self) -> float:
        return self._pct(self.emergency_found, self.emergency)

    @property
    def urgent_recall(self) -> float:
        return self._pct(self.urgent_or_higher_found, self.urgent_or_higher)

    @property
    def over_triage(self) -> float:
        return self._pct(self.routine_raised, self.routine)

    @property
    def intent_accuracy(self) -> float:
        return self._pct(self.answerable_right, self.answerable)

    @property
    def action_accuracy(self) -> float:
        return self._pct(self.action_right, self.total)

    def summary(self) -> str:
        return (
            f"messages {self.total}: emergency recall {self.emergency_recall:.1f}% "
            f"({self.emergency_found}/{self.emergency}), urgent-or-higher recall "
            f"{self.urgent_recall:.1f}% ({self.urgent_or_higher_found}/{self.urgent_or_higher}), "
            f"routine over-triage {self.over_triage:.1f}% ({self.routine_raised}/{self.routine}), "
            f"intent accuracy on answerable {self.intent_accuracy:.1f}% "
            f"({self.answerable_right}/{self.answerable}), action accuracy "
            f"{self.action_accuracy:.1f}%"
        )


def read_jsonl(paths: Iterable[Path]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in paths:
        with path.open(encoding="utf-8") as fh:
            rows.extend(json.loads(line) for line in fh if line.strip())
    return rows


def _profile(row: dict[str, Any]) -> Profile | None:
    p = row.get("profile")
    return Profile(route=p.get("route"), role=p.get("role")) if isinstance(p, dict) else None


def evaluate(engine: Engine, rows: Iterable[dict[str, Any]]) -> Report:
    report = Report()
    for row in rows:
        got: Decision = engine.classify(row["text"], _profile(row))
        report.total += 1
        want, have = _RANK[row["safety"]], _RANK[got.safety.value]
        label = row.get("id", report.total)
        if want == 2:
            report.emergency += 1
            report.emergency_found += have == 2
        if want >= 1:
            report.urgent_or_higher += 1
            report.urgent_or_higher_found += have >= 1
        else:
            report.routine += 1
            report.routine_raised += have >= 1
        report.action_right += got.action.value == row["action"]
        if row["action"] == "answer" and row.get("intent"):
            report.answerable += 1
            right = got.action.value == "answer" and got.intent == row["intent"]
            report.answerable_right += right
            if not right:
                report.misses.append(
                    f"{label}: want {row['intent']}, got {got.action.value}/{got.intent} "
                    f"({got.score}; {got.alternatives[:1]}) :: {row['text'][:90]}"
                )
        elif got.action.value != row["action"]:
            report.misses.append(
                f"{label}: want {row['action']}, got {got.action.value}/{got.intent} "
                f"({got.score}) :: {row['text'][:90]}"
            )
        if have < want:
            report.misses.append(f"{label}: SAFETY want {row['safety']}, got {got.safety.value}")
    return report
