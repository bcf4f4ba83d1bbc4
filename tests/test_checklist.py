"""The withdrawal checklist: every path a person can take, as they would see it."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import pytest
import textstat

from bot.care.checklist import (
    CAUSES,
    ROUTES,
    Checklist,
    ChecklistSpec,
    ChecklistState,
    decide,
    load_checklist,
)
from bot.loading import DataError
from bot.paths import data_dir
from bot.reply.content import Content, load_content


@pytest.fixture(scope="module")
def content() -> Content:
    return load_content()


@pytest.fixture(scope="module")
def spec(content: Content) -> ChecklistSpec:
    return load_checklist(content.facts)


@pytest.fixture(scope="module")
def checklist(spec: ChecklistSpec) -> Checklist:
    return Checklist(spec)


def run(checklist: Checklist, route: str, cause: str, signs: list[str], voice: str = "caregiver"):
    step = checklist.start(voice)
    step = checklist.press(step.state, f"route:{route}", voice, "911")
    step = checklist.press(step.state, f"cause:{cause}", voice, "911")
    for sign in signs:
        step = checklist.press(step.state, f"t:{sign}", voice, "911")
    return checklist.press(step.state, "done", voice, "911")


SEVERE = [
    "high_fever",
    "confusion",
    "hallucinations",
    "seizure",
    "rigid",
    "hard_to_wake",
    "slow_breathing",
]
EARLY = [
    "itching",
    "stiffness",
    "tingling",
    "sweating",
    "fast_heartbeat",
    "low_fever",
    "irritability",
]


def test_groups_match_the_clinical_facts(spec: ChecklistSpec) -> None:
    assert [s.id for s in spec.signs if s.group == "early"] == EARLY
    assert [s.id for s in spec.signs if s.group == "severe"] == SEVERE


def test_first_question_is_pump_or_tablets(checklist: Checklist) -> None:
    step = checklist.start("patient")
    message = step.messages[0]
    assert "pump" in " ".join(b.label.lower() for b in message.buttons)
    assert "Tablets" in " ".join(b.label for b in message.buttons)
    assert step.state == ChecklistState(step="route")


def test_second_question_asks_about_refill_for_a_pump(checklist: Checklist) -> None:
    step = checklist.press(ChecklistState(), "route:pump", "patient", "911")
    assert "refill" in step.messages[0].text
    step = checklist.press(ChecklistState(), "route:tablets", "patient", "911")
    assert "doses" in step.messages[0].text


@pytest.mark.parametrize("sign", SEVERE)
@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("cause", CAUSES)
def test_a_severe_sign_ticked_alone_means_call_the_emergency_number(
    checklist: Checklist, sign: str, route: str, cause: str
) -> None:
    step = run(checklist, route, cause, [sign])
    assert step.result is not None and step.result.outcome == "emergency"
    message = step.messages[0]
    assert message.kind == "emergency"
    assert message.text.startswith("Call 911 now.")
    assert step.state is None  # the checklist is closed


def test_ticking_a_severe_sign_says_call_now_before_done(checklist: Checklist) -> None:
    step = checklist.press(ChecklistState("signs", "tablets", "no"), "t:seizure", "patient", "911")
    assert step.messages[0].text.startswith("You ticked a sign of danger. Call 911 now.")


def test_itching_and_fever_on_a_pump_means_call_the_clinic_today(checklist: Checklist) -> None:
    step = run(checklist, "pump", "yes", ["itching", "low_fever"])
    assert step.result is not None and step.result.outcome == "clinic_today"
    assert step.messages[0].kind == "urgent"
    assert "pump clinic today" in step.messages[0].text
    assert "Itching, no rash; Mild fever" in step.messages[0].text
    step = run(checklist, "pump", "yes", ["itching", "low_fever", "hallucinations"])
    assert step.result is not None and step.result.outcome == "emergency"


@pytest.mark.parametrize("sign", EARLY)
def test_any_early_sign_with_a_pump_means_call_today(checklist: Checklist, sign: str) -> None:
    step = run(checklist, "pump", "no", [sign])
    assert step.result is not None
    assert (step.result.outcome, step.result.reason) == ("clinic_today", "pump_early")


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("cause", ["yes", "unsure"])
def test_a_missed_refill_or_stopped_doses_means_call_today_even_without_signs(
    checklist: Checklist, route: str, cause: str
) -> None:
    step = run(checklist, route, cause, [])
    assert step.result is not None and step.result.outcome == "clinic_today"
    assert "You ticked no signs." in step.messages[0].text


@pytest.mark.parametrize("sign", ["stiffness", "fast_heartbeat"])
def test_tablets_a_sign_that_needs_a_doctor_alone(checklist: Checklist, sign: str) -> None:
    step = run(checklist, "tablets", "no", [sign])
    assert step.result is not None and step.result.outcome == "clinic_today"


@pytest.mark.parametrize("sign", ["itching", "tingling", "sweating", "low_fever", "irritability"])
def test_tablets_taken_as_usual_one_mild_sign_means_keep_watching(
    checklist: Checklist, sign: str
) -> None:
    step = run(checklist, "tablets", "no", [sign])
    assert step.result is not None and step.result.outcome == "watch"
    assert "Check again in 4 hours" in step.messages[0].text
    assert step.messages[0].kind == "info"


def test_tablets_two_mild_signs_together_means_call_today(checklist: Checklist) -> None:
    step = run(checklist, "tablets", "no", ["itching", "low_fever"])
    assert step.result is not None
    assert (step.result.outcome, step.result.reason) == ("clinic_today", "tablets_several")


def test_nothing_ticked_and_nothing_missed_means_keep_watching(checklist: Checklist) -> None:
    step = run(checklist, "tablets", "no", [])
    assert step.result is not None and step.result.outcome == "watch"


def test_every_combination_gives_exactly_one_result(spec: ChecklistSpec) -> None:
    ids = [s.id for s in spec.signs]
    for route, cause in itertools.product(ROUTES, CAUSES):
        for n in (0, 1, 2):
            for signs in itertools.combinations(ids, n):
                result = decide(spec, route, cause, signs)
                severe = any(s in SEVERE for s in signs)
                assert (result.outcome == "emergency") == severe
                if route in ("pump", "both") and signs:
                    assert result.outcome != "watch"


def test_tapping_again_unticks(checklist: Checklist) -> None:
    state = ChecklistState("signs", "pump", "no")
    step = checklist.press(state, "t:itching", "patient", "911")
    assert "✅ Itching, no rash" in step.messages[0].text
    step = checklist.press(step.state, "t:itching", "patient", "911")
    assert "✅" not in step.messages[0].text
    assert step.state == state


def test_stop_closes_and_stale_buttons_do_nothing(checklist: Checklist) -> None:
    assert checklist.press(ChecklistState(), "stop", "patient", "911").state is None
    stale = checklist.press(None, "t:itching", "patient", "911")
    assert stale.notes == ("expired",) and not stale.messages
    wrong_step = checklist.press(ChecklistState(), "done", "patient", "911")
    assert wrong_step.notes == ("expired",)


def test_state_survives_the_session_token() -> None:
    state = ChecklistState("signs", "both", "unsure", ("itching", "seizure"))
    assert ChecklistState.from_token(state.to_token()) == state
    assert ChecklistState.from_token("nonsense") is None
    assert ChecklistState.from_token("signs|moon|no|") is None
    assert ChecklistState.from_token(None) is None


def test_watch_result_says_honestly_when_no_reminder_can_be_set(checklist: Checklist) -> None:
    assert "I will remind you" in checklist.recheck_message("patient", scheduled=True).text
    manual = checklist.recheck_message("patient", scheduled=False).text
    assert "I cannot set reminders" in manual and "4 hours" in manual


@pytest.mark.parametrize("voice", ["patient", "caregiver"])
def test_results_are_plain_words(checklist: Checklist, spec: ChecklistSpec, voice: str) -> None:
    for route, cause, signs in (
        ("pump", "no", ["seizure"]),
        ("pump", "yes", ["itching"]),
        ("tablets", "no", []),
        ("tablets", "no", ["itching", "sweating"]),
        ("tablets", "no", ["stiffness"]),
        ("tablets", "yes", []),
    ):
        text = run(checklist, route, cause, signs, voice).messages[0].text
        assert textstat.flesch_kincaid_grade(text) <= 5.0, text


def test_a_number_not_in_the_cited_facts_stops_loading(content: Content, tmp_path: Path) -> None:
    source = data_dir("content") / "checklist.yaml"
    text = source.read_text(encoding="utf-8").replace(
        "Withdrawal can start within hours to a few days.",
        "Withdrawal can start within 3 hours.",
        1,
    )
    (tmp_path / "checklist.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match="numbers not in its facts: 3"):
        load_checklist(content.facts, tmp_path)


def test_an_unknown_fact_stops_loading(content: Content, tmp_path: Path) -> None:
    shutil.copy(data_dir("content") / "checklist.yaml", tmp_path / "checklist.yaml")
    path = tmp_path / "checklist.yaml"
    path.write_text(path.read_text().replace("[F067]", "[F999]", 1))
    with pytest.raises(DataError, match="unknown fact ids: F999"):
        load_checklist(content.facts, tmp_path)


def test_every_checklist_prompt_is_plain_words(spec: ChecklistSpec) -> None:
    for name in type(spec.text).model_fields:
        for voice in ("patient", "caregiver"):
            text = getattr(spec.text, name).get(voice).replace("{", "").replace("}", "")
            assert textstat.flesch_kincaid_grade(text) <= 5.0, (name, voice, text)
