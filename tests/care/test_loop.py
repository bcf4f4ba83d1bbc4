"""Alerts that close the loop: the first caregiver to take an alert wins, the caregiver step
closes (never the person's own reminders), everyone is told who took it. Two caregivers
racing: exactly one wins, on the database."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select

from bot.care.rules import ACK_ACTIONS
from bot.care.service import CareService
from bot.clock import FakeClock
from bot.reminders.ladder import CLOSING_ANSWERS
from bot.reminders.service import Reminders
from bot.reply.messages import Message
from bot.storage.models import Acknowledgement, AuditEvent, CareClaim, Occurrence, Plan
from bot.storage.store import Store
from tests.databases import RecordingNotifier

from .conftest import escalation, texts
from .test_linking import ANN, BOB, EVE, PAT, link


def statuses(store: Store) -> list[str]:
    with store.tx() as db:
        return list(db.scalars(select(Occurrence.status).order_by(Occurrence.id)))


def test_caregiver_alert_buttons(care: CareService) -> None:
    labels = [(b.label, b.data) for b in care.alert_buttons(7)]
    assert labels == [("I'm on it", "ca:on_it:7"), ("Called the clinic", "ca:called:7")]


def test_the_first_acknowledgement_closes_the_caregiver_step_and_tells_everyone(
    care: CareService, store: Store
) -> None:
    link(care, ANN, "Ann")
    link(care, BOB, "Bob")
    first, *_ = escalation(store, PAT, care.clock.now())
    outcome = care.acknowledge(ANN, first, "on_it")
    assert outcome.result == "won"
    assert texts(outcome.notices, ANN)[0].startswith(
        'Thank you. I told "Pat" and the other caregivers'
    )
    assert texts(outcome.notices, PAT) == [
        '"Ann" is on it. They got the alert about the missed refill or dose.'
        " Please still tell me when it is done."
    ]
    assert texts(outcome.notices, BOB) == [
        '"Ann" is on it for "Pat". You do not need to do anything for this alert.'
    ]
    # The person's own steps stay; Ann is asked later whether it is sorted (the check-back).
    assert statuses(store) == ["sent", "pending", "pending", "pending"]
    late = care.acknowledge(BOB, first, "called")
    assert late.result == "lost"
    assert texts(late.notices, BOB) == ['"Ann" already took this at 12:00. Thank you.']
    assert texts(late.notices, PAT) == []
    with store.tx() as db:
        kinds = [(a.kind, a.actor) for a in db.scalars(select(AuditEvent))][-2:]
        acks = [(a.action, a.by) for a in db.scalars(select(Acknowledgement))]
    assert kinds == [("caregiver_ack_on_it", ANN), ("caregiver_ack_late", BOB)]
    assert acks == [("on_it", ANN)]


def test_called_the_clinic(care: CareService, store: Store) -> None:
    link(care, ANN, "Ann")
    first, *_ = escalation(store, PAT, care.clock.now())
    outcome = care.acknowledge(ANN, first, "called")
    assert texts(outcome.notices, PAT) == [
        '"Ann" called the clinic for you. Please still tell me when it is done.'
    ]


def test_only_a_linked_caregiver_can_take_an_alert(care: CareService, store: Store) -> None:
    link(care, ANN, "Ann")
    first, *_ = escalation(store, PAT, care.clock.now())
    outcome = care.acknowledge(EVE, first, "on_it")
    assert outcome.result == "gone"
    assert texts(outcome.notices, PAT) == []
    assert statuses(store) == ["sent", "pending", "pending"]


def test_an_alert_the_patient_already_closed(care: CareService, store: Store) -> None:
    link(care, ANN, "Ann")
    first, *_ = escalation(store, PAT, care.clock.now())
    _answer(store, first, "done", PAT)
    outcome = care.acknowledge(ANN, first, "on_it")
    assert outcome.result == "closed"
    assert texts(outcome.notices, ANN) == ["This is already sorted. Thank you."]


def press(
    care: CareService,
    barrier: threading.Barrier,
    results: dict[str, str],
    who: str,
    action: str,
    occ: int,
) -> None:
    barrier.wait()
    results[who] = care.acknowledge(who, occ, action).result


def test_two_caregivers_racing_exactly_one_wins(care: CareService, store: Store) -> None:
    link(care, ANN, "Ann")
    link(care, BOB, "Bob")
    for round_ in range(5):
        first, *_ = escalation(store, PAT, care.clock.now(), group=f"race-{round_}")
        barrier = threading.Barrier(2)
        results: dict[str, str] = {}

        threads = [
            threading.Thread(target=press, args=(care, barrier, results, ANN, "on_it", first)),
            threading.Thread(target=press, args=(care, barrier, results, BOB, "called", first)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results.values()) == ["lost", "won"], results
    with store.tx() as db:
        claims = db.scalars(select(CareClaim)).all()
        acks = db.scalars(select(Acknowledgement)).all()
    assert len(claims) == 5 and len(acks) == 5


class _Unworded:
    """A renderer for reminders that are never sent in these tests."""

    def render(self, item: object) -> list[Message]:
        return []


def _reminders(store: Store, clock: FakeClock) -> Reminders:
    return Reminders(store, clock, RecordingNotifier(clock), _Unworded())


def _answer(store: Store, occurrence: int, action: str, by: str) -> None:
    """`by` answers an occurrence (as the reminder service records it)."""
    with store.tx() as db:
        occ = db.get(Occurrence, occurrence)
        plan = db.get(Plan, occ.plan_id) if occ else None
        assert occ is not None and plan is not None
        at = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
        store.acknowledged(db, at, by, occ, plan, action, f"ack_{action}")


@pytest.mark.parametrize("answer", CLOSING_ANSWERS)
def test_each_closing_answer_closes_the_event_for_the_person_and_the_caregivers(
    care: CareService, store: Store, clock: FakeClock, answer: str
) -> None:
    """One definition (bot.reminders.ladder.CLOSING_ANSWERS) for both sides: the person's later
    answer is 'already answered', and a caregiver's older alert button finds it sorted."""
    link(care, ANN, "Ann")
    first, *_ = escalation(store, PAT, care.clock.now())
    _answer(store, first, answer, PAT)
    reminders = _reminders(store, clock)
    assert reminders.acknowledge(PAT, first, "taken").outcome == "already"
    assert care.acknowledge(ANN, first, "on_it").result == "closed"


def test_a_caregiver_taking_an_alert_does_not_close_it_for_the_person(
    care: CareService, store: Store, clock: FakeClock
) -> None:
    link(care, ANN, "Ann")
    first, *_ = escalation(store, PAT, care.clock.now())
    assert care.acknowledge(ANN, first, "on_it").result == "won"
    reminders = _reminders(store, clock)
    assert reminders.acknowledge(PAT, first, "done").outcome == "refill_done"
    assert not set(ACK_ACTIONS) & set(CLOSING_ANSWERS)
