"""Every labelled message through the engine, its full decision written out: a speed change must
leave every line identical.

    python benchmarks/same_decisions.py record OUT.jsonl      # before a change
    python benchmarks/same_decisions.py compare OUT.jsonl     # after it: zero differences
    python benchmarks/same_decisions.py compare OUT.jsonl --door

The messages are every line of `tests/data/**/*.jsonl` and `../shared/eval/public-sample.jsonl`
(with its profile, if any), then each text again with two other profiles (pump/caregiver and
oral/patient), so the profile paths are compared too. Each output line is exactly what
`classify --jsonl` prints for that input line (the input's keys plus the decision's JSON).
`--door` sends the same lines through `python -m bot classify --jsonl` in a fresh process (both
cores, batching) instead of calling the engine in this process.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PUBLIC = ROOT.parent / "shared" / "eval" / "public-sample.jsonl"
OTHER_PROFILES = ({"route": "pump", "role": "caregiver"}, {"route": "oral", "role": "patient"})


def input_lines() -> list[str]:
    files = sorted((ROOT / "tests" / "data").rglob("*.jsonl"))
    if PUBLIC.exists():
        files.append(PUBLIC)
    rows = [
        json.loads(line)
        for f in files
        for line in f.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    lines = [json.dumps(row, ensure_ascii=False) for row in rows]
    for profile in OTHER_PROFILES:
        lines += [json.dumps({"text": row["text"], "profile": profile}) for row in rows]
    return lines


def decisions(lines: list[str], door: bool) -> list[str]:
    if door:
        done = subprocess.run(
            [sys.executable, "-m", "bot", "classify", "--jsonl"],
            input="".join(f"{line}\n" for line in lines).encode(),
            capture_output=True,
            check=True,
            cwd=ROOT,
        )
        return done.stdout.decode().splitlines()
    from bot.core.engine import Engine
    from bot.doors.jsonl import answer

    engine = Engine.load()
    return [answer(engine, number, line) for number, line in enumerate(lines, 1)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("record", "compare"))
    parser.add_argument("file", type=Path)
    parser.add_argument("--door", action="store_true", help="through classify --jsonl")
    args = parser.parse_args()
    lines = input_lines()
    out = decisions(lines, args.door)
    if args.mode == "record":
        args.file.write_text("".join(f"{line}\n" for line in out), encoding="utf-8")
        print(f"recorded {len(out)} decisions in {args.file}")
        return 0
    before = args.file.read_text(encoding="utf-8").splitlines()
    differ = [i for i, (a, b) in enumerate(zip(before, out, strict=False)) if a != b]
    if len(before) != len(out):
        print(f"{len(before)} lines recorded, {len(out)} now")
        return 1
    for i in differ[:10]:
        print(f"line {i + 1}:\n  before {before[i]}\n  now    {out[i]}")
    print(f"compared {len(out)} decisions: {len(differ)} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
