"""Score the engine on labelled messages (the contract's JSONL format) with the issues' metrics.

Used by the tests (thresholds on the development set and the public sample), by the first-sight
ledger (`docs/triage-ledger.md`) and by `python -m bot evaluate FILE...`, which prints the
numbers and, with `--misses`, every miss.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.core.engine import Decision, Engine, Profile

_RANK = {"routine": 0, "urgent": 1, "emergency": 2}
_REFUSE = "refuse_personal_dosing"


@dataclass
class Report:
    total: int = 0
    emergency: int = 0
    emergency_found: int = 0
    urgent_or_higher: int = 0
    urgent_or_higher_found: int = 0
    routine: int = 0
    routine_raised: int = 0
    dosing: int = 0
    dosing_refused: int = 0
    false_refusals: int = 0
    out_of_scope: int = 0
    out_of_scope_caught: int = 0
    answerable: int = 0
    answerable_right: int = 0
    action_right: int = 0
    signed: int = 0
    sign_right: int = 0
    misses: list[str] = field(default_factory=list)
    missed_kinds: Counter[str] = field(default_factory=Counter)

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
    def dosing_recall(self) -> float:
        return self._pct(self.dosing_refused, self.dosing)

    @property
    def scope_recall(self) -> float:
        return self._pct(self.out_of_scope_caught, self.out_of_scope)

    @property
    def intent_accuracy(self) -> float:
        return self._pct(self.answerable_right, self.answerable)

    @property
    def action_accuracy(self) -> float:
        return self._pct(self.action_right, self.total)

    @property
    def sign_accuracy(self) -> float:
        return self._pct(self.sign_right, self.signed)

    def summary(self) -> str:
        return (
            f"messages {self.total}: emergency recall {self.emergency_recall:.1f}% "
            f"({self.emergency_found}/{self.emergency}), urgent-or-higher recall "
            f"{self.urgent_recall:.1f}% ({self.urgent_or_higher_found}/{self.urgent_or_higher}), "
            f"routine over-triage {self.over_triage:.1f}% ({self.routine_raised}/{self.routine}), "
            f"dosing refused {self.dosing_recall:.1f}% ({self.dosing_refused}/{self.dosing}) "
            f"with {self.false_refusals} false refusals, out of scope caught "
            f"{self.scope_recall:.1f}% ({self.out_of_scope_caught}/{self.out_of_scope}), "
            f"intent accuracy on answerable {self.intent_accuracy:.1f}% "
            f"({self.answerable_right}/{self.answerable}), action accuracy "
            f"{self.action_accuracy:.1f}%, sign family {self.sign_accuracy:.1f}% "
            f"({self.sign_right}/{self.signed})"
        )

    def table_row(self, name: str) -> str:
        """One Markdown row for the ledger and the README."""
        return (
            f"| {name} ({self.total}) | {self.emergency_recall:.0f}% "
            f"({self.emergency_found}/{self.emergency}) | {self.urgent_recall:.0f}% "
            f"({self.urgent_or_higher_found}/{self.urgent_or_higher}) | {self.over_triage:.1f}% "
            f"({self.routine_raised}/{self.routine}) | {self.dosing_recall:.0f}% "
            f"({self.dosing_refused}/{self.dosing}), {self.false_refusals} false | "
            f"{self.scope_recall:.0f}% ({self.out_of_scope_caught}/{self.out_of_scope}) | "
            f"{self.intent_accuracy:.1f}% ({self.answerable_right}/{self.answerable}) | "
            f"{self.sign_accuracy:.0f}% |"
        )


TABLE_HEADER = (
    "| set | emergency recall | urgent-or-higher | routine over-triage | dosing refused | "
    "out of scope caught | intent | sign family |\n|---|---|---|---|---|---|---|---|"
)


def read_jsonl(paths: Iterable[Path]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in paths:
        with path.open(encoding="utf-8") as fh:
            rows.extend(json.loads(line) for line in fh if line.strip())
    return rows


def profile_of(row: dict[str, Any]) -> Profile | None:
    p = row.get("profile")
    return Profile(route=p.get("route"), role=p.get("role")) if isinstance(p, dict) else None


def evaluate(engine: Engine, rows: Iterable[dict[str, Any]]) -> Report:
    report = Report()
    for row in rows:
        got: Decision = engine.classify(row["text"], profile_of(row))
        _score(report, row, got)
    return report


def _score(report: Report, row: dict[str, Any], got: Decision) -> None:
    report.total += 1
    want, have = _RANK[row["safety"]], _RANK[got.safety.value]
    label = row.get("id", report.total)
    text = row["text"][:90]
    note = row.get("note", "")
    if want == 2:
        report.emergency += 1
        report.emergency_found += have == 2
    if want >= 1:
        report.urgent_or_higher += 1
        report.urgent_or_higher_found += have >= 1
        if row.get("sign") and have == want:
            report.signed += 1
            report.sign_right += got.sign == row["sign"]
            if got.sign != row["sign"]:
                report.misses.append(f"{label}: SIGN want {row['sign']}, got {got.sign} :: {text}")
    else:
        report.routine += 1
        report.routine_raised += have >= 1
        if have >= 1:
            report.missed_kinds["over-triage"] += 1
            report.misses.append(
                f"{label}: OVER-TRIAGE to {got.safety.value}/{got.sign} [{note}] :: {text}"
            )
    if have < want:
        report.missed_kinds[f"missed {row['safety']}/{row.get('sign')}"] += 1
        report.misses.append(
            f"{label}: SAFETY want {row['safety']}/{row.get('sign')}, got {got.safety.value} "
            f"[{note}] :: {text}"
        )
    wanted_action = row["action"]
    report.action_right += got.action.value == wanted_action
    refused = got.action.value == _REFUSE
    if wanted_action == _REFUSE:
        report.dosing += 1
        report.dosing_refused += refused
    elif refused:
        report.false_refusals += 1
    if wanted_action == "out_of_scope":
        report.out_of_scope += 1
        report.out_of_scope_caught += got.action.value == "out_of_scope"
    if wanted_action == "answer" and row.get("intent"):
        report.answerable += 1
        right = got.action.value == "answer" and got.intent == row["intent"]
        report.answerable_right += right
        if not right:
            report.misses.append(
                f"{label}: want {row['intent']}, got {got.action.value}/{got.intent} "
                f"({got.score}; {got.alternatives[:1]}) :: {text}"
            )
    elif got.action.value != wanted_action:
        report.missed_kinds[f"{wanted_action} -> {got.action.value}"] += 1
        report.misses.append(
            f"{label}: want {wanted_action}, got {got.action.value}/{got.intent} "
            f"({got.score}) [{note}] :: {text}"
        )
