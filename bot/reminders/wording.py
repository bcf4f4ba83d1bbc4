"""The words of the reminder part, loaded from content/reminders.yaml and checked on load.

Every rule in bot/reminders/ladder.py must have its message (but the checklist's re-check, worded in
content/checklist.yaml); every clinical message cites fact ids that exist in content/facts.yaml,
and any number it holds must appear in one of those facts.
A bad file stops start-up with the file, the entry and the problem named. This module holds no
text of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from bot.loading import DataError, load_yaml_model
from bot.paths import data_dir
from bot.reminders.ladder import RULES
from bot.reply.content import Content, Strings, Worded, check_cited, fill

EXTRA_MESSAGES = ("refill_tomorrow", "refill_today")
WORDED_ELSEWHERE = ("recheck_due",)  # content/checklist.yaml (rendered by bot.care.flows)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReminderText(_Strict):
    facts: list[str] = Field(min_length=1)
    person: str = Field(min_length=5)
    caregiver: str | None = None
    alone: str | None = None  # to the person when caregivers would be told but none is linked


class SignButton(_Strict):
    label: str = Field(min_length=1, max_length=40)
    says: str = Field(min_length=5)


class Signs(_Strict):
    facts: list[str] = Field(min_length=1)
    early: str
    buttons: list[SignButton] = Field(min_length=1)


class Notes(_Strict):
    late: str
    maybe_repeat: str
    later: str  # a refill reminder the person asked to have again later
    caregiver_on_it: str  # to the person, while a caregiver's "I'm on it" holds
    unreachable: str  # to caregivers, when the person cannot be reached


class RemindersFile(_Strict):
    messages: dict[str, ReminderText]
    notes: Notes
    signs: Signs
    buttons: dict[str, str]
    strings: dict[str, str]


@dataclass(frozen=True)
class ReminderWords(Worded):
    file: RemindersFile
    strings: Strings
    buttons: Strings

    def button(self, key: str, **values: str) -> str:
        return self.buttons.text(key, **values)

    def message(self, kind: str, caregiver: bool, alone: bool = False, **values: str) -> str:
        entry = self.file.messages[kind]
        if caregiver and entry.caregiver:
            template = entry.caregiver
        elif alone and entry.alone:
            template = entry.alone
        else:
            template = entry.person
        return fill(template, values)


def load_reminder_words(content: Content, folder: Path | None = None) -> ReminderWords:
    path = (folder or data_dir("content")) / "reminders.yaml"
    data = load_yaml_model(path, RemindersFile)
    needed = (set(RULES) - set(WORDED_ELSEWHERE)) | set(EXTRA_MESSAGES)
    missing = sorted(needed - data.messages.keys())
    if missing:
        raise DataError(f"{path}: messages: no text for: {', '.join(missing)}")
    for kind, entry in data.messages.items():
        texts = [entry.person, entry.caregiver or "", entry.alone or ""]
        _check(path, f"messages.{kind}", entry.facts, texts, content)
        if RULES.get(kind) and RULES[kind].to_caregivers and not (entry.caregiver and entry.alone):
            raise DataError(
                f"{path}: entry messages.{kind}: caregivers get it, give 'caregiver' and 'alone'"
            )
        rule = RULES.get(kind) or RULES.get("refill_before" if kind in EXTRA_MESSAGES else "")
        if rule is not None and rule.unreachable_copy and not entry.caregiver:
            raise DataError(
                f"{path}: entry messages.{kind}: caregivers get it when the person cannot be "
                "reached, give 'caregiver'"
            )
    _check(path, "signs", data.signs.facts, [data.signs.early], content)
    name = str(path.relative_to(path.parent.parent))
    return ReminderWords(
        data, Strings(name, data.strings), Strings(f"{name} (buttons)", data.buttons)
    )


def _check(path: Path, entry: str, facts: list[str], texts: list[str], content: Content) -> None:
    check_cited(f"{path}: entry {entry}", facts, texts, content.facts)
