"""The content library's rules: voices, sources, facts, numbers, reading level, no doses."""

from __future__ import annotations

import re
import statistics

import pytest

from bot.conversation.dialogue import Dialogue
from bot.core.intents import KNOWLEDGE_IDS
from bot.reply.content import (
    REQUIRED_ANSWERS,
    VOICES,
    Content,
    load_content,
    unsupported_numbers,
)
from bot.tools.content_check import build_rows, summary_problems

DOSE_INSTRUCTION = re.compile(
    r"\b(take|give|use|try|increase|decrease|raise|lower|double|halve)\b[^.\n]{0,30}"
    r"\b\d+(\.\d+)?\s?(mg|mcg|ml|milligrams?|tablets?)\b",
    re.IGNORECASE,
)
DOSE_AMOUNT = re.compile(r"\b\d+(\.\d+)?\s?(mg|mcg|ml)\b", re.IGNORECASE)
# The one amount a plain voice may name: the label's maximum for any adult, said as general
# information and "not a dose for you" (contract: the label's maximum is general information).
LABEL_MAXIMUM = re.compile(r"label's most for any adult", re.IGNORECASE)


@pytest.fixture(scope="module")
def content(dialogue: Dialogue) -> Content:
    return dialogue.content


def test_every_knowledge_intent_has_all_three_voices(content: Content) -> None:
    for intent in KNOWLEDGE_IDS:
        answer = content.answers[intent]
        for voice in VOICES:
            assert answer.voices.get(voice).strip(), f"{intent} has no {voice} text"


def test_no_patient_or_caregiver_text_gives_a_dose(content: Content) -> None:
    for answer in content.answers.values():
        for voice in ("patient", "caregiver"):
            text = answer.voices.get(voice)
            assert not DOSE_INSTRUCTION.search(text), f"{answer.id}/{voice}: {text}"
            for line in text.splitlines():
                if DOSE_AMOUNT.search(line):
                    assert LABEL_MAXIMUM.search(line), (
                        f"{answer.id}/{voice} names an amount: {line}"
                    )


def test_every_number_in_an_answer_is_in_one_of_its_facts(content: Content) -> None:
    for answer in content.answers.values():
        facts = [content.facts[f] for f in answer.facts]
        for voice in VOICES:
            missing = unsupported_numbers(answer.voices.get(voice), facts)
            assert not missing, f"{answer.id}/{voice}: {missing} not in facts {answer.facts}"


def test_the_number_rule_catches_an_invented_number(content: Content) -> None:
    facts = [content.facts["F095"]]  # missed dose: "within 2 hours"
    assert unsupported_numbers("Skip it if the next dose is due within 2 hours.", facts) == []
    assert unsupported_numbers("Skip it if the next dose is due within 3 hours.", facts) == ["3"]


def test_every_answer_cites_sources_of_its_own_facts(content: Content) -> None:
    for answer in content.answers.values():
        fact_sources = {s for f in answer.facts for s in content.facts[f].sources}
        assert set(answer.sources) <= fact_sources, answer.id


def test_reading_level_and_length_of_plain_answers(content: Content) -> None:
    rows = build_rows(content)
    plain = [r for r in rows if not r.safety and r.voice in ("patient", "caregiver")]
    for row in plain:
        assert row.grade <= 6.0, f"{row.intent}/{row.voice}: grade {row.grade}"
        assert 40 <= row.words <= 130, f"{row.intent}/{row.voice}: {row.words} words"
    assert statistics.median(r.grade for r in plain) <= 4.5
    assert statistics.median(r.dale_chall for r in plain) <= 7.0
    assert summary_problems(content, rows) == []
    assert [r for r in rows if r.problems] == []


def test_nothing_is_approved_without_a_named_reviewer(content: Content) -> None:
    for answer in content.answers.values():
        if answer.review.status == "approved":
            assert answer.review.reviewer


def test_required_answers_load(content: Content) -> None:
    assert content.answers.keys() >= REQUIRED_ANSWERS
    assert load_content(required_answers=REQUIRED_ANSWERS).answers.keys() == content.answers.keys()


def test_approved_only_shows_an_honest_fallback_and_still_leads_with_safety(
    dialogue: Dialogue,
) -> None:
    from bot.conversation.dialogue import Dialogue as DialogueClass
    from bot.conversation.sessions import Session

    strict = DialogueClass(dialogue.engine, dialogue.content, approved_only=True)
    answer = strict.text(Session(), "what if I miss a dose")
    assert "not approved it yet" in answer.messages[-1].text
    assert "Reviewed by" not in answer.messages[-1].text
    emergency = strict.text(Session(), "he is having a seizure")
    assert emergency.messages[0].kind == "emergency"
    assert "Call 911 now" in emergency.messages[0].text


def test_the_clinical_corrections_of_the_review_hold(content: Content) -> None:
    """Every item of the review's clinical corrections is a content-check rule, and holds."""
    from bot.tools.content_check import CORRECTIONS, correction_problems

    topics = {rule.item.split(":")[0] for rule in CORRECTIONS}
    assert topics >= {
        "caregiver guide", "confusion", "older adults", "kidney", "breastfeeding", "side effects",
        "alcohol", "taper", "overdose", "MRI", "pump problems", "forms", "how to take",
    }  # fmt: skip
    assert correction_problems(content) == []


def test_a_correction_undone_is_caught(content: Content) -> None:
    from dataclasses import replace

    from bot.tools.content_check import correction_problems

    alcohol = content.answers["interactions_alcohol"]
    voices = alcohol.voices.model_copy(
        update={"patient": "Avoid alcohol until you know how baclofen affects you."}
    )
    undone = replace(
        content,
        answers={**content.answers, alcohol.id: alcohol.model_copy(update={"voices": voices})},
    )
    assert any("drinking is fine later" in p for p in correction_problems(undone))
