"""Callback data carried by inline buttons: encode when rendering, decode on press.

Telegram returns callback data verbatim but a client can forge it, and old
messages carry data from earlier versions, so ``decode`` returns None for
anything it does not fully understand instead of raising.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

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
class About:
    """Show an exercise's description."""

    exercise_id: str


CallbackData = Done | FaqList | About


def encode(data: CallbackData) -> str:
    """Return the compact string form of ``data``; never more than 64 bytes."""
    match data:
        case Done(day=day):
            raw = f"done:{day.isoformat()}"
        case FaqList(exercise_id=exercise_id):
            raw = f"faq:{exercise_id}"
        case About(exercise_id=exercise_id):
            raw = f"about:{exercise_id}"
    if len(raw.encode()) > MAX_BYTES:
        raise ValueError(f"callback data over {MAX_BYTES} bytes: {raw!r}")
    return raw


def _done(rest: str) -> CallbackData | None:
    try:
        return Done(day=date.fromisoformat(rest))
    except ValueError:
        return None


_DECODERS: dict[str, Callable[[str], CallbackData | None]] = {
    "done": _done,
    "faq": FaqList,
    "about": About,
}


def decode(raw: str) -> CallbackData | None:
    """Parse callback data; None for stale, unknown or forged data."""
    kind, _, rest = raw.partition(":")
    decoder = _DECODERS.get(kind)
    if decoder is None or not rest or len(raw.encode()) > MAX_BYTES:
        return None
    return decoder(rest)
