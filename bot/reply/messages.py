"""The values every part hands back for a person to read: `Message`s with their `Button`s and an
optional `Attachment`, and a `Notice` (messages for someone else, by their chat key).

Plain frozen data: a door turns them into Telegram messages or lines in the local chat. Nothing
here holds text of its own.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Button:
    """A choice the person can press: `label` is shown, `data` comes back (<= 64 bytes)."""

    label: str
    data: str


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message: a picture (`image/png`) or a document (a calendar file)."""

    name: str
    data: bytes
    mime: str

    @property
    def is_image(self) -> bool:
        return self.mime.startswith("image/")


@dataclass(frozen=True)
class Message:
    """One message to send. `kind` lets a door treat safety replies specially.

    With `file`, the text is the file's caption; a door that cannot send files sends the text.
    """

    text: str
    buttons: tuple[Button, ...] = ()
    kind: str = "answer"  # emergency | urgent | answer | prompt | info
    file: Attachment | None = None


@dataclass(frozen=True)
class Notice:
    """Messages for another person (a chat key such as "tg:123"): a linked caregiver, say."""

    to: str
    messages: tuple[Message, ...]
