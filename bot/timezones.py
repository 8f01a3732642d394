"""Send times and time zones as people type them.

A zone is stored as text: an IANA key ("Europe/Berlin", handled by zoneinfo
with DST) or a fixed offset written "UTC+05:30". Both resolve to a tzinfo here.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from rapidfuzz import fuzz, process, utils

_TIME = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*$")
_OFFSET = re.compile(r"^\s*(?:utc|gmt)?\s*([+-])(\d{1,2})(?::?(\d{2}))?\s*$", re.IGNORECASE)

# Offered as buttons; any IANA zone can be typed with /timezone.
COMMON_ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Moscow",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Sydney",
)


def parse_send_time(text: str) -> time | None:
    """'7:30', '07:30' or '18.05' as a time of day; None for anything else."""
    match = _TIME.match(text)
    if match is None:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def format_send_time(value: time) -> str:
    """'07:30'."""
    return f"{value.hour:02d}:{value.minute:02d}"


@lru_cache(maxsize=1)
def _zone_keys() -> tuple[str, ...]:
    # Legacy aliases ("US/Pacific", "Etc/GMT+3" with its inverted sign) confuse
    # people more than they help; suggest the canonical Area/City names.
    return tuple(sorted(k for k in available_timezones() if "/" in k and not k.startswith(("Etc/", "SystemV/"))))


@lru_cache(maxsize=1)
def _zone_keys_by_folded() -> dict[str, str]:
    keys = {key.casefold(): key for key in available_timezones()}
    for key in _zone_keys():
        city = key.rsplit("/", 1)[-1].casefold()
        keys.setdefault(city, key)
    return keys


def _offset_zone(sign: str, hours: int, minutes: int) -> str | None:
    # Real offsets run from UTC-12:00 to UTC+14:00.
    limit = 14 if sign == "+" else 12
    if minutes > 59 or hours * 60 + minutes > limit * 60:
        return None
    if hours == 0 and minutes == 0:
        return "UTC"
    return f"UTC{sign}{hours:02d}:{minutes:02d}"


def normalize_zone(text: str) -> str | None:
    """The stored form of a typed zone, or None if it is not one.

    Accepts IANA keys in any case ("europe/berlin"), a unique city
    ("berlin", "new york") and UTC offsets ("+03:00", "UTC-5", "+0530").
    """
    cleaned = text.strip()
    if not cleaned or len(cleaned) > 64:
        return None
    offset = _OFFSET.match(cleaned)
    if offset is not None:
        return _offset_zone(offset.group(1), int(offset.group(2)), int(offset.group(3) or 0))
    return _zone_keys_by_folded().get(cleaned.replace(" ", "_").casefold())


def suggest_zones(text: str, *, limit: int = 3) -> list[str]:
    """Close IANA names for a zone that was not understood ("Mars/Olympus")."""
    query = text.strip()[:64]
    if not utils.default_process(query):
        return []
    matches = process.extract(
        query, _zone_keys(), scorer=fuzz.WRatio, processor=utils.default_process, limit=limit, score_cutoff=60
    )
    return [key for key, _, _ in matches]


def zone_info(zone: str) -> tzinfo:
    """The tzinfo of a stored zone; raises ValueError for one that is not valid."""
    offset = _OFFSET.match(zone)
    if offset is not None and zone.upper().startswith("UTC") and zone != "UTC":
        sign = 1 if offset.group(1) == "+" else -1
        delta = timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3) or 0))
        return timezone(sign * delta, zone)
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {zone!r}") from exc


def local_now(now: datetime, zone: str) -> datetime:
    """An aware UTC instant as wall-clock time in ``zone``."""
    return now.astimezone(zone_info(zone))
