"""Caregivers in the database: invites, link requests, alert claims, checklist results, card.

The tables are in `bot.storage.models` (migration 0101). `CareService` runs each step in one
transaction and returns `Notice`s: the messages for the person who acted and for the other
people concerned, which a door sends. Who may see what is decided here: a caregiver only reaches
a patient through a confirmed `CaregiverLink`, and only that patient's shared items. The first
caregiver to take an alert wins through a UNIQUE row per event (plan + group), so two taps racing
can never both win. Every link change, alert claim and deletion is an audit event (who, when,
ids; never text). This module must never hold user-facing text (content/care.yaml), never store
a code in clear, and never interpret a dose: card values are kept exactly as typed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.care import rules
from bot.care.checklist import OUTCOMES, Outcome, Result
from bot.care.rules import CareWords
from bot.clock import Clock
from bot.reminders.service import answered, caregiver_took, expire_claims
from bot.reply.messages import Button, Message, Notice
from bot.storage.models import (
    Acknowledgement,
    AuditEvent,
    CardField,
    CareClaim,
    CaregiverLink,
    CareName,
    ChecklistRecord,
    Delivery,
    Invite,
    JoinAttempt,
    Occurrence,
    Person,
    Plan,
)
from bot.storage.store import Store

# -- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkedPerson:
    link_id: int
    key: str
    name: str


@dataclass(frozen=True)
class Event:
    """One line of /history: when, what kind, a detail id, who (a name once read back)."""

    at: dt.datetime
    kind: str  # checklist | alert | missed | ack | taken | skipped | snoozed | refill_done |
    # link | unlink | emergency
    detail: str  # an outcome, a rule kind or an action
    by: str
    signs: tuple[str, ...] = ()
    told: tuple[str, ...] | None = None  # alert, missed: who got it (names once read back)
    caregivers: int | None = None  # alert, missed, emergency: how many caregivers were told


@dataclass(frozen=True)
class AckOutcome:
    result: str  # won | lost | closed | gone
    notices: list[Notice] = field(default_factory=list)


class CareService:
    """Linking, alert claims, checklist records and card fields, one transaction each."""

    def __init__(self, store: Store, clock: Clock, words: CareWords, *, pepper: str) -> None:
        self.store = store
        self.clock = clock
        self.words = words
        self._pepper = pepper  # the secret key of the codes' HMAC (never stored in the database)

    def _t(self, key: str, **values: str) -> str:
        return self.words.text(key, **values)

    def _info(self, to: str, key: str, **values: str) -> Notice:
        return Notice(to, (Message(self._t(key, **values), kind="info"),))

    # -- names -------------------------------------------------------------------------------

    def _person(self, db: Session, key: str) -> Person:
        person = self.store.person(db, key, self.clock.now())
        assert person is not None
        return person

    def set_name(self, key: str, name: str | None) -> None:
        """Remember the first name the door knows for `key` (shown to linked people only)."""
        if not name or not name.strip():
            return
        with self.store.tx() as db:
            self._set_name(db, self._person(db, key), name)

    def _set_name(self, db: Session, person: Person, name: str | None) -> None:
        clean = rules.clean_name(name)
        if clean is None:
            return
        row = db.get(CareName, person.id)
        if row is None:
            db.add(CareName(person_id=person.id, name=clean))
        else:
            row.name = clean

    def _name(self, db: Session, person_id: int | None) -> str:
        row = db.get(CareName, person_id) if person_id is not None else None
        if row is None or not (name := rules.clean_name(row.name)):
            return self._t("someone")
        return self._t("name_given", name=name)  # always quoted: the name they gave

    def _name_of_key(self, db: Session, key: str) -> str:
        person = self.store.person(db, key, self.clock.now(), create=False)
        return self._name(db, person.id if person else None)

    # -- invite and join -----------------------------------------------------------------------

    def invite(self, key: str, name: str | None = None) -> Notice:
        """A new one-time code for the patient `key` (or the limit message)."""
        now = self.clock.now()
        with self.store.tx() as db:
            person = self._person(db, key)
            self._set_name(db, person, name)
            recent = db.scalars(
                select(Invite.created_at).where(
                    Invite.person_id == person.id, Invite.created_at > now - rules.LIMIT_WINDOW
                )
            ).all()
            if rules.limited(recent, now, rules.MAX_INVITES):
                self.store.audit(db, now, key, "invite_limited", person.id)
                return self._info(key, "invite_limit")
            code = rules.new_code()
            db.add(
                Invite(
                    person_id=person.id,
                    code_hash=rules.hash_code(code, self._pepper),
                    created_at=now,
                    expires_at=now + rules.INVITE_TTL,
                    status="open",
                )
            )
            db.flush()
            self.store.audit(db, now, key, "invite_created", person.id)
        hours = str(int(rules.INVITE_TTL.total_seconds() // 3600))
        text = self._t("invite_code", code=rules.show_code(code), hours=hours)
        return Notice(key, (Message(text, kind="info"),))

    def join(self, key: str, text: str, name: str | None = None) -> list[Notice]:
        """A caregiver's `/join CODE`: on a good code, the patient is asked to say yes."""
        now = self.clock.now()
        code = rules.normalise_code(text)
        with self.store.tx() as db:
            failed = db.scalars(
                select(JoinAttempt.at).where(
                    JoinAttempt.key == key, JoinAttempt.at > now - rules.LIMIT_WINDOW
                )
            ).all()
            if rules.limited(failed, now, rules.MAX_FAILED_JOINS):
                # Audited at most once an hour per person: a spammer cannot grow the table.
                logged = db.scalar(
                    select(AuditEvent.id)
                    .where(
                        AuditEvent.actor == key,
                        AuditEvent.kind == "join_limited",
                        AuditEvent.at > now - rules.LIMIT_WINDOW,
                    )
                    .limit(1)
                )
                if logged is None:
                    self.store.audit(db, now, key, "join_limited", None)
                return [self._info(key, "join_limit")]
            invite = (
                db.scalar(
                    select(Invite).where(Invite.code_hash == rules.hash_code(code, self._pepper))
                )
                if code
                else None
            )
            if invite is None or invite.status != "open" or invite.expires_at <= now:
                db.add(JoinAttempt(key=key, at=now))
                self.store.audit(db, now, key, "join_failed", None)
                return [self._info(key, "join_bad_code")]
            patient = db.get(Person, invite.person_id)
            assert patient is not None
            if patient.key == key:
                return [self._info(key, "join_own_code")]
            patient_name = self._name(db, patient.id)
            if key in self.store.caregivers(db, patient.id):
                return [self._info(key, "join_already", name=patient_name)]
            claimed = db.execute(
                update(Invite)
                .where(Invite.id == invite.id, Invite.status == "open", Invite.expires_at > now)
                .values(status="claimed", claimed_by=key)
            )
            if not getattr(claimed, "rowcount", 0):
                db.add(JoinAttempt(key=key, at=now))
                return [self._info(key, "join_bad_code")]
            caregiver = self._person(db, key)
            self._set_name(db, caregiver, name)
            caregiver_name = self._name(db, caregiver.id)
            self.store.audit(db, now, key, "link_requested", patient.id, invite=invite.id)
            buttons = (
                Button(self._t("button_confirm_yes"), f"{rules.PREFIX}:ok:{invite.id}"),
                Button(self._t("button_confirm_no"), f"{rules.PREFIX}:no:{invite.id}"),
            )
            ask = Message(self._t("confirm_ask", name=caregiver_name), buttons, kind="prompt")
            return [
                self._info(key, "join_waiting", name=patient_name),
                Notice(patient.key, (ask,)),
            ]

    def confirm(self, key: str, invite_id: int, yes: bool) -> list[Notice]:
        """The patient's yes or no. Only the patient who made the code can answer."""
        now = self.clock.now()
        with self.store.tx() as db:
            invite = db.get(Invite, invite_id)
            patient = db.get(Person, invite.person_id) if invite else None
            if invite is None or patient is None or invite.claimed_by is None:
                return [Notice(key, (Message(self._t("ack_gone"), kind="info"),))]
            if patient.key != key:
                self.store.audit(db, now, key, "link_confirm_refused", patient.id)
                return [self._info(key, "confirm_not_yours")]
            done = db.execute(
                update(Invite)
                .where(Invite.id == invite_id, Invite.status == "claimed")
                .values(status="used" if yes else "declined")
            )
            if not getattr(done, "rowcount", 0):
                return [self._info(key, "ack_gone")]
            caregiver_key = invite.claimed_by
            caregiver_name = self._name_of_key(db, caregiver_key)
            patient_name = self._name(db, patient.id)
            if not yes:
                self.store.audit(db, now, key, "link_declined", patient.id, invite=invite_id)
                return [
                    self._info(key, "declined_patient", name=caregiver_name),
                    self._info(caregiver_key, "declined_caregiver", name=patient_name),
                ]
            if caregiver_key not in self.store.caregivers(db, patient.id):
                db.add(
                    CaregiverLink(person_id=patient.id, caregiver_key=caregiver_key, created_at=now)
                )
            # Audit details hold ids only, never another person's key (deletion leaves no trace).
            self.store.audit(db, now, key, "caregiver_linked", patient.id, invite=invite_id)
            return [
                self._info(key, "linked_patient", name=caregiver_name),
                self._info(caregiver_key, "linked_caregiver", name=patient_name),
            ]

    # -- links -------------------------------------------------------------------------------

    def links(self, key: str) -> list[LinkedPerson]:
        """Everyone `key` is linked with, either way (their caregivers and their patients)."""
        with self.store.tx() as db:
            return self._links(db, key)

    def _links(self, db: Session, key: str) -> list[LinkedPerson]:
        out: list[LinkedPerson] = []
        me = self.store.person(db, key, self.clock.now(), create=False)
        if me is not None:
            for link in db.scalars(
                select(CaregiverLink)
                .where(CaregiverLink.person_id == me.id)
                .order_by(CaregiverLink.id)
            ):
                out.append(
                    LinkedPerson(
                        link.id, link.caregiver_key, self._name_of_key(db, link.caregiver_key)
                    )
                )
        for link, patient in db.execute(
            select(CaregiverLink, Person)
            .join(Person, Person.id == CaregiverLink.person_id)
            .where(CaregiverLink.caregiver_key == key)
            .order_by(CaregiverLink.id)
        ):
            out.append(LinkedPerson(link.id, patient.key, self._name(db, patient.id)))
        return out

    def patients(self, key: str) -> list[LinkedPerson]:
        """The people `key` cares for (their link ids, keys and names)."""
        with self.store.tx() as db:
            return self._patients(db, key)

    def _patients(self, db: Session, key: str) -> list[LinkedPerson]:
        rows = db.execute(
            select(CaregiverLink, Person)
            .join(Person, Person.id == CaregiverLink.person_id)
            .where(CaregiverLink.caregiver_key == key)
            .order_by(CaregiverLink.id)
        ).all()
        return [LinkedPerson(link.id, p.key, self._name(db, p.id)) for link, p in rows]

    def unlink_menu(self, key: str) -> Message:
        linked = self.links(key)
        if not linked:
            return Message(self._t("unlink_none"), kind="info")
        buttons = tuple(Button(p.name, f"{rules.PREFIX}:un:{p.link_id}") for p in linked)
        return Message(self._t("unlink_ask"), buttons, kind="prompt")

    def unlink(self, key: str, link_id: int) -> list[Notice]:
        """Either side ends a link; both are told."""
        now = self.clock.now()
        with self.store.tx() as db:
            link = db.get(CaregiverLink, link_id)
            patient = db.get(Person, link.person_id) if link else None
            if link is None or patient is None or key not in (patient.key, link.caregiver_key):
                return [self._info(key, "ack_gone")]
            other = link.caregiver_key if key == patient.key else patient.key
            other_name = self._name_of_key(db, other)
            my_name = self._name_of_key(db, key)
            db.delete(link)
            self.store.audit(db, now, key, "caregiver_unlinked", patient.id, link=link_id)
            return [
                self._info(key, "unlink_done", name=other_name),
                self._info(other, "unlink_told", name=my_name),
            ]

    def safety_alert(self, key: str, emergency_number: str) -> list[Notice]:
        """A message from `key` was triaged as an emergency: tell each linked caregiver (never
        the message itself), and keep an audit event."""
        now = self.clock.now()
        with self.store.tx() as db:
            patient = self.store.person(db, key, now, create=False)
            if patient is None:
                return []
            links = db.scalars(
                select(CaregiverLink).where(CaregiverLink.person_id == patient.id)
            ).all()
            # Kept for /history (the clinic sees that it happened), never the message itself.
            self.store.audit(db, now, key, "safety_alert", patient.id, caregivers=len(links))
            if not links:
                return []
            name = self._name(db, patient.id)
            return [
                self._info(
                    link.caregiver_key, "safety_alert", name=name, emergency_number=emergency_number
                )
                for link in links
            ]

    # -- alerts that close the loop ----------------------------------------------------------

    def alert_buttons(self, occurrence_id: int) -> tuple[Button, ...]:
        """The two buttons under every caregiver alert."""
        return (
            Button(self._t("button_on_it"), rules.ack_data("on_it", occurrence_id)),
            Button(self._t("button_called"), rules.ack_data("called", occurrence_id)),
        )

    def acknowledge(self, by: str, occurrence_id: int, action: str) -> AckOutcome:
        """A caregiver took an alert. The first one wins (a UNIQUE claim row); the ladder for
        that event stops; the patient and the other caregivers are told who took it."""
        if action not in rules.ACK_ACTIONS:
            return AckOutcome("gone", [self._info(by, "ack_gone")])
        now = self.clock.now()
        try:
            with self.store.tx() as db:
                occ = db.get(Occurrence, occurrence_id)
                person = db.get(Person, occ.person_id) if occ else None
                plan = db.get(Plan, occ.plan_id) if occ else None
                if occ is None or person is None or plan is None:
                    return AckOutcome("gone", [self._info(by, "ack_gone")])
                caregivers = self.store.caregivers(db, person.id)
                if by not in caregivers:
                    return AckOutcome("gone", [self._info(by, "ack_gone")])
                if plan.status != "active" or answered(db, plan.id, occ.group_key):
                    return AckOutcome("closed", [self._info(by, "ack_closed")])
                expire_claims(db, plan.id, occ.group_key, now)
                db.add(
                    CareClaim(
                        person_id=person.id,
                        plan_id=plan.id,
                        group_key=occ.group_key,
                        occurrence_id=occ.id,
                        by=by,
                        action=action,
                        at=now,
                    )
                )
                db.flush()  # the race is decided here: a second claim fails on uq_care_claim
                # The caregiver step is closed, not the danger: the person's own reminders go
                # on until the refill is confirmed, and the caregiver is asked again later.
                caregiver_took(db, plan, occ.group_key, now)
                self.store.acknowledged(db, now, by, occ, plan, action, f"caregiver_ack_{action}")
                taker = self._name_of_key(db, by)
                patient = self._name(db, person.id)
                notices = [
                    self._info(by, f"ack_{action}_winner", patient=patient),
                    self._info(person.key, f"ack_{action}_patient", name=taker),
                ]
                notices += [
                    self._info(c, f"ack_{action}_others", name=taker, patient=patient)
                    for c in caregivers
                    if c != by
                ]
                return AckOutcome("won", notices)
        except IntegrityError:
            pass
        with self.store.tx() as db:  # lost the race: say who took it, and when
            occ = db.get(Occurrence, occurrence_id)
            claim = (
                db.scalar(
                    select(CareClaim).where(
                        CareClaim.plan_id == occ.plan_id, CareClaim.group_key == occ.group_key
                    )
                )
                if occ
                else None
            )
            if claim is None:
                return AckOutcome("gone", [self._info(by, "ack_gone")])
            zone = self._zone(db, by)
            at = claim.at.astimezone(ZoneInfo(zone)).strftime("%H:%M")
            winner = self._name_of_key(db, claim.by)
            self.store.audit(
                db, now, by, "caregiver_ack_late", claim.person_id, occurrence=occurrence_id
            )
            return AckOutcome("lost", [self._info(by, "ack_already", name=winner, time=at)])

    def _zone(self, db: Session, key: str) -> str:
        person = self.store.person(db, key, self.clock.now(), create=False)
        return (person.timezone if person else None) or "UTC"

    # -- checklist results -------------------------------------------------------------------

    def save_checklist(self, by: str, data: dict[str, Any]) -> int:
        """Keep a checklist result under the person who ran it (until they share it)."""
        now = self.clock.now()
        with self.store.tx() as db:
            me = self._person(db, by)
            record = ChecklistRecord(
                person_id=me.id,
                by=by,
                at=now,
                outcome=str(data["outcome"]),
                reason=str(data["reason"]),
                route=str(data["route"]),
                cause=str(data["cause"]),
                signs=list(data["signs"]),
            )
            db.add(record)
            db.flush()
            self.store.audit(
                db, now, by, "checklist_result", me.id, record=record.id, outcome=record.outcome
            )
            return int(record.id)

    def checklist_result(self, by: str, record_id: int) -> Result | None:
        """A saved result, only for the person who ran it."""
        with self.store.tx() as db:
            r = db.get(ChecklistRecord, record_id)
            if r is None or r.by != by or r.outcome not in OUTCOMES:
                return None
            outcome: Outcome = r.outcome  # type: ignore[assignment]
            return Result(outcome, r.reason, r.route, r.cause, tuple(r.signs))

    def route_and_region(self, key: str) -> tuple[str | None, str | None]:
        """How the person takes baclofen and their region (None where not given)."""
        with self.store.tx() as db:
            person = self.store.person(db, key, self.clock.now(), create=False)
            return (person.route, person.region) if person else (None, None)

    def share_targets(self, by: str) -> list[LinkedPerson]:
        """Who a checklist result by `by` can go to: their caregivers, or the people they care
        for (one at a time, so a result about one person never reaches another's caregivers)."""
        return self.links(by)

    def share_checklist(
        self, by: str, record_id: int, link_id: int, texts: dict[str, str]
    ) -> list[Notice]:
        """Send a saved result along one link: to a patient and their other caregivers, or from a
        patient to all their caregivers. `texts` are the worded results by voice."""
        now = self.clock.now()
        with self.store.tx() as db:
            record = db.get(ChecklistRecord, record_id)
            link = db.get(CaregiverLink, link_id)
            patient = db.get(Person, link.person_id) if link else None
            if record is None or record.by != by or link is None or patient is None:
                return [self._info(by, "ack_gone")]
            if by not in (patient.key, link.caregiver_key):
                return [self._info(by, "ack_gone")]
            caregivers = self.store.caregivers(db, patient.id)
            recipients = [k for k in [patient.key, *caregivers] if k != by]
            record.person_id = patient.id  # the result now sits in the patient's history
            record.shared = True
            by_name = self._name_of_key(db, by)
            patient_name = self._name(db, patient.id)
            stamp = now.astimezone(ZoneInfo(self._zone(db, patient.key))).strftime("%d %b %H:%M")
            notices: list[Notice] = []
            for to in recipients:
                voice = "patient" if to == patient.key else "caregiver"
                if by == patient.key:
                    head = self._t("checklist_from", name=by_name, time=stamp)
                else:
                    head = self._t(
                        "checklist_about", name=by_name, patient=patient_name, time=stamp
                    )
                kind = {"emergency": "emergency", "clinic_today": "urgent"}.get(
                    record.outcome, "info"
                )
                notices.append(Notice(to, (Message(f"{head}\n\n{texts[voice]}", kind=kind),)))
            self.store.audit(
                db,
                now,
                by,
                "checklist_shared",
                patient.id,
                record=record.id,
                recipients=len(recipients),
            )
            names = ", ".join(self._name_of_key(db, k) for k in recipients)
            return [self._info(by, "shared", names=names), *notices]

    # -- the emergency card --------------------------------------------------------------------

    def card_fields(self, key: str) -> dict[str, str]:
        with self.store.tx() as db:
            person = self.store.person(db, key, self.clock.now(), create=False)
            if person is None:
                return {}
            rows = db.scalars(select(CardField).where(CardField.person_id == person.id))
            return {r.field: r.value for r in rows}

    def set_card_field(self, key: str, name: str, value: str) -> None:
        """Keep a card value exactly as typed ("" removes it)."""
        if name not in rules.CARD_FIELDS:
            raise ValueError(name)
        now = self.clock.now()
        with self.store.tx() as db:
            person = self._person(db, key)
            row = db.scalar(
                select(CardField).where(CardField.person_id == person.id, CardField.field == name)
            )
            if not value:
                if row is not None:
                    db.delete(row)
            elif row is None:
                db.add(CardField(person_id=person.id, field=name, value=value, updated_at=now))
            else:
                row.value, row.updated_at = value, now
            self.store.audit(db, now, key, "card_changed", person.id, field=name)

    def caregiver_names(self, key: str) -> list[str]:
        with self.store.tx() as db:
            person = self.store.person(db, key, self.clock.now(), create=False)
            if person is None:
                return []
            return [self._name_of_key(db, c) for c in self.store.caregivers(db, person.id)]

    # -- history -------------------------------------------------------------------------------

    def viewable(self, viewer: str) -> list[LinkedPerson]:
        """Whose history and card `viewer` may see: their own (link id 0), then each person
        they care for. Never anyone else."""
        with self.store.tx() as db:
            me = self._person(db, viewer)
            own = LinkedPerson(0, viewer, self._name(db, me.id))
            return [own, *self._patients(db, viewer)]

    def plans(self, viewer: str, subject: str) -> list[tuple[str, dict[str, Any]]] | None:
        """The active plans of `subject` (kind, data); None when `viewer` may not see them."""
        if subject not in {p.key for p in self.viewable(viewer)}:
            return None
        with self.store.tx() as db:
            person = self._person(db, subject)
            rows = db.scalars(
                select(Plan)
                .where(Plan.person_id == person.id, Plan.status == "active")
                .order_by(Plan.id)
            )
            return [(p.kind, dict(p.data)) for p in rows]

    def history(self, viewer: str, subject: str) -> list[Event] | None:
        """Events about `subject`, newest first; None when `viewer` may not see them."""
        if subject not in {p.key for p in self.viewable(viewer)}:
            return None
        with self.store.tx() as db:
            person = self._person(db, subject)
            pid = person.id
            events: list[Event] = []
            for r in db.scalars(select(ChecklistRecord).where(ChecklistRecord.person_id == pid)):
                events.append(Event(r.at, "checklist", r.outcome, r.by, tuple(r.signs)))
            first_sent: dict[int, tuple[dt.datetime, str, int]] = {}
            told: dict[int, list[str]] = {}
            rows = db.execute(
                select(
                    Delivery.occurrence_id,
                    Delivery.sent_at,
                    Delivery.recipient,
                    Occurrence.kind,
                    Occurrence.level,
                )
                .join(Occurrence, Occurrence.id == Delivery.occurrence_id)
                .where(Delivery.person_id == pid, Delivery.state == "sent", Occurrence.level >= 1)
                .order_by(Delivery.id)
            ).all()
            for occ_id, sent_at, recipient, kind, level in rows:
                if sent_at is None:
                    continue
                if recipient not in told.setdefault(occ_id, []):
                    told[occ_id].append(recipient)
                seen = first_sent.get(occ_id)
                if seen is None or sent_at < seen[0]:
                    first_sent[occ_id] = (sent_at, kind, level)
            for occ_id, (sent_at, kind, level) in first_sent.items():
                what = "missed" if level < 2 else "alert"
                others = sum(1 for k in told[occ_id] if k != subject)
                events.append(Event(sent_at, what, kind, "", (), tuple(told[occ_id]), others))
            for e in db.scalars(
                select(AuditEvent).where(
                    AuditEvent.person_id == pid, AuditEvent.kind == "safety_alert"
                )
            ):
                count = int((e.detail or {}).get("caregivers", 0))
                events.append(Event(e.at, "emergency", "", "", (), None, count))
            ack_kinds = {
                "on_it": "ack",
                "called": "ack",
                "taken": "taken",
                "skip": "skipped",
                "snooze": "snoozed",
                "done": "refill_done",
            }
            for a in db.scalars(select(Acknowledgement).where(Acknowledgement.person_id == pid)):
                if a.action in ack_kinds:
                    events.append(Event(a.at, ack_kinds[a.action], a.action, a.by, ()))
            for e in db.scalars(
                select(AuditEvent).where(
                    AuditEvent.person_id == pid,
                    AuditEvent.kind.in_(("caregiver_linked", "caregiver_unlinked")),
                )
            ):
                kind = "link" if e.kind == "caregiver_linked" else "unlink"
                events.append(Event(e.at, kind, "", e.actor, ()))
            keys = {e.by for e in events if e.by} | {k for e in events for k in e.told or ()}
            names = {k: self._name_of_key(db, k) for k in keys}
        events.sort(key=lambda e: e.at, reverse=True)
        return [
            replace(
                e,
                by=names.get(e.by, "") if e.by else "",
                told=tuple(names.get(k, "") for k in e.told) if e.told is not None else None,
            )
            for e in events
        ]

    # -- a person leaving -------------------------------------------------------------------

    def farewells(self, key: str) -> list[Notice]:
        """`/delete_my_data`: what to tell the people linked with `key` (the link ends). Called
        before the store's `delete_person`, which removes every row about them."""
        with self.store.tx() as db:
            me = self.store.person(db, key, self.clock.now(), create=False)
            my_name = self._name(db, me.id if me else None)
            others = sorted({p.key for p in self._links(db, key)})
        return [self._info(o, "link_ended_deleted", name=my_name) for o in others]
