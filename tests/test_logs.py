"""Logs are safe by construction: whatever a library or our own code logs, the token, what
people wrote, their names, chat ids and SQL parameters never reach the output."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from bot import logs

TOKEN = "123456:TEST-token-never-logged-abcdef"


@pytest.fixture
def output() -> Iterator[io.StringIO]:
    """A handler on the root logger, as `logging.basicConfig` makes, with the filter on."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.DEBUG)
    redactor = logs.install((TOKEN, "webhook-secret_1"))
    try:
        yield stream
    finally:
        logs.uninstall(redactor)
        root.removeHandler(handler)
        root.setLevel(level)


UPDATE = {
    "update_id": 991,
    "message": {
        "message_id": 5,
        "chat": {"id": 4242424, "type": "private", "first_name": "Mallory"},
        "from": {"id": 4242424, "first_name": "Mallory", "username": "mall0ry"},
        "text": "my private words about my pump",
    },
}


def test_a_librarys_raw_update_loses_text_names_and_ids(output: io.StringIO) -> None:
    library = logging.getLogger("telegram.Bot")
    library.critical("Error while parsing updates! Received data was %r", [UPDATE])
    library.debug('{"update_id": 992, "message": {"text": "json words", "chat": {"id": 777}}}')
    library.info("POST https://api.telegram.org/bot%s/getUpdates", TOKEN)
    out = output.getvalue()
    for secret in ("private words", "json words", "Mallory", "mall0ry", "4242424", "777"):
        assert secret not in out, secret
    assert TOKEN not in out and TOKEN.split(":")[1] not in out
    assert "991" in out and "Error while parsing updates" in out, "what failed stays visible"


def test_a_traceback_is_cleaned_too(output: io.StringIO) -> None:
    try:
        raise ValueError(f"token {TOKEN} for chat tg:4242424 said 'text': 'help me'")
    except ValueError:
        logging.getLogger("bot.reminders.service").exception("delivery of occurrence 7 failed")
    out = output.getvalue()
    assert "ValueError" in out and "occurrence 7" in out
    assert TOKEN not in out and "4242424" not in out and "help me" not in out


def test_sql_parameters_never_reach_the_log(output: io.StringIO) -> None:
    engine = create_engine("sqlite://")
    try:
        with engine.connect() as db:
            db.execute(text("SELECT * FROM missing WHERE key = :k"), {"k": "tg:5550001"})
    except SQLAlchemyError:
        logging.getLogger("apscheduler.executors").exception("job failed")
    out = output.getvalue()
    assert "OperationalError" in out and "5550001" not in out
    assert "[parameters: hidden]" in out


def test_a_rejected_token_is_dropped_from_the_log_for_the_caller_to_report() -> None:
    class Rejected(Exception):
        pass

    redactor = logs.Redactor((TOKEN,), drop=(Rejected,))
    try:
        try:
            raise Rejected(TOKEN)
        except Rejected as inner:
            raise RuntimeError("network loop") from inner
    except RuntimeError as exc:
        record = logging.LogRecord(
            "x", logging.ERROR, "f", 1, "failed", None, (RuntimeError, exc, None)
        )
    assert redactor.filter(record) is False
