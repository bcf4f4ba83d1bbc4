"""The escalation ladder as data: levels, delays, and who gets each step.

Rules are plain data read by `bot.reminders.plans` (to lay out occurrences) and
`bot.reminders.service` (to pick recipients, order deliveries and decide what may wait for quiet
hours). Higher levels are delivered first when many things are due at once. This module holds no
user-facing text (the words for each rule live in content/reminders.yaml under the same name)
and does no I/O.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import IntEnum


class Level(IntEnum):
    ROUTINE = 0  # a planned reminder
    NUDGE = 1  # the plain reminder once something was missed
    WARNING = 2  # early withdrawal signs, call the clinic today
    CAREGIVER = 3  # linked caregivers are alerted
    EMERGENCY = 4  # the emergency advice


@dataclass(frozen=True)
class Rule:
    """One kind of message: how loud it is, who gets it, and whether quiet hours may hold it."""

    kind: str
    level: Level
    to_person: bool = True
    to_caregivers: bool = False
    ackable: bool = True  # carries the buttons that close its group
    # When the person cannot be reached (they blocked the bot), their caregivers get it instead.
    unreachable_copy: bool = False
    to_claimer: bool = False  # only to the caregiver who said "I'm on it" (the check-back)

    @property
    def safety(self) -> bool:
        """Safety escalations never wait for quiet hours."""
        return self.level >= Level.WARNING

    @property
    def priority(self) -> int:
        return int(self.level) * 10


RULES: dict[str, Rule] = {
    r.kind: r
    for r in (
        Rule("refill_before", Level.ROUTINE, unreachable_copy=True),
        # The appointment is after the alarm date (or too close): count down to the alarm date.
        Rule("refill_rebook", Level.NUDGE, unreachable_copy=True),
        Rule("refill_overdue", Level.NUDGE, unreachable_copy=True),
        Rule("refill_warning", Level.WARNING, unreachable_copy=True),
        Rule("refill_caregiver", Level.CAREGIVER, to_caregivers=True, unreachable_copy=True),
        Rule("refill_emergency", Level.EMERGENCY, to_caregivers=True, unreachable_copy=True),
        # A few hours after a caregiver's "I'm on it": is the refill sorted? (to them only)
        Rule("refill_checkback", Level.CAREGIVER, to_person=False, to_claimer=True),
        Rule("taper_dose", Level.ROUTINE),
        Rule("taper_snoozed", Level.ROUTINE),
        Rule("taper_nudge", Level.NUDGE, unreachable_copy=True),  # the one follow-up of a dose
        Rule(
            "taper_caregiver",
            Level.CAREGIVER,
            to_person=False,
            to_caregivers=True,
            unreachable_copy=True,
        ),
        # Once a day instead of a stream, when several doses of the day are not marked.
        Rule("taper_digest", Level.WARNING, to_caregivers=True, unreachable_copy=True),
        Rule("taper_step", Level.ROUTINE, ackable=False),
        Rule("taper_check", Level.ROUTINE),
        # The one-off "check again" after a checklist said "keep watching": the person only,
        # never louder (its words are in content/checklist.yaml, its button starts the checklist).
        Rule("recheck_due", Level.ROUTINE, ackable=False),
    )
}


@dataclass(frozen=True)
class LadderStep:
    """Once the refill appointment has passed unconfirmed: the rule for a day with at most
    `days_left` days before the pump's alarm date (None: any other day)."""

    days_left: int | None
    kind: str


@dataclass(frozen=True)
class Ladder:
    refill_before_days: tuple[int, ...]  # reminders before the appointment (0 = its morning)
    refill_first_check: tuple[int, str | None]  # (days after the appointment, time or None)
    refill_steps: tuple[LadderStep, ...]  # checked in order, first match wins
    # An appointment fewer than this many days before the alarm date is too late: the bot counts
    # down to the alarm date instead and asks the person to book an earlier refill.
    rebook_margin_days: int
    rebook_days: tuple[int, ...]  # days before the alarm date with a "please rebook" reminder
    urgent_days: int  # from this many days before the alarm date the ladder runs (rebooking)
    emergency_hours: tuple[int, ...]  # hours after the reminder time of each emergency message
    dose_steps: tuple[tuple[int, str], ...]  # (minutes after a dose, rule) until acknowledged
    caregivers_always: bool  # caregivers get every step from the first missed one


STANDARD = Ladder(
    refill_before_days=(14, 7, 3, 1, 0),
    refill_first_check=(1, None),  # the next morning, at the reminder time
    refill_steps=(
        LadderStep(0, "refill_emergency"),
        LadderStep(2, "refill_caregiver"),
        LadderStep(4, "refill_warning"),
        LadderStep(None, "refill_overdue"),
    ),
    rebook_margin_days=3,  # F109: clinics refill 3-5 days before the alarm date (adults)
    rebook_days=(28, 21, 14, 10, 7, 6, 5),
    urgent_days=4,
    emergency_hours=(0, 4, 8),  # three times a day, until "Refill done" or the plan is stopped
    dose_steps=((30, "taper_nudge"), (120, "taper_caregiver")),
    caregivers_always=False,
)

# Higher risk of severe withdrawal (content/facts.yaml F063): sooner, louder, caregivers always.
HIGH_RISK = Ladder(
    refill_before_days=(14, 7, 3, 1, 0),
    refill_first_check=(0, "19:00"),  # the evening of the appointment day
    refill_steps=(
        LadderStep(1, "refill_emergency"),
        LadderStep(4, "refill_caregiver"),
        LadderStep(None, "refill_warning"),
    ),
    rebook_margin_days=3,
    rebook_days=(28, 21, 14, 10, 8, 7),
    urgent_days=6,
    emergency_hours=(0, 3, 6, 9),
    dose_steps=((20, "taper_nudge"), (60, "taper_caregiver")),
    caregivers_always=True,
)

HIGH_RISK_QUESTIONS = ("spinal_t6", "communication", "prior_withdrawal")
# The person's own answers that close an event (a plan's group): "Refill done", a dose taken or
# skipped, the daily check answered "fine" or with a sign. Once one is given the ladder for that
# event has stopped, a later answer to it is "already answered", and a caregiver who taps an older
# alert is told it is sorted. A caregiver's "I'm on it" / "Called the clinic" closes only the
# caregiver step: the person's own reminders go on until the refill is confirmed, the caregiver
# who took it is asked after `CHECKBACK_AFTER` whether it is sorted, and the caregivers get the
# ladder again after `CLAIM_HOLDS` (or at once on "Not yet").
CLOSING_ANSWERS = ("done", "taken", "skip", "fine", "signs")
SNOOZE_MINUTES = 15
MAX_SNOOZES = 3
# F095: a missed dose is skipped when the next one is due in less than 2 hours, so a snooze
# never brings a dose that close to the next one (the person is offered "skip this one").
SNOOZE_GAP = dt.timedelta(hours=2)
DIGEST_AT = dt.time(21, 30)  # the daily list of doses not marked, when there are several
DIGEST_MIN_MISSED = 2
LATER = dt.timedelta(hours=3)  # "Remind me later" on a refill reminder
MAX_LATER = 2  # ... at most this many times in a day
CHECKBACK_AFTER = dt.timedelta(hours=4)  # a caregiver who said "I'm on it" is asked again
CLAIM_HOLDS = dt.timedelta(hours=6)  # unanswered by then, the caregivers get the ladder again
# Dates a person types: an alarm or appointment is at most about a year ahead (clinics refill
# every few weeks or months), and so is the start of a taper step.
MAX_DAYS_AHEAD = 366


def ladder_for(high_risk: tuple[str, ...] | list[str] | None) -> Ladder:
    """The faster ladder when any high-risk answer is yes."""
    return HIGH_RISK if high_risk else STANDARD


def refill_step(ladder: Ladder, days_left: int) -> str:
    for step in ladder.refill_steps:
        if step.days_left is None or days_left <= step.days_left:
            return step.kind
    raise ValueError("a ladder needs a catch-all step")


def wants_caregivers(kind: str, high_risk: bool, unreachable: bool = False) -> bool:
    """Do the linked caregivers get this one? (The person cannot be reached: every rule with a
    copy for them.)"""
    rule = RULES[kind]
    if rule.to_claimer:
        return False
    if unreachable and rule.unreachable_copy:
        return True
    return rule.to_caregivers or (high_risk and rule.level >= Level.NUDGE)
