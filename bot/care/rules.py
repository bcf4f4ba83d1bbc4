"""Caregiver linking rules, pure: invite codes, guessing limits, and the words of content/care.yaml.

A patient's `/invite` makes a one-time code: 10 characters from an alphabet without look-alikes
(about 50 bits), shown as two groups of five, stored only as a keyed SHA-256 hash, valid for
24 hours and for one use. A `/join` with a wrong code counts against the person who sent it; after
`MAX_FAILED_JOINS` in an hour they must wait. This module does no I/O and reads no clock (times
come in as arguments); it must never hold user-facing text (that is in content/care.yaml) and
never store or log a code in clear.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from bot.loading import DataError, load_yaml_model
from bot.paths import data_dir
from bot.reply.content import Fact, Strings, Worded

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
CODE_LENGTH = 10  # 32**10 = 2**50 codes
INVITE_TTL = dt.timedelta(hours=24)
MAX_FAILED_JOINS = 5  # wrong codes per person per hour
MAX_INVITES = 5  # codes one person may make per hour
LIMIT_WINDOW = dt.timedelta(hours=1)
ACK_ACTIONS = ("on_it", "called")  # the caregiver alert buttons
PREFIX = "ca"  # button data: "ca:ok:<invite>", "ca:no:<invite>", "ca:un:<link>", "ca:on_it:<occ>"
CARD_FIELDS = ("name", "pump_model", "concentration", "dose", "prescriber", "clinic")
CARD_FIELD_MAX = 80
NAME_MAX = 32  # characters of a name shown to linked people
# Invisible characters that change how a name looks or reads: bidi controls, zero-width
# characters, the BOM, soft hyphens (Unicode's "format" category), and control characters.
_HIDDEN = frozenset({"Cf", "Cc", "Cs", "Co", "Cn"})


def new_code() -> str:
    """A fresh random invite code (cryptographically random)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def show_code(code: str) -> str:
    """ "ABCDEFGHJK" -> "ABCDE-FGHJK", easier to read out and type."""
    half = CODE_LENGTH // 2
    return f"{code[:half]}-{code[half:]}"


_SEPARATORS = re.compile(r"[\s\-_.]+")


def normalise_code(text: str) -> str | None:
    """What a person typed, as a code: case, spaces and dashes do not matter; None if no code."""
    code = _SEPARATORS.sub("", text).upper()
    if len(code) != CODE_LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code


def hash_code(code: str, pepper: str) -> str:
    """The only form of a code that is stored: an HMAC keyed with the deployment's secret
    pepper (`bot.settings.code_pepper`), so that a database dump alone cannot be used to try
    every code offline. There is no default key."""
    if len(pepper) < 16:
        raise ValueError("the code pepper must be a secret of at least 16 characters")
    return hmac.new(pepper.encode(), code.encode(), hashlib.sha256).hexdigest()


def limited(recent: Sequence[dt.datetime], now: dt.datetime, limit: int) -> bool:
    """True when `limit` or more of the `recent` moments fall within the last hour."""
    return sum(1 for at in recent if now - at < LIMIT_WINDOW) >= limit


def ack_data(action: str, occurrence_id: int) -> str:
    return f"{PREFIX}:{action}:{occurrence_id}"


# -- words ---------------------------------------------------------------------------------

REQUIRED = (
    "safety_alert",
    "invite_code",
    "join_bad_code",
    "join_limit",
    "confirm_ask",
    "linked_patient",
    "linked_caregiver",
    "unlink_done",
    "unlink_told",
    "link_ended_deleted",
    "button_on_it",
    "button_called",
    "ack_already",
    "card_title",
    "history_header",
    "name_given",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CardLine(_Strict):
    facts: list[str] = Field(min_length=1)
    text: str = Field(min_length=5)


class CardLines(_Strict):
    stop_warning: CardLine
    pump_warning: CardLine


class CareFile(_Strict):
    strings: dict[str, str] = Field(min_length=1)
    card: CardLines


@dataclass(frozen=True)
class CareWords(Worded):
    file: CareFile
    strings: Strings


def load_care_words(facts: Mapping[str, Fact], folder: Path | None = None) -> CareWords:
    path = (folder or data_dir("content")) / "care.yaml"
    file = load_yaml_model(path, CareFile)
    missing = [k for k in REQUIRED if k not in file.strings]
    if missing:
        raise DataError(f"{path}: missing strings: {', '.join(missing)}")
    for name in CardLines.model_fields:
        line: CardLine = getattr(file.card, name)
        unknown = [f for f in line.facts if f not in facts]
        if unknown:
            raise DataError(f"{path}: entry card.{name}: unknown fact ids: {', '.join(unknown)}")
        if re.search(r"\d", line.text):
            raise DataError(f"{path}: entry card.{name}: no numbers on the card's fixed lines")
    return CareWords(file, Strings(str(path.relative_to(path.parent.parent)), file.strings))


# -- the emergency card ----------------------------------------------------------------------


CARD_EMERGENCY_LINE = 1  # the emergency number, right under the title (drawn in bold red)


def card_lines(
    words: CareWords,
    route: str | None,
    fields: Mapping[str, str],
    caregivers: Sequence[str],
    emergency_number: str,
    made: str,
) -> list[str]:
    """The card as lines of text, in the order a responder needs them: the title, the
    emergency number of the person's region, who they are and how they take baclofen, the pump
    line, the phones, and the day the card was made. Values are shown exactly as the person
    typed them: nothing is interpreted, checked or suggested."""
    t = words.text
    none = t("card_not_given")
    how = {"oral": "tablets", "pump": "pump", "both": "both"}.get(route or "", "unknown")
    lines = [t("card_title"), t("card_emergency", emergency_number=emergency_number)]
    if fields.get("name"):
        lines.append(t("card_name", value=fields["name"]))
    lines.append(t("card_takes", how=t(f"card_how_{how}")))
    lines.append(words.file.card.stop_warning.text)
    if how in ("pump", "both"):
        lines.append(words.file.card.pump_warning.text)
        lines.append(t("card_pump_model", value=fields.get("pump_model") or none))
        lines.append(t("card_concentration", value=fields.get("concentration") or none))
    lines.append(t("card_dose", value=fields.get("dose") or none))
    lines.append(t("card_prescriber", value=fields.get("prescriber") or none))
    if how in ("pump", "both") or fields.get("clinic"):
        lines.append(t("card_clinic", value=fields.get("clinic") or none))
    lines.append(t("card_caregivers", value=", ".join(caregivers) or none))
    lines.append(t("card_made", date=made))
    return lines


def visible(text: str) -> str:
    """`text` without invisible characters (bidi overrides, zero-width, controls), NFKC
    normalised, on one line: what is shown is what is stored."""
    text = unicodedata.normalize("NFKC", text)
    return " ".join("".join(c for c in text if unicodedata.category(c) not in _HIDDEN).split())


def clean_name(name: str | None) -> str | None:
    """A name as Telegram gave it, made safe to show to someone else: invisible characters
    removed, at most NAME_MAX characters; None when nothing visible is left."""
    value = visible(name or "")[:NAME_MAX].strip()
    return value or None


def clean_field(text: str) -> str | None:
    """A card value as typed, trimmed to one line; "" clears it; None when it is too long."""
    value = visible(text)
    if value == "-":
        return ""
    return value if len(value) <= CARD_FIELD_MAX else None
