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

from sqlalchemy import func, insert, select, update

from bot.clock import Clock
from bot.reminders import plans as plan_rules
from bot.reminders.ladder import (
    CLOSING_ANSWERS,
    MAX_SNOOZES,
    RULES,
    SNOOZE_MINUTES,
    ladder_for,
    wants_caregivers,
)
from bot.reminders.plans import AckResult, Outgoing, PersonInfo, PlanInfo
from bot.reply.messages import Message
from bot.storage.models import Acknowledgement, Delivery, Occurrence, Person, Plan
from bot.storage.store import Store

log = logging.getLogger(__name__)

UTC = dt.UTC
BATCH = 500  # due occurrences read per query (re-read so new escalations jump the queue)
MAX_FAILURES = 5  # failed sends of one occurrence before it is given up and audited


class Notifier(Protocol):
    """A door that can send messages to a chat key ("tg:123", "console:local")."""

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
        dues = plan_rules.schedule(
            plan.kind, plan.data, person.timezone or "UTC", ladder_for(person.high_risk), now
        )
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
        plan.status = status
        plan.updated_at = now
        db.execute(
            update(Occurrence)
            .where(Occurrence.plan_id == plan.id, Occurrence.status == "pending")
            .values(status="cancelled")
        )

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
                next_due = db.scalar(
                    select(func.min(Occurrence.due_at)).where(
                        Occurrence.plan_id == plan.id, Occurrence.status == "pending"
                    )
                )
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
                self._lay_out(db, person, plan, now)
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
                db.execute(
                    update(Occurrence)
                    .where(Occurrence.plan_id == plan.id, Occurrence.status == "pending")
                    .values(status="cancelled")
                )
                self._lay_out(db, person, plan, now)
        self._changed()

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
                used = db.scalar(
                    select(func.count(Acknowledgement.id)).where(
                        Acknowledgement.plan_id == plan.id,
                        Acknowledgement.group_key == occ.group_key,
                        Acknowledgement.action == "snooze",
                    )
                )
                if (used or 0) >= MAX_SNOOZES:
                    return AckResult("snooze_limit", plan.kind, dict(plan.data))
                shift = dt.timedelta(minutes=SNOOZE_MINUTES)
                for row in db.scalars(select(Occurrence).where(pending)):
                    row.due_at = max(row.due_at, now) + shift
                db.add(
                    Occurrence(
                        plan_id=plan.id,
                        person_id=person.id,
                        kind="taper_snoozed",
                        group_key=occ.group_key,
                        due_at=now + shift,
                        level=int(RULES["taper_snoozed"].level),
                        priority=RULES["taper_snoozed"].priority,
                        status="pending",
                        late=False,
                        payload=dict(occ.payload),
                    )
                )
                result = AckResult(
                    "snoozed", plan.kind, dict(plan.data), MAX_SNOOZES - (used or 0) - 1
                )
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
                        sent += await self._deliver(occ_id)
                    except Exception:
                        log.exception("delivery of occurrence %s failed", occ_id)
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

    async def _deliver(self, occ_id: int) -> int:
        now = self.clock.now()
        with self.store.tx() as db:
            occ = db.get(Occurrence, occ_id)
            if occ is None or occ.status != "pending":
                return 0
            person = db.get(Person, occ.person_id)
            plan = db.get(Plan, occ.plan_id)
            assert person is not None and plan is not None
            if plan.status != "active":
                occ.status = "cancelled"
                return 0
            rule = RULES[occ.kind]
            if not rule.safety:
                quiet_end = in_quiet_hours(person, now)
                if quiet_end is not None:
                    occ.due_at = quiet_end
                    self.store.audit(
                        db, now, "scheduler", "held_quiet_hours", person.id, occurrence=occ.id
                    )
                    return 0
            caregivers = self.store.caregivers(db, person.id)
            recipients: list[tuple[str, bool]] = []
            if rule.to_person:
                recipients.append((person.key, False))
            if wants_caregivers(occ.kind, bool(person.high_risk)):
                recipients.extend((c, True) for c in caregivers)
            info = PersonInfo(
                person.key, person.voice, person.region, person.timezone or "UTC", person.route
            )
            base = dict(
                occurrence_id=occ.id,
                kind=occ.kind,
                plan_kind=plan.kind,
                plan_data=dict(plan.data),
                payload=dict(occ.payload),
                due_at=occ.due_at,
                person=info,
                has_caregivers=bool(caregivers),
                late=occ.late,
            )
            level = occ.level
        count = 0
        for recipient, to_caregiver in recipients:
            count += await self._send_once(occ_id, level, recipient, to_caregiver, base)
        with self.store.tx() as db:
            occ = db.get(Occurrence, occ_id)
            if occ is not None and occ.status == "pending":
                occ.status = "sent"
                self._finish_taper(db, occ.plan_id)
        if self.fault:
            self.fault("marked")
        return count

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
        if not left:
            plan.status = "done"
            plan.updated_at = self.clock.now()

    async def _send_once(
        self, occ_id: int, level: int, recipient: str, to_caregiver: bool, base: dict[str, Any]
    ) -> int:
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
                return 0
            maybe_repeat = row is not None
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
        except Exception:
            with self.store.tx() as db:  # not accepted: the next try is not a repeat
                db.execute(
                    update(Delivery)
                    .where(Delivery.id == delivery_id, Delivery.attempts <= 1)
                    .values(attempts=0)
                )
            raise
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
        return 1

    @staticmethod
    def _person_id(db: Any, occ_id: int) -> int:
        occ = db.get(Occurrence, occ_id)
        assert occ is not None
        return int(occ.person_id)

    def link_caregiver(self, person_key: str, caregiver_key: str) -> None:
        self.store.link_caregiver(person_key, caregiver_key, self.clock.now())
        self._changed()
