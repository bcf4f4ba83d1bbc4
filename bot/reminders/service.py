"""The reminder service: plans in, deliveries out, acknowledgements back, never lost.

`Reminders` keeps plans and their occurrences in the store (our tables are the truth; the
scheduler in `bot.reminders.scheduler` only wakes it up). Each delivery of everything due goes
escalations first, through a `Notifier` (a door): claim the delivery row, send, mark it sent. A
process killed at any point loses nothing; when the kill fell between the claim and the sent mark
the resend says it may be a repeat. Anything due while the bot was down is delivered once, late,
with a note. This module holds no user-facing text (a `Renderer` turns an occurrence into
messages) and never decides a dose.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from sqlalchemy import delete, func, insert, or_, select, update

from bot.clock import Clock
from bot.reminders import plans as plan_rules
from bot.reminders.ladder import (
    CHECKBACK_AFTER,
    CLAIM_HOLDS,
    CLOSING_ANSWERS,
    DIGEST_MIN_MISSED,
    LATER,
    MAX_LATER,
    MAX_SNOOZES,
    RULES,
    SNOOZE_GAP,
    SNOOZE_MINUTES,
    ladder_for,
    wants_caregivers,
)
from bot.reminders.plans import AckResult, Outgoing, PersonInfo, PlanInfo
from bot.reply.messages import Message
from bot.storage.models import Acknowledgement, CareClaim, Delivery, Occurrence, Person, Plan
from bot.storage.store import Store

log = logging.getLogger(__name__)

UTC = dt.UTC
BATCH = 500  # due occurrences read per query (re-read so new escalations jump the queue)
MAX_FAILURES = 5  # failed sends of one occurrence before it is given up and audited


class Unreachable(Exception):
    """A door's answer: this chat cannot be reached at all (the person blocked the bot, deleted
    their account, the chat is gone). The others still get theirs; the person is marked."""


class Refused(Exception):
    """A door's answer: the chat service refused this message for good (a bad request). Not
    tried again; the other recipients still get theirs."""


class Notifier(Protocol):
    """A door that can send messages to a chat key ("tg:123", "console:local"); it raises
    `Unreachable` or `Refused` when the chat service says so, anything else for a failure that
    may pass (a timeout: tried again later)."""

    async def send(self, chat_key: str, messages: Sequence[Message]) -> list[str]: ...


class Renderer(Protocol):
    def render(self, item: Outgoing) -> list[Message]: ...


def _hm(text: str) -> dt.time:
    return dt.time.fromisoformat(text)


def answered(db: Any, plan_id: int, group_key: str) -> bool:
    """Has the person closed this event (one of `CLOSING_ANSWERS`)?"""
    closing = db.scalar(
        select(func.count(Acknowledgement.id)).where(
            Acknowledgement.plan_id == plan_id,
            Acknowledgement.group_key == group_key,
            Acknowledgement.action.in_(CLOSING_ANSWERS),
        )
    )
    return bool(closing)


def active_claim(db: Any, plan_id: int, group_key: str, now: dt.datetime) -> CareClaim | None:
    """The caregiver who said "I'm on it" for this event, while that still holds."""
    claim: CareClaim | None = db.scalar(
        select(CareClaim).where(
            CareClaim.plan_id == plan_id,
            CareClaim.group_key == group_key,
            CareClaim.at > now - CLAIM_HOLDS,
        )
    )
    return claim


def caregiver_took(db: Any, plan: Plan, group_key: str, now: dt.datetime) -> None:
    """A caregiver's "I'm on it" closes the caregiver step, not the danger: their claim row (the
    caller's) keeps the other caregivers' alerts back while it holds, the person's own reminders
    go on, and for a refill the one who took it is asked later whether it is sorted."""
    if plan.kind != "refill":
        return
    rule = RULES["refill_checkback"]
    db.add(
        Occurrence(
            plan_id=plan.id,
            person_id=plan.person_id,
            kind=rule.kind,
            group_key=group_key,
            due_at=now + CHECKBACK_AFTER,
            level=int(rule.level),
            priority=rule.priority,
            status="pending",
            late=False,
            payload={"_adhoc": True},
        )
    )


def expire_claims(db: Any, plan_id: int, group_key: str, now: dt.datetime) -> None:
    """Claims that no longer hold make way for a new "I'm on it"."""
    db.execute(
        delete(CareClaim).where(
            CareClaim.plan_id == plan_id,
            CareClaim.group_key == group_key,
            CareClaim.at <= now - CLAIM_HOLDS,
        )
    )


def in_quiet_hours(person: Person, now: dt.datetime) -> dt.datetime | None:
    """When the person's quiet hours end, if `now` falls in them; else None."""
    if not (person.quiet_start and person.quiet_end):
        return None
    from zoneinfo import ZoneInfo

    zone = person.timezone or "UTC"
    local = now.astimezone(ZoneInfo(zone))
    start, end, t = _hm(person.quiet_start), _hm(person.quiet_end), local.time()
    inside = start <= t < end if start < end else (t >= start or t < end)
    if not inside:
        return None
    day = local.date() if t < end else local.date() + dt.timedelta(days=1)
    return plan_rules.local_moment(day, end, zone)


class Reminders:
    """The reminder service: plans in, deliveries out, acknowledgements back."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        notifier: Notifier,
        renderer: Renderer,
        fault: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.notifier = notifier
        self.renderer = renderer
        self.fault = fault  # tests: called at "claimed", "accepted" and "marked"
        self.on_change: list[Callable[[], None]] = []
        self._lock = asyncio.Lock()

    def _changed(self) -> None:
        for callback in self.on_change:
            callback()

    # -- plans ------------------------------------------------------------------------------

    def create_plan(self, key: str, kind: str, data: dict[str, Any]) -> int:
        """Store a confirmed plan and lay out its occurrences; a new refill plan replaces the
        old one, and so does a new taper plan."""
        now = self.clock.now()
        with self.store.tx() as db:
            person = self.store.person(db, key, now)
            assert person is not None
            for old in db.scalars(
                select(Plan).where(
                    Plan.person_id == person.id,
                    Plan.kind == kind,
                    Plan.status.in_(("active", "paused")),
                )
            ):
                self._close(db, old, "cancelled", now)
            plan = Plan(
                person_id=person.id,
                kind=kind,
                status="active",
                data=data,
                created_at=now,
                updated_at=now,
            )
            db.add(plan)
            db.flush()
            count = self._lay_out(db, person, plan, now)
            self.store.audit(
                db,
                now,
                key,
                "plan_created",
                person.id,
                plan=plan.id,
                plan_kind=kind,
                occurrences=count,
            )
            plan_id = plan.id
        self._changed()
        return plan_id

    def set_recheck(self, key: str, after: dt.timedelta) -> bool:
        """The withdrawal checklist's one-off "check again" reminder, `after` from now (a newer
        one replaces an older one). True: it is set."""
        self.create_plan(key, "recheck", plan_rules.RecheckPlan(self.clock.now() + after).to_data())
        return True

    def _lay_out(self, db: Any, person: Person, plan: Plan, now: dt.datetime) -> int:
        """Lay out the plan's next occurrences (a few days, and at least the next one) after
        `plan.laid_until` (now for a new plan)."""
        after = plan.laid_until if plan.laid_until is not None else now
        dues, until = plan_rules.lay_out(
            plan.kind,
            plan.data,
            person.timezone or "UTC",
            ladder_for(person.high_risk),
            after,
            now,
        )
        plan.laid_until = until
        rows = [
            {
                "plan_id": plan.id,
                "person_id": person.id,
                "kind": d.kind,
                "group_key": d.group,
                "due_at": d.due_at,
                "level": d.level,
                "priority": d.priority,
                "status": "pending",
                "late": False,
                "payload": d.payload,
            }
            for d in dues
        ]
        if rows:
            db.execute(insert(Occurrence), rows)
        return len(rows)

    def _close(self, db: Any, plan: Plan, status: str, now: dt.datetime) -> None:
        """A plan paused, stopped, replaced or done: its future rows are removed."""
        plan.status = status
        plan.updated_at = now
        db.execute(
            delete(Occurrence).where(Occurrence.plan_id == plan.id, Occurrence.status == "pending")
        )

    def _relay(self, db: Any, person: Person, plan: Plan, now: dt.datetime) -> None:
        """Lay the plan out again from now (its dates, time zone or risk changed); asked-for
        extras (a snooze, "remind me later", a check-back) stay."""
        pending = db.scalars(
            select(Occurrence).where(Occurrence.plan_id == plan.id, Occurrence.status == "pending")
        ).all()
        ids = [o.id for o in pending if not o.payload.get("_adhoc")]
        if ids:
            db.execute(delete(Occurrence).where(Occurrence.id.in_(ids)))
        plan.laid_until = now
        self._lay_out(db, person, plan, now)

    def top_up(self) -> int:
        """Lay out further every active plan whose laid-out occurrences run out soon."""
        now = self.clock.now()
        count = 0
        while True:
            with self.store.tx() as db:
                batch = db.scalars(
                    select(Plan)
                    .where(
                        Plan.status == "active",
                        or_(
                            Plan.laid_until.is_(None), Plan.laid_until < now + plan_rules.WINDOW / 2
                        ),
                    )
                    .limit(BATCH)
                ).all()
                for plan in batch:
                    person = db.get(Person, plan.person_id)
                    assert person is not None
                    before = plan.laid_until
                    try:
                        count += self._lay_out(db, person, plan, now)
                    except (KeyError, ValueError, TypeError) as exc:  # a plan it cannot read
                        log.error("plan %s cannot be laid out: %s", plan.id, type(exc).__name__)
                    if plan.laid_until == before:  # nothing more to lay out, for now
                        plan.laid_until = now + plan_rules.WINDOW
            if len(batch) < BATCH:
                return count

    def plans(self, key: str) -> list[PlanInfo]:
        """The person's plans that are not over, with the next moment something is due."""
        with self.store.tx() as db:
            person = self.store.person(db, key, self.clock.now(), create=False)
            if person is None:
                return []
            result = []
            for plan in db.scalars(
                select(Plan)
                .where(Plan.person_id == person.id, Plan.status.in_(("active", "paused")))
                .order_by(Plan.id)
            ):
                next_due = _next_due(db, plan.id)
                result.append(PlanInfo(plan.id, plan.kind, plan.status, dict(plan.data), next_due))
            return result

    def set_status(self, key: str, plan_id: int, status: str) -> bool:
        """Pause, resume (active) or cancel one of the person's plans."""
        now = self.clock.now()
        with self.store.tx() as db:
            plan = db.get(Plan, plan_id)
            person = db.get(Person, plan.person_id) if plan else None
            if plan is None or person is None or person.key != key:
                return False
            if plan.status not in ("active", "paused"):
                return False
            if status in ("paused", "cancelled"):
                self._close(db, plan, status, now)
            elif status == "active" and plan.status == "paused":
                plan.status = "active"
                plan.updated_at = now
                self._relay(db, person, plan, now)
            self.store.audit(db, now, key, f"plan_{status}", person.id, plan=plan_id)
        self._changed()
        return True

    def reschedule(self, key: str) -> None:
        """Lay out the person's active plans again (their time zone or risk answers changed)."""
        now = self.clock.now()
        with self.store.tx() as db:
            person = self.store.person(db, key, now, create=False)
            if person is None:
                return
            for plan in db.scalars(
                select(Plan).where(Plan.person_id == person.id, Plan.status == "active")
            ):
                self._relay(db, person, plan, now)
        self._changed()

    def move_appointment(self, key: str, plan_id: int, day: dt.date) -> PlanInfo | None:
        """A new appointment date for a refill plan: the next reminders follow it."""
        now = self.clock.now()
        with self.store.tx() as db:
            plan = db.get(Plan, plan_id)
            person = db.get(Person, plan.person_id) if plan else None
            if plan is None or person is None or person.key != key:
                return None
            if plan.kind != "refill" or plan.status != "active":
                return None
            plan.data = {**plan.data, "appointment": day.isoformat()}
            plan.updated_at = now
            self._relay(db, person, plan, now)
            self.store.audit(db, now, key, "plan_moved", person.id, plan=plan.id)
            db.flush()
            next_due = _next_due(db, plan.id)
            info = PlanInfo(plan.id, plan.kind, plan.status, dict(plan.data), next_due)
        self._changed()
        return info

    # -- acknowledgements -------------------------------------------------------------------

    def acknowledge(self, by: str, occurrence_id: int, action: str) -> AckResult:
        """A button press on a reminder, by the person or a linked caregiver."""
        now = self.clock.now()
        with self.store.tx() as db:
            occ = db.get(Occurrence, occurrence_id)
            if occ is None:
                return AckResult("gone")
            person = db.get(Person, occ.person_id)
            plan = db.get(Plan, occ.plan_id)
            assert person is not None and plan is not None
            if by != person.key and by not in self.store.caregivers(db, person.id):
                return AckResult("gone")
            if plan.status != "active":
                return AckResult("already", plan.kind, dict(plan.data))
            if answered(db, plan.id, occ.group_key):
                return AckResult("already", plan.kind, dict(plan.data))
            group = (Occurrence.plan_id == plan.id) & (Occurrence.group_key == occ.group_key)
            pending = group & (Occurrence.status == "pending")
            result: AckResult
            if action == "snooze":
                used = self._count_acks(db, plan.id, occ.group_key, "snooze")
                if used >= MAX_SNOOZES:
                    return AckResult("snooze_limit", plan.kind, dict(plan.data))
                shift = dt.timedelta(minutes=SNOOZE_MINUTES)
                if plan.kind == "taper":  # F095: never within 2 hours of the next dose
                    taper = plan_rules.TaperPlan.from_data(plan.data)
                    nxt = plan_rules.next_dose(taper, person.timezone or "UTC", occ.group_key)
                    if nxt is not None and now + shift > nxt - SNOOZE_GAP:
                        return AckResult(
                            "snooze_too_close", plan.kind, dict(plan.data), when=nxt,
                            occurrence_id=occ.id,
                        )  # fmt: skip
                for row in db.scalars(select(Occurrence).where(pending)):
                    row.due_at = max(row.due_at, now) + shift
                self._extra(db, occ, "taper_snoozed", now + shift, dict(occ.payload))
                result = AckResult("snoozed", plan.kind, dict(plan.data), MAX_SNOOZES - used - 1)
            elif action == "later" and plan.kind == "refill" and occ.kind != "refill_checkback":
                recent = db.scalar(
                    select(func.count(Acknowledgement.id)).where(
                        Acknowledgement.plan_id == plan.id,
                        Acknowledgement.action == "later",
                        Acknowledgement.at > now - dt.timedelta(days=1),
                    )
                )
                if (recent or 0) >= MAX_LATER:
                    return AckResult("later_limit", plan.kind, dict(plan.data))
                self._extra(db, occ, occ.kind, now + LATER, {**occ.payload, "later": True})
                result = AckResult("later", plan.kind, dict(plan.data), when=now + LATER)
            elif action == "notyet" and by != person.key:
                # The caregiver who took it says it is not sorted: the ladder resumes for all.
                db.execute(
                    delete(CareClaim).where(
                        CareClaim.plan_id == plan.id, CareClaim.group_key == occ.group_key
                    )
                )
                result = AckResult("not_yet", plan.kind, dict(plan.data))
            elif action == "done" and plan.kind == "refill":
                self._close(db, plan, "done", now)
                result = AckResult("refill_done", plan.kind, dict(plan.data))
            elif action in ("taken", "skip", "fine", "signs"):
                db.execute(update(Occurrence).where(pending).values(status="acked"))
                result = AckResult(action, plan.kind, dict(plan.data))
            else:
                return AckResult("gone")
            self.store.acknowledged(db, now, by, occ, plan, action, f"ack_{action}")
        self._changed()
        return result

    @staticmethod
    def _count_acks(db: Any, plan_id: int, group_key: str, action: str) -> int:
        used = db.scalar(
            select(func.count(Acknowledgement.id)).where(
                Acknowledgement.plan_id == plan_id,
                Acknowledgement.group_key == group_key,
                Acknowledgement.action == action,
            )
        )
        return int(used or 0)

    @staticmethod
    def _extra(
        db: Any, occ: Occurrence, kind: str, due: dt.datetime, payload: dict[str, Any]
    ) -> None:
        """One more occurrence the person asked for (a snooze, "remind me later")."""
        rule = RULES[kind]
        db.add(
            Occurrence(
                plan_id=occ.plan_id,
                person_id=occ.person_id,
                kind=kind,
                group_key=occ.group_key,
                due_at=due,
                level=int(rule.level),
                priority=rule.priority,
                status="pending",
                late=False,
                payload={**payload, "_adhoc": True},
            )
        )

    # -- delivery ---------------------------------------------------------------------------

    def reconcile(self) -> int:
        """At start-up: mark what fell due while we were down, so it goes out once, with a note."""
        now = self.clock.now()
        with self.store.tx() as db:
            result = db.execute(
                update(Occurrence)
                .where(Occurrence.status == "pending", Occurrence.due_at <= now)
                .values(late=True)
            )
            count = int(getattr(result, "rowcount", 0) or 0)
            if count:
                self.store.audit(db, now, "scheduler", "reconcile_late", None, count=count)
        return count

    def due_moments(self, until: dt.datetime) -> list[dt.datetime]:
        """The distinct moments (to the minute) when something pending falls due, up to `until`."""
        with self.store.tx() as db:
            rows = db.scalars(
                select(Occurrence.due_at)
                .where(Occurrence.status == "pending", Occurrence.due_at <= until)
                .distinct()
            )
            minutes = {r.replace(second=0, microsecond=0) for r in rows}
        return sorted(minutes)

    async def deliver_due(self) -> int:
        """Send everything due now, loudest first. Returns the number of messages handed over."""
        async with self._lock:
            self.top_up()
            sent = 0
            failed: set[int] = set()
            while True:
                now = self.clock.now()
                with self.store.tx() as db:
                    query = (
                        select(Occurrence.id)
                        .where(Occurrence.status == "pending", Occurrence.due_at <= now)
                        .order_by(Occurrence.priority.desc(), Occurrence.due_at, Occurrence.id)
                        .limit(BATCH)
                    )
                    if failed:
                        query = query.where(Occurrence.id.not_in(failed))
                    ids = list(db.scalars(query))
                if not ids:
                    return sent
                for occ_id in ids:
                    try:
                        count, retry = await self._deliver(occ_id)
                    except Exception as exc:
                        log.error(
                            "delivery of occurrence %s failed: %s", occ_id, type(exc).__name__
                        )
                        count, retry = 0, True
                    sent += count
                    if retry:
                        failed.add(occ_id)
                        self._failed(occ_id)

    def _failed(self, occ_id: int) -> None:
        now = self.clock.now()
        with self.store.tx() as db:
            occ = db.get(Occurrence, occ_id)
            if occ is None:
                return
            failures = int(occ.payload.get("_failures", 0)) + 1
            occ.payload = {**occ.payload, "_failures": failures}
            if failures >= MAX_FAILURES:
                occ.status = "failed"
            self.store.audit(
                db,
                now,
                "scheduler",
                "delivery_failed",
                occ.person_id,
                occurrence=occ_id,
                failures=failures,
            )

    def _covered(
        self, db: Any, occ: Occurrence, plan: Plan, now: dt.datetime
    ) -> dict[str, Any] | None:
        """None when this taper follow-up is not needed (a dose before it is unanswered too, so
        the day's digest covers both; a digest with fewer than two doses to list); otherwise the
        payload to send it with."""
        payload = dict(occ.payload)
        if occ.kind in ("taper_nudge", "taper_caregiver"):
            taper = plan_rules.TaperPlan.from_data(plan.data)
            before = plan_rules.previous_dose(taper, occ.group_key)
            if (
                before is not None
                and plan_rules.in_one_digest(before, occ.group_key)
                and self._missed(db, plan.id, before)
            ):
                return None  # the day's digest lists both (two or more: it is sent)
        if occ.kind == "taper_digest":
            day = str(payload.get("day", ""))
            groups = db.scalars(
                select(Occurrence.group_key).where(
                    Occurrence.plan_id == plan.id,
                    Occurrence.kind == "taper_dose",
                    Occurrence.status == "sent",
                    Occurrence.group_key.like(f"dose:{day}T%"),
                )
            ).all()
            missed = sorted({g for g in groups if not answered(db, plan.id, g)})
            if len(missed) < DIGEST_MIN_MISSED:
                return None
            payload["missed"] = ", ".join(g.rpartition("T")[2] for g in missed)
            payload["count"] = len(missed)
        return payload

    @staticmethod
    def _missed(db: Any, plan_id: int, group_key: str) -> bool:
        """Was this dose's reminder sent and never answered?"""
        sent = db.scalar(
            select(func.count(Occurrence.id)).where(
                Occurrence.plan_id == plan_id,
                Occurrence.group_key == group_key,
                Occurrence.kind == "taper_dose",
                Occurrence.status == "sent",
            )
        )
        return bool(sent) and not answered(db, plan_id, group_key)

    async def _deliver(self, occ_id: int) -> tuple[int, bool]:
        """One occurrence to each of its recipients, each its own delivery: one recipient's
        refusal, block or timeout never stops the others. Returns (messages sent, try again)."""
        now = self.clock.now()
        with self.store.tx() as db:
            occ = db.get(Occurrence, occ_id)
            if occ is None or occ.status != "pending":
                return 0, False
            person = db.get(Person, occ.person_id)
            plan = db.get(Plan, occ.plan_id)
            assert person is not None and plan is not None
            if plan.status != "active":
                occ.status = "cancelled"
                return 0, False
            rule = RULES[occ.kind]
            if not rule.safety:
                quiet_end = in_quiet_hours(person, now)
                if quiet_end is not None:
                    occ.due_at = quiet_end
                    self.store.audit(
                        db, now, "scheduler", "held_quiet_hours", person.id, occurrence=occ.id
                    )
                    return 0, False
            payload = self._covered(db, occ, plan, now)
            if payload is None:
                occ.status = "skipped"
                return 0, False
            caregivers = self.store.caregivers(db, person.id)
            claim = active_claim(db, plan.id, occ.group_key, now)
            unreachable = person.unreachable_at is not None
            recipients: list[tuple[str, bool]] = []
            notes: list[str] = []
            if rule.to_claimer:
                if claim is None or claim.by not in caregivers:
                    occ.status = "skipped"  # sorted, or the ladder has resumed for everyone
                    return 0, False
                recipients.append((claim.by, True))
            else:
                if rule.to_person:
                    recipients.append((person.key, False))
                if claim is None:
                    if wants_caregivers(occ.kind, bool(person.high_risk), unreachable):
                        recipients.extend((c, True) for c in caregivers)
                elif plan.kind == "refill":
                    notes.append("caregiver_on_it")
            if payload.get("later"):
                notes.append("later")
            info = PersonInfo(
                person.key, person.voice, person.region, person.timezone or "UTC", person.route
            )
            base: dict[str, Any] = dict(
                occurrence_id=occ.id,
                kind=occ.kind,
                plan_kind=plan.kind,
                plan_data=dict(plan.data),
                payload=payload,
                due_at=occ.due_at,
                person=info,
                has_caregivers=bool(caregivers),
                late=occ.late,
                plan_id=plan.id,
            )
            level = occ.level
            copy_ok = rule.unreachable_copy and claim is None
        count, retry, delivered = 0, False, False
        told = {r for r, _ in recipients}
        index = 0
        while index < len(recipients):
            recipient, to_caregiver = recipients[index]
            index += 1
            mine = list(notes) if not to_caregiver else (["unreachable"] if unreachable else [])
            outcome = await self._send_once(
                occ_id, level, recipient, to_caregiver, {**base, "notes": tuple(mine)}
            )
            count += outcome == "sent"
            delivered = delivered or outcome in ("sent", "already")
            retry = retry or outcome == "retry"
            if outcome == "unreachable" and recipient == info.key and copy_ok:
                unreachable = True  # the ladder goes to the caregivers at once
                for caregiver in caregivers:
                    if caregiver not in told:
                        told.add(caregiver)
                        recipients.append((caregiver, True))
        if retry:
            return count, True
        with self.store.tx() as db:
            occ = db.get(Occurrence, occ_id)
            if occ is not None and occ.status == "pending":
                occ.status = "sent" if delivered or not recipients else "failed"
                if not delivered and recipients:
                    self.store.audit(
                        db, now, "scheduler", "undelivered", occ.person_id, occurrence=occ_id
                    )
                self._finish_taper(db, occ.plan_id)
        if self.fault:
            self.fault("marked")
        return count, False

    def _finish_taper(self, db: Any, plan_id: int) -> None:
        """A taper (or a re-check) whose last reminder went out is done (a refill waits for
        "Refill done")."""
        plan = db.get(Plan, plan_id)
        if plan is None or plan.kind not in ("taper", "recheck") or plan.status != "active":
            return
        left = db.scalar(
            select(func.count(Occurrence.id)).where(
                Occurrence.plan_id == plan_id, Occurrence.status == "pending"
            )
        )
        if left:
            return
        person = db.get(Person, plan.person_id)
        after = plan.laid_until or self.clock.now()
        ahead, _ = plan_rules.lay_out(
            plan.kind, plan.data, person.timezone or "UTC" if person else "UTC",
            ladder_for(person.high_risk if person else None), after, after,
        )  # fmt: skip
        if not ahead:
            plan.status = "done"
            plan.updated_at = self.clock.now()

    async def _send_once(
        self, occ_id: int, level: int, recipient: str, to_caregiver: bool, base: dict[str, Any]
    ) -> str:
        """One recipient: sent | already (sent before) | unreachable | refused | retry."""
        now = self.clock.now()
        with self.store.tx() as db:
            row = db.scalar(
                select(Delivery).where(
                    Delivery.occurrence_id == occ_id,
                    Delivery.level == level,
                    Delivery.recipient == recipient,
                )
            )
            if row is not None and row.state == "sent":
                return "already"
            if row is not None and row.state in ("unreachable", "refused"):
                return str(row.state)
            maybe_repeat = row is not None and row.attempts > 0
            if row is None:
                row = Delivery(
                    occurrence_id=occ_id,
                    person_id=self._person_id(db, occ_id),
                    level=level,
                    recipient=recipient,
                    state="claimed",
                    attempts=1,
                    claimed_at=now,
                )
                db.add(row)
            else:
                row.attempts += 1
                row.claimed_at = now
            db.flush()
            delivery_id = row.id
        if self.fault:
            self.fault("claimed")
        item = Outgoing(**base, to_caregiver=to_caregiver, maybe_repeat=maybe_repeat)
        try:
            ids = await self.notifier.send(recipient, self.renderer.render(item))
        except (Unreachable, Refused) as exc:
            state = "unreachable" if isinstance(exc, Unreachable) else "refused"
            with self.store.tx() as db:
                row = db.get(Delivery, delivery_id)
                assert row is not None
                row.state = state
                if state == "unreachable":
                    db.execute(
                        update(Person).where(Person.key == recipient).values(unreachable_at=now)
                    )
                self.store.audit(db, now, "scheduler", f"recipient_{state}", row.person_id,
                                 occurrence=occ_id, caregiver=to_caregiver)  # fmt: skip
            return state
        except Exception as exc:  # not accepted, may pass: the next try is not a repeat
            log.warning("a send failed and will be tried again: %s", type(exc).__name__)
            with self.store.tx() as db:
                db.execute(
                    update(Delivery)
                    .where(Delivery.id == delivery_id)
                    .values(attempts=Delivery.attempts - 1)
                )
            return "retry"
        if self.fault:
            self.fault("accepted")
        with self.store.tx() as db:
            row = db.get(Delivery, delivery_id)
            assert row is not None
            row.state = "sent"
            row.sent_at = self.clock.now()
            row.message_ids = [str(i) for i in ids]
            self.store.audit(
                db,
                now,
                "scheduler",
                "delivered",
                row.person_id,
                occurrence=occ_id,
                level=level,
                caregiver=to_caregiver,
                repeat=maybe_repeat,
            )
        return "sent"

    @staticmethod
    def _person_id(db: Any, occ_id: int) -> int:
        occ = db.get(Occurrence, occ_id)
        assert occ is not None
        return int(occ.person_id)

    def link_caregiver(self, person_key: str, caregiver_key: str) -> None:
        self.store.link_caregiver(person_key, caregiver_key, self.clock.now())
        self._changed()


def _next_due(db: Any, plan_id: int) -> dt.datetime | None:
    """When the person's next reminder of this plan is due (a caregiver's check-back is not
    theirs)."""
    due: dt.datetime | None = db.scalar(
        select(func.min(Occurrence.due_at)).where(
            Occurrence.plan_id == plan_id,
            Occurrence.status == "pending",
            Occurrence.kind != "refill_checkback",
        )
    )
    return due
