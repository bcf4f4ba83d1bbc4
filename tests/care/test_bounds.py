"""Nothing grows without bound and no secret is a public constant: refused /join attempts are
audited at most once an hour per person, and the codes' HMAC key is the deployment's own."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.care import rules
from bot.care.service import CareService
from bot.clock import FakeClock
from bot.settings import SettingsError, code_pepper, load_settings
from bot.storage.models import AuditEvent, JoinAttempt
from bot.storage.store import Store

from .conftest import texts
from .test_linking import EVE

TOKEN = "123456:TEST-token-never-logged"


def count(store: Store, model: type, **where: str) -> int:
    with store.tx() as db:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return int(db.scalar(query) or 0)


def test_a_spammer_of_wrong_codes_adds_a_bounded_number_of_rows(
    care: CareService, store: Store, clock: FakeClock
) -> None:
    for _ in range(1000):
        notices = care.join(EVE, rules.show_code(rules.new_code()), "Eve")
        assert texts(notices, EVE), "every attempt gets an answer"
    limit = rules.MAX_FAILED_JOINS
    assert count(store, JoinAttempt, key=EVE) == limit
    assert count(store, AuditEvent, actor=EVE, kind="join_failed") == limit
    assert count(store, AuditEvent, actor=EVE, kind="join_limited") == 1, "once an hour"
    clock.advance(dt.timedelta(hours=1, seconds=1))
    for _ in range(1000):
        care.join(EVE, rules.show_code(rules.new_code()), "Eve")
    assert count(store, AuditEvent, actor=EVE, kind="join_failed") == 2 * limit  # a new hour
    assert count(store, AuditEvent, actor=EVE, kind="join_limited") == 2, "once an hour"


def test_the_pepper_is_required_with_a_token_and_kept_once(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/bot.sqlite3"
    settings = load_settings(_env_file=None, telegram_bot_token=TOKEN, database_url=db)
    first = code_pepper(settings)
    kept = tmp_path / "baclofen-companion.pepper"
    assert kept.exists() and kept.stat().st_mode & 0o077 == 0, "readable by this user only"
    assert code_pepper(settings) == first, "generated once, then read back"
    assert len(first) >= 32
    chosen = load_settings(_env_file=None, telegram_bot_token=TOKEN, database_url=db,
                           bot_code_pepper="x" * 40)  # fmt: skip
    assert code_pepper(chosen) == "x" * 40
    other = tmp_path / "elsewhere" / "pepper"
    nowhere = load_settings(_env_file=None, telegram_bot_token=TOKEN, database_url=db,
                            bot_code_pepper_file=other)  # fmt: skip
    with pytest.raises(SettingsError, match="BOT_CODE_PEPPER"):
        code_pepper(nowhere)  # its folder does not exist: a clear error, not a default


def test_without_a_token_each_process_has_its_own_random_pepper() -> None:
    local = load_settings(_env_file=None)
    assert code_pepper(local) != code_pepper(local)
    with pytest.raises(ValueError):
        rules.hash_code("ABCDEFGHJK", "")  # no default key
    with pytest.raises(SettingsError, match="BOT_CODE_PEPPER"):
        load_settings(_env_file=None, bot_code_pepper="short")
