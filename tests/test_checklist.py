"""The withdrawal checklist: every path a person can take, as they would see it."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import pytest
import textstat

from bot.care.checklist import (
    CAUSES,
    OUTCOME_OF_LEVEL,
    ROUTES,
    Checklist,
    ChecklistSpec,
    ChecklistState,
    decide,
    load_checklist,
    triage_input,
)
from bot.core.engine import Engine
from bot.core.triage import Profile
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
def checklist(spec: ChecklistSpec, engine: Engine) -> Checklist:
    return Checklist(spec, engine.triage)


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
# Signs that triage calls an emergency whatever the route and the answer about missed doses.
ALWAYS_EMERGENCY = ["confusion", "hallucinations", "seizure", "hard_to_wake", "slow_breathing"]

# The same signs and answers as a person would write them: each sign, and a "yes" to the missed
# refill / missed doses question, for each route.
SAYS = {
    "itching": "He is itching all over with no rash.",
    "stiffness": "His stiffness and spasms are back.",
    "tingling": "He has tingling, pins and needles.",
    "sweating": "He is sweating a lot.",
    "fast_heartbeat": "His heart is racing.",
    "low_fever": "He has a mild fever.",
    "irritability": "He is grumpy and on edge.",
    "high_fever": "He has a high fever of 39.5.",
    "confusion": "He is confused and not making sense.",
    "hallucinations": "He is seeing things that are not there.",
    "seizure": "He is having a fit.",
    "rigid": "His muscles are very stiff and rigid.",
    "hard_to_wake": "He is hard to wake.",
    "slow_breathing": "His breathing is slow and weak.",
}
MISSED = {
    "pump": "He missed his pump refill.",
    "tablets": "He missed doses of his baclofen tablets.",
    "both": "He missed his pump refill and missed doses of his tablets.",
}
ROUTE = {"pump": "pump", "tablets": "oral", "both": "both"}


def test_groups_match_the_clinical_facts(spec: ChecklistSpec) -> None:
    assert [s.id for s in spec.signs if s.group == "early"] == EARLY
    assert [s.id for s in spec.signs if s.group == "severe"] == SEVERE
    assert set(SAYS) == {s.id for s in spec.signs}


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


def test_the_sign_list_says_what_mild_and_high_fever_mean_in_numbers(checklist: Checklist) -> None:
    step = checklist.press(ChecklistState("cause", "pump"), "cause:no", "patient", "911")
    text = step.messages[0].text
    assert "Mild fever: 38 °C (100.4 °F)" in text and "High fever: 39 °C (102 °F) or more" in text


@pytest.mark.parametrize("sign", SEVERE + EARLY)
@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("cause", CAUSES)
def test_the_checklist_and_free_text_triage_agree(
    checklist: Checklist, engine: Engine, sign: str, route: str, cause: str
) -> None:
    """One source of truth: the ticked sign and the same sign in a message get the same level
    (and, for an emergency, the same sign family) from the triage rules."""
    missed = cause in ("yes", "unsure")
    text = f"{MISSED[route]} {SAYS[sign]}" if missed else SAYS[sign]
    profile = Profile(route=ROUTE[route])
    said = engine.triage.assess(engine.normaliser.normalise(text).text, profile)
    ticked = checklist.decide(route, cause, (sign,))
    expected = OUTCOME_OF_LEVEL[said.level.value]
    if expected == "watch" and sign in SEVERE:
        expected = "clinic_today"  # a ticked danger box is never "keep watching"
    assert ticked.outcome == expected, (text, said)
    present, _ = triage_input(checklist.spec, route, cause, (sign,))
    if said.level.value == "emergency":
        assert checklist.triage.assess_concepts(present, profile=profile).family == said.family


@pytest.mark.parametrize("sign", ALWAYS_EMERGENCY)
@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("cause", CAUSES)
def test_a_danger_sign_ticked_alone_means_call_the_emergency_number(
    checklist: Checklist, sign: str, route: str, cause: str
) -> None:
    step = run(checklist, route, cause, [sign])
    assert step.result is not None and step.result.outcome == "emergency"
    message = step.messages[0]
    assert message.kind == "emergency"
    assert message.text.startswith("Call 911 now.")
    assert step.state is None  # the checklist is closed


@pytest.mark.parametrize("sign", ["high_fever", "rigid"])
def test_high_fever_or_rigid_muscles_after_a_missed_refill_or_stop_is_an_emergency(
    checklist: Checklist, sign: str
) -> None:
    for route in ROUTES:
        for cause in ("yes", "unsure"):
            assert checklist.decide(route, cause, (sign,)).outcome == "emergency"
    assert checklist.decide("pump", "no", (sign,)).outcome == "clinic_today"


def test_mild_fever_and_stiffness_back_on_a_pump_is_an_emergency_as_in_free_text(
    checklist: Checklist,
) -> None:
    """The review's example: the checklist said "clinic today" where free text said emergency."""
    step = run(checklist, "pump", "no", ["low_fever", "stiffness"])
    assert step.result is not None
    assert (step.result.outcome, step.result.reason) == ("emergency", "severe_together")
    assert step.messages[0].text.startswith("Call 911 now.")


def test_the_emergency_script_names_overdose_or_withdrawal_as_the_signs_suggest(
    checklist: Checklist,
) -> None:
    sleepy = run(checklist, "tablets", "no", ["hard_to_wake"]).messages[0].text
    assert "too much baclofen" in sleepy and "withdrawal" not in sleepy
    fever = run(checklist, "pump", "yes", ["high_fever"]).messages[0].text
    assert "baclofen withdrawal" in fever and "too much" not in fever
    fit = run(checklist, "tablets", "no", ["seizure"]).messages[0].text
    assert "withdrawal, or too much baclofen" in fit
    missed_and_sleepy = run(checklist, "pump", "yes", ["hard_to_wake"]).messages[0].text
    assert "withdrawal, or too much baclofen" in missed_and_sleepy


@pytest.mark.parametrize("sign", SEVERE)
def test_a_danger_sign_on_tablets_with_nothing_missed_still_means_the_clinic_today(
    checklist: Checklist, sign: str
) -> None:
    assert checklist.decide("tablets", "no", (sign,)).outcome in ("clinic_today", "emergency")


def test_confusion_is_one_level_everywhere(checklist: Checklist, content: Content) -> None:
    """New confusion calls the emergency number in the checklist, and in the withdrawal and
    taper answers every line about confusion says so too."""
    for route in ROUTES:
        assert checklist.decide(route, "no", ("confusion",)).outcome == "emergency"
    for answer_id in ("withdrawal", "stopping_and_tapering", "stopping_already_stopped"):
        checked = 0
        for voice in ("patient", "caregiver", "professional"):
            for line in content.answers[answer_id].voices.get(voice).splitlines():
                if "confus" in line.lower():
                    assert "emergency" in line.lower(), (answer_id, voice, line)
                    checked += 1
        assert checked, f"{answer_id}: no line about confusion left to check"


def test_ticking_a_danger_sign_says_call_now_before_done(checklist: Checklist) -> None:
    step = checklist.press(ChecklistState("signs", "tablets", "no"), "t:seizure", "patient", "911")
    assert step.messages[0].text.startswith("You ticked a sign of danger. Call 911 now.")
    step = checklist.press(ChecklistState("signs", "pump", "no"), "t:low_fever", "patient", "911")
    assert not step.messages[0].text.startswith("You ticked a sign of danger")
    step = checklist.press(step.state, "t:stiffness", "patient", "911")
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
def test_any_early_sign_with_a_pump_means_call_today_or_sooner(
    checklist: Checklist, sign: str
) -> None:
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


@pytest.mark.parametrize("sign", EARLY)
def test_tablets_taken_as_usual_an_early_sign_means_keep_watching(
    checklist: Checklist, sign: str
) -> None:
    """As in free text: an early sign in someone on tablets who missed nothing is not urgent."""
    step = run(checklist, "tablets", "no", [sign])
    assert step.result is not None and step.result.outcome == "watch"
    assert "Check again in 4 hours" in step.messages[0].text
    assert step.messages[0].kind == "info"


def test_nothing_ticked_and_nothing_missed_means_keep_watching(checklist: Checklist) -> None:
    step = run(checklist, "tablets", "no", [])
    assert step.result is not None and step.result.outcome == "watch"


def test_every_combination_gives_exactly_one_result(spec: ChecklistSpec, engine: Engine) -> None:
    ids = [s.id for s in spec.signs]
    for route, cause in itertools.product(ROUTES, CAUSES):
        for n in (0, 1, 2):
            for signs in itertools.combinations(ids, n):
                result = decide(spec, engine.triage, route, cause, signs)
                assert result.outcome in ("emergency", "clinic_today", "watch")
                if any(s in ALWAYS_EMERGENCY for s in signs):
                    assert result.outcome == "emergency"
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
        ("tablets", "no", ["hard_to_wake"]),
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
    path.write_text(path.read_text().replace("facts: [F067]", "facts: [F999]", 1))
    with pytest.raises(DataError, match="unknown fact ids: F999"):
        load_checklist(content.facts, tmp_path)


def test_every_checklist_prompt_is_plain_words(spec: ChecklistSpec) -> None:
    for name in type(spec.text).model_fields:
        for voice in ("patient", "caregiver"):
            text = getattr(spec.text, name).get(voice).replace("{", "").replace("}", "")
            assert textstat.flesch_kincaid_grade(text) <= 5.0, (name, voice, text)


def test_an_unknown_triage_concept_stops_start_up(
    content: Content, engine: Engine, tmp_path: Path
) -> None:
    source = data_dir("content") / "checklist.yaml"
    text = source.read_text(encoding="utf-8").replace("[hard_to_wake]", "[hard_to_waken]", 1)
    (tmp_path / "checklist.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match="unknown triage concepts"):
        Checklist(load_checklist(content.facts, tmp_path), engine.triage)
