"""Which process runs the scheduler: exactly one per database, and another takes over on death.

On PostgreSQL several bot processes may share one database. Each holds a dedicated connection
(never from a pool) and polls `pg_try_advisory_lock`; the holder runs the scheduler. A session
advisory lock dies with its connection, so when the leader process dies a follower gets the lock
on its next poll and starts the scheduler, whose start-up reconcile delivers what was missed.
(Behind a transaction-pooling PgBouncer session locks do not work: connect directly.) On a
SQLite file the same holds through an exclusive lock on a file next to it (`flock`, released by
the system when the process dies): a second process on the same file refuses to run the
scheduler, says so once in the log, and takes over if the first one stops. Deliveries stay
idempotent either way (bot/reminders/service.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO

from sqlalchemy.engine import make_url

from bot.storage.store import normalise_url

log = logging.getLogger(__name__)

LOCK_KEY = 0x42AC_10FE  # "baclofen": the advisory lock id of the scheduler leader
POLL_SECONDS = 2.0

Callback = Callable[[], Awaitable[None]]


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL (None: in memory, or not SQLite)."""
    parsed = make_url(normalise_url(url))
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    return Path(str(parsed.database)).resolve()


class FileLock:
    """An exclusive, non-blocking lock on `<database>.scheduler.lock` (POSIX `flock`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    def acquire(self) -> bool:
        import fcntl

        if self._file is not None:
            return True
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 (held while leading)
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle
        return True

    def holder(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8").strip() or "?"
        except OSError:
            return "?"

    def release(self) -> None:
        if self._file is not None:
            import fcntl

            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def conninfo(url: str) -> str:
    """A libpq connection string for psycopg from a SQLAlchemy URL."""
    parsed = make_url(normalise_url(url)).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


class Leadership:
    """Call `on_elected` once this process holds the lock, `on_lost` if it loses it."""

    def __init__(
        self,
        url: str,
        on_elected: Callback,
        on_lost: Callback | None = None,
        key: int = LOCK_KEY,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.url = url
        self.on_elected = on_elected
        self.on_lost = on_lost
        self.key = key
        self.poll_seconds = poll_seconds
        self.is_leader = False
        self._task: asyncio.Task[None] | None = None
        self._connection: object | None = None
        file = sqlite_file(url)
        self._file_lock = FileLock(file.with_name(file.name + ".scheduler.lock")) if file else None

    @property
    def elects(self) -> bool:
        """Only PostgreSQL needs an election; SQLite is one process."""
        return normalise_url(self.url).startswith("postgresql")

    async def start(self) -> None:
        if not self.elects:
            if self._file_lock is None:  # an in-memory database: one process by definition
                self.is_leader = True
                await self.on_elected()
                return
            if not await self._try_file():
                log.error(
                    "another process (pid %s) already runs the reminders on this SQLite file; "
                    "this process will not send reminders while it runs (lock file %s)",
                    self._file_lock.holder(),
                    self._file_lock.path.name,
                )
                self._task = asyncio.create_task(self._wait_file(), name="leader-file-lock")
            return
        self._task = asyncio.create_task(self._run(), name="leader-election")

    async def _try_file(self) -> bool:
        assert self._file_lock is not None
        if not self._file_lock.acquire():
            return False
        self.is_leader = True
        log.info("this process runs the scheduler (SQLite lock file)")
        await self.on_elected()
        return True

    async def _wait_file(self) -> None:
        while not await self._try_file():
            await asyncio.sleep(self.poll_seconds)

    async def _run(self) -> None:
        import psycopg

        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    conninfo(self.url), autocommit=True
                ) as connection:
                    self._connection = connection
                    await self._hold(connection)
            except (psycopg.Error, OSError) as exc:
                log.warning("leader election: database connection lost (%s)", type(exc).__name__)
            finally:
                self._connection = None
                if self.is_leader:
                    self.is_leader = False
                    log.warning("leader election: lost the lock, stopping the scheduler")
                    if self.on_lost is not None:
                        await self.on_lost()
            await asyncio.sleep(self.poll_seconds)

    async def _hold(self, connection: object) -> None:
        import psycopg

        assert isinstance(connection, psycopg.AsyncConnection)
        while True:
            if not self.is_leader:
                cursor = await connection.execute("SELECT pg_try_advisory_lock(%s)", (self.key,))
                row = await cursor.fetchone()
                if row and row[0]:
                    self.is_leader = True
                    log.info("leader election: this process runs the scheduler")
                    await self.on_elected()
            else:
                await connection.execute("SELECT 1")  # notices a dead connection
            await asyncio.sleep(self.poll_seconds)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.is_leader:
            self.is_leader = False
            if self.on_lost is not None:
                await self.on_lost()
        if self._file_lock is not None:
            self._file_lock.release()
