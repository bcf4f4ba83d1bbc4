"""The development set and the public sample, scored with the issue's thresholds.

Emergency recall 100%, urgent-or-higher recall >= 95%, routine over-triage <= 5%, intent
accuracy on answerable messages >= 90%. The development set (tests/data/) is ours; the public
sample comes from ../shared/eval/ and is skipped, with the reason, where it is not present.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.engine import Engine
from bot.tools.evaluate import Report, evaluate, read_jsonl

from .conftest import DATA, PUBLIC_SAMPLE

DEV_FILES = sorted(DATA.glob("dev_*.jsonl"))


def _check(report: Report) -> None:
    detail = report.summary() + "\n" + "\n".join(report.misses[:40])
    assert report.emergency_recall == 100.0, detail
    assert report.urgent_recall >= 95.0, detail
    assert report.over_triage <= 5.0, detail
    assert report.intent_accuracy >= 90.0, detail


def test_development_set_is_large_and_separate() -> None:
    rows = read_jsonl(DEV_FILES)
    assert len(rows) >= 400
    assert len({r["id"] for r in rows}) == len(rows)
    if PUBLIC_SAMPLE.exists():
        public = {r["text"].strip().lower() for r in read_jsonl([PUBLIC_SAMPLE])}
        assert not public & {r["text"].strip().lower() for r in rows}


def test_development_set_meets_the_thresholds(engine: Engine) -> None:
    _check(evaluate(engine, read_jsonl(DEV_FILES)))


@pytest.mark.skipif(
    not PUBLIC_SAMPLE.exists(), reason=f"public sample not found at {PUBLIC_SAMPLE}"
)
def test_public_sample_meets_the_thresholds(engine: Engine) -> None:
    _check(evaluate(engine, read_jsonl([Path(PUBLIC_SAMPLE)])))
