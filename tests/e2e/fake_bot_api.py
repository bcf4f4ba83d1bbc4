"""A small Bot API server on loopback for end-to-end tests and the benchmark.

It speaks just enough of Telegram's HTTP Bot API for python-telegram-bot 22 (getMe, getUpdates
long polling, sendMessage, callbacks, webhooks, commands), checks what Telegram checks (text
length in UTF-16 units, empty text, callback data size), records everything the bot sends, plays
the person (messages, presses, stickers, locations, edits, groups, blocking the bot), and can
answer with 429 retry_after, 403 (`blocked`), 5xx or slowly. It must never reach the real
Telegram, and holds no bot logic.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web

TOKEN = "123456:TEST-token-never-logged"
BOT_ID = 123456
BOT_USERNAME = "baclofen_test_bot"
RAW = frozenset({"text", "caption", "url", "secret_token", "callback_query_id", "description"})

Json = dict[str, Any]


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class Fault:
    method: str
    status: int = 200  # 200: only slow
    retry_after: int | None = None
    delay: float = 0.0


@dataclass
class Call:
    method: str
    params: Json
    status: int = 200
    at: float = field(default_factory=time.perf_counter)


class FakeBotApi:
    """`await start()` returns the base URL to give `build_app(base_url=...)`."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.files: dict[int, bytes] = {}  # message id -> the bytes of a sent photo or document
        self.updates: list[Json] = []
        self.messages: dict[int, Json] = {}  # every message, the person's and the bot's
        self.chats: dict[int, Json] = {}
        self.webhook: Json = {}
        self.commands: list[Json] = []
        self.faults: list[Fault] = []
        self.update_times: dict[int, float] = {}  # update_id -> when it was queued
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._released = 0  # bumped to end pending long polls at once
        self.latency = 0.0  # seconds added to every answer but getUpdates (a network's delay)
        self.blocked: set[int] = set()  # chats whose person blocked the bot: every send is a 403
        self.port = 0

    # -- server ----------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._dispatch)
        app.router.add_get("/bot{token}/{method}", self._dispatch)
        # A request the bot gives up on (its timeout) is dropped, as one that never reached
        # Telegram: its slow answer is not delivered later.
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{self.port}/bot"

    async def stop(self) -> None:
        await self.release_polls()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _params(self, request: web.Request) -> Json:
        if request.content_type == "application/json":
            body = await request.json()
            return dict(body) if isinstance(body, dict) else {}
        form = await request.post()
        params: Json = {}
        for key, value in form.items():
            if not isinstance(value, str):
                if isinstance(value, web.FileField):  # an upload: keep its name, type and bytes
                    params[key] = {"filename": value.filename, "mime": value.content_type,
                                   "data": value.file.read()}  # fmt: skip
                continue
            if key in RAW:
                params[key] = value
                continue
            try:
                params[key] = json.loads(value)
            except ValueError:
                params[key] = value
        return params

    async def _dispatch(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        params = await self._params(request)
        response = await self._answer(method, params)
        if method != "getUpdates":
            async with self._changed:
                self.calls.append(Call(method, params, response.status))
                self._changed.notify_all()
        return response

    async def _answer(self, method: str, params: Json) -> web.Response:
        if self.latency and method != "getUpdates":
            await asyncio.sleep(self.latency)
        fault = next((f for f in self.faults if f.method in (method, "*")), None)
        if fault is not None and method != "getUpdates":
            self.faults.remove(fault)
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.status == 429:
                extra = {"retry_after": fault.retry_after or 1}
                return self._error(
                    429, f"Too Many Requests: retry after {fault.retry_after}", extra
                )
            if fault.status >= 400:
                return self._error(fault.status, "Bad Gateway")
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return self._error(404, "Not Found")
        chat = params.get("chat_id")
        if (
            method.startswith("send")
            and str(chat).lstrip("-").isdigit()
            and int(chat) in self.blocked
        ):
            return self._error(403, "Forbidden: bot was blocked by the user")
        try:
            result = await handler(params)
        except _ApiError as exc:
            return self._error(400, f"Bad Request: {exc}")
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _error(status: int, description: str, parameters: Json | None = None) -> web.Response:
        body: Json = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        return web.json_response(body, status=status)

    # -- Bot API methods -------------------------------------------------------------------

    async def _m_getMe(self, params: Json) -> Json:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Baclofen Companion",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _m_deleteWebhook(self, params: Json) -> bool:
        self.webhook = {}
        return True

    async def _m_setWebhook(self, params: Json) -> bool:
        self.webhook = params
        return True

    async def _m_setMyCommands(self, params: Json) -> bool:
        self.commands = list(params.get("commands") or [])
        return True

    async def _m_getUpdates(self, params: Json) -> list[Json]:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)
        if offset:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        if not self.updates and timeout > 0:
            generation = self._released
            async with self._changed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._changed.wait_for(
                            lambda: bool(self.updates) or self._released != generation
                        ),
                        timeout,
                    )
        return self.updates[:limit]

    def _bot_message(self, chat_id: int, params: Json) -> Json:
        if chat_id not in self.chats:
            raise _ApiError("chat not found")
        message: Json = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self.chats[chat_id],
            "from": {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "Baclofen Companion",
                "username": BOT_USERNAME,
            },
        }
        for key in ("text", "reply_markup"):
            if key in params:
                message[key] = params[key]
        self.messages[message["message_id"]] = message
        return message

    @staticmethod
    def _check_text(params: Json) -> None:
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _ApiError("message text is empty")
        if utf16_len(text) > 4096:
            raise _ApiError("message is too long")
        markup = params.get("reply_markup") or {}
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data", "")
                if len(data.encode()) > 64 or not button.get("text"):
                    raise _ApiError("BUTTON_DATA_INVALID")

    async def _m_sendMessage(self, params: Json) -> Json:
        self._check_text(params)
        return self._bot_message(int(params["chat_id"]), params)

    async def _upload(self, params: Json, kind: str) -> Json:
        """sendPhoto / sendDocument: an uploaded file, a caption of at most 1024 characters."""
        upload = params.get(kind)
        if not isinstance(upload, dict) or not upload.get("data"):
            raise _ApiError(f"there is no {kind} in the request")
        caption = params.get("caption", "")
        if utf16_len(caption) > 1024:
            raise _ApiError("message caption is too long")
        message = self._bot_message(int(params["chat_id"]), params)
        message[kind] = {"file_name": upload["filename"], "mime_type": upload["mime"],
                         "file_size": len(upload["data"]), "file_id": f"f{message['message_id']}",
                         "file_unique_id": f"u{message['message_id']}"}  # fmt: skip
        if kind == "photo":
            message["photo"] = [{**message["photo"], "width": 800, "height": 400}]
        message["caption"] = caption
        self.files[message["message_id"]] = upload["data"]
        return message

    async def _m_sendPhoto(self, params: Json) -> Json:
        return await self._upload(params, "photo")

    async def _m_sendDocument(self, params: Json) -> Json:
        return await self._upload(params, "document")

    async def _m_editMessageText(self, params: Json) -> Json:
        self._check_text(params)
        message = self.messages.get(int(params.get("message_id") or 0))
        if message is None:
            raise _ApiError("message to edit not found")
        message["text"] = params["text"]
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        else:
            message.pop("reply_markup", None)
        return message

    async def _m_editMessageReplyMarkup(self, params: Json) -> Json:
        message = self.messages.get(int(params.get("message_id") or 0))
        if message is None:
            raise _ApiError("message to edit not found")
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        else:
            message.pop("reply_markup", None)
        return message

    async def _m_answerCallbackQuery(self, params: Json) -> bool:
        return True

    async def _m_sendChatAction(self, params: Json) -> bool:
        return True

    # -- the person ------------------------------------------------------------------------

    def _push(self, update: Json) -> Json:
        update_id = next(self._update_ids)
        update = {"update_id": update_id, **update}
        self.update_times[update_id] = time.perf_counter()
        self.updates.append(update)
        asyncio.get_running_loop().create_task(self._notify())
        return update

    def raw_update(self, update: Json) -> Json:
        """Queue any update as it is, even one the library cannot read."""
        return self._push(update)

    async def release_polls(self) -> None:
        """End every pending getUpdates long poll now (so the bot stops without waiting)."""
        self._released += 1
        await self._notify()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def chat(self, chat_id: int, kind: str = "private") -> Json:
        chat: Json = {"id": chat_id, "type": kind}
        if kind == "private":
            chat["first_name"] = f"Person {chat_id}"
        else:
            chat["title"] = f"Group {chat_id}"
        self.chats[chat_id] = chat
        return chat

    def user_sends(
        self, user_id: int = 42, chat_id: int | None = None, kind: str = "private", **content: Any
    ) -> Json:
        """Queue a message update with any content (text, sticker, photo, location...)."""
        chat_id = user_id if chat_id is None else chat_id
        message: Json = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self.chats.get(chat_id) or self.chat(chat_id, kind),
            "from": {
                "id": user_id,
                "is_bot": False,
                "first_name": f"Person {user_id}",
                "language_code": "en",
            },
            **content,
        }
        self.messages[message["message_id"]] = message
        self._push({"message": message})
        return message

    def user_says(
        self,
        text: str,
        user_id: int = 42,
        chat_id: int | None = None,
        kind: str = "private",
        **extra: Any,
    ) -> Json:
        """Queue a text message; a leading /command gets its bot_command entity."""
        entities = list(extra.pop("entities", []))
        if text.startswith("/"):
            entities.insert(0, {"type": "bot_command", "offset": 0, "length": len(text.split()[0])})
        mention = f"@{BOT_USERNAME}"
        if mention in text and not text.startswith("/"):
            start = text[: text.index(mention)]
            entities.append({"type": "mention", "offset": utf16_len(start), "length": len(mention)})
        if entities:
            extra["entities"] = entities
        return self.user_sends(user_id, chat_id, kind, text=text, **extra)

    def user_edits(self, message: Json, text: str) -> None:
        edited = {**message, "text": text, "edit_date": int(time.time())}
        self._push({"edited_message": edited})

    def user_presses(self, message_id: int, data: str, user_id: int = 42) -> None:
        message = self.messages[message_id]
        query = {
            "id": f"q{next(self._update_ids)}",
            "from": {"id": user_id, "is_bot": False, "first_name": f"Person {user_id}"},
            "chat_instance": f"ci{message['chat']['id']}",
            "message": message,
            "data": data,
        }
        self._push({"callback_query": query})

    def fail(
        self,
        method: str,
        status: int,
        retry_after: int | None = None,
        times: int = 1,
        delay: float = 0.0,
    ) -> None:
        """The next `times` calls of `method` ("*" for any) fail with `status` (200: just slow)."""
        for _ in range(times):
            self.faults.append(Fault(method, status, retry_after, delay))

    # -- what the bot did ------------------------------------------------------------------

    def sent(self, chat_id: int | None = None, method: str = "sendMessage") -> list[Json]:
        """What the bot sent successfully (status 200), oldest first."""
        return [
            c.params
            for c in self.calls
            if c.method == method
            and c.status == 200
            and (chat_id is None or int(c.params.get("chat_id", 0)) == chat_id)
        ]

    async def wait_for(self, ready: Callable[[], bool], timeout: float = 5.0) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(ready), timeout)

    async def replies(
        self, chat_id: int, after: int = 0, quiet: float = 0.12, timeout: float = 5.0
    ) -> list[Json]:
        """The messages the bot sends to `chat_id` after the first `after` ones: waits for at
        least one, then until the bot has been quiet for `quiet` seconds."""
        await self.wait_for(lambda: len(self.sent(chat_id)) > after, timeout)
        count = -1
        while count != len(self.calls):
            count = len(self.calls)
            await asyncio.sleep(quiet)
        return self.sent(chat_id)[after:]

    async def post_webhook(self, update: Json, secret: str | None) -> int:
        """Deliver `update` to the bot's webhook as Telegram would; return the HTTP status."""
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        async with (
            ClientSession(timeout=ClientTimeout(total=5)) as http,
            http.post(self.webhook["url"], data=json.dumps(update), headers=headers) as response,
        ):
            return response.status

    def webhook_update(self, text: str, user_id: int = 42) -> Json:
        """A text update shaped for webhook delivery (not queued for getUpdates)."""
        chat = self.chats.get(user_id) or self.chat(user_id)
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": {"id": user_id, "is_bot": False, "first_name": f"Person {user_id}"},
            "text": text,
        }
        return {"update_id": next(self._update_ids), "message": message}


class _ApiError(Exception):
    """A 400 Bad Request, as Telegram words it."""


def buttons(message: Json) -> dict[str, str]:
    """label -> callback data of an inline keyboard in a sent message."""
    markup = message.get("reply_markup") or {}
    return {b["text"]: b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row}


def message_id_of(fake: FakeBotApi, chat_id: int, label: str) -> tuple[int, str]:
    """The newest message to `chat_id` that offers button `label`: (message id, data)."""
    for message in reversed(list(fake.messages.values())):
        mine = message.get("from", {}).get("id") == BOT_ID
        if mine and message["chat"]["id"] == chat_id and label in buttons(message):
            return message["message_id"], buttons(message)[label]
    raise AssertionError(f"no button {label!r} offered in chat {chat_id}")
