"""Triage contract v2, as a person would notice it: the new signs and their sign families, the
qualifiers that must fail safe, the profile pairs, numbers read as values, and long messages.

The cases are data (`contract_v2.yaml`): what someone writes, and what must come back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.core.engine import Engine, Profile

CASES: dict[str, list[dict[str, Any]]] = yaml.safe_load(
    (Path(__file__).parent / "contract_v2.yaml").read_text(encoding="utf-8")
)


def _check(engine: Engine, case: dict[str, Any]) -> None:
    profile = Profile(route=case["route"]) if "route" in case else None
    got = engine.classify(case["text"], profile)
    assert got.safety.value == case["safety"], (case, got.signs, got.raised_by)
    if "sign" in case:
        assert got.sign == case["sign"], (case, got.families, got.signs)
    if case["safety"] == "routine":
        assert got.sign is None
        assert got.to_json()["sign"] is None


@pytest.mark.parametrize("case", CASES["signs"], ids=lambda c: c["text"][:50])
def test_each_new_sign_sets_its_level_and_family(engine: Engine, case: dict[str, Any]) -> None:
    _check(engine, case)


@pytest.mark.parametrize("case", CASES["qualifiers"], ids=lambda c: c["text"][:50])
def test_qualifiers_fail_safe(engine: Engine, case: dict[str, Any]) -> None:
    _check(engine, case)


@pytest.mark.parametrize(
    "case", CASES["profile_pairs"], ids=lambda c: f"{c.get('route')}: {c['text'][:40]}"
)
def test_the_profile_changes_the_level_only_where_the_contract_says(
    engine: Engine, case: dict[str, Any]
) -> None:
    _check(engine, case)


def test_the_sign_field_is_in_the_contract_json(engine: Engine) -> None:
    assert engine.classify("my toddler swallowed a tablet").to_json()["sign"] == "poisoning"
    assert engine.classify("what is baclofen?").to_json()["sign"] is None


def test_several_families_fire_and_the_contract_order_decides_the_lead(engine: Engine) -> None:
    got = engine.classify("I took all my tablets because I want to die, and now I'm fitting")
    assert got.safety.value == "emergency"
    assert got.sign == "self_harm"
    assert "poisoning" in got.families or "general" in got.families


FILLER = (
    "We have had a long week with appointments and the school run and the car broke down "
    "again, and the insurance people kept us on hold for an hour. "
)


@pytest.mark.parametrize(
    ("ending", "safety"),
    [
        ("Anyway, right now he is not breathing properly and his lips are blue.", "emergency"),
        ("And his pump is beeping now.", "urgent"),
        ("Anyway, what is the best time of day to take baclofen?", "routine"),
    ],
)
def test_a_danger_at_the_end_of_a_very_long_message_is_seen(
    engine: Engine, ending: str, safety: str
) -> None:
    text = FILLER * 60 + ending  # about 9,000 characters before the danger
    assert len(text) > 8000
    assert engine.classify(text).safety.value == safety


def test_the_shipped_model_was_built_from_the_data_in_the_repo() -> None:
    """Stale weights are a silent bug: after any change to the labelled data, the intents or the
    feature code, `python -m bot train` must be run and its model committed."""
    from bot.core.learned import LearnedModel
    from bot.tools.train import MODEL_FILE, data_files, digest

    assert LearnedModel.load(MODEL_FILE).data_digest == digest(data_files()), (
        "bot/core/model/learned.npz is stale: run `python -m bot train` and commit it"
    )
