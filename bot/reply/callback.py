"""The one strict reader of a button's data ("ack:done:12", "rf:from:2026-03-14").

A button's data comes back from the person's app, and anyone can forge it: every part that reads
a button reads its values through here, so that only what the bot itself could have written gets
through. Numbers are ASCII digits only (no superscripts, no other scripts' digits, no sign, no
spaces) and bounded (an id fits a 32-bit signed integer, so no database overflows); dates are
`YYYY-MM-DD` in ASCII digits and a real day. Anything else is None, and the caller answers as it
does for an old button. A forged date in the past is checked by the caller exactly as a typed
one is. This module holds no text.
"""

from __future__ import annotations

import datetime as dt
import re

MAX_DATA = 64  # Telegram's limit on a button's data, in bytes
MAX_ID = 2**31 - 1  # every id the bot writes into a button fits PostgreSQL's INTEGER
_NUMBER = re.compile(r"[0-9]{1,10}", re.ASCII)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def number(text: str, limit: int = MAX_ID) -> int | None:
    """A whole number 0..`limit` written in ASCII digits, or None."""
    if not isinstance(text, str) or not _NUMBER.fullmatch(text):
        return None
    value = int(text)
    return value if value <= limit else None


def index(text: str, size: int) -> int | None:
    """A position in a list of `size` items, or None."""
    if size <= 0:
        return None
    return number(text, size - 1)


def day(text: str) -> dt.date | None:
    """A real calendar day written as YYYY-MM-DD in ASCII digits, or None."""
    if not isinstance(text, str) or not _DATE.fullmatch(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def parts(data: str, count: int) -> tuple[str, ...] | None:
    """`data` split at ":" into exactly `count` parts (the last keeps any further colon), or
    None when it is too long, has fewer parts, or holds a control character."""
    if not isinstance(data, str) or len(data.encode("utf-8", "surrogatepass")) > MAX_DATA:
        return None
    if any(ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF for c in data):
        return None
    split = data.split(":", count - 1)
    return tuple(split) if len(split) == count else None
