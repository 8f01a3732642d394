"""Callback data carried by inline buttons: encode when rendering, decode on press.

Telegram returns callback data verbatim, but a client can forge it, and old
messages carry data from earlier versions, so ``decode`` returns None for
anything it does not fully understand instead of raising. Values that name
content (exercise ids, FAQ positions) are checked against the catalog by the
handler that uses them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time
from typing import Literal

from bot.timezones import format_send_time, normalize_zone, parse_send_time

# Telegram's limit for callback_data, in bytes.
MAX_BYTES = 64


@dataclass(frozen=True, slots=True)
class Done:
    """Log the session of a local date."""

    day: date


@dataclass(frozen=True, slots=True)
class FaqList:
    """List the FAQ questions of an exercise."""

    exercise_id: str


@dataclass(frozen=True, slots=True)
class FaqBrowse:
    """List the exercises, to browse their FAQ."""


@dataclass(frozen=True, slots=True)
class FaqAnswer:
    """Answer one FAQ entry."""

    exercise_id: str
    index: int


@dataclass(frozen=True, slots=True)
class About:
    """Show an exercise's description."""

    exercise_id: str


@dataclass(frozen=True, slots=True)
class Menu:
    """Open the picker for the send time or the time zone."""

    kind: Literal["time", "zone"]


@dataclass(frozen=True, slots=True)
class SetTime:
    """Set the daily send time."""

    value: time


@dataclass(frozen=True, slots=True)
class SetZone:
    """Set the time zone (stored form)."""

    zone: str


@dataclass(frozen=True, slots=True)
class AnnounceSend:
    """An admin confirms an announcement draft."""

    announcement_id: int


@dataclass(frozen=True, slots=True)
class AnnounceCancel:
    """An admin drops an announcement draft."""

    announcement_id: int


CallbackData = Done | FaqList | FaqBrowse | FaqAnswer | About | Menu | SetTime | SetZone | AnnounceSend | AnnounceCancel


def encode(data: CallbackData) -> str:
    """Return the compact string form of ``data``; never more than 64 bytes."""
    match data:
        case Done(day=day):
            raw = f"done:{day.isoformat()}"
        case FaqList(exercise_id=exercise_id):
            raw = f"faq:{exercise_id}"
        case FaqBrowse():
            raw = "faqs:all"
        case FaqAnswer(exercise_id=exercise_id, index=index):
            raw = f"fq:{exercise_id}:{index}"
        case About(exercise_id=exercise_id):
            raw = f"about:{exercise_id}"
        case Menu(kind=kind):
            raw = f"menu:{kind}"
        case SetTime(value=value):
            raw = f"time:{format_send_time(value)}"
        case SetZone(zone=zone):
            raw = f"tz:{zone}"
        case AnnounceSend(announcement_id=announcement_id):
            raw = f"ann:{announcement_id}"
        case AnnounceCancel(announcement_id=announcement_id):
            raw = f"annx:{announcement_id}"
    if len(raw.encode()) > MAX_BYTES:
        raise ValueError(f"callback data over {MAX_BYTES} bytes: {raw!r}")
    return raw


def _done(rest: str) -> CallbackData | None:
    try:
        return Done(day=date.fromisoformat(rest))
    except ValueError:
        return None


def _faq_answer(rest: str) -> CallbackData | None:
    exercise_id, _, index = rest.rpartition(":")
    if not exercise_id or not index.isdigit() or len(index) > 3:
        return None
    return FaqAnswer(exercise_id, int(index))


def _menu(rest: str) -> CallbackData | None:
    if rest == "time":
        return Menu("time")
    if rest == "zone":
        return Menu("zone")
    return None


def _set_time(rest: str) -> CallbackData | None:
    value = parse_send_time(rest)
    return None if value is None else SetTime(value)


def _set_zone(rest: str) -> CallbackData | None:
    zone = normalize_zone(rest)
    return None if zone is None else SetZone(zone)


def _announcement_id(rest: str, kind: Callable[[int], CallbackData]) -> CallbackData | None:
    return kind(int(rest)) if rest.isdigit() and len(rest) <= 18 else None


_DECODERS: dict[str, Callable[[str], CallbackData | None]] = {
    "done": _done,
    "faq": FaqList,
    "faqs": lambda rest: FaqBrowse() if rest == "all" else None,
    "fq": _faq_answer,
    "about": About,
    "menu": _menu,
    "time": _set_time,
    "tz": _set_zone,
    "ann": lambda rest: _announcement_id(rest, AnnounceSend),
    "annx": lambda rest: _announcement_id(rest, AnnounceCancel),
}


def decode(raw: str) -> CallbackData | None:
    """Parse callback data; None for stale, unknown or forged data."""
    kind, _, rest = raw.partition(":")
    decoder = _DECODERS.get(kind)
    if decoder is None or not rest or len(raw.encode()) > MAX_BYTES:
        return None
    return decoder(rest)
