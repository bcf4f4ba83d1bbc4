"""Two bot processes started at the same moment on an empty PostgreSQL database both start: the
start-up migrations are serialised by an advisory lock (issue 12). Each round gets a database of
its own (CREATE DATABASE with a random name), dropped afterwards. PostgreSQL only: SQLite has one
writer at a time by itself."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.storage.store import make_engine
from tests.databases import DSN, postgres_problem

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 3  # without the lock, at least one of three rounds failed on this machine


@pytest.fixture
def empty_database() -> Iterator[str]:
    problem = postgres_problem()
    if problem:
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 is not reachable: {problem}")
    import psycopg

    name = f"race_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield f"postgresql+psycopg://postgres:root@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(DSN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


def spawn(url: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.storage.start_worker", url],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip


def start_two(url: str) -> list[tuple[int, str]]:
    workers = [spawn(url), spawn(url)]
    for worker in workers:  # both have loaded everything and wait at the database's door
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "READY"
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    results = []
    for worker in workers:
        out, _ = worker.communicate(timeout=60)
        results.append((worker.returncode, out.strip()))
    return results


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_two_processes_on_an_empty_postgresql_database_both_start(
    empty_database: str, round_: int
) -> None:
    assert start_two(empty_database) == [(0, "STARTED"), (0, "STARTED")]
    engine = make_engine(empty_database)
    try:
        with engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
            tables = conn.execute(
                text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            ).scalar()
    finally:
        engine.dispose()
    assert len(versions) == 1  # one schema, migrated once
    assert tables and tables > 10
