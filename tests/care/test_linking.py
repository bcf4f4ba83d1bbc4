"""Linking with consent, and the ways people might abuse it."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from bot.care import rules
from bot.care.service import CareService
from bot.clock import FakeClock
from bot.storage.models import AuditEvent, Invite
from bot.storage.store import Store

from .conftest import PEPPER, texts

PAT, ANN, BOB, EVE = "tg:1", "tg:2", "tg:3", "tg:666"


def code_from(care: CareService, key: str = PAT) -> str:
    text = care.invite(key, "Pat").messages[0].text
    match = re.search(r"/join (\S+)", text)
    assert match
    return match.group(1)


def confirm_button(notices: list, to: str) -> str:
    for notice in notices:
        if notice.to == to:
            for message in notice.messages:
                for button in message.buttons:
                    if button.data.startswith("ca:ok:"):
                        return button.data
    raise AssertionError("no confirm button")


def link(care: CareService, caregiver: str, name: str) -> list:
    notices = care.join(caregiver, code_from(care), name)
    data = confirm_button(notices, PAT)
    return care.confirm(PAT, int(data.split(":")[2]), yes=True)


def test_codes_are_long_readable_and_forgiving_to_type() -> None:
    code = rules.new_code()
    assert len(code) == 10 and set(code) <= set(rules.ALPHABET)
    shown = rules.show_code(code)
    assert rules.normalise_code(shown.lower().replace("-", " ")) == code
    assert rules.normalise_code("hello") is None
    assert len(rules.ALPHABET) ** rules.CODE_LENGTH >= 2**50


def test_the_whole_link_with_consent(care: CareService, store: Store) -> None:
    code = code_from(care)
    notices = care.join(ANN, code, "Ann")
    assert texts(notices, ANN) == [
        'Thank you. I have asked "Pat" to say yes. I will tell you when they do.'
    ]
    ask = texts(notices, PAT)[0]
    assert ask.startswith('Someone who gave the name "Ann" wants to be your caregiver')
    done = care.confirm(PAT, int(confirm_button(notices, PAT).split(":")[2]), yes=True)
    assert texts(done, PAT)[0].startswith('Done. "Ann" is now your caregiver.')
    assert texts(done, ANN)[0].startswith('"Pat" said yes. You are now linked.')
    assert [p.name for p in care.links(PAT)] == ['"Ann"']
    assert [p.name for p in care.patients(ANN)] == ['"Pat"']


def test_the_code_is_stored_only_as_a_hash(care: CareService, store: Store) -> None:
    code = code_from(care).replace("-", "")
    with store.tx() as db:
        stored = db.scalars(select(Invite.code_hash)).all()
        audit = [str(a.detail) for a in db.scalars(select(AuditEvent))]
    assert stored == [rules.hash_code(code, PEPPER)]
    assert all(code not in row for row in [*stored, *audit])


def test_the_patient_can_say_no(care: CareService) -> None:
    notices = care.join(ANN, code_from(care), "Ann")
    invite_id = int(confirm_button(notices, PAT).split(":")[2])
    done = care.confirm(PAT, invite_id, yes=False)
    assert texts(done, ANN) == ['"Pat" did not link with you.']
    assert care.links(PAT) == []


def test_an_expired_code_does_not_link(care: CareService, clock: FakeClock) -> None:
    code = code_from(care)
    clock.advance(dt.timedelta(hours=24, seconds=1))
    notices = care.join(ANN, code, "Ann")
    assert texts(notices, ANN) == [
        "That code is not right, or it has ended. Please check it, or ask for a new one."
    ]
    assert texts(notices, PAT) == []  # the patient is not bothered


def test_a_code_works_once(care: CareService) -> None:
    code = code_from(care)
    care.join(ANN, code, "Ann")
    notices = care.join(BOB, code, "Bob")
    assert texts(notices, BOB)[0].startswith("That code is not right")
    assert texts(notices, PAT) == []


def test_guessing_codes_hits_the_limit(care: CareService, clock: FakeClock) -> None:
    real = code_from(care)
    for _ in range(rules.MAX_FAILED_JOINS):
        notices = care.join(EVE, rules.show_code(rules.new_code()), "Eve")
        assert texts(notices, EVE)[0].startswith("That code is not right")
    notices = care.join(EVE, real, "Eve")  # even the right code is refused now
    assert texts(notices, EVE) == ["Too many wrong codes. Please wait an hour and try again."]
    assert texts(notices, PAT) == []
    clock.advance(dt.timedelta(hours=1, seconds=1))
    assert texts(care.join(EVE, real, "Eve"), PAT)  # after an hour, a right code works again


def test_a_third_person_cannot_confirm(care: CareService) -> None:
    notices = care.join(ANN, code_from(care), "Ann")
    invite_id = int(confirm_button(notices, PAT).split(":")[2])
    refused = care.confirm(EVE, invite_id, yes=True)
    assert texts(refused, EVE) == ["That choice is not for you."]
    assert texts(refused, ANN) == [] and texts(refused, PAT) == []
    assert care.links(PAT) == []
    # nor can the caregiver confirm themselves
    assert texts(care.confirm(ANN, invite_id, yes=True), ANN) == ["That choice is not for you."]
    assert care.links(PAT) == []


def test_a_confirm_button_works_once(care: CareService) -> None:
    notices = care.join(ANN, code_from(care), "Ann")
    invite_id = int(confirm_button(notices, PAT).split(":")[2])
    care.confirm(PAT, invite_id, yes=True)
    again = care.confirm(PAT, invite_id, yes=True)
    assert texts(again, ANN) == []


def test_own_code_and_already_linked(care: CareService) -> None:
    assert texts(care.join(PAT, code_from(care), "Pat"), PAT)[0].startswith("That is your own code")
    link(care, ANN, "Ann")
    assert texts(care.join(ANN, code_from(care), "Ann"), ANN) == [
        'You are already linked with "Pat".'
    ]


def test_making_many_codes_is_limited(care: CareService) -> None:
    for _ in range(rules.MAX_INVITES):
        assert "/join" in care.invite(PAT).messages[0].text
    assert care.invite(PAT).messages[0].text.startswith("You made many codes")


def test_many_to_many_and_either_side_can_unlink(care: CareService) -> None:
    link(care, ANN, "Ann")
    link(care, BOB, "Bob")
    # Ann also cares for someone else
    other = care.invite("tg:9", "Oli").messages[0].text
    code = re.search(r"/join (\S+)", other).group(1)  # type: ignore[union-attr]
    notices = care.join(ANN, code, "Ann")
    care.confirm("tg:9", int(confirm_button(notices, "tg:9").split(":")[2]), yes=True)
    assert sorted(p.name for p in care.patients(ANN)) == ['"Oli"', '"Pat"']
    assert [p.name for p in care.links(PAT)] == ['"Ann"', '"Bob"']

    link_id = next(p.link_id for p in care.links(ANN) if p.name == '"Pat"')
    assert texts(care.unlink(EVE, link_id), EVE) == ["That alert is no longer open."]
    done = care.unlink(ANN, link_id)  # the caregiver ends it; both are told
    assert texts(done, ANN) == ['Done. You are no longer linked with "Pat".']
    assert texts(done, PAT)[0].startswith('"Ann" ended the link with you.')
    assert [p.name for p in care.patients(ANN)] == ['"Oli"']
    bob = care.links(PAT)[0]
    done = care.unlink(PAT, bob.link_id)  # the patient ends it; both are told
    assert texts(done, BOB)[0].startswith('"Pat" ended the link with you.')
    assert care.links(PAT) == []


def test_link_changes_are_audited_with_who_and_when(
    care: CareService, store: Store, clock: FakeClock
) -> None:
    link(care, ANN, "Ann")
    care.unlink(PAT, care.links(PAT)[0].link_id)
    with store.tx() as db:
        events = [(a.kind, a.actor, a.at) for a in db.scalars(select(AuditEvent))]
    kinds = [k for k, _, _ in events]
    assert kinds == ["invite_created", "link_requested", "caregiver_linked", "caregiver_unlinked"]
    assert [a for _, a, _ in events] == [PAT, ANN, PAT, PAT]
    assert all(at == clock.now() for _, _, at in events)
