"""The caregiver conversations as a person sees them: the checklist shared along links, the
emergency card (text and picture), /history with its CSV and one-page PDF."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

import pytest
from PIL import Image

from bot.care.checklist import Checklist, load_checklist
from bot.care.flows import CareFlows, CaregiverButtons, CareState, CareTurn, Who
from bot.care.service import CareService
from bot.core.engine import Engine
from bot.reply.content import Content
from bot.reply.messages import Message
from bot.storage.store import Store

from .conftest import escalation
from .test_linking import ANN, BOB, PAT, link


@pytest.fixture
def flows(care: CareService, content: Content) -> CareFlows:
    return CareFlows(care, Checklist(load_checklist(content.facts)), care.words)


def command(flows: CareFlows, person: Who, state: CareState, name: str) -> CareTurn:
    """A command of this part, to the step it is routed to."""
    return flows.commands()[name](person, state, "")


def press(flows: CareFlows, person: Who, state: CareState, data: str) -> CareTurn:
    """A button of this part, to the step its prefix is routed to."""
    prefix, _, value = data.partition(":")
    return flows.buttons()[prefix](person, state, value)


def who(key: str, name: str, voice: str = "patient", route: str | None = "pump") -> Who:
    return Who(key, name, voice, "911", True, route, "Europe/London")


def press_all(flows: CareFlows, person: Who, data: list[str]) -> tuple[CareTurn, CareState]:
    state = CareState()
    turn = command(flows, person, state, "checklist")
    state = turn.state
    for d in data:
        turn = press(flows, person, state, d)  # type: ignore[assignment]
        assert turn is not None
        state = turn.state
    return turn, state


def buttons(messages: list[Message]) -> dict[str, str]:
    return {b.label: b.data for m in messages for b in m.buttons}


def test_a_caregiver_runs_the_checklist_and_shares_it(flows: CareFlows) -> None:
    care = flows.service
    link(care, ANN, "Ann")
    link(care, BOB, "Bob")
    ann = who(ANN, "Ann", "caregiver")
    turn, state = press_all(
        flows, ann, ["cl:route:pump", "cl:cause:yes", "cl:t:itching", "cl:t:low_fever", "cl:done"]
    )
    assert turn.messages[0].kind == "urgent"
    assert turn.messages[0].text.startswith("Call their prescriber or pump clinic today.")
    assert state.checklist is None
    share = buttons(turn.messages)
    assert 'Send to "Pat"' in share and "No" in share
    shared = press(flows, ann, state, share['Send to "Pat"'])
    assert shared is not None
    assert shared.messages[0].text == 'Sent. I told "Pat", "Bob".'
    to = {n.to: n.messages[0].text for n in shared.notices}
    assert to[PAT].startswith('"Ann" used the withdrawal checklist for "Pat" at')
    assert "Call your prescriber or pump clinic today." in to[PAT]  # the patient's own voice
    assert "Call their prescriber or pump clinic today." in to[BOB]


def test_adding_seeing_things_makes_it_an_emergency(flows: CareFlows) -> None:
    ann = who(ANN, "Ann", "caregiver")
    turn, _ = press_all(
        flows,
        ann,
        [
            "cl:route:pump",
            "cl:cause:yes",
            "cl:t:itching",
            "cl:t:low_fever",
            "cl:t:hallucinations",
            "cl:done",
        ],
    )
    assert turn.messages[0].kind == "emergency"
    assert turn.messages[0].text.startswith("Call 911 now.")


def test_no_links_no_share_prompt_and_an_honest_recheck(flows: CareFlows) -> None:
    pat = who(PAT, "Pat", route="oral")
    turn, _ = press_all(flows, pat, ["cl:route:tablets", "cl:cause:no", "cl:done"])
    texts = [m.text for m in turn.messages]
    assert texts[0].startswith("Keep watching for now. Check again in 4 hours")
    assert texts[1].startswith("I cannot set reminders yet.")
    assert len(texts) == 2


def test_the_recheck_uses_a_scheduler_when_there_is_one(
    care: CareService, content: Content
) -> None:
    asked: list[tuple[str, float]] = []

    def schedule(key: str, delay: object) -> bool:
        asked.append((key, delay.total_seconds()))  # type: ignore[attr-defined]
        return True

    flows = CareFlows(
        care, Checklist(load_checklist(content.facts)), care.words, schedule_recheck=schedule
    )
    turn, _ = press_all(flows, who(PAT, "Pat"), ["cl:route:tablets", "cl:cause:no", "cl:done"])
    assert turn.messages[1].text == "I will remind you to check again in 4 hours."
    assert asked == [(PAT, 4 * 3600.0)]


def test_an_old_checklist_button_does_nothing_harmful(flows: CareFlows) -> None:
    turn = press(flows, who(PAT, "Pat"), CareState(), "cl:t:itching")
    assert turn is not None and turn.messages[0].text == "That alert is no longer open."


def test_the_emergency_card_text_and_picture(flows: CareFlows) -> None:
    care = flows.service
    link(care, ANN, "Ann")
    pat = who(PAT, "Pat")
    state = CareState()
    turn = press(flows, pat, state, "cd:f:dose")
    assert turn is not None and turn.state.step == "card:dose"
    turn = flows.text(pat, turn.state, "  400 mcg a day   (pump) ")
    assert turn is not None and turn.messages[0].text == "Saved on your card."
    flows.text(pat, replace(turn.state, step="card:clinic"), "020 7946 0000")
    card = command(flows, pat, CareState(), "card")
    text = card.messages[0].text
    assert text.startswith("EMERGENCY CARD - BACLOFEN")
    assert "Takes baclofen: pump (into the spine)" in text
    assert "Dose (as entered by the person): 400 mcg a day (pump)" in text
    assert "Pump clinic phone: 020 7946 0000" in text
    assert "Stopping baclofen suddenly is dangerous." in text
    assert 'Caregivers: "Ann"' in text
    picture = card.messages[1].file
    assert picture is not None and picture.mime == "image/png"
    assert Image.open(io.BytesIO(picture.data)).size[0] == 900
    # the caregiver sees Pat's card too, and only cards of people they care for
    seen = command(flows, who(ANN, "Ann", "caregiver", route=None), CareState(), "card")
    assert any(m.text.startswith('Emergency card for "Pat":') for m in seen.messages)
    bob = command(flows, who(BOB, "Bob", "caregiver", route=None), CareState(), "card")
    assert not any("Pat" in m.text for m in bob.messages)


def test_urgent_words_in_a_card_field_go_to_the_triage(
    care: CareService, content: Content, engine: Engine
) -> None:
    flows = CareFlows(
        care,
        Checklist(load_checklist(content.facts)),
        care.words,
        triage=engine.classify,
    )
    state = CareState(step="card:name")
    assert flows.text(who(PAT, "Pat"), state, "he is having a seizure") is None
    assert care.card_fields(PAT) == {}


def test_history_lists_alerts_acks_and_checklists_with_files(
    flows: CareFlows, store: Store
) -> None:
    care = flows.service
    link(care, ANN, "Ann")
    link(care, BOB, "Bob")
    first, *_ = escalation(store, PAT, care.clock.now())
    care.acknowledge(ANN, first, "on_it")
    press_all(flows, who(PAT, "Pat"), ["cl:route:pump", "cl:cause:no", "cl:t:seizure", "cl:done"])
    turn = command(flows, who(PAT, "Pat"), CareState(), "history")
    text = turn.messages[0].text
    assert text.startswith('History for "Pat" (newest first):')
    assert "Checklist: call the emergency number now (A fit or seizure)" in text
    assert 'Alert taken: I\'m on it ("Ann")' in text
    assert "Caregiver linked" in text
    files = buttons(turn.messages)
    csv_turn = press(flows, who(PAT, "Pat"), CareState(), files["CSV file"])
    assert csv_turn is not None and csv_turn.messages[0].file is not None
    rows = list(csv.reader(io.StringIO(csv_turn.messages[0].file.data.decode("utf-8-sig"))))
    assert rows[0] == ["Time", "What happened", "By"]
    assert ["Alert taken: I'm on it", '"Ann"'] in [r[1:] for r in rows]
    pdf_turn = press(flows, who(PAT, "Pat"), CareState(), files["PDF file"])
    assert pdf_turn is not None and pdf_turn.messages[0].file is not None
    pdf = pdf_turn.messages[0].file.data
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") <= 1


def test_history_a_caregiver_sees_only_the_people_they_care_for(flows: CareFlows) -> None:
    care = flows.service
    link(care, ANN, "Ann")
    ann = who(ANN, "Ann", "caregiver")
    menu = command(flows, ann, CareState(), "history")
    assert sorted(buttons(menu.messages)) == ['"Ann"', '"Pat"']
    # Bob is not linked: a forged button for Pat's link shows nothing
    forged = press(flows, who(BOB, "Bob"), CareState(), buttons(menu.messages)['"Pat"'])
    assert forged is not None and forged.messages[0].text == "That alert is no longer open."
    assert care.history(BOB, PAT) is None


def test_caregiver_alerts_get_the_closing_buttons(care: CareService) -> None:
    class Inner:
        def render(self, item: object) -> list[Message]:
            return [Message("Pat missed a refill.", kind="urgent")]

    class Item:
        kind = "refill_caregiver"
        occurrence_id = 5
        to_caregiver = True

    wrapped = CaregiverButtons(Inner(), care).render(Item())
    assert [b.label for b in wrapped[0].buttons] == ["I'm on it", "Called the clinic"]
    Item.to_caregiver = False
    assert CaregiverButtons(Inner(), care).render(Item())[0].buttons == ()


def test_care_words_are_plain(care: CareService) -> None:
    import textstat

    for key, text in care.words.file.strings.items():
        if len(text.split()) >= 12:  # shorter lines give meaningless grades
            plain = text.replace("{", "").replace("}", "")
            assert textstat.flesch_kincaid_grade(plain) <= 5.0, key


def test_a_caregiver_sees_the_refill_dates_the_patient_set(flows: CareFlows, store: Store) -> None:
    import datetime as dt

    from bot.reminders.plans import RefillPlan
    from bot.storage.models import Plan

    care = flows.service
    link(care, ANN, "Ann")
    now = care.clock.now()
    plan = RefillPlan(dt.date(2026, 3, 10), dt.date(2026, 3, 14), dt.time(9, 0))
    with store.tx() as db:
        person = store.person(db, PAT, now)
        assert person is not None
        db.add(
            Plan(
                person_id=person.id,
                kind="refill",
                status="active",
                data=plan.to_data(),
                created_at=now,
                updated_at=now,
            )
        )
    ann = who(ANN, "Ann", "caregiver")
    menu = command(flows, ann, CareState(), "history")
    shown = press(flows, ann, CareState(), buttons(menu.messages)['"Pat"'])
    assert shown is not None
    assert shown.messages[0].text.startswith(
        '"Pat": next pump refill 2026-03-10. Pump alarm date 2026-03-14.'
    )
    own = command(flows, who(PAT, "Pat"), CareState(), "history")
    assert "next pump refill" not in own.messages[0].text  # the patient has /reminders for that
    assert care.plans(BOB, PAT) is None
