"""The Telegram door: python-telegram-bot 22 in front of the same companion as the local chat.

`build_app` makes the Application (for production and tests alike) and the app behind it
(`bot.app.build`, with this door's `TelegramNotifier`). Handlers only translate: an update
becomes a `Person` and an act for `Companion.handle`, and the `Reply` that comes back is sent:
the person's messages in order as plain text (no parse mode, so no character in the content can
break a message), split under Telegram's length limit, with buttons as inline keyboards, then
the messages for other people. This module must never hold clinical or safety rules, never hold
UI text (that lives in content/), never decide anything, and never log a message's text or the
bot token.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import sys
import time
import traceback
import unicodedata
import warnings
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
)
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram.constants import ChatType, MessageLimit
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ContextTypes,
    Defaults,
    ExtBot,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot import logs
from bot.app import App, build
from bot.companion import Act, Commanded, Edited, Located, Person, Pressed, Said, Sent
from bot.conversation import timezones
from bot.reminders.service import Refused, Unreachable
from bot.reply import messages as reply
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.conversation.dialogue import Dialogue

log = logging.getLogger(__name__)

TelegramApp = Application[Any, Any, Any, Any, Any, Any]
Context = ContextTypes.DEFAULT_TYPE

MAX_CHARS: int = MessageLimit.MAX_TEXT_LENGTH  # 4096, counted in UTF-16 code units
ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY]
CHAT_PREFIX = "tg:"  # a person's chat key in the store: "tg:<Telegram user id>"
MAX_CAPTION: int = MessageLimit.CAPTION_LENGTH  # 1024
FIRST = ("emergency", "urgent")  # message kinds that go out before anything else
# Turns run side by side for different people (one at a time per person). Fewer turns at once
# than HTTP connections, so that a burst queues in PTB instead of timing out in the pool.
CONCURRENT_UPDATES = 16
# Bad requests that mean the chat itself is gone (Telegram's descriptions, lower case).
GONE = ("chat not found", "user is deactivated", "peer_id_invalid", "bot was blocked")


# -- pure helpers -------------------------------------------------------------------------


def _units(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def _fit(text: str, limit: int) -> int:
    """The longest prefix of `text`, in characters, that is at most `limit` UTF-16 units."""
    used = 0
    for index, char in enumerate(text):
        used += _units(char)
        if used > limit:
            return index
    return len(text)


def _joins(text: str, at: int) -> bool:
    """True if cutting before `text[at]` would split one visible character."""
    char = text[at]
    return (
        bool(unicodedata.combining(char))
        or char in "\u200d\ufe0e\ufe0f"
        or text[at - 1] == "\u200d"
    )


def split_text(text: str, limit: int = MAX_CHARS) -> list[str]:
    """Split `text` into messages Telegram accepts: at paragraphs, then lines, then spaces.

    Length is measured as Telegram measures it (UTF-16 units); a hard cut, the last resort,
    never splits a surrogate pair, an accent from its letter or an emoji sequence.
    """
    chunks: list[str] = []
    rest = text.strip()
    while sum(_units(c) for c in rest) > limit:
        cut = _fit(rest, limit)
        window = rest[:cut]
        for separator in ("\n\n", "\n", " "):
            at = window.rfind(separator)
            if at >= limit // 4:
                chunks.append(rest[:at].rstrip())
                rest = rest[at + len(separator) :].lstrip()
                break
        else:
            while cut > 1 and _joins(rest, cut):
                cut -= 1
            chunks.append(rest[:cut])
            rest = rest[cut:]
    if rest:
        chunks.append(rest)
    return [c for c in chunks if c.strip()]


def keyboard(buttons: Sequence[reply.Button]) -> InlineKeyboardMarkup | None:
    """One button per row, so that long labels stay readable on a phone."""
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data)] for b in buttons]
    )


def in_order(messages: Sequence[reply.Message]) -> list[reply.Message]:
    """Emergency and urgent messages first (they already are; this keeps it so), each alone."""
    return [m for m in messages if m.kind in FIRST] + [m for m in messages if m.kind not in FIRST]


@dataclass(frozen=True)
class SafetyRetry:
    """How hard the safety part of a reply is pushed through a flaky Bot API.

    A 5xx, a 429 (waiting as long as Telegram says, after the rate limiter's own retries) or a
    timeout is tried again with a growing pause, up to `tries` sends within `deadline` seconds.
    `timeout` is how long one send may take: long enough that a slow API (8-20 s) answers
    instead of being sent twice. A 400 or 403 is not retried (it would fail the same way).
    """

    tries: int = 12
    deadline: float = 300.0
    first_pause: float = 0.5
    longest_pause: float = 30.0
    timeout: float = 30.0


T = TypeVar("T")


def _retry_after(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns while moving from int to timedelta
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def _worth_retrying(exc: TelegramError) -> bool:
    return isinstance(exc, RetryAfter) or (
        isinstance(exc, NetworkError) and not isinstance(exc, BadRequest)
    )


async def with_retries(send: Callable[[], Awaitable[T]], policy: SafetyRetry) -> T:
    """`send()` until it works, as `policy` allows; the last error is raised."""
    started = time.monotonic()
    pause = policy.first_pause
    for attempt in range(1, policy.tries + 1):
        try:
            return await send()
        except TelegramError as exc:
            if not _worth_retrying(exc) or attempt == policy.tries:
                raise
            wait = max(_retry_after(exc), 0.1) if isinstance(exc, RetryAfter) else pause
            if time.monotonic() - started + wait > policy.deadline:
                raise
            log.warning(
                "safety message not delivered (%s), try %d of %d in %.1f s",
                type(exc).__name__, attempt + 1, policy.tries, wait,
            )  # fmt: skip
            await asyncio.sleep(wait)
            pause = min(pause * 2, policy.longest_pause)
    raise AssertionError("unreachable")  # pragma: no cover


async def send_messages(
    bot: Bot,
    chat_id: int,
    messages: Sequence[reply.Message],
    quote: Message | None = None,
    safety: SafetyRetry | None = None,
) -> list[int]:
    """Send in order, one after another, as plain text with inline buttons (a file goes as a
    photo or a document with the text as its caption); the first one answers `quote`.

    With `safety`, the emergency and urgent messages (always first) are retried through
    transient faults as it says, before anything else is sent."""
    reply_to = (
        ReplyParameters(quote.message_id, allow_sending_without_reply=True) if quote else None
    )
    ids: list[int] = []
    for message in in_order(messages):
        if safety is not None and message.kind in FIRST and message.file is None:
            chunks = split_text(message.text)
            for number, chunk in enumerate(chunks, start=1):
                send = functools.partial(
                    bot.send_message,
                    chat_id,
                    chunk,
                    reply_markup=keyboard(message.buttons) if number == len(chunks) else None,
                    reply_parameters=reply_to,
                    read_timeout=safety.timeout,
                    write_timeout=safety.timeout,
                    connect_timeout=safety.timeout,
                    pool_timeout=safety.timeout,
                )
                sent = await with_retries(send, safety)
                ids.append(sent.message_id)
                reply_to = None
            continue
        if message.file is not None:
            upload = InputFile(message.file.data, filename=message.file.name)
            caption = message.text[: _fit(message.text, MAX_CAPTION)]
            markup = keyboard(message.buttons)
            if message.file.is_image:
                sent = await bot.send_photo(
                    chat_id, upload, caption=caption, reply_markup=markup, reply_parameters=reply_to
                )
            else:
                sent = await bot.send_document(
                    chat_id, upload, caption=caption, reply_markup=markup, reply_parameters=reply_to
                )
            ids.append(sent.message_id)
            reply_to = None
            continue
        chunks = split_text(message.text)
        for number, chunk in enumerate(chunks, start=1):
            sent = await bot.send_message(
                chat_id,
                chunk,
                reply_markup=keyboard(message.buttons) if number == len(chunks) else None,
                reply_parameters=reply_to,
            )
            ids.append(sent.message_id)
            reply_to = None
    return ids


def command_name(message: Message) -> str | None:
    """The command a message begins with ("/Start@SomeBot x" -> "start"), or None."""
    text = message.text or ""
    for entity in message.entities:
        if entity.type == MessageEntity.BOT_COMMAND and entity.offset == 0:
            return text[1 : entity.length].split("@", 1)[0].lower()
    return None


def _command_target(message: Message) -> str | None:
    """The bot a command names ("/help@OtherBot" -> "otherbot"), or None."""
    text = message.text or ""
    for entity in message.entities:
        if entity.type == MessageEntity.BOT_COMMAND and entity.offset == 0:
            _, _, target = text[: entity.length].partition("@")
            return target.lower() or None
    return None


def addressed(message: Message, bot_id: int, bot_username: str) -> bool:
    """In a group, is this message for us: a command, a mention, or a reply to one of ours?"""
    if message.chat.type == ChatType.PRIVATE:
        return True
    me = bot_username.lower()
    if command_name(message) is not None:
        target = _command_target(message)
        return target is None or target == me
    mentions = {**message.parse_entities(), **message.parse_caption_entities()}
    for entity, text in mentions.items():
        if entity.type == MessageEntity.MENTION and text.lower() == f"@{me}":
            return True
        if entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot_id:
            return True
    replied_to = message.reply_to_message
    return bool(replied_to and replied_to.from_user and replied_to.from_user.id == bot_id)


def without_mention(text: str, bot_username: str) -> str:
    """The text with "@ourbot" taken out, so that the core reads only the question."""
    mention = f"@{bot_username}".lower()
    index = text.lower().find(mention)
    while bot_username and index >= 0:
        text = text[:index] + text[index + len(mention) :]
        index = text.lower().find(mention)
    return " ".join(text.split())


def media_kind(message: Message) -> str:
    """What a non-text message is, in the dialogue's words (`bot.conversation.dialogue.MEDIA`)."""
    if message.voice or message.audio or message.video_note:
        return "voice"
    if message.sticker:
        return "sticker"
    if message.photo or message.document or message.video or message.animation:
        return "photo"
    return "other"


def webhook_options(settings: Settings) -> dict[str, Any]:
    """How `run_webhook` listens: the same options the e2e test gives `start_webhook`."""
    if not settings.webhook_url or not settings.webhook_secret:
        raise ValueError("webhook mode needs WEBHOOK_URL and WEBHOOK_SECRET")
    return {
        "listen": settings.webhook_listen,
        "port": settings.webhook_port,
        "url_path": urlsplit(settings.webhook_url).path.strip("/"),
        "webhook_url": settings.webhook_url,
        "secret_token": settings.webhook_secret.get_secret_value(),
        "allowed_updates": ALLOWED_UPDATES,
    }


def _quiet_libraries() -> None:
    """Keep secrets and message text out of the logs, whatever LOG_LEVEL says.

    httpx logs every request URL (which holds the token) at INFO; python-telegram-bot logs its
    base URL (token) and whole updates (message text) at DEBUG.
    """
    everything = logging.getLogger().getEffectiveLevel()
    for name, floor in (
        ("httpx", logging.WARNING),
        ("httpcore", logging.WARNING),
        ("telegram", logging.INFO),
        ("apscheduler", logging.INFO),
        ("alembic.runtime.plugins", logging.WARNING),  # start-up chatter, one line per plugin
    ):
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < floor or logger.level == logging.NOTSET:
            # Explicit, so that a later DEBUG on the root logger cannot open them up again.
            logger.setLevel(max(floor, everything, logger.getEffectiveLevel()))


class SafeBot(ExtBot[Any]):
    """The library's bot, but an update it cannot read is skipped and counted, never fatal.

    PTB 22 reads a whole getUpdates batch at once: one update it cannot parse fails the batch,
    is logged with the raw data (other people's messages) and is fetched again at once, so that
    polling stalls. Here each update is read on its own; one that cannot be read is counted in
    `skipped`, logged by its update id only, and the next poll starts after it.
    """

    _skipped: int = 0
    _after: int = 0  # the offset past the last update we could not read

    @property
    def skipped(self) -> int:
        """How many updates were skipped because the library could not read them."""
        return self._skipped

    async def get_updates(
        self,
        offset: int | None = None,
        limit: int | None = None,
        timeout: int | dt.timedelta | None = None,
        allowed_updates: Sequence[str] | None = None,
        *,
        read_timeout: Any = DEFAULT_NONE,
        write_timeout: Any = DEFAULT_NONE,
        connect_timeout: Any = DEFAULT_NONE,
        pool_timeout: Any = DEFAULT_NONE,
        api_kwargs: dict[str, Any] | None = None,
    ) -> tuple[Update, ...]:
        offset = max(offset or 0, self._after) or None
        if isinstance(timeout, dt.timedelta):
            timeout = int(timeout.total_seconds())
        data: dict[str, Any] = {"timeout": timeout, "offset": offset, "limit": limit}
        data["allowed_updates"] = allowed_updates
        wait = read_timeout if isinstance(read_timeout, int | float) else 5.0
        raw = await self._post(
            "getUpdates",
            data,
            read_timeout=wait + (timeout or 0),
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
            api_kwargs=api_kwargs,
        )
        updates: list[Update] = []
        for item in raw if isinstance(raw, list) else []:
            number = item.get("update_id") if isinstance(item, dict) else None
            error = "no update id"
            try:
                update = Update.de_json(item, self)
            except Exception as exc:  # the library cannot read it: skip it, never stall
                update, error = None, type(exc).__name__
            if update is None or not isinstance(update.update_id, int):
                self._skipped += 1
                if isinstance(number, int):
                    self._after = max(self._after, number + 1)
                log.warning(
                    "skipped update %s that could not be read (%s); %d skipped so far",
                    number if isinstance(number, int) else "-",
                    error,
                    self.skipped,
                )
                continue
            self.insert_callback_data(update)
            updates.append(update)
        return tuple(updates)


# -- the door -----------------------------------------------------------------------------


class TelegramDoor:
    """The handlers: each turns an update into one act for the companion and sends the reply."""

    def __init__(self, app: App, safety: SafetyRetry | None = None) -> None:
        self.app = app
        self.companion = app.companion
        self.safety = safety or SafetyRetry()
        # One turn at a time per person (updates run concurrently across people).
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def _lock(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    @staticmethod
    def _person(update: Update, context: Context) -> Person | None:
        chat, user = update.effective_chat, update.effective_user
        if chat is None or user is None:
            return None
        private = chat.type == ChatType.PRIVATE
        return Person(
            f"{CHAT_PREFIX}{user.id}", user.first_name, private, context.bot.username or ""
        )

    async def _handle(self, update: Update, context: Context, act: Act) -> None:
        """The companion's reply to `act`, sent to this chat (quoting the message in a group);
        then the messages for other people, each to their own chat."""
        person, chat = self._person(update, context), update.effective_chat
        if person is None or chat is None:
            return
        async with self._lock(person.key if person.private else f"chat:{chat.id}"):
            # The turn reads and writes the database: off the event loop, so one person's slow
            # turn never holds up anyone else's updates or the reminders.
            answer = await asyncio.to_thread(self.companion.handle, person, act)
            quote = None if person.private else update.effective_message
            await send_messages(context.bot, chat.id, answer.messages, quote, self.safety)
        for notice in answer.others:
            try:
                await self.app.notifier.send(notice.to, notice.messages)
            except (TelegramError, ValueError, Unreachable, Refused) as exc:  # one blocked chat
                # must not stop the rest
                log.warning("could not notify a linked person: %s", type(exc).__name__)

    # -- handlers ---------------------------------------------------------------------------

    async def guard(self, update: Update, context: Context) -> None:
        """Group -1: drop what is not for us (groups not addressing us, channels, other bots)."""
        if update.callback_query is not None:
            return
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or user.is_bot or update.effective_chat is None:
            raise ApplicationHandlerStop
        if update.effective_chat.type == ChatType.CHANNEL:
            raise ApplicationHandlerStop
        if not addressed(message, context.bot.id, context.bot.username or ""):
            raise ApplicationHandlerStop

    async def on_command(self, update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        args = (message.text or "").partition(" ")[2]
        await self._handle(update, context, Commanded(command_name(message) or "", args))

    async def on_text(self, update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        text = message.text or ""
        if message.chat.type != ChatType.PRIVATE:
            text = without_mention(text, context.bot.username or "")
        await self._handle(update, context, Said(text))

    async def on_edited(self, update: Update, context: Context) -> None:
        message = update.edited_message
        if message is None or not message.text:
            return  # live-location moves and edited captions need no reply
        text = message.text
        if message.chat.type != ChatType.PRIVATE:
            text = without_mention(text, context.bot.username or "")
        await self._handle(update, context, Edited(text))

    async def on_location(self, update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None and message.location is not None
        location = message.location
        await self._handle(update, context, Located(location.latitude, location.longitude))

    async def on_media(self, update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        caption = message.caption
        if caption and message.chat.type != ChatType.PRIVATE:
            caption = without_mention(caption, context.bot.username or "")
        await self._handle(update, context, Sent(media_kind(message), caption))

    async def on_press(self, update: Update, context: Context) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()  # stops the button's spinner at once, whatever happens next
        await self._handle(update, context, Pressed(query.data or ""))

    async def on_error(self, update: object, context: Context) -> None:
        """Log what failed (never message text or token) and tell the person kindly."""
        error = context.error
        where = update.update_id if isinstance(update, Update) else "-"
        detail = str(error) if isinstance(error, TelegramError) else ""
        token = context.bot.token
        frames = "".join(traceback.format_tb(error.__traceback__)) if error else ""
        log.error(
            "update %s failed: %s %s\n%s",
            where,
            type(error).__name__,
            detail.replace(token, "[token]"),
            frames.replace(token, "[token]"),
        )
        if not isinstance(update, Update) or update.effective_chat is None:
            return
        person = self._person(update, context) or Person("", private=False)
        for message in await asyncio.to_thread(self.companion.failed, person):
            try:
                await context.bot.send_message(update.effective_chat.id, message.text)
            except TelegramError as exc:
                log.warning("could not send the error message: %s", type(exc).__name__)

    # -- wiring -----------------------------------------------------------------------------

    def register(self, application: TelegramApp) -> None:
        message = filters.UpdateType.MESSAGE
        add = application.add_handler
        add(TypeHandler(Update, self.guard), group=-1)
        add(CallbackQueryHandler(self.on_press))
        add(MessageHandler(filters.UpdateType.EDITED_MESSAGE, self.on_edited))
        add(MessageHandler(message & filters.COMMAND, self.on_command))
        add(MessageHandler(message & filters.LOCATION, self.on_location))
        add(MessageHandler(message & filters.TEXT, self.on_text))
        add(MessageHandler(message & ~filters.StatusUpdate.ALL, self.on_media))
        application.add_error_handler(self.on_error)

    async def post_init(self, application: TelegramApp) -> None:
        """Start-up: the command menu, the time-zone index (off the event loop), the scheduler."""
        menu = [BotCommand(name, about) for name, about in self.companion.menu()]
        await application.bot.set_my_commands(menu)
        await asyncio.to_thread(timezones.warm)
        await self.app.start()
        log.info("Telegram bot @%s is ready", application.bot.username)

    async def post_stop(self, application: TelegramApp) -> None:
        """Clean shutdown: the scheduler, then the store."""
        await self.app.stop()
        log.info("Telegram bot stopped")


class TelegramNotifier:
    """The door's `Notifier`: sends to a chat key "tg:<id>" through the application's bot."""

    def __init__(self, application: TelegramApp) -> None:
        self.application = application

    async def send(self, chat_key: str, messages: Sequence[reply.Message]) -> list[str]:
        """Send; a chat that blocked the bot (403) or is gone is `Unreachable`, any other bad
        request (400) is `Refused`; a timeout or server error is raised as it is (tried again)."""
        chat_id = int(chat_key.removeprefix(CHAT_PREFIX))
        try:
            sent = await send_messages(self.application.bot, chat_id, messages)
        except Forbidden as exc:
            raise Unreachable(type(exc).__name__) from exc
        except BadRequest as exc:
            gone = any(w in exc.message.lower() for w in GONE)
            raise (Unreachable if gone else Refused)(type(exc).__name__) from exc
        return [str(i) for i in sent]


async def _post_init(application: TelegramApp) -> None:
    door: TelegramDoor = application.bot_data["door"]
    await door.post_init(application)


async def _post_stop(application: TelegramApp) -> None:
    door: TelegramDoor = application.bot_data["door"]
    await door.post_stop(application)


def build_app(
    settings: Settings,
    *,
    base_url: str | None = None,
    clock: Clock | None = None,
    dialogue: Dialogue | None = None,
    safety: SafetyRetry | None = None,
) -> TelegramApp:
    """The Application with its handlers, on the app built for it (`bot.app.build`), ready to
    run. `base_url`: another Bot API server (tests); `clock`, `dialogue`: see `build`;
    `safety`: how the safety part of a reply is retried (tests shorten its timeout)."""
    _quiet_libraries()
    limiter = (
        AIORateLimiter(max_retries=settings.telegram_rate_limit_retries)
        if settings.telegram_rate_limiter
        else None
    )
    bot = SafeBot(
        settings.token,
        base_url=base_url or settings.telegram_base_url,
        defaults=Defaults(
            tzinfo=ZoneInfo(settings.bot_timezone),
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        ),
        request=HTTPXRequest(connection_pool_size=CONCURRENT_UPDATES * 2),
        get_updates_request=HTTPXRequest(connection_pool_size=1),
        rate_limiter=limiter,
    )
    application: TelegramApp = (
        ApplicationBuilder()
        .bot(bot)
        .concurrent_updates(CONCURRENT_UPDATES)
        .post_init(_post_init)
        .post_stop(_post_stop)
        .build()
    )
    app = build(settings, TelegramNotifier(application), clock=clock, dialogue=dialogue)
    door = TelegramDoor(app, safety)
    door.register(application)
    application.bot_data["door"] = door
    return application


def run_bot(settings: Settings) -> int:
    """`python -m bot run`: long polling, or webhook mode when WEBHOOK_URL is set.

    A token Telegram rejects ends the bot with one line on standard error and exit status 2:
    no traceback, and never the token."""
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    logs.install((settings.token, secret), drop=(InvalidToken,))
    application = build_app(settings)
    try:
        if settings.webhook_url:
            log.info("starting in webhook mode")
            application.run_webhook(**webhook_options(settings))
        else:
            log.info("starting with long polling")
            application.run_polling(allowed_updates=ALLOWED_UPDATES)
    except InvalidToken:
        print(
            "baclofen-companion: Telegram rejected TELEGRAM_BOT_TOKEN (check it with @BotFather)",
            file=sys.stderr,
        )
        return 2
    return 0
