"""Forged button data, on SQLite and PostgreSQL: every route reads buttons through one strict
parser, so a forged press gets the kind "no longer open" answer and changes nobody's data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from bot.app import App, build
from bot.clock import FakeClock
from bot.companion import Commanded, Person, Pressed
from bot.conversation.dialogue import Dialogue
from bot.conversation.routes import Routes
from bot.conversation.sessions import Session
from bot.reply import callback
from bot.settings import load_settings
from tests.databases import RecordingNotifier, rows_about

PAT, EVE = Person("tg:1", "Pat"), Person("tg:666", "Eve")

# Numbers as nobody's app writes them: other scripts' digits, signs, spaces, too big for a
# 32-bit or a 64-bit column, empty.
BAD_NUMBERS = ["²³", "١٢", "１", "-1", " 1", "1\n", "", str(2**31), str(2**63), "9" * 40]
FORMS = ["{p}:{v}", "{p}:ok:{v}", "{p}:un:{v}", "{p}:on_it:{v}", "{p}:csv:{v}", "{p}:share:{v}:1",
         "{p}:share:1:{v}", "{p}:0:{v}", "{p}:deleteyes:{v}", "{p}:from:{v}"]  # fmt: skip


@pytest.fixture
def app(db_url: str, clock: FakeClock, dialogue: Dialogue) -> Iterator[App]:
    built = build(load_settings(_env_file=None, database_url=db_url), RecordingNotifier(clock),
                  clock=clock, dialogue=dialogue)  # fmt: skip
    built.companion.sessions.save(PAT.key, Session(consent=True, role="patient", route="pump"))
    built.companion.sessions.save(EVE.key, Session(consent=True, role="caregiver"))
    yield built
    built.store.close()


def prefixes(dialogue: Dialogue, app: App) -> list[str]:
    routes = Routes()
    dialogue.register(routes)
    return sorted({*routes.buttons, *app.companion.routes.buttons})


def test_the_parser_takes_only_what_the_bot_writes() -> None:
    assert callback.number("12") == 12 and callback.number(str(2**31 - 1)) == 2**31 - 1
    for bad in BAD_NUMBERS:
        assert callback.number(bad) is None, bad
    assert callback.index("2", 3) == 2 and callback.index("3", 3) is None
    assert callback.day("2026-03-14") == dt.date(2026, 3, 14)
    for bad in ["2026-02-30", "２０２６-03-14", "2026-3-14", "20260314", "2026-03-14 ", ""]:
        assert callback.day(bad) is None, bad
    assert callback.parts("a:b:c", 2) == ("a", "b:c")
    assert callback.parts("x" * 65, 1) is None and callback.parts("a\x00", 1) is None


def test_forged_presses_change_nothing_and_get_a_kind_answer(app: App, dialogue: Dialogue) -> None:
    # Pat links Eve's view of nothing: Eve has no link; Pat has data of their own.
    app.companion.handle(PAT, Commanded("invite"))
    before = rows_about(app.store, PAT.key)
    count = 0
    for prefix in prefixes(dialogue, app):
        for form in FORMS:
            for value in BAD_NUMBERS:
                data = form.format(p=prefix, v=value)
                answer = app.companion.handle(EVE, Pressed(data))
                count += 1
                assert answer.messages, data  # a kind answer, never silence or a crash
                assert not answer.others, f"{data!r} reached someone else"
    assert count > 2000
    assert rows_about(app.store, PAT.key) == before, "nothing of Pat's changed"
