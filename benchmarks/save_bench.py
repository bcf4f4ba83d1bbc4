"""How long one person's refill or taper save takes, including the far-future dates that once
froze the bot (issue 12): the whole turn through the companion, as a door runs it, on a SQLite
file (and PostgreSQL with --url).

    .venv/bin/python benchmarks/save_bench.py [--repeat 30] [--url sqlite:///path.sqlite3]

On PostgreSQL give it a schema of its own (created first), never the shared public one:
    --url "postgresql+psycopg://postgres:root@127.0.0.1:5432/test?options=-csearch_path%3Dsave_bench"

For each case it types the form, then times the summary turn and the Save turn (the one that
lays out the occurrences). Goal (issue 12): no save over 100 ms; a date more than a year ahead
is refused kindly (the case "alarm 1000 years ahead" shows the refusal and stores nothing).
It prints numbers; the goal is checked and reported, not asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bot.app import build  # noqa: E402
from bot.clock import FakeClock  # noqa: E402
from bot.companion import Commanded, Person, Pressed, Said  # noqa: E402
from bot.conversation.sessions import Session  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.storage.models import Occurrence  # noqa: E402

NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
CASES: dict[str, tuple[str, list[str]]] = {
    # name: (command, what is typed after the risk questions)
    "refill, alarm in 60 days": ("refill", ["in 60 days", "in 55 days", "9:00"]),
    "refill, alarm 366 days ahead (the limit)": ("refill", ["2027-03-03", "2027-02-20", "9:00"]),
    "refill, appointment after the alarm": ("refill", ["in 20 days", "in 40 days", "9:00"]),
    "taper, 8 doses a day for 366 days": (
        "taper",
        ["10 mg", "6:00, 8:00, 10:00, 12:00, 14:00, 16:00, 18:00, 20:00", "tomorrow", "366"],
    ),
}


class Quiet:
    async def send(self, chat_key: str, messages: object) -> list[str]:
        return []


def run(url: str, repeat: int) -> dict[str, list[tuple[float, float, int]]]:
    clock = FakeClock(NOW)
    settings = load_settings(_env_file=None, database_url=url)
    app = build(settings, Quiet(), clock=clock)
    companion = app.companion
    results: dict[str, list[tuple[float, float, int]]] = {}
    for name, (command, typed) in CASES.items():
        results[name] = []
        for n in range(repeat):
            key = f"bench:{abs(hash(name)) % 10_000}:{n}"
            profile = Session(consent=True, role="patient", route="pump", region="UK",
                              timezone="Europe/London")  # fmt: skip
            companion.sessions.save(key, profile)
            who = Person(key)
            last = companion.handle(who, Commanded(command)).messages
            for _ in range(3):
                last = companion.handle(who, Pressed(_data(last, "No"))).messages
            for words in typed[:-1]:
                last = companion.handle(who, Said(words)).messages
            start = time.perf_counter()  # the summary: the last answer shows the plan back
            last = companion.handle(who, Said(typed[-1])).messages
            if command == "taper":
                last = companion.handle(who, Pressed(_data(last, "That is all"))).messages
            summary = time.perf_counter() - start
            start = time.perf_counter()
            companion.handle(who, Pressed(_data(last, "Save")))
            save = time.perf_counter() - start
            with app.store.tx() as db:
                rows = int(db.scalar(select(func.count(Occurrence.id))) or 0)
            results[name].append((summary, save, rows))
            app.store.delete_person(key)
    app.store.close()
    return results


def _data(messages: list[object], label: str) -> str:
    for message in messages:
        for button in getattr(message, "buttons", ()):
            if button.label == label:
                return str(button.data)
    raise LookupError(label)


def refused(url: str) -> str:
    """The far-future alarm date: refused kindly, nothing stored."""
    clock = FakeClock(NOW)
    app = build(load_settings(_env_file=None, database_url=url), Quiet(), clock=clock)
    key = "bench:far"
    app.companion.sessions.save(key, Session(consent=True, role="patient", route="pump",
                                             region="UK", timezone="UTC"))  # fmt: skip
    who = Person(key)
    last = app.companion.handle(who, Commanded("refill")).messages
    for _ in range(3):
        last = app.companion.handle(who, Pressed(_data(last, "No"))).messages
    times = []
    for words in ("in 1000 years", "9999-12-30"):
        start = time.perf_counter()
        reply = app.companion.handle(who, Said(words)).messages
        times.append(time.perf_counter() - start)
    app.store.delete_person(key)
    app.store.close()
    return f"{reply[0].text.splitlines()[0]!r} ({max(times) * 1000:.1f} ms)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.url or f"sqlite:///{folder}/bench.sqlite3"
        print(f"store: {url.split('://')[0]}, {args.repeat} saves per case")
        worst = 0.0
        for name, rows in run(url, args.repeat).items():
            saves = [s for _, s, _ in rows]
            summaries = [s for s, _, _ in rows]
            worst = max(worst, max(saves))
            ms = {k: v * 1000 for k, v in (("p50", statistics.median(saves)), ("max", max(saves)),
                  ("s50", statistics.median(summaries)), ("smax", max(summaries)))}  # fmt: skip
            print(f"{name:45s} save p50 {ms['p50']:6.1f} ms, max {ms['max']:6.1f} ms; "
                  f"summary p50 {ms['s50']:6.1f}, max {ms['smax']:6.1f} ms; "
                  f"rows laid out {rows[-1][2]}")  # fmt: skip
        print(f"far-future alarm date: {refused(url)}")
        verdict = "met" if worst <= 0.1 else "NOT met"
        print(f"slowest save {worst * 1000:.1f} ms: goal <= 100 ms {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
