"""Check requirements.lock against an advisory database, only when one really answers.

`pip-audit` that cannot reach its database may still say "no known vulnerabilities" after
checking nothing. So first a canary: a release with known advisories (Pillow 10.1.0) is looked
up in each database pip-audit can use (PyPI's JSON API, then OSV). A database counts as
reachable only if it answers and reports advisories for the canary. Then pip-audit checks every
pinned package of the lock (no resolution, no install) against that database.

    python scripts/audit_lock.py [--lock requirements.lock] [--require]

Exit status: pip-audit's own (0 clean, 1 advisories found) when a database answered; when none
did, a plain "NOT CHECKED" message and 0, or 3 with `--require` (for a machine that must check).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CANARY = ("pillow", "10.1.0")  # has published advisories (e.g. CVE-2024-28219)
NOT_CHECKED = 3


def _pypi(timeout: float) -> str | None:
    """None if PyPI's JSON API reports advisories for the canary, else why not."""
    name, version = CANARY
    url = f"https://pypi.org/pypi/{name}/{version}/json"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return f"PyPI JSON API: {type(exc).__name__}: {exc}"
    if not body.get("vulnerabilities"):
        return "PyPI JSON API: answered but reported no advisories for a known-vulnerable release"
    return None


def _osv(timeout: float) -> str | None:
    """None if OSV reports advisories for the canary, else why not."""
    name, version = CANARY
    query = {"package": {"name": name, "ecosystem": "PyPI"}, "version": version}
    request = urllib.request.Request(
        "https://api.osv.dev/v1/query",
        data=json.dumps(query).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return f"OSV: {type(exc).__name__}: {exc}"
    if not body.get("vulns"):
        return "OSV: answered but reported no advisories for a known-vulnerable release"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lock", type=Path, default=ROOT / "requirements.lock")
    parser.add_argument("--require", action="store_true", help="exit 3 when nothing answered")
    parser.add_argument("--timeout", type=float, default=8.0)
    args = parser.parse_args(argv)
    if not args.lock.exists():
        print(f"audit_lock: {args.lock} not found (make it with scripts/lock)", file=sys.stderr)
        return 2
    problems: list[str] = []
    for service, probe in (("pypi", _pypi), ("osv", _osv)):
        problem = probe(args.timeout)
        if problem is not None:
            problems.append(problem)
            continue
        print(f"audit_lock: checking {args.lock.name} against the {service} advisory database")
        command = [sys.executable, "-m", "pip_audit", "--requirement", str(args.lock),
                   "--no-deps", "--disable-pip", "--vulnerability-service", service,
                   "--progress-spinner", "off"]  # fmt: skip
        return subprocess.run(command, check=False).returncode
    print(
        f"audit_lock: NOT CHECKED: no advisory database is reachable from here, so "
        f"{args.lock.name} was not checked for known vulnerabilities.",
        *(f"  - {p}" for p in problems),
        "  Run scripts/audit_lock.py where PyPI's JSON API or api.osv.dev can be reached.",
        sep="\n",
    )
    return NOT_CHECKED if args.require else 0


if __name__ == "__main__":
    sys.exit(main())
