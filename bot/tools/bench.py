"""`python -m bot bench`: the speed goals of the core, measured, printed, never asserted.

Per-message latency in-process (p50/p99, normalisation cache cleared so each message is new),
throughput of `classify --jsonl` over N messages in a fresh process, start-up time of
`classify`, and the peak memory (RSS) of that process. Messages come from the development set
and the public sample, cycled.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from bot.core.engine import Engine

_ROOT = Path(__file__).resolve().parents[2]


def _messages() -> list[str]:
    files = sorted(
        (_ROOT / "tests" / "data").rglob("*.jsonl")
    )  # development, first sight, training
    public = _ROOT.parent / "shared" / "eval" / "public-sample.jsonl"
    if public.exists():
        files.append(public)
    texts = list(
        dict.fromkeys(
            json.loads(line)["text"]
            for f in files
            for line in f.open(encoding="utf-8")
            if line.strip()
        )
    )
    return texts or ["what if I miss a dose", "my pump is beeping", "he is having a fit"]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}


def latency(engine: Engine, texts: list[str], rounds: int = 3) -> tuple[float, float, float]:
    samples: list[float] = []
    for _ in range(rounds):
        for text in texts:
            engine.normaliser.clear_cache()
            start = time.perf_counter()
            engine._classify(text, None)  # uncached: every message is new
            samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p50 = statistics.median(samples)
    p99 = samples[int(len(samples) * 0.99) - 1]
    return p50, p99, samples[-1]


def startup_seconds(runs: int = 5) -> float:
    times: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "bot", "classify", "hello"], check=True,
                       capture_output=True, env=_env(), cwd=_ROOT)  # fmt: skip
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _run_measured(args: list[str], stdin: str) -> tuple[str, int, float]:
    """Run a command, feeding `stdin`; return (stdout, exit status, the child's own peak RSS in
    MB). The peak comes from wait4() on that child alone (RUSAGE_CHILDREN would report the
    largest child ever waited for, or the parent's size copied at fork)."""
    proc = subprocess.Popen(
        args,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=_env(),
        cwd=_ROOT,
    )
    stdout, feed = proc.stdout, proc.stdin
    assert stdout is not None and feed is not None
    chunks: list[str] = []
    reader = threading.Thread(target=lambda: chunks.append(stdout.read()))
    reader.start()
    feed.write(stdin)
    feed.close()
    reader.join()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return "".join(chunks), proc.returncode, usage.ru_maxrss / 1024


def throughput(texts: list[str], n: int) -> tuple[float, float, float]:
    """Messages per second of `classify --jsonl` (whole process) over `n` lines cycling
    `texts`, wall seconds, peak RSS MB of the classify process itself (its worker processes
    are forked copies that share its memory pages; each is measured by the same wait4 call
    only for the parent). With `n` or more texts every line is a new message."""
    lines = "".join(json.dumps({"id": i, "text": texts[i % len(texts)]}) + "\n" for i in range(n))
    start = time.perf_counter()
    out, status, peak = _run_measured([sys.executable, "-m", "bot", "classify", "--jsonl"], lines)
    wall = time.perf_counter() - start
    if status != 0 or len(out.splitlines()) != n:
        raise RuntimeError(f"classify --jsonl failed with status {status}")
    return n / wall, wall, peak


def main(n: int = 10_000) -> int:
    texts = _messages()
    sample = texts[:n] if len(texts) >= n else [f"{texts[i % len(texts)]} ({i})" for i in range(n)]
    start = time.perf_counter()
    engine = Engine.load()
    load = time.perf_counter() - start
    p50, p99, worst = latency(engine, sample, rounds=1)
    boot = startup_seconds()
    new_rate, new_wall, new_rss = throughput(sample, n)
    rate, wall, rss = throughput(sample[:500], n)
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"messages: {len(sample)} all different, from tests/data (development, first-sight")
    print("  and training sets) and the public sample")
    print(f"engine load in-process: {load:.2f} s")
    print(f"latency in-process: p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {worst:.2f} ms")
    print("  (goal p99 <= 2 ms)")
    print(f"classify --jsonl, {n} messages all different, start-up included:")
    print(f"  {new_wall:.2f} s = {new_rate:,.0f} messages/s  (goal >= 3,000/s)")
    print(f"classify --jsonl, {n} messages cycling 500 (decisions reused), start-up included:")
    print(f"  {wall:.2f} s = {rate:,.0f} messages/s")
    print(f"start-up of 'classify' (median of 5 runs): {boot:.2f} s  (goal <= 1 s)")
    print(
        f"peak RSS of the 'classify --jsonl' process: {max(rss, new_rss):.0f} MB  (goal <= 150 MB)"
    )
    return 0
