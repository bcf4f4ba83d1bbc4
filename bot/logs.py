"""Logs that are safe by construction: no token, no message text, no names, no chat ids.

`install(secrets)` puts one `Redactor` on every handler of the root logger (and on Python's
last-resort handler), so every record is cleaned on its way out, the libraries' own included
(python-telegram-bot, httpx, APScheduler, SQLAlchemy): a record is formatted once, then

- each secret (the bot token, its secret half, the webhook secret) and anything shaped like a
  bot token or a `/bot<token>/` URL becomes `[token]`;
- quoted values of the fields that carry what people wrote or who they are (text, caption,
  first_name, last_name, username, title, data, query, name, phone_number, address, bio, ...)
  become `[hidden]`, in Python reprs and in JSON alike;
- chat and user ids (`id`, `chat_id`, `user_id`) and chat keys (`tg:12345`) become `[id]`;
- SQL parameters (`[parameters: ...]` in a database error) become `[parameters: hidden]`;

and the traceback, if any, is cleaned the same way. Update ids, levels and exception types stay,
so that an operator can still see what failed and where. This module holds no user text.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Iterable

_FIELDS = (
    "text|caption|first_name|last_name|username|title|data|query|name|phone_number|address|"
    "bio|description|question|explanation|quote|vcard|email|result_id|inline_message_id"
)
_QUOTED = r"""('(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")"""
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{20,}"), "[token]"),
    (re.compile(r"/bot[^/\s'\"]+/"), "/bot[token]/"),
    (re.compile(r"\[parameters: [^\n]*"), "[parameters: hidden]"),
    (re.compile(rf"""(['"]?\b(?:{_FIELDS})['"]?\s*[:=]\s*){_QUOTED}"""), r"\1'[hidden]'"),
    (re.compile(r"""(['"]?\b(?:id|chat_id|user_id)['"]?\s*[:=]\s*)-?\d+"""), r"\1[id]"),
    (re.compile(r"\b(tg|console|chat):-?[\w.-]+"), r"\1:[id]"),
)


class Redactor(logging.Filter):
    """Cleans every record it sees (see the module's docstring). A record about an exception
    of a type in `drop` (anywhere in its chain) is dropped: the caller reports those itself,
    in one line (a rejected token, say)."""

    def __init__(
        self, secrets: Iterable[str | None] = (), drop: tuple[type[BaseException], ...] = ()
    ) -> None:
        super().__init__()
        self.drop = drop
        words: set[str] = set()
        for secret in secrets:
            if secret:
                words.add(secret)
                half = secret.partition(":")[2]
                if len(half) >= 8:
                    words.add(half)
        self.secrets = sorted(words, key=len, reverse=True)

    def clean(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[token]")
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_redacted", False):
            return True
        if self.drop and record.exc_info and _caused_by(record.exc_info[1], self.drop):
            return False
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep the template, never the arguments
            message = str(record.msg)
        record.msg, record.args = self.clean(message), None
        if record.exc_info and record.exc_info[1] is not None:
            text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            record.exc_text, record.exc_info = self.clean(text), None
        elif record.exc_text:
            record.exc_text = self.clean(record.exc_text)
        if record.stack_info:
            record.stack_info = self.clean(record.stack_info)
        record._redacted = True
        return True


def _caused_by(exc: BaseException | None, kinds: tuple[type[BaseException], ...]) -> bool:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, kinds):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def install(
    secrets: Iterable[str | None] = (), drop: tuple[type[BaseException], ...] = ()
) -> Redactor:
    """Put one `Redactor` on every handler of the root logger (and the last resort)."""
    redactor = Redactor(secrets, drop)
    handlers = list(logging.getLogger().handlers)
    if logging.lastResort is not None:
        handlers.append(logging.lastResort)
    for handler in handlers:
        for old in [f for f in handler.filters if isinstance(f, Redactor)]:
            handler.removeFilter(old)
        handler.addFilter(redactor)
    return redactor


def uninstall(redactor: Redactor) -> None:
    handlers = list(logging.getLogger().handlers)
    if logging.lastResort is not None:
        handlers.append(logging.lastResort)
    for handler in handlers:
        handler.removeFilter(redactor)
