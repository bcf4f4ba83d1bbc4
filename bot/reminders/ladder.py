"""The escalation ladder as data: levels, delays, and who gets each step.

Rules are plain data read by `bot.reminders.plans` (to lay out occurrences) and
`bot.reminders.service` (to pick recipients, order deliveries and decide what may wait for quiet
hours). Higher levels are delivered first when many things are due at once. This module holds no
user-facing text (the words for each rule live in content/reminders.yaml under the same name)
and does no I/O.
"""

from __future__ import annotations

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
        Rule("refill_before", Level.ROUTINE),
        Rule("refill_overdue", Level.NUDGE),
        Rule("refill_warning", Level.WARNING),
        Rule("refill_caregiver", Level.CAREGIVER, to_caregivers=True),
        Rule("refill_emergency", Level.EMERGENCY, to_caregivers=True),
        Rule("taper_dose", Level.ROUTINE),
        Rule("taper_snoozed", Level.ROUTINE),
        Rule("taper_nudge", Level.NUDGE),
        Rule("taper_caregiver", Level.CAREGIVER, to_caregivers=True),
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
    refill_days_after_alarm: int  # the ladder keeps going this many days past the alarm date
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
    refill_days_after_alarm=2,
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
    refill_days_after_alarm=2,
    dose_steps=((20, "taper_nudge"), (60, "taper_caregiver")),
    caregivers_always=True,
)

HIGH_RISK_QUESTIONS = ("spinal_t6", "communication", "prior_withdrawal")
# The person's own answers that close an event (a plan's group): "Refill done", a dose taken or
# skipped, the daily check answered "fine" or with a sign. Once one is given the ladder for that
# event has stopped, a later answer to it is "already answered", and a caregiver who taps an older
# alert is told it is sorted. A caregiver's "I'm on it" / "Called the clinic" also stops the
# ladder, but never closes the event for the person (they can still say the refill was done).
CLOSING_ANSWERS = ("done", "taken", "skip", "fine", "signs")
SNOOZE_MINUTES = 15
MAX_SNOOZES = 3


def ladder_for(high_risk: tuple[str, ...] | list[str] | None) -> Ladder:
    """The faster ladder when any high-risk answer is yes."""
    return HIGH_RISK if high_risk else STANDARD


def refill_step(ladder: Ladder, days_left: int) -> str:
    for step in ladder.refill_steps:
        if step.days_left is None or days_left <= step.days_left:
            return step.kind
    raise ValueError("a ladder needs a catch-all step")


def wants_caregivers(kind: str, high_risk: bool) -> bool:
    rule = RULES[kind]
    return rule.to_caregivers or (high_risk and rule.level >= Level.NUDGE)
