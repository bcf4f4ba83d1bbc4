"""The `classify --jsonl` door: one input line in, one JSON line out, in order, whatever the line
holds, on every core.

A good line is a JSON object with a "text" string and, optionally, a "profile" object
(`{"route": "oral" | "pump" | "both", "role": "patient" | "caregiver" | "professional"}`); the
answer is the object with the contract's decision merged in. Any other line is answered with an
error object, and the run goes on:

    {"error": "<what is wrong>", "line": <line number, from 1>}

Errors: not JSON; NaN or Infinity (not JSON either); nested too deeply; not an object; "text"
missing or not a string; "profile" not an object, or a value it does not know; a lone UTF-16
surrogate anywhere (it cannot be written as UTF-8). Every line written is valid JSON in UTF-8,
with U+2028 and U+2029 escaped (JavaScript readers split lines there). Blank lines are skipped.
Only a stream that is not UTF-8 at all stops the run (`UnreadableInput`).

Lines are answered as soon as no more input is waiting, so a program that writes one line and
waits for the answer gets it at once. When many lines are waiting (a file piped in), they are
answered in batches by worker processes forked after the engine is loaded, so both cores work;
the output keeps the input's order.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import select
from collections.abc import Callable, Iterator
from multiprocessing.pool import Pool
from typing import Any, BinaryIO

from bot.core.engine import Engine, Profile

MAX_DEPTH = 32  # objects and lists inside each other; a contract line needs 2
ROUTES = frozenset({"oral", "pump", "both"})
ROLES = frozenset({"patient", "caregiver", "professional"})


class BadLine(ValueError):
    """This line cannot be classified; the message says why (and never echoes the line)."""


class UnreadableInput(Exception):
    """The stream itself is not UTF-8 text (the line number says where)."""


def _no_constant(name: str) -> Any:
    raise BadLine("NaN and Infinity are not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadLine("a number is too large")
    return value


def _check(value: Any) -> None:
    """Depth and lone surrogates, walked without recursion."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise BadLine(f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(item, str):
            _text_ok(item)
        elif isinstance(item, dict):
            for key, inner in item.items():
                _text_ok(key)
                stack.append((inner, depth + 1))
        elif isinstance(item, list):
            stack.extend((inner, depth + 1) for inner in item)


def _text_ok(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadLine("a string holds a lone surrogate (not valid Unicode)") from None


def _depth_first(line: str) -> None:
    """Refuse deep nesting before the parser recurses into it."""
    depth = 0
    in_string = escaped = False
    for char in line:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise BadLine(f"nested more than {MAX_DEPTH} levels deep")
        elif char in "]}":
            depth -= 1


def _profile(value: Any) -> Profile | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise BadLine('"profile" must be an object such as {"route": "pump", "role": "patient"}')
    route, role = value.get("route"), value.get("role")
    if route is not None and (not isinstance(route, str) or route not in ROUTES):
        raise BadLine('"profile.route" must be "oral", "pump" or "both"')
    if role is not None and (not isinstance(role, str) or role not in ROLES):
        raise BadLine('"profile.role" must be "patient", "caregiver" or "professional"')
    return Profile(route=route, role=role)


def parse(line: str) -> tuple[dict[str, Any], Profile | None]:
    """The object of one line and its profile; raises `BadLine`."""
    if line.count("[") + line.count("{") > MAX_DEPTH:  # fewer cannot nest too deep
        _depth_first(line)
    try:
        row: Any = json.loads(line, parse_constant=_no_constant, parse_float=_finite)
    except BadLine:
        raise
    except RecursionError:
        raise BadLine(f"nested more than {MAX_DEPTH} levels deep") from None
    except json.JSONDecodeError as exc:
        raise BadLine(f"not JSON: {exc.msg} at column {exc.colno}") from None
    except ValueError:  # an integer with more digits than Python reads
        raise BadLine("a number has too many digits") from None
    _check(row)
    if not isinstance(row, dict):
        raise BadLine('each line must be a JSON object with a "text" string')
    if not isinstance(row.get("text"), str):
        raise BadLine('"text" is missing or not a string')
    return row, _profile(row.get("profile"))


def dump(value: dict[str, Any]) -> str:
    """One line of valid JSON: UTF-8, no NaN, U+2028 and U+2029 escaped."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def answer(engine: Engine, number: int, line: str) -> str:
    """The output line for input line `number` (an answer or an error object)."""
    try:
        row, profile = parse(line)
    except BadLine as exc:
        return dump({"error": str(exc), "line": number})
    return dump({**row, **engine.classify(row["text"], profile).to_json()})


READ_SIZE = 1 << 16  # bytes asked of the operating system at a time (a Linux pipe's size)
FULL_READ_WAIT = 0.05  # seconds to wait for more after a read that filled READ_SIZE
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


def _waiting(fd: int, wait: float = 0.0) -> bool:
    """Whether more input can be read now without blocking (or within `wait` seconds)."""
    try:
        return bool(select.select([fd], [], [], wait)[0])
    except (OSError, ValueError):
        return False


def _decode(raw: bytes, number: int) -> str:
    try:
        return raw.decode("utf-8-sig" if number == 1 else "utf-8")
    except UnicodeDecodeError:
        raise UnreadableInput(f"line {number} is not UTF-8 text") from None


def _lines(source: BinaryIO) -> Iterator[list[str]]:
    """Complete lines read so far, in batches: a batch ends when no more input is waiting, when
    BATCH lines are gathered, or at the end of the input. A line that is not UTF-8 raises
    `UnreadableInput`, after the good lines before it."""
    fd = source.fileno()
    pending = b""
    lines: list[str] = []
    number = 0  # lines yielded so far
    while True:
        chunk = os.read(fd, READ_SIZE)
        if chunk:
            *complete, pending = (pending + chunk).split(b"\n")
        else:
            complete, pending = ([pending] if pending else []), b""
        for raw in complete:
            try:
                lines.append(_decode(raw, number + len(lines) + 1))
            except UnreadableInput:
                if lines:
                    yield lines  # the good lines before it are answered first
                raise
        # A read that filled the whole buffer means a writer is ahead of us (a pipe holds 64
        # KiB): wait a moment for its next lines, so that a large input is answered in large
        # batches on every core, not in pipe-sized pieces in one process. A program that
        # writes a line and waits for its answer never fills the buffer: no wait for it.
        ahead = FULL_READ_WAIT if len(chunk) >= READ_SIZE else 0.0
        if lines and (not chunk or len(lines) >= BATCH or not _waiting(fd, ahead)):
            yield lines
            number += len(lines)
            lines = []
        if not chunk:
            return


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
        for lines in _lines(source):
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


def run(engine: Engine, source: BinaryIO, write: Callable[[str], object],
        flush: Callable[[], object], workers: int | None = None) -> int:  # fmt: skip
    """Classify every line of `source` in order (answers or error objects); returns the number
    of lines read. Raises `UnreadableInput` if the stream is not UTF-8."""
    return stream(source, write, flush,
                  lambda line, number: answer(engine, number, line) if line.strip() else None,
                  workers)  # fmt: skip
