"""Tagged lines: a line of content meant for one group only, and the lines one reader sees.

A content line may start with tags in square brackets: `[pump]`, `[oral]`, `[child]`,
`[adult]`, or a region (`[UK]`, `[US CA AU IE]`). Tags of one kind are alternatives; kinds
combine ("[UK child]": UK readers about a child). A reader whose route or age is not known
sees the lines of every group. Square brackets anywhere else are a content error, so a source
code such as "[MDT-CARD]" can never reach a reader. This module holds no text of its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

ROUTES = ("oral", "pump")
AGES = ("child", "adult")
REGIONS = ("US", "CA", "UK", "IE", "EU", "AU")
TAGS = frozenset((*ROUTES, *AGES, *REGIONS))
_LEADING = re.compile(r"^\[([^\]]*)\][ \t]+(?=\S)")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class Reader:
    """Who a reply is for: the routes, ages and the one region whose lines they see."""

    routes: frozenset[str] = frozenset(ROUTES)
    ages: frozenset[str] = frozenset(AGES)
    region: str = "US"

    @classmethod
    def of(cls, route: str | None, age: str | None, region: str, pump: bool = False) -> Reader:
        """A reader from a profile: route "oral" / "pump" / "both" / unknown, age "child" /
        "adult" / unknown; `pump` when the message itself speaks of a pump."""
        routes = {"oral": {"oral"}, "pump": {"pump"}}.get(route or "", set(ROUTES))
        if pump:
            routes = routes | {"pump"}
        ages = {age} if age in AGES else set(AGES)
        return cls(frozenset(routes), frozenset(ages), region)


def split_tags(line: str) -> tuple[frozenset[str], str]:
    """A line's tags and its text ("[pump] Call the clinic." -> ({"pump"}, "Call the clinic."))."""
    found = _LEADING.match(line)
    if not found:
        return frozenset(), line
    return frozenset(found.group(1).split()), line[found.end() :]


def shown_to(tags: frozenset[str], reader: Reader) -> bool:
    """Whether a line with these tags is meant for this reader."""
    for group, mine in ((ROUTES, reader.routes), (AGES, reader.ages), (REGIONS, {reader.region})):
        wanted = tags.intersection(group)
        if wanted and not wanted & mine:
            return False
    return True


def lines_for(text: str, reader: Reader) -> list[str]:
    """The lines of `text` this reader sees, tags removed, blank lines dropped."""
    lines: list[str] = []
    for raw in text.splitlines():
        tags, line = split_tags(raw.strip())
        if line.strip() and shown_to(tags, reader):
            lines.append(line.strip())
    return lines


def all_lines(text: str, region: str | None = None) -> list[str]:
    """Every line of `text` without its tags (in one region only, when `region` is given):
    the most any reader can see, which readability and the number rule measure."""
    reader = Reader(frozenset(ROUTES), frozenset(AGES), region or "")
    lines: list[str] = []
    for raw in text.splitlines():
        tags, line = split_tags(raw.strip())
        if not line.strip():
            continue
        if region is None or shown_to(tags, reader):
            lines.append(line.strip())
    return lines


def tag_problems(text: str) -> list[str]:
    """What is wrong with the tags of `text`: unknown tag words, and square brackets that are not
    a leading tag (a source code such as "[MDT-CARD]" must never be shown)."""
    problems: list[str] = []
    for raw in text.splitlines():
        tags, line = split_tags(raw.strip())
        unknown = sorted(tags - TAGS)
        if unknown:
            problems.append(f"unknown tags {unknown} in {raw.strip()!r}")
        if "[" in line or "]" in line:
            problems.append(f"square brackets in the text (not a leading tag): {line!r}")
    return problems


def fill_known(text: str, values: Mapping[str, str | None]) -> str:
    """Fill the `{placeholders}` of `values` that have a value; leave any other braces alone."""

    def one(found: re.Match[str]) -> str:
        value = values.get(found.group(1))
        return value if value is not None else found.group(0)

    return _PLACEHOLDER.sub(one, text)


def placeholders(lines: Iterable[str]) -> set[str]:
    """The `{placeholder}` names used in these lines."""
    return {name for line in lines for name in _PLACEHOLDER.findall(line)}
