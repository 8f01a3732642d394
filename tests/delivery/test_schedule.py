"""The send schedule (bot.schedule) on its own: exact UTC instants, DST gaps and folds, odd offsets.

Every expected instant below is worked out by hand from the 2026 tz rules:
Europe/Berlin springs forward on 29 March (02:00 CET -> 03:00 CEST) and falls back
on 25 October (03:00 CEST -> 02:00 CET); America/New_York on 8 March (02:00 EST ->
03:00 EDT) and 1 November (02:00 EDT -> 01:00 EST); Australia/Adelaide (+09:30 /
+10:30) falls back on 5 April (03:00 -> 02:00) and springs forward on 4 October
(02:00 -> 03:00); Australia/Lord_Howe (+10:30 / +11:00, a 30-minute shift) falls
back on 5 April (02:00 -> 01:30) and springs forward on 4 October (02:00 -> 02:30).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.schedule import end_of_local_day, local_date_of, next_send_at, send_instant
from bot.timezones import zone_info


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """An aware UTC datetime."""
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def instant(day: date, send_time: time, zone: str) -> datetime:
    """``send_instant`` with a stored zone name."""
    return send_instant(day, send_time, zone_info(zone))


# --- ordinary days ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "day", "send_time", "expected"),
    [
        ("UTC", date(2026, 6, 1), time(7, 0), utc(2026, 6, 1, 7, 0)),
        ("Europe/Berlin", date(2026, 1, 15), time(7, 0), utc(2026, 1, 15, 6, 0)),  # CET +01:00
        ("Europe/Berlin", date(2026, 7, 15), time(7, 0), utc(2026, 7, 15, 5, 0)),  # CEST +02:00
        ("Europe/Berlin", date(2026, 3, 28), time(2, 30), utc(2026, 3, 28, 1, 30)),  # the day before the gap
        ("Europe/Berlin", date(2026, 3, 30), time(2, 30), utc(2026, 3, 30, 0, 30)),  # the day after the gap
        ("Europe/Berlin", date(2026, 10, 24), time(2, 30), utc(2026, 10, 24, 0, 30)),  # the day before the fold
        ("Europe/Berlin", date(2026, 10, 26), time(2, 30), utc(2026, 10, 26, 1, 30)),  # the day after the fold
        ("Europe/Berlin", date(2026, 3, 29), time(1, 59), utc(2026, 3, 29, 0, 59)),  # just before the gap
        ("Europe/Berlin", date(2026, 3, 29), time(3, 0), utc(2026, 3, 29, 1, 0)),  # the end of the gap
        ("Europe/Berlin", date(2026, 10, 25), time(1, 59), utc(2026, 10, 24, 23, 59)),  # before the fold, CEST
        ("Europe/Berlin", date(2026, 10, 25), time(3, 0), utc(2026, 10, 25, 2, 0)),  # after the fold, CET
        ("America/New_York", date(2026, 1, 15), time(7, 0), utc(2026, 1, 15, 12, 0)),  # EST -05:00
        ("America/New_York", date(2026, 7, 15), time(7, 0), utc(2026, 7, 15, 11, 0)),  # EDT -04:00
        ("America/New_York", date(2026, 7, 15), time(23, 30), utc(2026, 7, 16, 3, 30)),  # next UTC date
        ("America/New_York", date(2026, 3, 8), time(3, 0), utc(2026, 3, 8, 7, 0)),
        ("America/New_York", date(2026, 11, 1), time(2, 0), utc(2026, 11, 1, 7, 0)),  # after the fold, EST
        ("Asia/Kolkata", date(2026, 1, 15), time(7, 0), utc(2026, 1, 15, 1, 30)),  # +05:30
        ("Asia/Kolkata", date(2026, 7, 15), time(5, 30), utc(2026, 7, 15, 0, 0)),
        ("Asia/Kolkata", date(2026, 7, 15), time(0, 15), utc(2026, 7, 14, 18, 45)),  # previous UTC date
        ("Australia/Adelaide", date(2026, 1, 15), time(7, 0), utc(2026, 1, 14, 20, 30)),  # ACDT +10:30
        ("Australia/Adelaide", date(2026, 7, 15), time(7, 0), utc(2026, 7, 14, 21, 30)),  # ACST +09:30
        ("Australia/Lord_Howe", date(2026, 1, 15), time(7, 0), utc(2026, 1, 14, 20, 0)),  # +11:00
        ("Australia/Lord_Howe", date(2026, 7, 15), time(7, 0), utc(2026, 7, 14, 20, 30)),  # +10:30
        ("Pacific/Kiritimati", date(2026, 1, 1), time(0, 0), utc(2025, 12, 31, 10, 0)),  # UTC+14
        ("Pacific/Kiritimati", date(2026, 7, 15), time(7, 0), utc(2026, 7, 14, 17, 0)),
        ("Pacific/Kiritimati", date(2026, 7, 15), time(23, 59), utc(2026, 7, 15, 9, 59)),
        ("UTC-12:00", date(2026, 1, 1), time(0, 0), utc(2026, 1, 1, 12, 0)),
        ("UTC-12:00", date(2026, 7, 15), time(23, 30), utc(2026, 7, 16, 11, 30)),
        ("Etc/GMT+12", date(2026, 7, 15), time(23, 30), utc(2026, 7, 16, 11, 30)),  # the IANA spelling of -12
        ("UTC+14:00", date(2026, 7, 15), time(7, 0), utc(2026, 7, 14, 17, 0)),
        ("UTC+05:30", date(2026, 7, 15), time(7, 0), utc(2026, 7, 15, 1, 30)),
        ("UTC+05:45", date(2026, 7, 15), time(7, 0), utc(2026, 7, 15, 1, 15)),
        ("UTC-03:30", date(2026, 7, 15), time(22, 45), utc(2026, 7, 16, 2, 15)),
    ],
)
def test_send_instant_on_ordinary_days(zone: str, day: date, send_time: time, expected: datetime) -> None:
    """The wall time in the zone, converted to UTC, to the minute; the result is aware UTC."""
    got = instant(day, send_time, zone)
    assert got == expected
    assert got.utcoffset() == timedelta(0)
    assert local_date_of(got, zone) == day


def test_kiritimati_and_utc_minus_12_are_26_hours_apart() -> None:
    """The same local date and time at both ends of the offset range lies 26 hours apart."""
    day, at = date(2026, 5, 5), time(9, 0)
    assert instant(day, at, "UTC-12:00") - instant(day, at, "Pacific/Kiritimati") == timedelta(hours=26)
    assert instant(day, at, "UTC-12:00") == instant(day, at, "Etc/GMT+12")


# --- the spring-forward gap: the first valid instant after the missing time -----------------------


@pytest.mark.parametrize(
    ("zone", "day", "send_time", "expected"),
    [
        # 02:00-02:59 do not exist in Berlin on 29 March 2026; 03:00 CEST is 01:00 UTC.
        ("Europe/Berlin", date(2026, 3, 29), time(2, 0), utc(2026, 3, 29, 1, 0)),
        ("Europe/Berlin", date(2026, 3, 29), time(2, 30), utc(2026, 3, 29, 1, 0)),
        ("Europe/Berlin", date(2026, 3, 29), time(2, 59), utc(2026, 3, 29, 1, 0)),
        # 02:00-02:59 do not exist in New York on 8 March 2026; 03:00 EDT is 07:00 UTC.
        ("America/New_York", date(2026, 3, 8), time(2, 0), utc(2026, 3, 8, 7, 0)),
        ("America/New_York", date(2026, 3, 8), time(2, 15), utc(2026, 3, 8, 7, 0)),
        ("America/New_York", date(2026, 3, 8), time(2, 59), utc(2026, 3, 8, 7, 0)),
        # Adelaide, 4 October 2026: 02:00 ACST -> 03:00 ACDT (+10:30) = 16:30 UTC the day before.
        ("Australia/Adelaide", date(2026, 10, 4), time(2, 30), utc(2026, 10, 3, 16, 30)),
        # Lord Howe, 4 October 2026: 02:00 -> 02:30 (+11:00) = 15:30 UTC the day before; a 30-minute gap.
        ("Australia/Lord_Howe", date(2026, 10, 4), time(2, 0), utc(2026, 10, 3, 15, 30)),
        ("Australia/Lord_Howe", date(2026, 10, 4), time(2, 15), utc(2026, 10, 3, 15, 30)),
        ("Australia/Lord_Howe", date(2026, 10, 4), time(2, 29), utc(2026, 10, 3, 15, 30)),
        ("Australia/Lord_Howe", date(2026, 10, 4), time(2, 30), utc(2026, 10, 3, 15, 30)),  # exists: the gap end
        ("Australia/Lord_Howe", date(2026, 10, 4), time(2, 31), utc(2026, 10, 3, 15, 31)),
    ],
)
def test_a_time_in_the_spring_forward_gap_goes_out_when_the_gap_ends(
    zone: str, day: date, send_time: time, expected: datetime
) -> None:
    """A send time that does not exist that day is sent at the first valid instant after it."""
    got = instant(day, send_time, zone)
    assert got == expected
    assert local_date_of(got, zone) == day
    wall = got.astimezone(zone_info(zone))
    assert wall.date() == day
    assert wall.time() >= send_time


# --- the fall-back fold: the first occurrence, once ---------------------------------------------


@pytest.mark.parametrize(
    ("zone", "day", "send_time", "first", "second"),
    [
        # Berlin 25 October 2026: 02:30 CEST (00:30 UTC), then 02:30 CET (01:30 UTC).
        ("Europe/Berlin", date(2026, 10, 25), time(2, 30), utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)),
        ("Europe/Berlin", date(2026, 10, 25), time(2, 0), utc(2026, 10, 25, 0, 0), utc(2026, 10, 25, 1, 0)),
        ("Europe/Berlin", date(2026, 10, 25), time(2, 59), utc(2026, 10, 25, 0, 59), utc(2026, 10, 25, 1, 59)),
        # New York 1 November 2026: 01:30 EDT (05:30 UTC), then 01:30 EST (06:30 UTC).
        ("America/New_York", date(2026, 11, 1), time(1, 30), utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 6, 30)),
        ("America/New_York", date(2026, 11, 1), time(1, 0), utc(2026, 11, 1, 5, 0), utc(2026, 11, 1, 6, 0)),
        # Adelaide 5 April 2026: 02:30 ACDT (+10:30), then 02:30 ACST (+09:30).
        ("Australia/Adelaide", date(2026, 4, 5), time(2, 30), utc(2026, 4, 4, 16, 0), utc(2026, 4, 4, 17, 0)),
        # Lord Howe 5 April 2026: 01:45 at +11:00, then 01:45 at +10:30, 30 minutes later.
        ("Australia/Lord_Howe", date(2026, 4, 5), time(1, 45), utc(2026, 4, 4, 14, 45), utc(2026, 4, 4, 15, 15)),
    ],
)
def test_a_time_that_occurs_twice_goes_out_at_its_first_occurrence_once(
    zone: str, day: date, send_time: time, first: datetime, second: datetime
) -> None:
    """The first occurrence is the instant; next_send_at never offers the second one."""
    tz = zone_info(zone)
    # The test's own premise: both instants really show the send time on that day.
    for occurrence in (first, second):
        assert occurrence.astimezone(tz).replace(tzinfo=None) == datetime.combine(day, send_time)
    assert instant(day, send_time, zone) == first
    # Right before the first occurrence, it is the next send.
    got, got_day = next_send_at(send_time=send_time, zone=zone, after=first - timedelta(seconds=1))
    assert (got, got_day) == (first, day)
    # At the first occurrence, between the two and at the second: the next send is tomorrow's.
    tomorrow = instant(day + timedelta(days=1), send_time, zone)
    for after in (first, first + (second - first) / 2, second - timedelta(seconds=1), second):
        assert next_send_at(send_time=send_time, zone=zone, after=after) == (tomorrow, day + timedelta(days=1))
        assert next_send_at(send_time=send_time, zone=zone, after=after, not_before=day) == (
            tomorrow,
            day + timedelta(days=1),
        )


# --- days of 23 and 25 hours ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "day", "start", "end"),
    [
        ("Europe/Berlin", date(2026, 3, 28), utc(2026, 3, 27, 23, 0), utc(2026, 3, 28, 23, 0)),
        ("Europe/Berlin", date(2026, 3, 29), utc(2026, 3, 28, 23, 0), utc(2026, 3, 29, 22, 0)),  # 23 hours
        ("Europe/Berlin", date(2026, 10, 25), utc(2026, 10, 24, 22, 0), utc(2026, 10, 25, 23, 0)),  # 25 hours
        ("America/New_York", date(2026, 3, 8), utc(2026, 3, 8, 5, 0), utc(2026, 3, 9, 4, 0)),
        ("America/New_York", date(2026, 11, 1), utc(2026, 11, 1, 4, 0), utc(2026, 11, 2, 5, 0)),
        ("Australia/Lord_Howe", date(2026, 10, 4), utc(2026, 10, 3, 13, 30), utc(2026, 10, 4, 13, 0)),  # 23.5 h
        ("Asia/Kolkata", date(2026, 7, 15), utc(2026, 7, 14, 18, 30), utc(2026, 7, 15, 18, 30)),
        ("Pacific/Kiritimati", date(2026, 7, 15), utc(2026, 7, 14, 10, 0), utc(2026, 7, 15, 10, 0)),
        ("UTC-12:00", date(2026, 7, 15), utc(2026, 7, 15, 12, 0), utc(2026, 7, 16, 12, 0)),
    ],
)
def test_end_of_local_day_and_local_date_of(zone: str, day: date, start: datetime, end: datetime) -> None:
    """A local day runs from its midnight to the next one, however long that is."""
    assert end_of_local_day(day - timedelta(days=1), zone) == start
    assert end_of_local_day(day, zone) == end
    assert local_date_of(start, zone) == day
    assert local_date_of(end - timedelta(microseconds=1), zone) == day
    assert local_date_of(end, zone) == day + timedelta(days=1)


# --- next_send_at -------------------------------------------------------------------------------


def test_next_send_at_is_strictly_after() -> None:
    """Before the send time it is today's; at it or later, tomorrow's."""
    zone, at = "Europe/Berlin", time(7, 0)
    today = utc(2026, 6, 10, 5, 0)  # 07:00 CEST
    assert next_send_at(send_time=at, zone=zone, after=today - timedelta(minutes=1)) == (today, date(2026, 6, 10))
    assert next_send_at(send_time=at, zone=zone, after=today) == (utc(2026, 6, 11, 5, 0), date(2026, 6, 11))
    assert next_send_at(send_time=at, zone=zone, after=today + timedelta(hours=20)) == (
        utc(2026, 6, 11, 5, 0),
        date(2026, 6, 11),
    )


def test_next_send_at_takes_the_local_date_not_the_utc_date() -> None:
    """At 20:00 UTC on 14 July it is already 15 July in Kiritimati and still the 14th at UTC-12."""
    after = utc(2026, 7, 14, 20, 0)
    assert next_send_at(send_time=time(7, 0), zone="Pacific/Kiritimati", after=after) == (
        utc(2026, 7, 15, 17, 0),  # 07:00 on the 16th, local
        date(2026, 7, 16),
    )
    assert next_send_at(send_time=time(9, 0), zone="Pacific/Kiritimati", after=after) == (
        utc(2026, 7, 14, 19, 0) + timedelta(days=1),
        date(2026, 7, 16),
    )
    assert next_send_at(send_time=time(23, 0), zone="Pacific/Kiritimati", after=after) == (
        utc(2026, 7, 15, 9, 0),  # 23:00 on the 15th, local, still ahead
        date(2026, 7, 15),
    )
    assert next_send_at(send_time=time(9, 0), zone="UTC-12:00", after=after) == (
        utc(2026, 7, 14, 21, 0),  # 09:00 on the 14th, local, an hour ahead
        date(2026, 7, 14),
    )


def test_next_send_at_through_the_gap() -> None:
    """02:30 Berlin: 01:30 UTC on the 28th, 01:00 UTC (03:00 CEST) on the 29th, 00:30 UTC on the 30th."""
    zone, at = "Europe/Berlin", time(2, 30)
    first, day = next_send_at(send_time=at, zone=zone, after=utc(2026, 3, 27, 12, 0))
    assert (first, day) == (utc(2026, 3, 28, 1, 30), date(2026, 3, 28))
    second, day = next_send_at(send_time=at, zone=zone, after=first, not_before=day + timedelta(days=1))
    assert (second, day) == (utc(2026, 3, 29, 1, 0), date(2026, 3, 29))
    third, day = next_send_at(send_time=at, zone=zone, after=second, not_before=day + timedelta(days=1))
    assert (third, day) == (utc(2026, 3, 30, 0, 30), date(2026, 3, 30))
    # Just before the gap's end, on the gap day itself, the gap-day send is still ahead.
    assert next_send_at(send_time=at, zone=zone, after=utc(2026, 3, 29, 0, 59, 59)) == (second, date(2026, 3, 29))


def test_next_send_at_through_the_fold() -> None:
    """01:30 New York: 06:30 UTC on 31 October, 05:30 UTC (first 01:30, EDT) on 1 November, 06:30 UTC on the 2nd."""
    zone, at = "America/New_York", time(1, 30)
    first, day = next_send_at(send_time=at, zone=zone, after=utc(2026, 10, 31, 0, 0))
    assert (first, day) == (utc(2026, 10, 31, 5, 30), date(2026, 10, 31))
    second, day = next_send_at(send_time=at, zone=zone, after=first, not_before=day + timedelta(days=1))
    assert (second, day) == (utc(2026, 11, 1, 5, 30), date(2026, 11, 1))
    third, day = next_send_at(send_time=at, zone=zone, after=second, not_before=day + timedelta(days=1))
    assert (third, day) == (utc(2026, 11, 2, 6, 30), date(2026, 11, 2))


@pytest.mark.parametrize(
    ("zone", "send_time", "after", "not_before", "expected"),
    [
        # Today's 07:00 went out; at 08:00 the user moves the time to 20:00: tomorrow, not tonight.
        ("Europe/Berlin", time(20, 0), utc(2026, 6, 10, 6, 0), date(2026, 6, 11), utc(2026, 6, 11, 18, 0)),
        # Without the ledger date, tonight's 20:00 would be next.
        ("Europe/Berlin", time(20, 0), utc(2026, 6, 10, 6, 0), None, utc(2026, 6, 10, 18, 0)),
        # Today's 20:00 went out; at 21:00 the user moves it to 07:00: tomorrow's 07:00.
        ("Europe/Berlin", time(7, 0), utc(2026, 6, 10, 19, 0), date(2026, 6, 11), utc(2026, 6, 11, 5, 0)),
        # A move to another zone where it is still "today": not again today.
        ("UTC-12:00", time(23, 0), utc(2026, 6, 10, 12, 30), date(2026, 6, 11), utc(2026, 6, 12, 11, 0)),
        ("UTC-12:00", time(23, 0), utc(2026, 6, 10, 12, 30), None, utc(2026, 6, 11, 11, 0)),
        # A move to Kiritimati, where it is already tomorrow: tomorrow there is fine if not delivered.
        ("Pacific/Kiritimati", time(23, 0), utc(2026, 6, 10, 12, 30), date(2026, 6, 11), utc(2026, 6, 11, 9, 0)),
        ("Pacific/Kiritimati", time(23, 0), utc(2026, 6, 10, 12, 30), date(2026, 6, 12), utc(2026, 6, 12, 9, 0)),
        # not_before in the past changes nothing.
        ("Asia/Kolkata", time(7, 0), utc(2026, 6, 10, 0, 0), date(2026, 1, 1), utc(2026, 6, 10, 1, 30)),
        # not_before is a gap day in Berlin: its send goes out at 03:00 CEST.
        ("Europe/Berlin", time(2, 30), utc(2026, 3, 28, 1, 30), date(2026, 3, 29), utc(2026, 3, 29, 1, 0)),
        # not_before is the fold day in New York: its first 01:30.
        ("America/New_York", time(1, 30), utc(2026, 10, 31, 5, 30), date(2026, 11, 1), utc(2026, 11, 1, 5, 30)),
        # After the first 01:30 was delivered: never the second one, the next day's.
        ("America/New_York", time(1, 30), utc(2026, 11, 1, 5, 30), date(2026, 11, 2), utc(2026, 11, 2, 6, 30)),
        ("America/New_York", time(1, 30), utc(2026, 11, 1, 6, 0), date(2026, 11, 2), utc(2026, 11, 2, 6, 30)),
    ],
)
def test_next_send_at_never_brings_a_second_message_for_a_delivered_day(
    zone: str, send_time: time, after: datetime, not_before: date | None, expected: datetime
) -> None:
    """``not_before`` (the day after the last delivered date) is respected, and the day returned is the instant's."""
    got, day = next_send_at(send_time=send_time, zone=zone, after=after, not_before=not_before)
    assert got == expected
    assert day == local_date_of(got, zone)
    assert got > after
    if not_before is not None:
        assert day >= not_before


# --- a year of sends, for any zone, time and start ----------------------------------------------------

ZONES = (
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Adelaide",
    "Australia/Lord_Howe",
    "Pacific/Kiritimati",
    "UTC-12:00",
    "UTC+05:45",
)

# The largest 2026 DST gap in these zones; a gap-day send is never later than this.
MAX_GAP = {"Australia/Lord_Howe": timedelta(minutes=30)}
DEFAULT_MAX_GAP = timedelta(hours=1)

# Send times next to the transitions are drawn far more often than chance would.
send_times = st.one_of(
    st.sampled_from([time(h, m) for h in (0, 1, 2, 3, 23) for m in (0, 1, 15, 29, 30, 31, 45, 59)]),
    st.builds(time, st.integers(0, 23), st.integers(0, 59)),
)
starts = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31, 23, 59, 59), timezones=st.just(UTC)
)


def _exists(wall: datetime, tz: tzinfo) -> bool:
    """Whether a naive wall time is shown by a clock in ``tz`` at some instant (fold 0 or 1)."""
    return any(
        wall.replace(tzinfo=tz, fold=fold).astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall
        for fold in (0, 1)
    )


def _wall(at: datetime, tz: tzinfo) -> datetime:
    return at.astimezone(tz).replace(tzinfo=None)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(zone=st.sampled_from(ZONES), send_time=send_times, start=starts)
def test_one_send_per_local_date_for_400_days(zone: str, send_time: time, start: datetime) -> None:
    """Iterating next_send_at: increasing instants, one per consecutive local date, at the send time.

    On a day where the send time does not exist, the instant is where the clock
    jumps over it (the first valid instant after it); where it exists twice, the
    first occurrence: no earlier instant shows a wall time at or past it.
    """
    tz = zone_info(zone)
    max_gap = MAX_GAP.get(zone, DEFAULT_MAX_GAP)
    previous, day = next_send_at(send_time=send_time, zone=zone, after=start)
    start_date = start.astimezone(tz).date()
    assert previous > start
    assert day in (start_date, start_date + timedelta(days=1))
    if day == start_date + timedelta(days=1):
        # Today's send was already past (or is exactly now).
        assert send_instant(start_date, send_time, tz) <= start
    instants = [(previous, day)]
    for _ in range(399):
        got, got_day = next_send_at(send_time=send_time, zone=zone, after=previous, not_before=day + timedelta(days=1))
        assert got > previous
        assert got_day == day + timedelta(days=1), "a local date skipped or repeated"
        instants.append((got, got_day))
        previous, day = got, got_day
    for at, local_day in instants:
        wanted = datetime.combine(local_day, send_time)
        shown = _wall(at, tz)
        assert shown.date() == local_day
        assert local_date_of(at, zone) == local_day
        if _exists(wanted, tz):
            assert shown == wanted
        else:
            assert wanted < shown <= wanted + max_gap
        # The first instant showing the send time (or later): one second before, the clock
        # was short of it, and so it was one fold (30 min or 1 h) or two hours before.
        for back in (timedelta(seconds=1), timedelta(minutes=30), timedelta(hours=1), timedelta(hours=2)):
            assert _wall(at - back, tz) < wanted, f"{at} is not the first instant at or past {wanted}"
