"""Changing the send time or zone re-plans the next send, never a second one for a day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import ledger, queries
from bot.db.engine import session_factory
from bot.db.models import Subscriber

SIX_AM = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)


async def _subscribe(engine: AsyncEngine, now: datetime) -> int:
    async with session_factory(engine).begin() as session:
        result = await queries.subscribe(
            session, chat_id=7, user_id=7, now=now, send_time=time(7, 0), timezone="UTC", local_today=now.date()
        )
        await ledger.replan(session, result.subscriber.id, now=now)
        return result.subscriber.id


async def _next(engine: AsyncEngine, subscriber_id: int) -> datetime | None:
    async with session_factory(engine)() as session:
        return await session.scalar(select(Subscriber.next_send_at).where(Subscriber.id == subscriber_id))


async def _change_time(engine: AsyncEngine, subscriber_id: int, value: time, now: datetime) -> None:
    async with session_factory(engine).begin() as session:
        await queries.set_send_time(session, subscriber_id, value)
        await ledger.replan(session, subscriber_id, now=now)


async def test_a_new_subscriber_starts_with_the_next_future_send(engine: AsyncEngine) -> None:
    """/start at 06:00 with a 07:00 send time: today 07:00. At 09:00: tomorrow 07:00."""
    early = await _subscribe(engine, SIX_AM)
    assert await _next(engine, early) == datetime(2026, 11, 21, 7, 0, tzinfo=UTC)
    async with session_factory(engine).begin() as session:
        late = (
            await queries.subscribe(
                session,
                chat_id=8,
                user_id=8,
                now=SIX_AM,
                send_time=time(7, 0),
                timezone="UTC",
                local_today=SIX_AM.date(),
            )
        ).subscriber.id
        await ledger.replan(session, late, now=SIX_AM.replace(hour=9))
    assert await _next(engine, late) == datetime(2026, 11, 22, 7, 0, tzinfo=UTC)


async def test_a_later_time_today_is_used_if_today_has_not_been_sent(engine: AsyncEngine) -> None:
    """At 06:00, moving 07:00 to 20:00 sends today at 20:00."""
    subscriber = await _subscribe(engine, SIX_AM)
    await _change_time(engine, subscriber, time(20, 0), SIX_AM)
    assert await _next(engine, subscriber) == datetime(2026, 11, 21, 20, 0, tzinfo=UTC)


async def test_after_todays_send_a_change_waits_for_tomorrow(engine: AsyncEngine) -> None:
    """Once today's row exists, a later time today is not a second message: tomorrow at 20:00."""
    subscriber = await _subscribe(engine, SIX_AM)
    seven = datetime(2026, 11, 21, 7, 0, tzinfo=UTC)
    async with session_factory(engine).begin() as session:
        # What the tick does at 07:00.
        done = await ledger.advance_group(
            session,
            ledger.DueGroup(seven, time(7, 0), "UTC"),
            send_on=date(2026, 11, 21),
            upcoming=datetime(2026, 11, 22, 7, 0, tzinfo=UTC),
            now=seven,
            limit=1000,
        )
    assert done == ledger.Advanced(created=1, moved=1)
    await _change_time(engine, subscriber, time(20, 0), SIX_AM.replace(hour=8))
    assert await _next(engine, subscriber) == datetime(2026, 11, 22, 20, 0, tzinfo=UTC)


async def test_a_zone_change_replans_in_the_new_zone(engine: AsyncEngine) -> None:
    """Moving to Asia/Tokyo at 06:00 UTC (15:00 there): 07:00 Tokyo tomorrow, 22:00 UTC today."""
    subscriber = await _subscribe(engine, SIX_AM)
    async with session_factory(engine).begin() as session:
        await queries.set_timezone(session, subscriber, "Asia/Tokyo")
        await ledger.replan(session, subscriber, now=SIX_AM)
    assert await _next(engine, subscriber) == datetime(2026, 11, 21, 22, 0, tzinfo=UTC)
