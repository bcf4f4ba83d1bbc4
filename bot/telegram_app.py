"""The Telegram door: python-telegram-bot 22 in front of the same `Dialogue` as the local chat.

`build_app` is the one composition root, for production and tests alike. Handlers only
translate: an update becomes a `Dialogue` call, and the `Turn` that comes back becomes messages,
sent in order as plain text (no parse mode, so no character in the content can break a message),
split under Telegram's length limit, with buttons as inline keyboards. This module must never
hold clinical or safety rules, never hold UI text (that lives in content/ui.yaml), and never log
a message's text or the bot token.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
import unicodedata
import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any
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
from telegram.constants import ChatType, MessageLimit
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.conversation import timezones
from bot.conversation.dialogue import Dialogue, Session, Turn
from bot.conversation.sessions import MemorySessions, SessionStore
from bot.reply import messages as reply
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.care_door import CareDoor, DoorTurn
    from bot.clock import Clock
    from bot.reminder_desk import ReminderDesk
    from bot.reminders.leader import Leadership
    from bot.reply.messages import Notice
    from bot.storage.store import Store

log = logging.getLogger(__name__)

App = Application[Any, Any, Any, Any, Any, Any]
Context = ContextTypes.DEFAULT_TYPE

MAX_CHARS: int = MessageLimit.MAX_TEXT_LENGTH  # 4096, counted in UTF-16 code units
ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY]
COMMANDS = ("start", "help", "refill", "taper", "reminders", "checklist", "invite", "join",
            "unlink", "history", "card", "settings", "about", "sources", "emergency",
            "delete_my_data")  # fmt: skip
# Commands that show or change one person's data: private chats only, never in a group.
PERSONAL = frozenset(
    {"start", "settings", "sources", "delete_my_data", "refill", "taper", "reminders",
     "checklist", "invite", "join", "unlink", "history", "card"}
)  # fmt: skip
CHAT_PREFIX = "tg:"  # a person's chat key in the store: "tg:<Telegram user id>"
MAX_CAPTION: int = MessageLimit.CAPTION_LENGTH  # 1024
FIRST = ("emergency", "urgent")  # message kinds that go out before anything else
# Turns run side by side for different people (one at a time per person). Fewer turns at once
# than HTTP connections, so that a burst queues in PTB instead of timing out in the pool.
CONCURRENT_UPDATES = 16


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


async def send_messages(
    bot: Bot,
    chat_id: int,
    messages: Sequence[reply.Message],
    quote: Message | None = None,
) -> list[int]:
    """Send in order, one after another, as plain text with inline buttons (a file goes as a
    photo or a document with the text as its caption); the first one answers `quote`."""
    reply_to = (
        ReplyParameters(quote.message_id, allow_sending_without_reply=True) if quote else None
    )
    ids: list[int] = []
    for message in in_order(messages):
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
    ):
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < floor or logger.level == logging.NOTSET:
            # Explicit, so that a later DEBUG on the root logger cannot open them up again.
            logger.setLevel(max(floor, everything, logger.getEffectiveLevel()))


# -- the door -----------------------------------------------------------------------------


class TelegramDoor:
    """The handlers: each turns an update into one `Dialogue` call and sends the `Turn`."""

    def __init__(
        self,
        dialogue: Dialogue,
        sessions: SessionStore,
        desk: ReminderDesk | None = None,
        reminding: Reminding | None = None,
    ) -> None:
        self.dialogue = dialogue
        self.sessions = sessions
        self.desk = desk  # reminders on: sessions live in the store, effects are applied
        self.reminding = reminding
        self.care: CareDoor | None = None  # caregivers, checklist, history, card (issue 6)
        # One turn at a time per person (updates run concurrently across people).
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    # -- plumbing ---------------------------------------------------------------------------

    def _lock(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    async def _turn(
        self,
        update: Update,
        context: Context,
        step: Callable[[Session], Turn],
        notices: list[Notice] | None = None,
    ) -> None:
        """Run one dialogue step for the person behind `update`, store the session, reply;
        then send `notices` (filled by the step) to the other people concerned."""
        chat, user = update.effective_chat, update.effective_user
        if chat is None or user is None:
            return
        private = chat.type == ChatType.PRIVATE
        key = str(user.id)
        notices = [] if notices is None else notices
        care = self.care

        def with_care(session: Session) -> Turn:
            turn = step(session)
            if care is not None:
                if turn.delete_data:  # linked people are told the link ended
                    notices.extend(care.deleted(f"{CHAT_PREFIX}{key}"))
                else:  # an emergency alerts the linked caregivers (the triage contract)
                    notices.extend(care.after_text(f"{CHAT_PREFIX}{key}", session, turn.decision))
            return turn

        # In a group nobody's own session is used or kept, so nothing personal can leak there.
        async with self._lock(key if private else f"chat:{chat.id}"):
            if private and self.desk is not None:
                turn = self.desk.turn(key, with_care)
            else:
                session = (self.sessions.get(key) or Session()) if private else Session()
                turn = step(session)
                if private:
                    if turn.delete_data:
                        self.sessions.delete(key)
                    else:
                        self.sessions.save(key, turn.session)
            quote = None if private else update.effective_message
            await self._send(context, chat.id, turn.messages, quote)
        for notice in notices:
            try:
                chat_id = int(notice.to.removeprefix(CHAT_PREFIX))
                await send_messages(context.bot, chat_id, notice.messages)
            except (TelegramError, ValueError) as exc:  # one blocked chat must not stop the rest
                log.warning("could not notify a linked person: %s", type(exc).__name__)

    async def _care_turn(
        self,
        update: Update,
        context: Context,
        run: Callable[[CareDoor, Session, str, str | None], DoorTurn | None],
        text: str | None = None,
    ) -> bool:
        """A caregiver-part step (bot/care_door.py); False when it is not for that part.
        Free text it does not take goes on to the dialogue in the same turn."""
        care, user, chat = self.care, update.effective_user, update.effective_chat
        if care is None or user is None or chat is None or chat.type != ChatType.PRIVATE:
            return False
        chat_key, first_name = f"{CHAT_PREFIX}{user.id}", user.first_name
        notices: list[Notice] = []

        def step(session: Session) -> Turn:
            result = run(care, session, chat_key, first_name)
            if result is None:
                expired = self.dialogue.content.text("button_expired")
                return Turn([reply.Message(expired, kind="info")], session)
            notices.extend(result.notices)
            if not result.handled and text is not None:
                return self.dialogue.text(result.session, text)
            return Turn(result.messages, result.session)

        await self._turn(update, context, step, notices)
        return True

    async def _send(
        self,
        context: Context,
        chat_id: int,
        messages: Sequence[reply.Message],
        quote: Message | None = None,
    ) -> None:
        """Send in order, one after another; the first one answers `quote` in a group."""
        await send_messages(context.bot, chat_id, messages, quote)

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
        name = command_name(message) or ""
        if message.chat.type != ChatType.PRIVATE and name in PERSONAL:
            bot_name = context.bot.username or ""
            await self._turn(
                update, context, lambda s: self.dialogue.private_only(s, f"/{name}", bot_name)
            )
            return
        if self.care is not None and self.care.is_command(name):
            args = (message.text or "").partition(" ")[2]
            if await self._care_turn(
                update, context, lambda care, s, key, who: care.command(key, who, s, name, args)
            ):
                return
        await self._turn(update, context, lambda s: self.dialogue.command(s, name))

    async def on_text(self, update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        text = message.text or ""
        if message.chat.type != ChatType.PRIVATE:
            text = without_mention(text, context.bot.username or "")
        elif await self._care_turn(  # an open card field takes the words; else the dialogue
            update, context, lambda care, s, key, who: care.text(key, who, s, text), text
        ):
            return
        await self._turn(update, context, lambda s: self.dialogue.text(s, text))

    async def on_edited(self, update: Update, context: Context) -> None:
        message = update.edited_message
        if message is None or not message.text:
            return  # live-location moves and edited captions need no reply
        text = message.text
        if message.chat.type != ChatType.PRIVATE:
            text = without_mention(text, context.bot.username or "")
        await self._turn(update, context, lambda s: self.dialogue.edited(s, text))

    async def on_location(self, update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None and message.location is not None
        lat, lon = message.location.latitude, message.location.longitude
        await self._turn(update, context, lambda s: self.dialogue.location(s, lat, lon))

    async def on_media(self, update: Update, context: Context) -> None:
        message = update.effective_message
        assert message is not None
        what, caption = media_kind(message), message.caption
        if caption and message.chat.type != ChatType.PRIVATE:
            caption = without_mention(caption, context.bot.username or "")
        await self._turn(update, context, lambda s: self.dialogue.media(s, what, caption))

    async def on_press(self, update: Update, context: Context) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()  # stops the button's spinner at once, whatever happens next
        data = query.data or ""
        if (
            self.care is not None
            and self.care.is_ours(data)
            and await self._care_turn(
                update, context, lambda care, s, key, who: care.press(key, who, s, data)
            )
        ):
            return
        await self._turn(update, context, lambda s: self.dialogue.press(s, data))

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
        user = update.effective_user
        private = update.effective_chat.type == ChatType.PRIVATE
        session = (self.sessions.get(str(user.id)) if user and private else None) or Session()
        text = self.dialogue.content.text("error", emergency_number=self.dialogue.number(session))
        try:
            await context.bot.send_message(update.effective_chat.id, text)
        except TelegramError as exc:
            log.warning("could not send the error message: %s", type(exc).__name__)

    # -- wiring -----------------------------------------------------------------------------

    def register(self, app: App) -> None:
        message = filters.UpdateType.MESSAGE
        app.add_handler(TypeHandler(Update, self.guard), group=-1)
        app.add_handler(CallbackQueryHandler(self.on_press))
        app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, self.on_edited))
        app.add_handler(MessageHandler(message & filters.COMMAND, self.on_command))
        app.add_handler(MessageHandler(message & filters.LOCATION, self.on_location))
        app.add_handler(MessageHandler(message & filters.TEXT, self.on_text))
        app.add_handler(MessageHandler(message & ~filters.StatusUpdate.ALL, self.on_media))
        app.add_error_handler(self.on_error)

    async def post_init(self, app: App) -> None:
        """Start-up: the command menu, and the time-zone index loaded off the event loop."""
        text = self.dialogue.content.text
        await app.bot.set_my_commands([BotCommand(c, text(f"command_{c}")) for c in COMMANDS])
        await asyncio.to_thread(timezones.warm)
        if self.reminding is not None:
            await self.reminding.start()
        log.info("Telegram bot @%s is ready", app.bot.username)

    async def post_stop(self, app: App) -> None:
        """Clean shutdown: the scheduler first, then the session store if it holds a connection."""
        if self.reminding is not None:
            await self.reminding.stop()
        close = getattr(self.sessions, "close", None)
        if callable(close):
            close()
        log.info("Telegram bot stopped")


class TelegramNotifier:
    """The door's reminder `Notifier`: sends to a chat key "tg:<id>" through the app's bot."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def send(self, chat_key: str, messages: Sequence[reply.Message]) -> list[str]:
        chat_id = int(chat_key.removeprefix(CHAT_PREFIX))
        return [str(i) for i in await send_messages(self.app.bot, chat_id, messages)]


class Reminding:
    """The reminder scheduler's life in this process: started in post_init (when this process
    wins the leader election; at once on SQLite), stopped in post_stop."""

    def __init__(self, store: Store, leadership: Leadership) -> None:
        self.store = store
        self.leadership = leadership

    async def start(self) -> None:
        await self.leadership.start()

    async def stop(self) -> None:
        await self.leadership.stop()
        self.store.close()


def build_app(
    settings: Settings,
    dialogue: Dialogue | None = None,
    sessions: SessionStore | None = None,
    base_url: str | None = None,
    clock: Clock | None = None,
    reminders: bool = False,
) -> App:
    """The one composition root: the Application with its handlers, ready to run.

    With `reminders`, sessions live in the SQL store (DATABASE_URL) and the reminder scheduler
    runs on `clock` (default: BOT_CLOCK_SPEED's clock), sending through this app's bot.
    """
    from bot.runtime import build_clock, build_dialogue

    clock = clock or build_clock(settings)
    if dialogue is None:
        dialogue = build_dialogue(settings, clock=clock)
    _quiet_libraries()
    door = TelegramDoor(dialogue, sessions if sessions is not None else MemorySessions())
    builder = (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(base_url or settings.telegram_base_url)
        .defaults(
            Defaults(
                tzinfo=ZoneInfo(settings.bot_timezone),
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .concurrent_updates(CONCURRENT_UPDATES)
        .connection_pool_size(CONCURRENT_UPDATES * 2)
        .post_init(door.post_init)
        .post_stop(door.post_stop)
    )
    app: App
    if settings.telegram_rate_limiter:
        limiter = AIORateLimiter(max_retries=settings.telegram_rate_limit_retries)
        app = builder.rate_limiter(limiter).build()
    else:
        app = builder.build()
    if reminders:
        _add_reminders(app, door, settings, dialogue, clock)
    door.register(app)
    app.bot_data["door"] = door
    return app


def _add_reminders(
    app: App, door: TelegramDoor, settings: Settings, dialogue: Dialogue, clock: Clock
) -> None:
    from bot.reminder_desk import ReminderDesk
    from bot.reminders.leader import Leadership
    from bot.reminders.scheduler import ReminderScheduler
    from bot.runtime import build_reminders
    from bot.storage.store import default_url

    store, sessions, service = build_reminders(
        settings, dialogue, clock, TelegramNotifier(app), prefix=CHAT_PREFIX
    )
    scheduler = ReminderScheduler(service)
    url = settings.database_url or default_url()
    door.sessions = sessions
    door.desk = ReminderDesk(dialogue, sessions, service)
    # Caregivers (issue 6): on the same store and clock; caregiver alerts get "I'm on it".
    from bot.care.flows import CaregiverButtons
    from bot.care_door import build_care

    door.care = build_care(store, clock, dialogue, service)
    service.renderer = CaregiverButtons(service.renderer, door.care.service)
    door.reminding = Reminding(store, Leadership(url, scheduler.start, scheduler.stop))


def run_bot(settings: Settings) -> int:
    """`python -m bot run`: long polling, or webhook mode when WEBHOOK_URL is set."""
    app = build_app(settings, reminders=True)
    if settings.webhook_url:
        log.info("starting in webhook mode")
        app.run_webhook(**webhook_options(settings))
    else:
        log.info("starting with long polling")
        app.run_polling(allowed_updates=ALLOWED_UPDATES)
    return 0
