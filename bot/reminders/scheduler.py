"""The wake-ups: APScheduler 3.11 (`AsyncIOScheduler`, `SQLAlchemyJobStore` in the same database)
wakes the reminder service at the right real moment, one job per distinct due minute within a
day, and sweeps every few seconds for plans other processes wrote.

One `ReminderScheduler` per database, in the leader process only (`bot.reminders.leader`). At
start it reconciles (what fell due while the bot was down goes out once, late, with a note) and
plans its wake-ups afresh from our tables. It holds no rules and no text, and never sends itself.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

from bot.reminders.service import Reminders

log = logging.getLogger(__name__)

UTC = dt.UTC
MISFIRE_GRACE = 24 * 3600  # seconds: a late wake-up still runs (never APScheduler's 1 s default)
WAKE_JOB = f"{__name__}:wake"
SWEEP_JOB = f"{__name__}:sweep"
HORIZON = dt.timedelta(hours=24)  # wake-up jobs are kept this far ahead (clock time)
SWEEP_SECONDS = 5.0  # finds plans other processes wrote (the research's idle-leader pitfall)


_ACTIVE: ReminderScheduler | None = None


async def wake(moment: str) -> None:
    """A wake-up job (by textual reference, primitive argument): deliver what is due."""
    if _ACTIVE is not None:
        await _ACTIVE.run_due()


async def sweep() -> None:
    """The periodic safety net: plans made by other processes, missed wake-ups."""
    if _ACTIVE is not None:
        await _ACTIVE.run_due()


class ReminderScheduler:
    """One per database: runs in the leader process only (see bot/reminders/leader.py)."""

    def __init__(
        self,
        reminders: Reminders,
        horizon: dt.timedelta = HORIZON,
        sweep_seconds: float = SWEEP_SECONDS,
    ) -> None:
        self.reminders = reminders
        self._sweep = sweep_seconds
        self.clock = reminders.clock
        self.horizon = horizon
        self.scheduler: Any = None
        self.late_at_start = 0
        reminders.on_change.append(self.plan_jobs)

    @property
    def sweep_seconds(self) -> float:
        """Real seconds between sweeps: shorter on a fast demo clock, never under half a second."""
        return max(0.5, self._sweep / self.clock.speed)

    async def start(self) -> None:
        """Start: reconcile (late ones go out once, with a note), then wake-ups and the sweep."""
        global _ACTIVE
        from apscheduler.jobstores.memory import MemoryJobStore
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        # A wake-up or sweep every few seconds: APScheduler's INFO lines would flood the log
        # (and the local chat); our own logger reports what matters.
        for name in ("apscheduler.scheduler", "apscheduler.executors"):
            logger = logging.getLogger(name)
            logger.setLevel(max(logger.getEffectiveLevel(), logging.WARNING))
        self.scheduler = AsyncIOScheduler(
            jobstores={
                "default": SQLAlchemyJobStore(engine=self.reminders.store.engine),
                "memory": MemoryJobStore(),
            },
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": MISFIRE_GRACE,
            },
            timezone=UTC,
        )
        _ACTIVE = self
        self.scheduler.start()
        # Wake-ups follow from our tables and are planned again just below; the ones left from
        # an earlier run go first (on the loop's next turn they would run, and a job stored by
        # an older version may name a function that has moved).
        self.scheduler.remove_all_jobs(jobstore="default")
        self.late_at_start = self.reminders.reconcile()
        await self.run_due()
        self.scheduler.add_job(
            SWEEP_JOB,
            "interval",
            seconds=self.sweep_seconds,
            id="sweep",
            jobstore="memory",
            replace_existing=True,
            coalesce=True,
            misfire_grace_time=MISFIRE_GRACE,
        )

    async def run_due(self) -> None:
        await self.reminders.deliver_due()
        self.plan_jobs()

    def plan_jobs(self) -> None:
        """One wake-up job per distinct due minute within the horizon (ids are stable)."""
        if self.scheduler is None or not self.scheduler.running:
            return
        now = self.clock.now()
        existing = {job.id for job in self.scheduler.get_jobs(jobstore="default")}
        for moment in self.reminders.due_moments(now + self.horizon):
            job_id = f"wake:{moment.strftime('%Y%m%dT%H%M')}"
            if job_id in existing:
                continue
            self.scheduler.add_job(
                WAKE_JOB,
                "date",
                run_date=self.clock.wake_at(moment),
                args=[moment.isoformat()],
                id=job_id,
                jobstore="default",
                replace_existing=True,
                coalesce=True,
                misfire_grace_time=MISFIRE_GRACE,
            )

    async def stop(self) -> None:
        global _ACTIVE
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
            await asyncio.sleep(0)  # AsyncIOScheduler shuts down on the loop's next turn
        if _ACTIVE is self:
            _ACTIVE = None
        if self.plan_jobs in self.reminders.on_change:
            self.reminders.on_change.remove(self.plan_jobs)
