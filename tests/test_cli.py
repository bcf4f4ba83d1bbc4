"""The command line as the contract and a newcomer see it: `classify`, `chat`, bad input."""

from __future__ import annotations

import asyncio
import json
import os
import select
import subprocess
import sys
from pathlib import Path

from bot.doors.console import run_chat
from bot.settings import load_settings

from .conftest import ROOT

CONTRACT_KEYS = ["text", "safety", "action", "intent", "score", "alternatives", "answer_id", "sign"]


def _run(*args: str, stdin: str = "", cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=60,
    )


def test_classify_prints_the_contract_json_for_each_argument() -> None:
    result = _run("classify", "what if I miss a dose", "my son is having a fit")
    assert result.returncode == 0, result.stderr
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert list(first) == CONTRACT_KEYS
    assert (first["safety"], first["action"], first["intent"]) == (
        "routine",
        "answer",
        "missed_dose",
    )
    assert first["answer_id"] == "missed_dose"
    assert 0 <= first["score"] <= 100
    assert all(isinstance(i, str) and 0 <= s <= 100 for i, s in first["alternatives"])
    assert second["safety"] == "emergency"


def test_classify_jsonl_keeps_order_passes_keys_through_and_uses_the_profile() -> None:
    lines = [
        {
            "id": "a",
            "text": "itchy all over, no rash",
            "profile": {"route": "pump", "role": "patient"},
        },
        {"id": "b", "text": "itchy all over, no rash"},
        {"id": "c", "text": "xyz 123"},
    ]
    stdin = "\n".join(json.dumps(x) for x in lines) + "\n"
    result = _run("classify", "--jsonl", stdin=stdin)
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a", "b", "c"]
    assert [o["safety"] for o in out] == ["urgent", "routine", "routine"]
    assert out[0]["profile"] == {"route": "pump", "role": "patient"}
    assert (out[2]["action"], out[2]["intent"], out[2]["answer_id"]) == ("fallback", None, None)


def test_classify_jsonl_answers_each_line_before_the_next_is_written() -> None:
    """A program that writes one line and waits for its answer gets it (streaming): the
    next line is only written after the answer to the one before has been read."""
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "classify", "--jsonl"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        for i, text in enumerate(["my son is having a fit", "what if I miss a dose"]):
            proc.stdin.write(json.dumps({"id": i, "text": text}) + "\n")
            proc.stdin.flush()
            # The answer must come while the input stays open (a buffered door would hang here).
            ready, _, _ = select.select([proc.stdout], [], [], 60)
            assert ready, "no answer to a line while the input stays open"
            answer = json.loads(proc.stdout.readline())
            assert answer["id"] == i
        assert answer["intent"] == "missed_dose"
    finally:
        proc.stdin.close()
        assert proc.wait(timeout=60) == 0
        proc.stdout.close()


def test_classify_jsonl_keeps_the_order_of_a_large_input_answered_on_every_core() -> None:
    texts = ["my son is having a fit", "what if I miss a dose", "itchy all over, no rash"]
    lines = [{"n": i, "text": f"{texts[i % 3]} ({i})"} for i in range(3000)]
    stdin = "".join(json.dumps(x) + "\n" for x in lines)
    result = _run("classify", "--jsonl", stdin=stdin)
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["n"] for o in out] == list(range(3000))
    assert [o["safety"] for o in out[:3]] == ["emergency", "routine", "routine"]
    assert out[2998]["intent"] == "missed_dose"


def _not_json(name: str) -> None:
    raise AssertionError(f"{name} is not JSON")


def test_classify_jsonl_answers_each_bad_line_with_an_error_object_and_goes_on() -> None:
    bad = [
        "not json",
        '{"message": "no text key"}',
        '{"text": 5}',
        "[1, 2]",
        '{"text": "hi", "profile": ["pump"]}',
        '{"text": "hi", "profile": {"route": {"a": 1}}}',
        '{"text": "hi", "profile": {"role": "doctor"}}',
        '{"text": "\\ud800 lone surrogate"}',
        '{"text": "hi", "id": "\\udfff"}',
        "[" * 50_000 + "]" * 50_000,
        '{"text": NaN}',
        '{"text": "hi", "n": Infinity}',
        '{"text": "hi", "n": 1e999}',
        '{"text": "hi", "n": ' + "1" * 5000 + "}",
    ]
    good = '{"id": "z", "text": "she is having a fit\u2028now"}'
    result = _run("classify", "--jsonl", stdin="\n".join([*bad, good]) + "\n")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(bad) + 1, "one answer per line, in order"
    out = [json.loads(line, parse_constant=_not_json) for line in lines]
    for number, answer in enumerate(out[:-1], start=1):
        assert set(answer) == {"error", "line"} and answer["line"] == number
        assert answer["error"], "each error says what is wrong"
    assert out[-1]["id"] == "z" and out[-1]["safety"] == "emergency"
    assert "\u2028" not in result.stdout, "line separators are escaped in the output"


def test_classify_stops_only_on_a_stream_that_is_not_text() -> None:
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "classify", "--jsonl"],
        input=b'{"text": "hi"}\n\xff\xfe not utf-8\n', capture_output=True, cwd=ROOT, env=env,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert b"line 2" in result.stderr and b"Traceback" not in result.stderr
    assert json.loads(result.stdout.splitlines()[0])["intent"] == "greeting"


def test_local_chat_runs_a_whole_conversation(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    settings = load_settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    script = iter(["1", "2", "1", "1", "London", "what if she misses a dose", "/help", "/quit"])
    asyncio.run(run_chat(settings, read=lambda prompt: next(script)))
    out = capsys.readouterr().out
    assert "1) I agree" in out
    assert "Reviewed by: pending clinical review" in out
    assert "/quit ends the chat" in out
    assert "Goodbye" in out


def test_bad_data_stops_start_up_with_a_message(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    env["EMERGENCY_REGION"] = "MARS"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "classify", "hello"],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "EMERGENCY_REGION" in result.stderr


def test_local_chat_runs_the_withdrawal_checklist(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # the chat saves files it shows (card, calendar) here
    settings = load_settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    # agree, caregiver, tablets, USA, a time zone, then the checklist: the context questions are
    # answered with the first choice each time, then one sign is ticked and "Done" pressed.
    script = iter(["1", "2", "1", "1", "London", "/checklist", "1", "1", "10", "15", "/quit"])
    asyncio.run(run_chat(settings, read=lambda prompt: next(script)))
    out = capsys.readouterr().out
    assert "Seeing or hearing things" in out
    assert "Call 911 now" in out
