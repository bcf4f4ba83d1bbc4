"""Several bot processes on one PostgreSQL: exactly one runs the scheduler, and when it is
killed another takes over and delivers what falls due. PostgreSQL only (SQLite has no election).
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.storage.models import Delivery, Occurrence, Plan
from bot.storage.store import Store, open_store

ROOT = Path(__file__).resolve().parents[2]


def spawn(url: str, key: int, name: str, out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.reminders.leader_worker", url, str(key), name, str(out)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip


def wait_line(proc: subprocess.Popen[str], wanted: str, seconds: float = 20.0) -> None:
    assert proc.stdout is not None
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        line = proc.stdout.readline()
        if line.strip() == wanted:
            return
        if not line and proc.poll() is not None:
            raise AssertionError(f"worker exited ({proc.returncode}) before {wanted}")
    raise AssertionError(f"no {wanted} within {seconds} s")


def wait_for(path: Path, count: int, seconds: float = 20.0) -> list[list[str]]:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        rows = [r.split("\t") for r in path.read_text().splitlines()] if path.exists() else []
        if len(rows) >= count:
            return rows
        time.sleep(0.1)
    raise AssertionError(f"only {path.read_text() if path.exists() else ''!r}")


def wait_sent(store: Store, count: int) -> None:
    end = time.monotonic() + 10
    while time.monotonic() < end:
        with store.tx() as db:
            sent = db.scalar(select(func.count()).where(Delivery.state == "sent"))
        if sent == count:
            return
        time.sleep(0.05)
    raise AssertionError("the leader did not mark its delivery sent")


def test_a_follower_takes_over_when_the_leader_is_killed(db_url: str, tmp_path: Path) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("leader election is for PostgreSQL; SQLite runs one process")
    key = zlib.crc32(db_url.encode())  # a lock of its own for this test's schema
    store = open_store(db_url)  # migrate once, before the workers start
    now = dt.datetime.now(dt.UTC)
    store.set_person("tg:7", now, timezone="UTC", consent=True)
    out = tmp_path / "deliveries.tsv"
    a = spawn(db_url, key, "A", out)
    b = None
    try:
        wait_line(a, "LEADER")
        b = spawn(db_url, key, "B", out)
        wait_line(b, "STARTED")
        with store.tx() as db:
            person = store.person(db, "tg:7", now)
            assert person is not None
            plan = Plan(person_id=person.id, kind="refill", status="active", data={},
                        created_at=now, updated_at=now)  # fmt: skip
            db.add(plan)
            db.flush()
            for group, delay in (("first", 0.0), ("second", 12.0)):
                due = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=delay)
                db.add(Occurrence(plan_id=plan.id, person_id=person.id, kind="refill_overdue",
                                  group_key=group, due_at=due, level=1, priority=10,
                                  status="pending", late=False, payload={}))  # fmt: skip
        rows = wait_for(out, 1)  # the leader's sweep finds the first one
        assert rows[0][0] == "A"
        wait_sent(store, 1)  # (a kill before the sent mark would make an announced repeat)
        os.kill(a.pid, signal.SIGKILL)  # the leader dies before the second is due
        a.wait(10)
        wait_line(b, "LEADER")
        rows = wait_for(out, 2, seconds=30)
        assert [r[0] for r in rows] == ["A", "B"], rows
        time.sleep(1.0)
        assert len(out.read_text().splitlines()) == 2  # nothing sent twice
    finally:
        for proc in (a, b):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(10)
        store.close()
