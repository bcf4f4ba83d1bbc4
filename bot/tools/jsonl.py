"""`classify --jsonl`: one input line in, one JSON line out, whatever the line holds.

A good line is a JSON object with a "text" string and, optionally, a "profile" object
(`{"route": "oral" | "pump" | "both", "role": "patient" | "caregiver" | "professional"}`); the
answer is the object with the contract's decision merged in. Any other line is answered with an
error object, and the run goes on:

    {"error": "<what is wrong>", "line": <line number, from 1>}

Errors: not JSON; NaN or Infinity (not JSON either); nested too deeply; not an object; "text"
missing or not a string; "profile" not an object, or a value it does not know; a lone UTF-16
surrogate anywhere (it cannot be written as UTF-8). Every line written is valid JSON in UTF-8,
with U+2028 and U+2029 escaped (JavaScript readers split lines there). Blank lines are skipped.
Only a stream that is not UTF-8 at all stops the run (`read_lines` raises `UnreadableInput`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from typing import Any

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
    if "[" in line or "{" in line:
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


def read_lines(stream: Iterable[bytes]) -> Iterator[tuple[int, str]]:
    """Numbered, non-blank lines of a byte stream; raises `UnreadableInput` if not UTF-8."""
    for number, raw in enumerate(stream, start=1):
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            raise UnreadableInput(f"line {number} is not UTF-8 text") from None
        if line.strip():
            yield number, line


def run(engine: Engine, stream: Iterable[bytes], write: Any) -> None:
    """Classify every line of `stream`, writing each answer with `write(str)`."""
    for number, line in read_lines(stream):
        write(answer(engine, number, line) + "\n")
