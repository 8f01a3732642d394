"""When a subscriber's daily message is due: local send time to UTC instants.

Pure. DST is handled here and only here:
- a send time that does not exist on a spring-forward day (02:30 in Berlin on
  29 March 2026) goes out at the first valid instant after it (03:00 CEST);
- a send time that exists twice on a fall-back day goes out at its first
  occurrence, once (the ledger allows one message per local date anyway).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo

from bot.timezones import zone_info

# Longer than any DST gap in the tz database (the longest are 1 hour; a few
# historical ones reach 2 hours).
_MAX_GAP_MINUTES = 24 * 60


def send_instant(day: date, send_time: time, zone: tzinfo) -> datetime:
    """The UTC instant of ``send_time`` on local date ``day`` in ``zone``."""
    wall = datetime.combine(day, send_time)
    for minutes in range(_MAX_GAP_MINUTES):
        candidate = wall + timedelta(minutes=minutes)
        instant = candidate.replace(tzinfo=zone, fold=0).astimezone(UTC)
        # A wall time in a DST gap does not survive the round trip; the first
        # one that does is the end of the gap, the first valid instant after.
        if instant.astimezone(zone).replace(tzinfo=None) == candidate:
            return instant
    raise ValueError(f"no valid local time after {wall} in {zone}")


def local_date_of(instant: datetime, zone: str) -> date:
    """The local calendar date of a UTC instant in a stored zone."""
    return instant.astimezone(zone_info(zone)).date()


def next_send_at(
    *, send_time: time, zone: str, after: datetime, not_before: date | None = None
) -> tuple[datetime, date]:
    """The first send instant strictly after ``after``, on a local date no earlier than ``not_before``.

    Returns the instant and the local date it belongs to. ``not_before`` is
    the day after the last date already delivered, so a changed send time
    never brings a second message for a day that has had one.
    """
    tz = zone_info(zone)
    day = after.astimezone(tz).date()
    if not_before is not None and not_before > day:
        day = not_before
    while True:
        instant = send_instant(day, send_time, tz)
        if instant > after:
            return instant, day
        day += timedelta(days=1)


def end_of_local_day(day: date, zone: str) -> datetime:
    """The UTC instant at which local date ``day`` ends in ``zone``."""
    return send_instant(day + timedelta(days=1), time(0, 0), zone_info(zone))
