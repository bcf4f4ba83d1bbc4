"""100,000 fuzzed lines through `classify --jsonl`, in one process, as the contract runs it.

    python benchmarks/fuzz_jsonl.py [--lines 100000] [--seed 13]

The lines are generated from a fixed seed: good objects with messy text (invisible characters,
other scripts' digits, emoji, triage words, up to Telegram's 4,096 characters), good and bad
profiles, and bad lines of every kind (not JSON, deep nesting, NaN and Infinity, 1e999, lone
surrogates, wrong types, other JSON values). The run must end with exit status 0 and one line of
valid JSON per input line, in order: the decision with the input's keys, or the documented error
object {"error": ..., "line": N}. Prints the counts and the time.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u202a\u202b\u202c\u202d\u202e\u2066\u2069\u00ad"
_WORDS = (
    "baclofen pump alarm beeping fit seizure itchy fever dose missed not no cant breathe "
    "overdose took twice stop taper refill withdrawal sleepy floppy 911 mg 2x hallucinating "
    "spasms stiff legs wound red hot confused ٣ ² ＦＩＴ 😭 🤒 ça"
)
WORDS = _WORDS.split()


def _text(r: random.Random) -> str:
    words = [r.choice(WORDS) for _ in range(r.randint(0, 25))]
    if r.random() < 0.3:
        words = [w + r.choice(INVISIBLE) if r.random() < 0.4 else w for w in words]
    if r.random() < 0.1:
        words.append("".join(chr(r.randint(0x20, 0x2FFF)) for _ in range(r.randint(1, 40))))
    return " ".join(words)


def _long(r: random.Random) -> str:
    return (" ".join(r.choice(WORDS) for _ in range(900)))[: r.randint(1000, 4096)]


def _deep(r: random.Random) -> str:
    n = r.randint(30, 20_000)
    return '{"text": ' + "[" * n + "]" * n + "}"


BAD = (
    lambda r: "not json " + _text(r),
    _deep,
    lambda r: '{"text": NaN}',
    lambda r: '{"text": "hi", "x": Infinity}',
    lambda r: '{"text": "hi", "x": -1e999}',
    lambda r: '{"text": "\\ud800' + r.choice(WORDS) + '"}',
    lambda r: '{"text": "ok", "id": "\\udfff"}',
    lambda r: json.dumps({"text": r.randint(0, 9)}),
    lambda r: json.dumps({"message": _text(r)}),
    lambda r: json.dumps([_text(r)]),
    lambda r: json.dumps(_text(r)),
    lambda r: json.dumps({"text": "x", "profile": [r.choice(WORDS)]}),
    lambda r: json.dumps({"text": "x", "profile": {"route": {"a": 1}}}),
    lambda r: json.dumps({"text": "x", "profile": {"role": r.choice(WORDS)}}),
    lambda r: '{"text": "hi", "n": ' + "9" * 5000 + "}",
)


def make_lines(count: int, seed: int) -> list[str]:
    r = random.Random(seed)
    lines: list[str] = []
    for n in range(count):
        roll = r.random()
        if roll < 0.25:
            lines.append(r.choice(BAD)(r))
            continue
        row: dict[str, Any] = {"n": n, "text": _long(r) if roll > 0.998 else _text(r)}
        if r.random() < 0.3:
            route = r.choice(["oral", "pump", "both", None])
            row["profile"] = {"route": route, "role": r.choice(["patient", "caregiver"])}
        lines.append(json.dumps(row, ensure_ascii=r.random() < 0.5))
    return lines


def _strict(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    lines = make_lines(args.lines, args.seed)
    data = ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "bot", "classify", "--jsonl"],
        input=data, capture_output=True, cwd=ROOT, timeout=3600, check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    out = result.stdout.decode("utf-8").split("\n")
    if out and out[-1] == "":
        out.pop()
    kinds: Counter[str] = Counter()
    problems: list[str] = []
    for number, (line, answer_text) in enumerate(zip(lines, out, strict=False), start=1):
        try:
            answer = json.loads(answer_text, parse_constant=_strict)
        except ValueError as exc:
            problems.append(f"output line {number} is not JSON: {exc}")
            continue
        if set(answer) == {"error", "line"}:
            kinds["error object"] += 1
            if answer["line"] != number:
                problems.append(f"line {number}: error object names line {answer['line']}")
        elif "safety" in answer:
            kinds[f"decision ({answer['safety']})"] += 1
            if json.loads(line).get("n") != answer.get("n"):
                problems.append(f"line {number}: answer out of order")
        else:
            problems.append(f"line {number}: neither a decision nor an error object")
        if "\u2028" in answer_text or "\u2029" in answer_text:
            problems.append(f"line {number}: unescaped line separator")
    if len(out) != len(lines):
        problems.append(f"{len(out)} output lines for {len(lines)} input lines")
    print(f"inputs: {len(lines):,} lines, {len(data) / 1e6:.1f} MB")
    print(f"exit status: {result.returncode}")
    print(f"time: {seconds:.1f} s ({len(lines) / seconds:,.0f} lines/s, start-up included)")
    for kind, n in sorted(kinds.items()):
        print(f"  {kind}: {n:,}")
    tail = result.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
    print(f"stderr: {' | '.join(tail) or '(empty)'}")
    print(f"problems: {len(problems)}")
    for problem in problems[:20]:
        print(f"  {problem}")
    return 0 if result.returncode == 0 and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
