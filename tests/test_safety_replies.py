"""Safety replies that fit the danger: one per sign family, level, voice and region, the right
number first, short, kind, the answer below that fits the family, and the profile's words.

The conversations themselves (one per family and region at least) are data in
tests/stories/safety_replies.yaml; these tests check every combination the data allows."""

from __future__ import annotations

import itertools
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from bot.conversation.dialogue import Dialogue
from bot.conversation.sessions import Session
from bot.core.engine import Decision, Engine, Profile, Safety
from bot.core.triage import FAMILIES
from bot.loading import DataError
from bot.paths import data_dir
from bot.reply.composer import Audience, Composer
from bot.reply.content import VOICES, Content, load_content
from bot.reply.lines import AGES, REGIONS, ROUTES, Reader, lines_for, split_tags, tag_problems
from bot.tools.content_check import clinical_checks

NUMBER_FIRST = re.compile(r"\{(emergency_number|poison_centre)\}|NHS 111|poison centre")
READERS = [
    Reader(frozenset(r), frozenset(a), region)
    for r in ({"oral"}, {"pump"}, set(ROUTES))
    for a in ({"child"}, {"adult"}, set(AGES))
    for region in REGIONS
]


@pytest.fixture(scope="module")
def content(dialogue: Dialogue) -> Content:
    return dialogue.content


@pytest.fixture(scope="module")
def composer(dialogue: Dialogue) -> Composer:
    return dialogue.composer


def replies(content: Content):  # type: ignore[no-untyped-def]
    """(family, level, reply) for every safety reply, the poison-centre-first one included."""
    for family_id, family in content.safety.families.items():
        for level in ("emergency", "urgent"):
            reply = getattr(family, level)
            if reply is not None:
                yield family_id, level, reply
        if family.variant is not None:
            yield family_id, "emergency", family.variant.emergency


def decision(engine: Engine, text: str, profile: Profile | None = None) -> Decision:
    return engine.classify(text, profile)


# -- the content ---------------------------------------------------------------------------


def test_there_is_a_reply_for_every_family_and_region(content: Content) -> None:
    assert set(content.safety.families) == set(FAMILIES)
    assert list(content.safety.regions) == ["US", "CA", "UK", "IE", "EU", "AU"]


def test_every_reply_is_short_for_every_reader(content: Content) -> None:
    limit = content.safety.max_lines
    for (family, level, reply), voice, reader in itertools.product(
        replies(content), VOICES, READERS
    ):
        lines = lines_for(reply.voices.get(voice), reader)
        assert 1 <= len(lines) <= limit, (family, level, voice, reader, lines)


def test_an_emergency_reply_names_the_number_in_its_first_line(content: Content) -> None:
    for (family, level, reply), voice, reader in itertools.product(
        replies(content), VOICES, READERS
    ):
        first = lines_for(reply.voices.get(voice), reader)[0]
        if level == "emergency":
            assert NUMBER_FIRST.search(first) or "{emergency_number}" in first, (family, first)
        else:
            assert re.search(r"\b(call|contact|review|same-day|one extra)\b", first, re.I), first


def test_no_reply_says_what_its_family_forbids(content: Content) -> None:
    for family, _level, reply in replies(content):
        forbidden = content.safety.families[family].forbidden
        for voice in VOICES:
            text = reply.voices.get(voice).lower()
            assert not [p for p in forbidden if p.lower() in text], (family, voice)
    assert "do not stop" in content.safety.families["poisoning"].forbidden
    assert "do not stop" in content.safety.families["too_much"].forbidden
    assert "withdrawal" in content.safety.families["self_harm"].forbidden


def test_a_bracket_or_an_unknown_tag_stops_loading(tmp_path: Path) -> None:
    """A source code such as "[MDT-CARD]" can never reach a reader."""
    assert tag_problems("Show the card [MDT-CARD].")
    assert tag_problems("[kids] Give it at night.")
    assert split_tags("[UK child] Give it.") == (frozenset({"UK", "child"}), "Give it.")
    folder = tmp_path / "content"
    shutil.copytree(data_dir("content"), folder)
    path = folder / "answers" / "care.yaml"
    path.write_text(
        path.read_text().replace("call your prescriber.", "call your prescriber [NHS-Q].", 1)
    )
    with pytest.raises(DataError, match="square brackets"):
        load_content(folder)


def test_every_phone_number_is_marked_for_a_clinical_check(content: Content) -> None:
    checks = clinical_checks(content)
    for code, region in content.safety.regions.items():
        assert any(line.startswith(f"region {code}:") for line in checks)
        said = " ".join(content.facts[f].text for f in region.facts)
        assert region.emergency, code
        for number in (region.emergency, region.crisis, region.poison):
            if number is None:
                continue  # a region without that service says so in its own lines
            for part in number.split(" or "):
                assert part.strip() and part in said, (code, part)
    assert any("F203" in line for line in checks), "the fever thresholds need a sign-off too"


# -- the reply a person gets ----------------------------------------------------------------


def test_self_harm_is_kind_gives_the_crisis_line_and_no_answer_below(
    engine: Engine, composer: Composer
) -> None:
    found = decision(engine, "I want to end it all, I've been saving up my tablets")
    for region, line in (("US", "988"), ("UK", "116 123"), ("AU", "13 11 14"), ("CA", "9-8-8")):
        messages = composer.compose(found, Audience("patient", region=region))
        assert len(messages) == 1, "no answer, no lecture below a self-harm reply"
        text = messages[0].text
        assert text.startswith("I am glad you told me.") and line in text
        assert "Are you safe right now?" in text and "withdrawal" not in text.lower()
        assert "hand you each dose" in text and "Keep taking your baclofen" in text


@pytest.mark.parametrize(
    "text",
    [
        "how many of my 10mg tablets would I need to take so I don't wake up",
        "what's the lethal dose of baclofen for someone my size, asking for me",
    ],
)
def test_a_lethal_amount_asked_for_oneself_gets_the_crisis_reply_and_no_dose_facts(
    engine: Engine, composer: Composer, text: str
) -> None:
    found = decision(engine, text)
    assert (found.sign, found.action.value) == ("self_harm", "answer")
    messages = composer.compose(found, Audience("patient", region="US"))
    said = "\n".join(m.text for m in messages)
    assert messages[0].text.startswith("I am glad you told me.") and "988" in said
    assert "cannot tell you what dose" not in said, "a crisis is not a dosing refusal"
    assert "general information" not in said.lower() and "sleepy" not in said.lower()


def test_self_harm_leading_never_adds_withdrawal_words(engine: Engine, composer: Composer) -> None:
    found = decision(engine, "I want to end it all, I've been saving up my tablets")
    both = replace(found, families=("self_harm", "withdrawal", "pump_device"))
    text = composer.compose(both, Audience("patient"))[0].text
    assert "withdrawal" not in text.lower()
    assert "pump clinic" in text, "another family's line is still added when it is allowed"


def test_a_dosing_question_in_danger_never_says_do_not_stop(
    engine: Engine, composer: Composer
) -> None:
    found = replace(
        decision(engine, "took my baclofen twice by accident this morning"),
        action=decision(engine, "how many mg should I take tonight").action,
    )
    text = "\n".join(m.text for m in composer.compose(found, Audience("patient")))
    assert "do not stop" not in text.lower()


def test_a_child_who_swallowed_tablets_never_gets_the_patients_script(
    engine: Engine, composer: Composer
) -> None:
    found = decision(engine, "my toddler swallowed one of grandad's baclofen tablets")
    for voice in ("patient", "caregiver"):
        text = composer.compose(found, Audience(voice, region="US"))[0].text
        assert text.startswith("Call the poison centre now on 1-800-222-1222")
        assert "age and weight" in text and "packet" in text
        assert "Do not drive yourself" not in text and "you took" not in text
    uk = composer.compose(found, Audience("caregiver", region="UK"))[0].text
    assert uk.startswith("Call 999 or go to A&E now")


def test_not_breathing_gets_the_cpr_line(engine: Engine, composer: Composer) -> None:
    found = decision(engine, "he is having a seizure")
    text = composer.compose(found, Audience("caregiver"))[0].text
    assert "start CPR" in text and "on their side" in text


def test_dysreflexia_has_first_steps_and_its_own_answer(engine: Engine, composer: Composer) -> None:
    found = decision(
        engine,
        "I have a T4 spinal cord injury, a pounding headache, my face is red and sweaty and "
        "my BP is 190/110",
    )
    assert found.sign == "dysreflexia" and found.intent == "autonomic_dysreflexia"
    messages = composer.compose(found, Audience("patient", route="pump"))
    assert messages[0].text.startswith("Sit up now, with your legs down.")
    assert (
        "bladder" in messages[0].text and "Pump withdrawal can look like this" in messages[0].text
    )
    assert messages[1].kind == "answer" and "Autonomic dysreflexia, or AD" in messages[1].text
    for question in ("tell me about autonomic dysreflexia", "what are the signs of dysreflexia"):
        general = decision(engine, question)
        assert (general.safety, general.intent) == (Safety.ROUTINE, "autonomic_dysreflexia")
        answer = composer.compose(general, Audience("patient"))[-1]
        assert answer.kind == "answer" and "T6 or higher" in answer.text


def test_the_answer_below_follows_the_family(engine: Engine, composer: Composer) -> None:
    strip = decision(engine, "I took the whole strip of baclofen by mistake")
    assert composer.compose(strip, Audience("patient"))[1].text.startswith("Too much baclofen")
    alarm = decision(engine, "my baclofen pump alarm is beeping")
    prompt = composer.compose(alarm, Audience("patient", route="pump"))[1]
    assert prompt.kind == "prompt" and "alarm" in prompt.text


def test_the_answer_below_never_repeats_the_safety_reply(
    engine: Engine, composer: Composer, dialogue: Dialogue
) -> None:
    """ "Show the ITB emergency card" once, not three times; the number once."""
    fit = decision(engine, "she is having a fit", Profile(route="pump", role="caregiver"))
    text = "\n".join(m.text for m in composer.compose(fit, Audience("caregiver", route="pump")))
    assert len(re.findall(r"\bcard\b", text)) == 1, text
    emergency = dialogue.on_emergency(
        type("Visit", (), {"session": Session(role="patient", route="pump")})(),  # type: ignore[arg-type]
        "",
    )
    said = "\n".join(m.text for m in emergency.messages)
    assert len(re.findall(r"\bcard\b", said)) == 1, said
    assert not re.search(r"\[[A-Z]", said), "no source codes in a reply"


def test_carer_strain_gets_the_kind_reply_with_the_crisis_line(
    engine: Engine, composer: Composer
) -> None:
    found = decision(engine, "I can't keep going like this", Profile(role="caregiver"))
    assert found.safety is Safety.ROUTINE  # triage sees no danger sign in these words
    for region, line in (("US", "988"), ("UK", "116 123"), ("AU", "13 11 14")):
        messages = composer.compose(found, Audience("caregiver", region=region))
        text = "\n".join(m.text for m in messages)
        assert "harming yourself" in text and line in text
        assert "I can only help with baclofen" not in text and "did not understand" not in text
    cant = decision(engine, "honestly I cannot cope any more with all of this")
    first = composer.compose(cant, Audience("patient"))[0].text
    assert "988" in first, "the kind reply or the self-harm reply: the crisis line either way"


# -- the profile shapes the words ------------------------------------------------------------


def test_a_us_carer_of_an_adult_never_reads_uk_childrens_advice(composer: Composer) -> None:
    adult_us = composer.answer_text("missed_dose", Audience("caregiver", age="adult", region="US"))
    assert "child" not in adult_us.lower()
    child_uk = composer.answer_text("missed_dose", Audience("caregiver", age="child", region="UK"))
    assert "wait at least 4 hours" in child_uk
    child_us = composer.answer_text("missed_dose", Audience("caregiver", age="child", region="US"))
    assert "wait at least 4 hours" not in child_us


def test_an_adult_pump_user_never_reads_about_childrens_stiffness(composer: Composer) -> None:
    pump = composer.answer_text("time_to_work", Audience("patient", route="pump"))
    assert "children" not in pump.lower() and "pump" in pump.lower()
    tablets = composer.answer_text("time_to_work", Audience("patient", route="oral"))
    assert "pump" not in tablets.lower()
    carer = composer.answer_text("time_to_work", Audience("caregiver", age="child"))
    assert "Children may feel less stiff" in carer


def test_the_region_picks_the_numbers_and_the_storage_line(composer: Composer) -> None:
    uk = composer.answer_text("storage_travel", Audience("patient", route="oral", region="UK"))
    assert "below 25 °C" in uk and "OZOBAX" not in uk
    us = composer.answer_text("storage_travel", Audience("patient", route="oral", region="US"))
    assert "OZOBAX" in us and "In the UK" not in us
    ie = composer.answer_text("overdose", Audience("patient", region="IE"))
    assert "(01) 809 2166" in ie


def test_a_caregiver_is_asked_once_whether_they_care_for_a_child(dialogue: Dialogue) -> None:
    turn = dialogue.on_role(
        type("Visit", (), {"session": Session(step="role", onboarding=True, consent=True)})(),  # type: ignore[arg-type]
        "caregiver",
    )
    assert turn.session.step == "age"
    assert [b.label for b in turn.messages[0].buttons] == ["A child", "An adult"]
    turn = dialogue.on_age(type("Visit", (), {"session": turn.session})(), "child")  # type: ignore[arg-type]
    assert turn.session.age == "child" and turn.session.step == "route"
    patient = dialogue.on_role(
        type("Visit", (), {"session": Session(step="role", onboarding=True, consent=True)})(),  # type: ignore[arg-type]
        "patient",
    )
    assert patient.session.step == "route", "a patient is not asked"


def test_ireland_is_a_region(dialogue: Dialogue) -> None:
    from bot.settings import load_settings

    assert load_settings(_env_file=None, emergency_region="IE").emergency_region == "IE"
    assert dialogue.number_in("IE") == "112 or 999"
    asked = dialogue._ask("region")
    assert "Ireland (112 or 999)" in [b.label for b in asked.buttons]
