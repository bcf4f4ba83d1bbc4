"""The intent catalogue: `intents/*.yaml` loaded and checked against the triage contract.

It holds data only (ids, example phrases, key terms, related intents); the matcher decides how to
use it. A missing contract id, an unknown related id or a duplicate stops start-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.loading import DataError, load_yaml_model

KNOWLEDGE_IDS: tuple[str, ...] = (
    "about_baclofen", "how_it_works", "uses_and_limits", "forms_and_strengths", "how_to_take",
    "time_to_work", "side_effects", "missed_dose", "overdose", "withdrawal",
    "stopping_and_tapering", "interactions_alcohol", "kidney_problems", "liver_problems",
    "older_adults_dementia", "pregnancy_breastfeeding", "sleep_apnea_breathing",
    "driving_alertness", "seizures_epilepsy", "storage_travel", "other_treatments", "pump_basics",
    "pump_refills", "pump_alarms", "pump_travel_mri", "pump_problems", "pump_safety_card",
    "caregiver_guide", "emergency_plan", "autonomic_dysreflexia",
)  # fmt: skip
FEATURE_IDS: tuple[str, ...] = (
    "set_refill_reminder", "set_taper_reminder", "withdrawal_checklist", "link_caregiver",
    "my_reminders", "delete_my_data", "help", "greeting", "thanks_goodbye", "contact_care_team",
)  # fmt: skip
REQUIRED_IDS: frozenset[str] = frozenset(KNOWLEDGE_IDS + FEATURE_IDS)
MIN_EXAMPLES = 15


class IntentModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: Literal["knowledge", "feature"]
    covers: str = Field(min_length=3)
    key_terms: list[str] = Field(min_length=1)
    related: list[str] = Field(default_factory=list, max_length=4)
    examples: list[str] = Field(min_length=MIN_EXAMPLES)

    @field_validator("examples", "key_terms")
    @classmethod
    def _no_blank(cls, values: list[str]) -> list[str]:
        for value in values:
            if not str(value).strip():
                raise ValueError("blank phrase")
        return [str(v) for v in values]


class IntentFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    intents: list[IntentModel] = Field(min_length=1)


@dataclass(frozen=True)
class Intent:
    """One intent as the rest of the code sees it."""

    id: str
    kind: str
    covers: str
    key_terms: tuple[str, ...]
    related: tuple[str, ...]
    examples: tuple[str, ...]
    source: Path


def load_intents(folder: Path) -> dict[str, Intent]:
    """Load every `*.yaml` directly in `folder` and check it against the contract."""
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise DataError(f"{folder}: no intent files (*.yaml) found")
    intents: dict[str, Intent] = {}
    for path in files:
        parsed = load_yaml_model(path, IntentFile)
        for item in parsed.intents:
            if item.id in intents:
                raise DataError(
                    f"{path}: entry {item.id!r}: duplicate id, already in {intents[item.id].source}"
                )
            intents[item.id] = Intent(
                id=item.id,
                kind=item.kind,
                covers=item.covers,
                key_terms=tuple(t.lower() for t in item.key_terms),
                related=tuple(item.related),
                examples=tuple(item.examples),
                source=path,
            )
    missing = sorted(REQUIRED_IDS - intents.keys())
    if missing:
        raise DataError(f"{folder}: the contract's intent ids are missing: {', '.join(missing)}")
    for intent in intents.values():
        unknown = [r for r in intent.related if r not in intents]
        if unknown:
            raise DataError(
                f"{intent.source}: entry {intent.id!r}: related ids not found: {', '.join(unknown)}"
            )
        if intent.id in intent.related:
            raise DataError(f"{intent.source}: entry {intent.id!r}: lists itself as related")
    return intents
