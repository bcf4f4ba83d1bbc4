"""Fuzzing every input boundary with Hypothesis: no input raises.

The engine (any text, any profile), one line of `classify --jsonl` (any text, any JSON, deep,
with NaN, lone surrogates, invisible characters) and button data (any string, through the strict
parser and through the companion's routing) are each given generated input, including the
invisible characters (zero-width, bidi overrides, BOM) and long messages; the property is that
nothing raises and every answer has the expected shape. The 100,000-input run of
`classify --jsonl` is `benchmarks/fuzz_jsonl.py`.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.app import build
from bot.clock import FakeClock
from bot.companion import Person, Pressed
from bot.conversation.dialogue import Dialogue
from bot.conversation.sessions import Session
from bot.core.engine import Engine, Profile, Safety
from bot.doors import jsonl
from bot.reply import callback
from bot.settings import load_settings
from tests.databases import RecordingNotifier

INVISIBLE = (
    "\u200b\u200c\u200d\u2060\ufeff"  # zero-width, BOM
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"  # bidi controls
    "\u00ad\u180e"  # soft hyphen, Mongolian vowel separator
)
WORDS = ["baclofen", "pump", "alarm", "fit", "seizure", "itchy", "fever", "dose", "not", "no",
         "can't", "breathe", "overdose", "kill", "myself", "stop", "taper", "refill", "Call",
         "911", "mg", "2x", "😭", "٣", "²", "ＦＩＴ", "\n", "  "]  # fmt: skip

# Text as people and attackers write it: any character, invisible ones often, words that
# matter to triage, sometimes long.
chars = st.characters(codec="utf-8") | st.sampled_from(INVISIBLE)
messy = st.lists(st.sampled_from(WORDS) | st.text(chars, max_size=12), max_size=60).map(" ".join)
texts = st.text(chars, max_size=400) | messy
profiles = st.none() | st.builds(
    Profile,
    route=st.sampled_from([None, "oral", "pump", "both"]),
    role=st.sampled_from([None, "patient", "caregiver", "professional"]),
)
LONG = ("my pump alarm is beeping and " * 150)[:4096]  # Telegram's longest message
SLOW = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=300)


@SLOW
@given(text=texts, profile=profiles)
@example(text=LONG, profile=None)
@example(text=INVISIBLE * 200, profile=Profile(route="pump"))
@example(text="", profile=None)
def test_the_engine_answers_any_text(engine: Engine, text: str, profile: Profile | None) -> None:
    decision = engine.classify(text, profile)
    assert decision.safety in set(Safety)
    json.dumps(decision.to_json(), allow_nan=False)


def _strict(name: str) -> Any:
    raise AssertionError(f"{name} in the output")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(chars, max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
rows = st.fixed_dictionaries(
    {"text": texts | json_values},
    optional={
        "profile": st.fixed_dictionaries(
            {},
            optional={
                "route": json_values | st.sampled_from(["pump", "oral", "both"]),
                "role": json_values | st.just("patient"),
            },
        )
        | json_values,
        "id": json_values,
    },
)
lines = (
    rows.map(lambda r: json.dumps(r, ensure_ascii=False))  # NaN and Infinity included
    | rows.map(json.dumps)
    | st.text(chars, max_size=200)
    | st.integers(1, 5000).map(lambda n: "[" * n + "]" * n)
    | st.sampled_from(['{"text": "\\ud800"}', '{"text": NaN}', '{"text": "a", "x": 1e999}'])
)


@SLOW
@given(line=lines)
def test_a_jsonl_line_always_gets_one_line_of_valid_json(engine: Engine, line: str) -> None:
    out = jsonl.answer(engine, 7, line)
    assert "\n" not in out and "\u2028" not in out and "\u2029" not in out
    out.encode("utf-8")  # no lone surrogate can reach the output
    answer = json.loads(out, parse_constant=_strict)
    assert isinstance(answer, dict)
    assert set(answer) == {"error", "line"} or answer["safety"] in {s.value for s in Safety}


@settings(max_examples=500)
@given(data=st.text(chars, max_size=80) | st.from_regex(r"[a-z]{1,3}:[^:]{0,12}(:[^:]{0,12})?"))
def test_the_button_parser_takes_anything(data: str) -> None:
    for part in (callback.parts(data, 1), callback.parts(data, 2), callback.parts(data, 3)):
        assert part is None or all(isinstance(p, str) for p in part)
    number = callback.number(data)
    assert number is None or 0 <= number <= callback.MAX_ID
    assert callback.day(data) is None or len(data) == 10


def test_any_button_data_through_the_companion(dialogue: Dialogue) -> None:
    """Generated button data for every prefix the bot routes, pressed by someone with a
    session: always an answer, never an exception."""
    with tempfile.TemporaryDirectory() as folder:
        clock = FakeClock(dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC))
        app = build(
            load_settings(_env_file=None, database_url=f"sqlite:///{folder}/fuzz.sqlite3"),
            RecordingNotifier(clock), clock=clock, dialogue=dialogue,
        )  # fmt: skip
        person = Person("tg:31337", "Eve")
        app.companion.sessions.save(person.key, Session(consent=True, role="caregiver"))
        prefixes = sorted(app.companion.routes.buttons)
        values = (
            st.text(chars, max_size=30)
            | st.integers().map(str)
            | st.sampled_from(
                ["ok:1", "share:1:1", "from:2020-01-01", "done:²", "0:" + "9" * 30, "time:25:99"]
            )
        )

        @settings(max_examples=300, deadline=None)
        @given(prefix=st.sampled_from(prefixes), value=values)
        def press(prefix: str, value: str) -> None:
            reply = app.companion.handle(person, Pressed(f"{prefix}:{value}"))
            assert reply.messages

        try:
            press()
        finally:
            app.store.close()
