"""The Telegram bot end to end, over real HTTP against the loopback Bot API.

Each test plays a person and checks what that person would see: the messages, their order,
their buttons, and that nothing breaks. The expected answers come from the same `Dialogue`, so
these tests check the door, not the wording of the content.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from bot import logs
from bot.companion import MENU
from bot.conversation.dialogue import Dialogue
from bot.conversation.routes import Routes, Turn, Visit
from bot.conversation.sessions import Session
from bot.core.engine import Action, Engine, Profile
from bot.doors.telegram import SafetyRetry, build_app, webhook_options
from bot.reply.messages import Message
from tests.e2e.conftest import Sessions, bot_settings, free_port, met, running
from tests.e2e.fake_bot_api import BOT_ID, BOT_USERNAME, TOKEN, FakeBotApi, buttons, message_id_of

Json = dict[str, Any]


def texts(replies: list[Json]) -> list[str]:
    return [r["text"] for r in replies]


async def say(fake: FakeBotApi, text: str, user_id: int = 42, **extra: Any) -> list[Json]:
    """The person sends `text`; returns what they see in reply."""
    before = len(fake.sent(extra.get("chat_id", user_id)))
    fake.user_says(text, user_id=user_id, **extra)
    return await fake.replies(extra.get("chat_id", user_id), after=before)


async def press(fake: FakeBotApi, label: str, user_id: int = 42) -> list[Json]:
    """The person presses the newest button called `label`; returns what they see."""
    before = len(fake.sent(user_id))
    message_id, data = message_id_of(fake, user_id, label)
    fake.user_presses(message_id, data, user_id=user_id)
    return await fake.replies(user_id, after=before)


def expected(turn: Turn) -> list[str]:
    return [m.text for m in turn.messages]


def pressed(dialogue: Dialogue, data: str) -> Turn:
    """What the dialogue answers to a button for someone new, found in its routing table."""
    routes = Routes()
    dialogue.register(routes)
    found = routes.for_button(data)
    assert found is not None, data
    return found[0].handler(Visit("tg:42", None, Session(), "911"), found[1])


# -- onboarding and settings ----------------------------------------------------------------


async def test_onboarding_sets_every_choice_and_the_time_zone(
    bot: FakeBotApi, sessions: Sessions
) -> None:
    assert [c["command"] for c in bot.commands] == list(MENU)
    assert all(c["description"] for c in bot.commands)

    first = await say(bot, "/start")
    assert "I am not a doctor" in first[0]["text"] and "911" in first[0]["text"]
    assert list(buttons(first[-1])) == ["I agree", "Not now"]

    role = await press(bot, "I agree")
    assert bot.sent(method="answerCallbackQuery"), "the button's spinner is stopped"
    assert "I care for someone who does" in buttons(role[-1])
    age = await press(bot, "I care for someone who does")
    assert list(buttons(age[-1])) == ["A child", "An adult"], "a caregiver is asked once"
    route = await press(bot, "An adult")
    assert "A pump" in buttons(route[-1])
    region = await press(bot, "A pump")
    assert "UK (999)" in buttons(region[-1])
    zone = await press(bot, "UK (999)")
    assert "/help" in zone[0]["text"]
    assert "time zone" in zone[-1]["text"] and "Skip, use UTC for now" in buttons(zone[-1])

    wrong = await say(bot, "+99")
    assert len(wrong) == 1 and "could not find that time zone" in wrong[0]["text"]
    saved = await say(bot, "london")
    assert len(saved) == 1 and "Europe/London" in saved[0]["text"]

    session = sessions.get("42")
    assert session is not None
    assert (
        session.consent,
        session.role,
        session.age,
        session.route,
        session.region,
        session.timezone,
    ) == (
        True,
        "caregiver",
        "adult",
        "pump",
        "UK",
        "Europe/London",
    )

    settings = await say(bot, "/settings")
    assert "Europe/London" in settings[0]["text"] and "999" in settings[0]["text"]
    assert list(buttons(settings[0])) == [
        "Who I am",
        "Child or adult",
        "Tablets or pump",
        "My region",
        "My time zone",
    ]
    asked = await press(bot, "My time zone")
    assert "time zone" in asked[-1]["text"]
    before = len(bot.sent(42))
    bot.user_sends(location={"latitude": 40.71, "longitude": -74.0})
    shared = await bot.replies(42, after=before)
    assert "America/New_York" in shared[0]["text"]
    assert sessions.get("42").timezone == "America/New_York"  # type: ignore[union-attr]

    offset = await say(bot, "/settings")
    assert "America/New_York" in offset[0]["text"]
    await press(bot, "My time zone")
    plus_two = await say(bot, "UTC+2")
    assert "Etc/GMT-2" in plus_two[0]["text"]


async def test_delete_my_data_asks_then_forgets(bot: FakeBotApi, sessions: Sessions) -> None:
    await say(bot, "/start", user_id=7)
    await press(bot, "I agree", user_id=7)
    assert sessions.get("7") is not None
    confirm = await say(bot, "/delete_my_data", user_id=7)
    assert list(buttons(confirm[0])) == ["Yes, delete it all", "No, keep it"]
    done = await press(bot, "Yes, delete it all", user_id=7)
    assert "deleted everything" in done[0]["text"]
    assert sessions.get("7") is None


# -- answers, safety, buttons ---------------------------------------------------------------


async def test_an_emergency_reply_comes_first_and_alone(
    bot: FakeBotApi, dialogue: Dialogue
) -> None:
    text = "she is having a fit"
    turn = dialogue.text(Session(), text)
    assert turn.messages[0].kind == "emergency"
    replies = await say(bot, text)
    assert texts(replies) == expected(turn)
    assert len(replies) >= 2, "the answer follows the emergency reply"
    assert "Call 911 now" in replies[0]["text"]
    assert "reply_markup" not in replies[0], "the emergency reply stands alone, no buttons"


async def test_related_questions_are_buttons_that_answer(
    bot: FakeBotApi, dialogue: Dialogue
) -> None:
    replies = await say(bot, "what is a baclofen pump")
    offered = buttons(replies[-1])
    assert offered, "related questions are offered as buttons"
    label, data = next(iter(offered.items()))
    answers = await press(bot, label)
    assert texts(answers) == expected(pressed(dialogue, data))
    assert bot.sent(method="answerCallbackQuery")


class _Clarifying(Engine):
    """The real engine, except that one phrase is unclear on purpose (two close topics)."""

    PHRASE = "tell me about baclofen and sleep"

    def __init__(self, engine: Engine, options: tuple[str, ...]) -> None:
        self.__dict__.update(engine.__dict__)
        self._real = engine
        self._options = options

    def classify(self, text: str, profile: Profile | None = None) -> Any:
        decision = self._real.classify(text, profile)
        if text.lower() != self.PHRASE:
            return decision
        return dataclasses.replace(
            decision, action=Action.CLARIFY, intent=None, answer_id=None, options=self._options
        )


async def test_a_clarify_button_continues_the_conversation(
    fake: FakeBotApi, dialogue: Dialogue, tmp_path: Path
) -> None:
    topics = tuple(i for i in dialogue.engine.intents if i in dialogue.content.answers)[:2]
    unclear = Dialogue(_Clarifying(dialogue.engine, topics), dialogue.content, "US")
    settings = bot_settings(
        telegram_base_url=f"http://127.0.0.1:{fake.port}/bot",
        database_url=f"sqlite:///{tmp_path}/bot.sqlite3",
    )
    async with running(met(build_app(settings, dialogue=unclear)), fake):
        replies = await say(fake, _Clarifying.PHRASE)
        offered = buttons(replies[-1])
        assert "None of these" in offered and len(offered) == 3
        label = next(iter(offered))
        answers = await press(fake, label)
        assert texts(answers) == expected(pressed(unclear, offered[label]))
        nothing = await press(fake, "None of these")
        assert "Try asking in other words" in nothing[0]["text"]


async def test_long_answers_are_split_and_no_character_breaks_a_message(
    fake: FakeBotApi, dialogue: Dialogue, tmp_path: Path
) -> None:
    tricky = "Dose <b>not</b> & *bold* _it_ [link](x) `code` </i> 🧪💊 é\n"
    long_text = (tricky * 60 + "\n\n") * 3  # about 10,000 characters, emoji count twice

    class Chatty(Dialogue):
        def on_help(self, visit: Visit, args: str) -> Turn:
            return Turn([Message(long_text, kind="info")], visit.session)

    chatty = Chatty(dialogue.engine, dialogue.content, "US")
    settings = bot_settings(
        telegram_base_url=f"http://127.0.0.1:{fake.port}/bot",
        database_url=f"sqlite:///{tmp_path}/bot.sqlite3",
    )
    async with running(met(build_app(settings, dialogue=chatty)), fake):
        replies = await say(fake, "/help")
    assert len(replies) >= 3
    assert all(len(r["text"].encode("utf-16-le")) // 2 <= 4096 for r in replies)
    assert all("parse_mode" not in r for r in replies), "plain text: nothing is parsed"
    assert " ".join(texts(replies)).split() == long_text.split()
    assert tricky.strip() in replies[0]["text"]


# -- everything else a person may send ---------------------------------------------------


async def test_stickers_photos_voice_and_stray_locations_get_a_kind_reply(
    bot: FakeBotApi, dialogue: Dialogue
) -> None:
    t = dialogue.content.text
    cases: list[tuple[Json, str]] = [
        (
            {
                "sticker": {
                    "file_id": "s",
                    "file_unique_id": "s",
                    "width": 512,
                    "height": 512,
                    "is_animated": False,
                    "is_video": False,
                    "type": "regular",
                }
            },
            t("not_text_sticker"),
        ),
        (
            {"photo": [{"file_id": "p", "file_unique_id": "p", "width": 90, "height": 90}]},
            t("not_text_photo"),
        ),
        ({"voice": {"file_id": "v", "file_unique_id": "v", "duration": 3}}, t("not_text_voice")),
        ({"location": {"latitude": 51.5, "longitude": -0.12}}, t("location_not_needed")),
        ({"contact": {"phone_number": "+100", "first_name": "A"}}, t("not_text")),
    ]
    for content, reply in cases:
        before = len(bot.sent(42))
        bot.user_sends(**content)
        assert texts(await bot.replies(42, after=before)) == [reply]


async def test_a_photo_caption_is_read_safety_first(bot: FakeBotApi, dialogue: Dialogue) -> None:
    before = len(bot.sent(42))
    photo = [{"file_id": "p", "file_unique_id": "p", "width": 90, "height": 90}]
    bot.user_sends(photo=photo, caption="she is having a fit")
    replies = await bot.replies(42, after=before)
    assert "Call 911 now" in replies[0]["text"]
    assert replies[-1]["text"] == dialogue.content.text("not_text_photo")


async def test_edits_forwards_empty_and_very_long_text(bot: FakeBotApi, dialogue: Dialogue) -> None:
    sent = bot.user_says("what is a baclofen pump")
    await bot.replies(42)
    before = len(bot.sent(42))
    bot.user_edits(sent, "what is a pump refill")
    assert texts(await bot.replies(42, after=before)) == [dialogue.content.text("edited_message")]
    before = len(bot.sent(42))
    bot.user_edits(sent, "she is having a fit")
    assert "Call 911 now" in (await bot.replies(42, after=before))[0]["text"]

    origin = {
        "type": "user",
        "date": 1,
        "sender_user": {"id": 9, "is_bot": False, "first_name": "Friend"},
    }
    forwarded = await say(bot, "what is a baclofen pump", forward_origin=origin)
    assert texts(forwarded) == expected(dialogue.text(Session(), "what is a baclofen pump"))

    empty = await say(bot, "   ")
    assert texts(empty) == [dialogue.content.text("empty_message")]
    long = await say(bot, "what is a baclofen pump " * 160)
    assert dialogue.content.text("too_long") in texts(long)


async def test_an_unknown_command_is_answered_kindly(bot: FakeBotApi, dialogue: Dialogue) -> None:
    assert texts(await say(bot, "/frobnicate")) == [dialogue.content.text("unknown_command")]


# -- groups ---------------------------------------------------------------------------------


async def test_in_a_group_only_what_is_addressed_to_the_bot_is_answered(
    bot: FakeBotApi, sessions: Sessions
) -> None:
    group = -1001
    await say(bot, "/start", user_id=5)
    await press(bot, "I agree", user_id=5)
    await press(bot, "I care for someone who does", user_id=5)  # a personal choice

    bot.user_says("what is a baclofen pump", user_id=5, chat_id=group, kind="group")
    bot.user_says("/help@SomeOtherBot", user_id=5, chat_id=group, kind="group")
    bot.user_sends(
        user_id=5,
        chat_id=group,
        kind="group",
        sticker={
            "file_id": "s",
            "file_unique_id": "s",
            "width": 1,
            "height": 1,
            "is_animated": False,
            "is_video": False,
            "type": "regular",
        },
    )
    await asyncio.sleep(0.5)
    assert bot.sent(group) == [], "nothing said in the group that was not for the bot"

    asked = await say(
        bot, f"@{BOT_USERNAME} what is a baclofen pump", user_id=5, chat_id=group, kind="group"
    )
    assert asked and "pump" in asked[0]["text"]
    assert "care for" not in " ".join(texts(asked)), "the group never hears one member's role"
    assert asked[0]["reply_parameters"]["message_id"], "the answer quotes the question"

    settings = await say(bot, "/settings", user_id=5, chat_id=group, kind="group")
    assert len(settings) == 1 and f"@{BOT_USERNAME}" in settings[0]["text"]
    assert "caregiver" not in settings[0]["text"].lower() and not buttons(settings[0])

    bot_message = next(
        m
        for m in reversed(bot.messages.values())
        if m["chat"]["id"] == group and m["from"]["id"] == BOT_ID
    )
    replied = await say(
        bot, "and refills?", user_id=6, chat_id=group, kind="group", reply_to_message=bot_message
    )
    assert replied, "a reply to the bot is answered"
    assert sessions.get("6") is None, "nothing is stored about group members"
    assert sessions.get("5").role == "caregiver"  # type: ignore[union-attr]


# -- the network misbehaving ----------------------------------------------------------------


async def test_a_429_is_retried_by_the_rate_limiter(bot: FakeBotApi, dialogue: Dialogue) -> None:
    bot.fail("sendMessage", 429, retry_after=1)
    started = time.perf_counter()
    replies = await say(bot, "/help")
    waited = time.perf_counter() - started
    assert texts(replies) == [dialogue.content.text("help")]
    statuses = [c.status for c in bot.calls if c.method == "sendMessage"]
    assert statuses == [429, 200]
    assert waited >= 1.0, "Telegram's retry_after was respected"


async def test_a_server_error_gets_a_kind_apology_and_no_secret_in_the_logs(
    bot: FakeBotApi, dialogue: Dialogue, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bot.fail("sendMessage", 502)
    replies = await say(bot, "what is a baclofen pump")
    assert texts(replies) == [dialogue.content.text("error", emergency_number="911")]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "failed: NetworkError" in logged
    assert TOKEN not in logged and TOKEN.split(":")[1] not in logged
    assert "baclofen pump" not in logged


async def test_one_slow_chat_does_not_hold_up_another(bot: FakeBotApi) -> None:
    bot.fail("sendMessage", 200, delay=1.0)  # the next send is slow (to the first person)
    bot.user_says("/about", user_id=1)
    await asyncio.sleep(0.05)
    started = time.perf_counter()
    fast = await say(bot, "/help", user_id=2)
    assert fast and time.perf_counter() - started < 0.9
    assert await bot.replies(1)


# -- webhook mode ---------------------------------------------------------------------------


async def test_webhook_mode_checks_the_secret_on_every_request(
    fake: FakeBotApi, dialogue: Dialogue, tmp_path: Path
) -> None:
    port = free_port()
    settings = bot_settings(
        telegram_base_url=f"http://127.0.0.1:{fake.port}/bot",
        webhook_url=f"http://127.0.0.1:{port}/telegram/hook",
        webhook_secret="right-secret_123",
        webhook_port=port,
        database_url=f"sqlite:///{tmp_path}/bot.sqlite3",
    )
    app = met(build_app(settings, dialogue=dialogue))
    async with running(app, fake, webhook=webhook_options(settings)):
        assert fake.webhook["url"] == settings.webhook_url
        assert fake.webhook["secret_token"] == "right-secret_123"
        assert await fake.post_webhook(fake.webhook_update("/help"), "wrong") == 403
        assert await fake.post_webhook(fake.webhook_update("/help"), None) == 403
        await asyncio.sleep(0.2)
        assert fake.sent(42) == [], "a rejected request is never processed"
        assert await fake.post_webhook(fake.webhook_update("/help"), "right-secret_123") == 200
        assert texts(await fake.replies(42)) == [dialogue.content.text("help")]


# -- the real entry point -------------------------------------------------------------------


async def test_python_m_bot_run_polls_answers_and_stops_cleanly(
    fake: FakeBotApi, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBHOOK_", "TELEGRAM_"))}
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_BASE_URL=f"http://127.0.0.1:{fake.port}/bot",
        LOG_LEVEL="DEBUG",
        DATABASE_URL=f"sqlite:///{tmp_path}/bot.sqlite3",  # the store, kept out of the repo
    )
    root = Path(__file__).resolve().parents[2]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=root,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        await fake.wait_for(lambda: bool(fake.commands), timeout=20)
        replies = await say(fake, "/start")
        assert "I am not a doctor" in replies[0]["text"]
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = await asyncio.wait_for(process.communicate(), 10)
    log = output.decode()
    assert process.returncode == 0, log
    assert "long polling" in log and "Telegram bot stopped" in log
    assert TOKEN.split(":")[1] not in log and "I am not a doctor" not in log


async def test_the_emergency_line_survives_502s_429s_and_a_slow_api(
    fake: FakeBotApi, dialogue: Dialogue, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """502 x3, then 429 x6 (more than the rate limiter's 3 retries), then a send that takes
    20 s (longer than this test's 1 s timeout): the emergency line still arrives, once, first,
    with the rest of the reply after it and no apology."""
    settings = bot_settings(
        telegram_base_url=f"http://127.0.0.1:{fake.port}/bot",
        database_url=f"sqlite:///{tmp_path}/bot.sqlite3",
    )
    safety = SafetyRetry(tries=12, deadline=300, first_pause=0.05, timeout=1.0)
    app = met(build_app(settings, dialogue=dialogue, safety=safety), 77)
    text = "she is having a fit"
    turn = dialogue.text(Session(), text)
    fake.fail("sendMessage", 502, times=3)
    fake.fail("sendMessage", 429, retry_after=1, times=6)
    fake.fail("sendMessage", 200, delay=20.0)
    async with running(app, fake):
        fake.user_says(text, user_id=77)
        await fake.wait_for(lambda: len(fake.sent(77)) >= len(turn.messages), timeout=60)
        replies = await fake.replies(77)
    assert texts(replies) == expected(turn), "the whole reply, emergency line first"
    assert "Call 911 now" in replies[0]["text"]
    assert sum("Call 911 now" in t for t in texts(replies)) == 1, "once"
    apology = dialogue.content.text("error", emergency_number="911")
    assert apology not in texts(replies)
    failed = [c.status for c in fake.calls if c.method == "sendMessage" and c.status != 200]
    assert failed == [502] * 3 + [429] * 6, "every fault was met and outlasted"
    assert TOKEN not in caplog.text and text not in caplog.text


async def test_an_update_the_library_cannot_read_is_skipped_and_polling_goes_on(
    bot: FakeBotApi, telegram: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    redactor = logs.install((TOKEN,))
    try:
        broken = {"message_id": 9, "date": "not a date", "text": "someone else's words",
                  "chat": {"id": 5150, "type": "private", "first_name": "Mallory"}}  # fmt: skip
        bot.raw_update({"message": broken})
        replies = await say(bot, "/help")
        assert replies, "the next update is answered: polling did not stall"
        bot.raw_update({"message": {**broken, "chat": "not a chat"}})  # the last of its batch
        assert await say(bot, "/about")
    finally:
        logs.uninstall(redactor)
    assert telegram.bot.skipped == 2
    logged = caplog.text
    assert "skipped update" in logged and "someone else's words" not in logged
    assert "Mallory" not in logged and "5150" not in logged
    assert not [r for r in caplog.records if r.levelno >= logging.CRITICAL]


async def test_a_rejected_token_ends_the_bot_with_one_line_and_no_token(
    fake: FakeBotApi, tmp_path: Path
) -> None:
    wrong = "123456:WRONG-token-the-server-refuses"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBHOOK_", "TELEGRAM_"))}
    env.update(
        TELEGRAM_BOT_TOKEN=wrong,
        TELEGRAM_BASE_URL=f"http://127.0.0.1:{fake.port}/bot",
        LOG_LEVEL="WARNING",
        DATABASE_URL=f"sqlite:///{tmp_path}/bot.sqlite3",
    )
    root = Path(__file__).resolve().parents[2]
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=root, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    printed = output.decode()
    assert process.returncode == 2
    assert printed.strip().splitlines() == [
        "baclofen-companion: Telegram rejected TELEGRAM_BOT_TOKEN (check it with @BotFather)"
    ]
    assert wrong.split(":")[1] not in printed and "Traceback" not in printed
