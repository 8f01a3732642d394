"""The delivery engine across the 2026 DST transitions, on SQLite and PostgreSQL.

Subscribers in Berlin, New York, Kolkata, Kiritimati (UTC+14) and at UTC-12:00,
some with send times inside the spring-forward gap or the fall-back fold, are
driven through the transition days by the fake clock: hourly ticks, and ticks
minute by minute around every instant a message is due (and around the wrong
instants a DST bug would pick: the second occurrence of a doubled time, the
naive reading of a missing one). Every message must be enqueued by the first
tick at or after its instant, once per subscriber and local date.

The expected instants come from a small oracle written here, independent of
``bot.schedule``; a few of them are also spelled out by hand.
"""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.engine import session_factory
from bot.db.models import Delivery, Subscriber
from bot.delivery import pacer
from bot.delivery.engine import DeliverySettings
from bot.domain import Catalog
from bot.schedule import next_send_at
from bot.timezones import zone_info
from tests.delivery.conftest import Rig, delivery_rig

# Every test here runs over each Bot API transport (the ``transport`` fixture, tests/conftest.py).
pytestmark = pytest.mark.usefixtures("transport")

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
# How many minutes either side of an instant the clock moves one minute per tick.
AROUND = 2


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """An aware UTC datetime."""
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Sub:
    """One subscriber of the scenario, in its own chat."""

    chat: int
    zone: str
    send_time: time


SUBSCRIBERS = (
    Sub(20_001, "Europe/Berlin", time(2, 30)),  # in the gap on 29 March, in the fold on 25 October
    Sub(20_002, "Europe/Berlin", time(2, 0)),  # the gap's and the fold's first minute
    Sub(20_003, "Europe/Berlin", time(3, 0)),  # the gap's end: the same instant as 02:30 on 29 March
    Sub(20_004, "Europe/Berlin", time(7, 0)),
    Sub(20_005, "America/New_York", time(2, 30)),  # in the gap on 8 March
    Sub(20_006, "America/New_York", time(1, 30)),  # in the fold on 1 November
    Sub(20_007, "America/New_York", time(23, 30)),  # the next UTC date
    Sub(20_008, "Asia/Kolkata", time(5, 30)),  # +05:30: midnight UTC
    Sub(20_009, "Asia/Kolkata", time(0, 15)),  # the previous UTC date
    Sub(20_010, "Pacific/Kiritimati", time(0, 30)),  # UTC+14: the previous UTC date
    Sub(20_011, "Pacific/Kiritimati", time(23, 30)),
    Sub(20_012, "UTC-12:00", time(23, 30)),  # the next UTC date
    Sub(20_013, "UTC-12:00", time(2, 30)),
)
BY_CHAT = {sub.chat: sub for sub in SUBSCRIBERS}


@dataclass(frozen=True, slots=True)
class Window:
    """A stretch of clock time to drive; ticks fall on ``start`` plus whole minutes."""

    name: str
    start: datetime
    end: datetime
    # (chat, local date) -> the UTC instant, worked out by hand.
    by_hand: dict[tuple[int, date], datetime]


WINDOWS = (
    Window(
        "new-york-spring-forward",
        utc(2026, 3, 6, 0, 0, 30),
        utc(2026, 3, 10, 0, 0, 30),
        {
            (20_005, date(2026, 3, 7)): utc(2026, 3, 7, 7, 30),  # 02:30 EST
            (20_005, date(2026, 3, 8)): utc(2026, 3, 8, 7, 0),  # 02:30 missing: 03:00 EDT
            (20_005, date(2026, 3, 9)): utc(2026, 3, 9, 6, 30),  # 02:30 EDT
            (20_006, date(2026, 3, 8)): utc(2026, 3, 8, 6, 30),  # 01:30 EST, before the gap
            (20_007, date(2026, 3, 8)): utc(2026, 3, 9, 3, 30),  # 23:30 EDT
            (20_004, date(2026, 3, 8)): utc(2026, 3, 8, 6, 0),  # Berlin is still on CET
        },
    ),
    Window(
        "berlin-spring-forward",
        utc(2026, 3, 27, 0, 0, 30),
        utc(2026, 3, 31, 0, 0, 30),
        {
            (20_001, date(2026, 3, 28)): utc(2026, 3, 28, 1, 30),  # 02:30 CET
            (20_001, date(2026, 3, 29)): utc(2026, 3, 29, 1, 0),  # 02:30 missing: 03:00 CEST
            (20_001, date(2026, 3, 30)): utc(2026, 3, 30, 0, 30),  # 02:30 CEST
            (20_002, date(2026, 3, 29)): utc(2026, 3, 29, 1, 0),  # 02:00 missing: 03:00 CEST
            (20_003, date(2026, 3, 29)): utc(2026, 3, 29, 1, 0),  # 03:00 CEST
            (20_004, date(2026, 3, 29)): utc(2026, 3, 29, 5, 0),  # 07:00 CEST
            (20_008, date(2026, 3, 29)): utc(2026, 3, 29, 0, 0),
            (20_010, date(2026, 3, 29)): utc(2026, 3, 28, 10, 30),
            (20_012, date(2026, 3, 29)): utc(2026, 3, 30, 11, 30),
        },
    ),
    Window(
        "fall-back",
        utc(2026, 10, 23, 0, 0, 30),
        utc(2026, 11, 3, 0, 0, 30),
        {
            (20_001, date(2026, 10, 24)): utc(2026, 10, 24, 0, 30),  # 02:30 CEST
            (20_001, date(2026, 10, 25)): utc(2026, 10, 25, 0, 30),  # the first 02:30, CEST
            (20_001, date(2026, 10, 26)): utc(2026, 10, 26, 1, 30),  # 02:30 CET
            (20_002, date(2026, 10, 25)): utc(2026, 10, 25, 0, 0),  # the first 02:00, CEST
            (20_003, date(2026, 10, 25)): utc(2026, 10, 25, 2, 0),  # 03:00 CET
            (20_006, date(2026, 10, 31)): utc(2026, 10, 31, 5, 30),  # 01:30 EDT
            (20_006, date(2026, 11, 1)): utc(2026, 11, 1, 5, 30),  # the first 01:30, EDT
            (20_006, date(2026, 11, 2)): utc(2026, 11, 2, 6, 30),  # 01:30 EST
            (20_005, date(2026, 11, 1)): utc(2026, 11, 1, 7, 30),  # 02:30 EST, after the fold
            (20_007, date(2026, 11, 1)): utc(2026, 11, 2, 4, 30),  # 23:30 EST
            (20_011, date(2026, 11, 1)): utc(2026, 11, 1, 9, 30),
            (20_013, date(2026, 11, 1)): utc(2026, 11, 1, 14, 30),
        },
    ),
)


# --- the oracle ---------------------------------------------------------------------------------


def _wall(at: datetime, tz: tzinfo) -> datetime:
    return at.astimezone(tz).replace(tzinfo=None)


def _readings(day: date, send_time: time, tz: tzinfo) -> list[datetime]:
    """The UTC instants of both readings (fold 0 and 1) of the wall time: equal on ordinary days."""
    wall = datetime.combine(day, send_time)
    return [wall.replace(tzinfo=tz, fold=fold).astimezone(UTC) for fold in (0, 1)]


def expected_instant(day: date, send_time: time, zone: str) -> datetime:
    """Where the send time is shown: its earliest occurrence, or, if skipped, where the clock jumps over it."""
    tz = zone_info(zone)
    wall = datetime.combine(day, send_time)
    readings = _readings(day, send_time, tz)
    shown = [at for at in readings if _wall(at, tz) == wall]
    if shown:
        return min(shown)
    at = min(readings)  # before the jump, the clock shows an earlier time
    while _wall(at, tz) < wall:
        at += MINUTE
    return at


def expected_days(sub: Sub, start: datetime, end: datetime) -> Iterator[tuple[date, datetime]]:
    """Every (local date, instant) due after ``start`` and at or before ``end``."""
    day = start.astimezone(zone_info(sub.zone)).date()
    while (at := expected_instant(day, sub.send_time, sub.zone)) <= end:
        if at > start:
            yield day, at
        day += timedelta(days=1)


def tick_times(window: Window) -> list[datetime]:
    """Hourly ticks, and minute ticks around every right and every wrong instant, on the window's grid."""
    marks: set[datetime] = set()
    for sub in SUBSCRIBERS:
        tz = zone_info(sub.zone)
        day = window.start.astimezone(tz).date() - timedelta(days=1)
        while (at := expected_instant(day, sub.send_time, sub.zone)) <= window.end + timedelta(days=1):
            marks.update([at, *_readings(day, sub.send_time, tz)])
            day += timedelta(days=1)
    minutes: set[int] = set(range(0, _minutes(window.start, window.end) + 1, 60))
    for mark in marks:
        first = _minutes(window.start, mark)  # the first grid tick at or after the mark
        minutes.update(range(first - AROUND, first + AROUND + 1))
    last = _minutes(window.start, window.end)
    return [window.start + n * MINUTE for n in sorted(minutes) if 0 <= n <= last]


def _minutes(start: datetime, at: datetime) -> int:
    """Whole minutes from ``start`` to the first grid point at or after ``at``."""
    return -(-(at - start) // MINUTE)


# --- the scenario -------------------------------------------------------------------------------


async def _unsettled(rig: Rig) -> int:
    async with session_factory(rig.db)() as session:
        count = await session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.state.in_(("pending", "sending")))
        )
    return int(count or 0)


async def _settle(rig: Rig) -> None:
    """``wait_until_settled``, then make sure of it row by row: ``states()`` keeps one row per chat."""
    await rig.wait_until_settled(poll=0.005)
    for _ in range(2000):
        if not await _unsettled(rig):
            return
        await asyncio.sleep(0.005)
    raise TimeoutError("deliveries still pending or sending")


@pytest.fixture
def dst_settings(monkeypatch: pytest.MonkeyPatch) -> DeliverySettings:
    """Fast sends; no real one-second pause per chat, since days here pass in a fraction of a second."""
    monkeypatch.setattr(pacer, "PER_CHAT_INTERVAL", 0.0)
    return DeliverySettings(rate=500.0, idle_poll=0.05, backoff_cap=timedelta(seconds=0.2))


@pytest.mark.parametrize("window", WINDOWS, ids=[w.name for w in WINDOWS])
async def test_one_message_per_local_date_at_the_right_tick_across_dst(
    window: Window, catalog: Catalog, engine: AsyncEngine, dst_settings: DeliverySettings
) -> None:
    """Each subscriber gets one message per local date, enqueued by the first tick at or after its instant."""
    # The test's own premise: the oracle agrees with the instants worked out by hand.
    for (chat, day), at in window.by_hand.items():
        assert expected_instant(day, BY_CHAT[chat].send_time, BY_CHAT[chat].zone) == at, (chat, day)

    ticks = tick_times(window)
    expected = {sub.chat: list(expected_days(sub, window.start, window.end)) for sub in SUBSCRIBERS}
    for chat, day in window.by_hand:
        assert day in dict(expected[chat]), (chat, day)

    async with delivery_rig(catalog, engine, dst_settings, now=window.start) as rig:
        starts: dict[int, date] = {}
        for sub in SUBSCRIBERS:
            first, first_day = next_send_at(send_time=sub.send_time, zone=sub.zone, after=window.start)
            assert (first_day, first) == expected[sub.chat][0], sub
            starts[sub.chat] = first_day
            await rig.add_subscribers(
                1, first_chat=sub.chat, send_time=sub.send_time, zone=sub.zone, start=first_day, due=first
            )

        # chat -> the clock time of the tick whose enqueue led to each message, in order
        sent_by_tick: dict[int, list[datetime]] = {sub.chat: [] for sub in SUBSCRIBERS}
        for at in ticks:
            rig.clock.advance(seconds=(at - rig.clock.now).total_seconds())
            mark = rig.api.mark()
            created = await rig.engine.tick()
            if created:
                await _settle(rig)
            new = [r for r in rig.api.requests[mark:] if r.method == "sendMessage" and r.ok]
            assert len(new) == created, f"tick at {at}: {created} enqueued, {len(new)} sent"
            for request in new:
                assert request.chat_id is not None
                sent_by_tick[request.chat_id].append(at)
        assert rig.clock.now == window.end
        assert not rig.fatal

        async with session_factory(engine)() as session:
            rows = (
                await session.execute(
                    select(Delivery.chat_id, Delivery.local_date, Delivery.due_at, Delivery.created_at, Delivery.state)
                )
            ).all()
            next_at = dict((await session.execute(select(Subscriber.chat_id, Subscriber.next_send_at))).all())

    for sub in SUBSCRIBERS:
        want = expected[sub.chat]
        first_ticks = [ticks[bisect.bisect_left(ticks, at)] for _, at in want]
        ledger = sorted((r.local_date, r.due_at, r.created_at, r.state) for r in rows if r.chat_id == sub.chat)
        assert ledger == [(day, at, tick, "sent") for (day, at), tick in zip(want, first_ticks, strict=True)], sub
        assert sent_by_tick[sub.chat] == first_ticks, sub
        texts = [r.text or "" for r in rig.api.sent_messages(sub.chat)]
        assert len(texts) == len(want), sub
        for text, (day, _) in zip(texts, want, strict=True):
            assert f"Day {(day - starts[sub.chat]).days + 1} ·" in text, (sub, day)
        # And the subscriber waits for the next local date's instant.
        following = want[-1][0] + timedelta(days=1)
        assert next_at[sub.chat] == expected_instant(following, sub.send_time, sub.zone), sub

    for (chat, day), at in window.by_hand.items():
        tick = next(t for t in ticks if t >= at)
        assert (day, at, tick, "sent") in {
            (r.local_date, r.due_at, r.created_at, r.state) for r in rows if r.chat_id == chat
        }, (chat, day)
        assert tick - at == timedelta(seconds=30)  # the grid's first tick: no minute was skipped
