"""Queries on both real engines: idempotent subscribe and logging, pauses."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import queries
from bot.db.engine import session_factory
from bot.db.models import Subscriber
from bot.progress import PauseSpan

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
TODAY = date(2026, 11, 21)


async def _subscribe(engine: AsyncEngine, chat_id: int = 42, *, today: date = TODAY) -> queries.Subscription:
    async with session_factory(engine).begin() as session:
        return await queries.subscribe(
            session,
            chat_id=chat_id,
            user_id=chat_id,
            now=NOW,
            send_time=time(7, 0),
            timezone="UTC",
            local_today=today,
        )


async def test_subscribe_creates_then_keeps_progress(engine: AsyncEngine) -> None:
    """A second /start, days later, neither resets the start date nor the tip seed."""
    first = await _subscribe(engine)
    assert first.created
    again = await _subscribe(engine, today=date(2026, 12, 1))
    assert not again.created
    assert not again.reactivated
    assert again.subscriber.member == first.subscriber.member
    assert again.subscriber.member.program_start == TODAY


async def test_subscribe_reactivates_a_stopped_chat(engine: AsyncEngine) -> None:
    """/stop keeps the data; /start turns the same subscriber active again."""
    first = await _subscribe(engine)
    async with session_factory(engine).begin() as session:
        assert await queries.set_active(session, 42, active=False)
    again = await _subscribe(engine)
    assert again.reactivated
    assert again.subscriber.active
    assert again.subscriber.id == first.subscriber.id


async def test_concurrent_subscribes_make_one_subscriber(engine: AsyncEngine) -> None:
    """Ten simultaneous /start from one chat leave exactly one row, and exactly one says 'created'."""
    results = await asyncio.gather(*(_subscribe(engine) for _ in range(10)))
    assert sum(result.created for result in results) == 1
    async with session_factory(engine)() as session:
        assert await session.scalar(select(func.count()).select_from(Subscriber)) == 1


async def test_set_active_on_an_unknown_chat_says_so(engine: AsyncEngine) -> None:
    """Blocking by a chat that never subscribed changes nothing and reports False."""
    async with session_factory(engine).begin() as session:
        assert not await queries.set_active(session, 999, active=False)


async def test_a_day_is_logged_once(engine: AsyncEngine) -> None:
    """log_workout is idempotent per local day, also under concurrent taps."""
    subscriber = (await _subscribe(engine)).subscriber

    async def log(day: date) -> bool:
        async with session_factory(engine).begin() as session:
            return await queries.log_workout(
                session, subscriber_id=subscriber.id, day=day, exercise_id="pogo-hops", now=NOW
            )

    assert await log(TODAY)
    assert not await log(TODAY)
    assert sum(await asyncio.gather(*(log(date(2026, 11, 22)) for _ in range(5)))) == 1
    async with session_factory(engine)() as session:
        assert await queries.workout_days(session, subscriber.id) == [TODAY, date(2026, 11, 22)]


async def test_settings_are_saved(engine: AsyncEngine) -> None:
    """Send time and zone changes are stored."""
    subscriber = (await _subscribe(engine)).subscriber
    async with session_factory(engine).begin() as session:
        await queries.set_send_time(session, subscriber.id, time(18, 30))
        await queries.set_timezone(session, subscriber.id, "UTC+05:30")
    async with session_factory(engine)() as session:
        stored = await queries.get_subscriber(session, 42)
    assert stored is not None
    assert (stored.send_time, stored.timezone) == (time(18, 30), "UTC+05:30")


async def test_resume_ends_a_pause_yesterday_or_removes_one_not_yet_begun(engine: AsyncEngine) -> None:
    """Resuming mid-pause keeps the days already paused; resuming on its first day removes it."""
    subscriber = (await _subscribe(engine)).subscriber
    factory = session_factory(engine)
    async with factory.begin() as session:
        await queries.add_pause(session, subscriber.id, PauseSpan(date(2026, 11, 22), date(2026, 11, 28)))
        assert await queries.end_pause(session, subscriber.id, date(2026, 11, 21)) is None
        ended = await queries.end_pause(session, subscriber.id, date(2026, 11, 25))
    assert ended == PauseSpan(date(2026, 11, 22), date(2026, 11, 28))
    async with factory.begin() as session:
        stored = await queries.get_subscriber(session, 42)
        assert stored is not None
        assert stored.member.pauses == (PauseSpan(date(2026, 11, 22), date(2026, 11, 24)),)
        await queries.add_pause(session, subscriber.id, PauseSpan(date(2026, 12, 1), date(2026, 12, 3)))
        await queries.end_pause(session, subscriber.id, date(2026, 12, 1))
    async with factory() as session:
        stored = await queries.get_subscriber(session, 42)
    assert stored is not None
    assert stored.member.pauses == (PauseSpan(date(2026, 11, 22), date(2026, 11, 24)),)
