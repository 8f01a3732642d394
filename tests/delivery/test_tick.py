"""The tick works a group (instant, send time, zone) at a time, in pages, with set-based writes."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.engine import create_engine, session_factory
from bot.db.migrate import upgrade
from bot.db.models import Delivery, Pause, Subscriber
from bot.delivery.engine import DeliverySettings
from bot.domain import Catalog
from tests.delivery.conftest import delivery_rig

SEVEN = datetime(2026, 11, 21, 7, 0, tzinfo=UTC)


async def _ids(engine: AsyncEngine, chats: list[int]) -> list[int]:
    async with session_factory(engine)() as session:
        rows = await session.execute(select(Subscriber.id).where(Subscriber.chat_id.in_(chats)).order_by(Subscriber.id))
    return list(rows.scalars())


async def test_groups_in_pages_get_their_own_date_and_pauses_and_stops_are_kept(
    catalog: Catalog, engine: AsyncEngine, fast_settings: DeliverySettings
) -> None:
    """Three groups due at 07:00 UTC, pages of 3: each its own local date and next instant.

    07:00 in UTC and London is Saturday the 21st; 22:00 in Anchorage is still
    Friday the 20th there. A subscriber paused today gets no row but moves on;
    a pause that ended yesterday changes nothing; a stopped one is left alone.
    """
    settings = DeliverySettings(rate=fast_settings.rate, idle_poll=fast_settings.idle_poll, page_size=3)
    async with delivery_rig(catalog, engine, settings) as rig:
        utc = await rig.add_subscribers(7, first_chat=100)
        london = await rig.add_subscribers(4, first_chat=200, zone="Europe/London")
        anchorage = await rig.add_subscribers(
            5, first_chat=300, zone="America/Anchorage", send_time=time(22, 0), start=date(2026, 11, 20), due=SEVEN
        )
        paused, resumed, stopped = (await _ids(engine, utc))[:3]
        async with session_factory(engine).begin() as session:
            session.add(Pause(subscriber_id=paused, first_day=date(2026, 11, 21), last_day=date(2026, 11, 22)))
            session.add(Pause(subscriber_id=resumed, first_day=date(2026, 11, 18), last_day=date(2026, 11, 20)))
            await session.execute(update(Subscriber).where(Subscriber.id == stopped).values(active=False))
        rig.clock.advance(seconds=30)

        assert await rig.engine.tick() == 7 + 4 + 5 - 2
        assert await rig.engine.tick() == 0

        async with session_factory(engine)() as session:
            rows = dict((await session.execute(select(Delivery.subscriber_id, Delivery.local_date))).all())
            due_at = set((await session.execute(select(Delivery.due_at))).scalars())
            moved = dict((await session.execute(select(Subscriber.id, Subscriber.next_send_at))).all())
        by_chat = dict(zip(utc + london + anchorage, await _ids(engine, utc + london + anchorage), strict=True))
        assert paused not in rows and stopped not in rows and resumed in rows
        assert {rows[by_chat[chat]] for chat in utc[3:] + london} == {date(2026, 11, 21)}
        assert {rows[by_chat[chat]] for chat in anchorage} == {date(2026, 11, 20)}
        assert due_at == {SEVEN}
        # Everyone active moved to their next local send, the paused one included; the stopped one did not.
        tomorrow_seven = datetime(2026, 11, 22, 7, 0, tzinfo=UTC)
        assert {moved[by_chat[chat]] for chat in utc + london if by_chat[chat] != stopped} == {tomorrow_seven}
        assert {moved[by_chat[chat]] for chat in anchorage} == {tomorrow_seven}
        assert moved[stopped] == SEVEN


async def test_a_group_the_tick_cannot_match_ends_the_tick_with_an_error_instead_of_spinning(
    catalog: Catalog, tmp_path: Path, fast_settings: DeliverySettings, caplog: pytest.LogCaptureFixture
) -> None:
    """An instant written by hand in another format (no microseconds) is found but never equal: logged, not looped."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'calfbot.db'}")
    await upgrade(engine)
    try:
        async with delivery_rig(catalog, engine, fast_settings) as rig:
            await rig.add_subscribers(2)
            async with engine.begin() as connection:
                await connection.execute(text("UPDATE subscribers SET next_send_at = '2026-11-21 07:00:00'"))
            rig.clock.advance(seconds=30)
            with caplog.at_level(logging.ERROR, logger="bot.delivery.engine"):
                assert await asyncio.wait_for(rig.engine.tick(), 10) == 0
        assert "could not move the subscribers due at 2026-11-21 07:00:00+00:00" in caplog.text
    finally:
        await engine.dispose()
