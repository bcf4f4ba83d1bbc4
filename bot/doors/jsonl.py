"""`classify --jsonl` streaming: one answer line per input line, in order, on every core.

Lines are answered as soon as no more input is waiting, so a program that writes one line and
waits for the answer gets it at once (line-by-line streaming). When many lines are waiting (a
file piped in), they are answered in batches by worker processes forked after the engine is
loaded, so both cores work and the order of the output is kept. This module knows nothing of
the decision: it is given the function that turns one input line into one output line.
"""

from __future__ import annotations

import multiprocessing
import os
import select
from collections.abc import Callable, Iterator
from multiprocessing.pool import Pool
from typing import BinaryIO

READ_SIZE = 1 << 16  # bytes asked of the operating system at a time
BATCH = 4096  # lines gathered at most before they are answered
PARALLEL_FROM = 512  # lines waiting at once before worker processes are used
SLICE = 256  # lines one worker answers per task

Handler = Callable[[str, int], "str | None"]  # (line, line number) -> output line, no "\n"

_handler: Handler | None = None  # set in the parent before the workers fork


def _answer(task: tuple[int, list[str]]) -> str:
    first, lines = task
    assert _handler is not None
    out = (_handler(line, first + i) for i, line in enumerate(lines))
    return "".join(f"{text}\n" for text in out if text is not None)


def _waiting(fd: int) -> bool:
    """Whether more input can be read now without blocking."""
    try:
        return bool(select.select([fd], [], [], 0)[0])
    except (OSError, ValueError):
        return False


def _lines(source: BinaryIO) -> Iterator[tuple[list[str], bool]]:
    """Complete lines read so far, each batch with whether input has ended. A batch ends when
    no more input is waiting or BATCH lines are gathered."""
    fd = source.fileno()
    pending = b""
    lines: list[str] = []
    while True:
        chunk = os.read(fd, READ_SIZE)
        if not chunk:
            if pending:
                lines.append(pending.decode("utf-8", errors="surrogateescape"))
            yield lines, True
            return
        pending += chunk
        *complete, pending = pending.split(b"\n")
        lines.extend(c.decode("utf-8", errors="surrogateescape") for c in complete)
        if len(lines) >= BATCH or not _waiting(fd):
            yield lines, False
            lines = []


def stream(source: BinaryIO, write: Callable[[str], object], flush: Callable[[], object],
           handler: Handler, workers: int | None = None) -> int:  # fmt: skip
    """Answer every line of `source` through `handler`, writing results in input order.
    Returns the number of lines answered. `workers`: processes for large input (default: the
    number of cores; 1 answers everything in this process)."""
    global _handler
    _handler = handler
    cores = workers if workers is not None else (os.cpu_count() or 1)
    pool: Pool | None = None
    number = 0
    try:
        for lines, _ended in _lines(source):
            if not lines:
                continue
            if len(lines) >= PARALLEL_FROM and cores > 1:
                if pool is None:
                    pool = multiprocessing.get_context("fork").Pool(cores)
                tasks = [
                    (number + 1 + i, lines[i : i + SLICE]) for i in range(0, len(lines), SLICE)
                ]
                for text in pool.imap(_answer, tasks):
                    write(text)
            else:
                write(_answer((number + 1, lines)))
            number += len(lines)
            flush()
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    return number
