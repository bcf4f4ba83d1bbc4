"""Benchmark the Telegram door end to end through the loopback Bot API (tests/e2e/fake_bot_api).

Real HTTP both ways: the bot long-polls the fake, runs each message through the core, and sends
its replies; we measure messages per second and the latency from the moment an update is queued
to the moment its last reply reaches the server, with the AIORateLimiter on and off, for a burst
from many chats at once and for a steady stream below Telegram's limits (~30 messages/s).

    .venv/bin/python benchmarks/telegram_bench.py [--chats 400] [--per-chat 3] [--rate 20]
                                                  [--seconds 10] [--rtt-ms 80]

The last two runs add a network delay to every answer from the server (like a real Bot API
across the internet), which is where handling several people's turns at once pays off.

It prints numbers only; it asserts nothing (timing checks do not belong in unit tests).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.app import build_dialogue  # noqa: E402
from bot.conversation.dialogue import Dialogue  # noqa: E402
from bot.conversation.sessions import Session  # noqa: E402
from bot.doors.telegram import ALLOWED_UPDATES, TelegramApp, build_app  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from tests.e2e.fake_bot_api import TOKEN, FakeBotApi  # noqa: E402

QUESTIONS = (
    "what if I miss a dose",
    "my pump is beeping",
    "can I drink alcohol on baclofen",
    "what are the signs of withdrawal",
    "how do pump refills work",
    "she is having a fit",
    "how many mg should I take tonight",
    "xyz 123",
)


@dataclass
class Result:
    name: str
    turns: int
    sends: int
    seconds: float
    latencies: list[float]

    def line(self) -> str:
        lat = sorted(self.latencies)
        p50 = statistics.median(lat) * 1000
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
        return (
            f"{self.name:<38} {self.turns:>5} turns {self.sends:>5} sends in {self.seconds:6.2f} s"
            f"  = {self.turns / self.seconds:7.1f} turns/s {self.sends / self.seconds:7.1f} sends/s"
            f"  latency p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  max {lat[-1] * 1000:7.1f} ms"
        )


async def _run(
    dialogue: Dialogue,
    name: str,
    limiter: bool,
    chats: int,
    per_chat: int,
    rate: float | None,
    rtt: float = 0.0,
) -> Result:
    """`rate` None: every update at once (a burst); else that many updates per second.
    `rtt`: seconds the server waits before each answer, like a real network."""
    fake = FakeBotApi()
    fake.latency = rtt
    base_url = await fake.start()
    folder = tempfile.mkdtemp(prefix="telegram-bench-")
    settings = load_settings(
        _env_file=None,
        telegram_bot_token=TOKEN,
        telegram_rate_limiter=limiter,
        database_url=f"sqlite:///{folder}/bench.sqlite3",  # sessions are kept, as in production
    )
    app: TelegramApp = build_app(settings, dialogue=dialogue, base_url=base_url)
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    await app.updater.start_polling(poll_interval=0, timeout=1, allowed_updates=ALLOWED_UPDATES)
    await app.start()

    replies_per_text = {q: len(dialogue.text(Session(), q).messages) for q in QUESTIONS}
    plan: list[tuple[int, str]] = []  # (chat, text), chats interleaved
    sessions = app.bot_data["door"].companion.sessions
    for chat in range(chats):  # people who met the bot before (a first contact asks consent)
        sessions.save(f"tg:{10_000 + chat}", Session())
    for round_ in range(per_chat):
        for chat in range(chats):
            plan.append((10_000 + chat, QUESTIONS[(chat + round_) % len(QUESTIONS)]))
    expected_sends = sum(replies_per_text[text] for _, text in plan)
    # Which send completes which update: each chat's turns are answered in order.
    queued: dict[int, list[tuple[int, int]]] = {}  # chat -> [(update_id, sends up to it)]

    started = time.perf_counter()
    for index, (chat, text) in enumerate(plan):
        if rate is not None:
            delay = started + index / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        message = fake.user_says(text, user_id=chat)
        update_id = fake.updates[-1]["update_id"]
        assert fake.updates[-1]["message"] is message
        done_before = queued[chat][-1][1] if chat in queued else 0
        queued.setdefault(chat, []).append((update_id, done_before + replies_per_text[text]))
    sends_timeout = 60 + expected_sends / (25 if limiter else 200)
    await fake.wait_for(lambda: len(fake.sent()) >= expected_sends, timeout=sends_timeout)
    seconds = time.perf_counter() - started

    arrivals: dict[int, list[float]] = {}
    for call in fake.calls:
        if call.method == "sendMessage" and call.status == 200:
            arrivals.setdefault(int(call.params["chat_id"]), []).append(call.at)
    latencies = [
        arrivals[chat][last - 1] - fake.update_times[update_id]
        for chat, turns in queued.items()
        for update_id, last in turns
    ]
    stopping = asyncio.ensure_future(app.updater.stop())
    await asyncio.sleep(0.01)
    await fake.release_polls()
    await stopping
    await app.stop()
    assert app.post_stop is not None
    await app.post_stop(app)
    await app.shutdown()
    await fake.stop()
    return Result(name, len(plan), expected_sends, seconds, latencies)


async def main(chats: int, per_chat: int, rate: float, steady_seconds: float, rtt: float) -> None:
    logging.basicConfig(level=logging.WARNING)
    dialogue = build_dialogue(load_settings(_env_file=None))
    steady = max(1, int(rate * steady_seconds))
    limited_burst = max(1, min(chats, 90))  # ~30 sends/s: keep the limited burst short
    runs = [
        ("burst, rate limiter off", False, chats, per_chat, None),
        ("burst, rate limiter on", True, limited_burst, 1, None),
        (f"steady {rate:g}/s, rate limiter off", False, steady, 1, rate),
        (f"steady {rate:g}/s, rate limiter on", True, steady, 1, rate),
    ]
    ms = f"{rtt * 1000:g} ms"
    slow = [
        (f"burst, limiter off, {ms} network", False, chats, 1, None),
        (f"steady {rate:g}/s, limiter on, {ms} network", True, steady, 1, rate),
    ]
    print(f"Telegram door over loopback HTTP: python-telegram-bot, {len(QUESTIONS)} questions,")
    print("one update = one person's message; sends = replies (an emergency turn sends 2+).")
    for name, limiter, n_chats, n_each, pace in runs:
        result = await _run(dialogue, name, limiter, n_chats, n_each, pace)
        print(result.line(), flush=True)
    for name, limiter, n_chats, n_each, pace in slow if rtt else []:
        result = await _run(dialogue, name, limiter, n_chats, n_each, pace, rtt)
        print(result.line(), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chats", type=int, default=400, help="chats in the unlimited burst")
    parser.add_argument("--per-chat", type=int, default=3, help="messages per chat in that burst")
    parser.add_argument("--rate", type=float, default=20.0, help="updates/s in the steady runs")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the steady runs")
    parser.add_argument("--rtt-ms", type=float, default=80.0, help="simulated network delay")
    args = parser.parse_args()
    asyncio.run(main(args.chats, args.per_chat, args.rate, args.seconds, args.rtt_ms / 1000))
