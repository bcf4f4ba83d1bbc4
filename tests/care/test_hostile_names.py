"""Names shown to other people are what they look like: invisible characters removed, length
limited, always quoted as the name the person gave; and the clinic's CSV runs no formula."""

from __future__ import annotations

import csv
import io

from bot.care import export, rules
from bot.care.checklist import Checklist, load_checklist
from bot.care.flows import CareFlows, CareState, Who
from bot.care.service import CareService
from bot.reply.content import Content

from .conftest import escalation, texts
from .test_linking import ANN, PAT, code_from, confirm_button


def join_as(care: CareService, name: str) -> str:
    """`name` asks to link with Pat; returns what Pat is asked."""
    notices = care.join(ANN, code_from(care), name)
    return texts(notices, PAT)[0]


def test_a_name_is_quoted_as_the_name_they_gave(care: CareService) -> None:
    ask = join_as(care, "Dr. Smith (your clinic)")
    first = ask.splitlines()[0]
    assert first.startswith('Someone who gave the name "Dr. Smith (your clinic)" wants')
    assert "cannot check who they are" in first


def test_invisible_characters_are_removed_and_length_limited(care: CareService) -> None:
    # Right-to-left override, zero-width space and joiner, a BOM: it shows as "Alice" and
    # is stored and shown as exactly that.
    assert rules.clean_name("\u202eA\u200bli\u200dce\ufeff") == "Alice"
    assert rules.clean_name("\u2066Bob\u2069 \u200e") == "Bob"
    assert rules.clean_name("\u200b\u200b") is None
    assert len(rules.clean_name("x" * 500) or "") == rules.NAME_MAX
    ask = join_as(care, "A\u200blice\u202e")
    assert '"Alice"' in ask and "\u200b" not in ask and "\u202e" not in ask


def test_the_history_csv_runs_no_formula(care: CareService, content: Content, store) -> None:  # type: ignore[no-untyped-def]
    hostile = '=HYPERLINK("http://evil.example","x")'
    notices = care.join(ANN, code_from(care), hostile)
    link_data = confirm_button(notices, PAT)
    care.confirm(PAT, int(link_data.split(":")[2]), yes=True)
    first, *_ = escalation(store, PAT, care.clock.now())
    care.acknowledge(ANN, first, "on_it")
    flows = CareFlows(care, Checklist(load_checklist(content.facts)), care.words)
    pat = Who(PAT, "Pat", "patient", "911", True, "pump", "Europe/London")
    shown = flows.commands()["history"](pat, CareState(), "")
    data = next(b.data for m in shown.messages for b in m.buttons if b.label == "CSV file")
    prefix, _, value = data.partition(":")
    file = flows.buttons()[prefix](pat, CareState(), value).messages[0].file
    assert file is not None
    cells = [c for row in csv.reader(io.StringIO(file.data.decode("utf-8-sig"))) for c in row]
    assert any("HYPERLINK" in c for c in cells), "the name is there, as text"
    assert not any(c.startswith(export.FORMULA_START) for c in cells)


def test_every_formula_start_is_escaped() -> None:
    rows = [export.HistoryRow(v, v, v) for v in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx")]
    data = export.history_csv(rows, ["a", "b", "c"]).decode("utf-8-sig")
    cells = [c for row in csv.reader(io.StringIO(data, newline="")) for c in row][3:]
    assert cells and all(c.startswith("'") for c in cells)
