"""The daily send on the happy path, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.engine import session_factory
from bot.db.models import Delivery, Subscriber
from bot.delivery.engine import DeliverySettings
from bot.domain import Catalog, Enrollment
from bot.planner import plan_day
from bot.render import render_day
from tests.delivery.conftest import delivery_rig

# Every test here runs over each Bot API transport (the ``transport`` fixture, tests/conftest.py).
pytestmark = pytest.mark.usefixtures("transport")


async def test_each_due_subscriber_gets_todays_message_once(
    catalog: Catalog, engine: AsyncEngine, fast_settings: DeliverySettings
) -> None:
    """At 07:00 every subscriber gets one message, the planned one; ticks in the same minute add nothing."""
    async with delivery_rig(catalog, engine, fast_settings) as rig:
        chats = await rig.add_subscribers(40)
        assert await rig.engine.tick() == 0  # 06:59:30: nobody is due yet
        rig.clock.advance(seconds=30)
        assert await rig.engine.tick() == 40
        assert await rig.engine.tick() == 0
        await rig.wait_until_settled()
        assert set((await rig.states()).values()) == {"sent"}
        for chat in chats:
            assert len(rig.api.sent_messages(chat)) == 1
        async with session_factory(engine)() as session:
            subscriber = (await session.execute(select(Subscriber).where(Subscriber.chat_id == chats[0]))).scalar_one()
            row = (await session.execute(select(Delivery).where(Delivery.chat_id == chats[0]))).scalar_one()
        assert subscriber.next_send_at == datetime(2026, 11, 22, 7, 0, tzinfo=UTC)
        assert row.message_id is not None
        assert row.attempts == 1
        expected = render_day(
            plan_day(
                catalog=catalog, enrollment=Enrollment(date(2026, 11, 21), subscriber.seed), today=date(2026, 11, 21)
            )
        )
        assert rig.api.sent_messages(chats[0])[0].text == expected.text


async def test_the_next_day_brings_the_next_message(
    catalog: Catalog, engine: AsyncEngine, fast_settings: DeliverySettings
) -> None:
    """A day later the same subscribers get day 2, and the ledger holds one row per day."""
    async with delivery_rig(catalog, engine, fast_settings) as rig:
        chats = await rig.add_subscribers(5)
        rig.clock.advance(seconds=30)
        await rig.engine.tick()
        await rig.wait_until_settled()
        rig.clock.advance(days=1)
        assert await rig.engine.tick() == 5
        await rig.wait_until_settled()
        texts = [r.text or "" for r in rig.api.sent_messages(chats[0])]
        assert ["Day 1 ·" in texts[0], "Day 2 ·" in texts[1]] == [True, True]
        async with session_factory(engine)() as session:
            rows = (await session.execute(select(Delivery.local_date).where(Delivery.chat_id == chats[0]))).scalars()
            assert sorted(rows) == [date(2026, 11, 21), date(2026, 11, 22)]


async def test_a_missed_day_is_not_sent_late(
    catalog: Catalog, engine: AsyncEngine, fast_settings: DeliverySettings
) -> None:
    """A bot that was down all day does not send yesterday's message; it moves on to today."""
    async with delivery_rig(catalog, engine, fast_settings) as rig:
        chats = await rig.add_subscribers(3)
        rig.clock.advance(days=1, minutes=1)  # 07:00:30 the next day: yesterday's 07:00 was missed
        assert await rig.engine.tick() == 3  # today's, not yesterday's
        await rig.wait_until_settled()
        async with session_factory(engine)() as session:
            days = set((await session.execute(select(Delivery.local_date))).scalars())
        assert days == {date(2026, 11, 22)}
        assert len(rig.api.sent_messages(chats[0])) == 1
        assert rig.clock.now - timedelta(days=1) > datetime(2026, 11, 21, 7, 0, tzinfo=UTC)


async def test_the_first_message_leaves_within_two_seconds_of_the_tick(
    catalog: Catalog, engine: AsyncEngine, fast_settings: DeliverySettings
) -> None:
    """With an empty queue, the first message of a minute reaches Telegram within 2 s of the tick."""
    async with delivery_rig(catalog, engine, fast_settings) as rig:
        await rig.add_subscribers(3)
        rig.clock.advance(seconds=30)
        started = time.monotonic()
        await rig.engine.tick()
        first = await rig.api.wait_for("sendMessage", timeout=5)
        assert first.at - started < 2.0
