"""Announcements go out through the ledger: once per recipient, with the daily message's error mapping.

Real engine, real database (SQLite and PostgreSQL), the fake Bot API over HTTP.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import announcements
from bot.db.engine import session_factory
from bot.db.ledger import State
from bot.db.models import Announcement, Delivery, Pause, Subscriber
from bot.delivery.engine import DeliverySettings
from bot.domain import Catalog
from tests.delivery.conftest import Rig, delivery_rig
from tests.delivery.test_faults import settle, tick_at_seven
from tests.fakes.bot_api_server import forbidden_for

TEXT = "📣 <b>New:</b> a tibialis week starts Monday &amp; runs 7 days."


async def _announce(rig: Rig, text: str = TEXT) -> int:
    """Draft and confirm an announcement as the admin's buttons do; returns its id."""
    async with session_factory(rig.db).begin() as session:
        draft = await announcements.create_draft(session, text=text, admin_id=1, now=rig.clock())
        assert await announcements.confirm(session, draft.id, now=rig.clock())
    return draft.id


def _announced(rig: Rig, text: str = TEXT) -> Counter[int]:
    """Announcement messages per chat, as the server received them."""
    return Counter(r.chat_id for r in rig.api.sent_messages() if r.params.get("text") == text and r.chat_id)


async def _states(db: AsyncEngine, announcement_id: int) -> dict[int, str]:
    async with session_factory(db)() as session:
        rows = await session.execute(
            select(Delivery.chat_id, Delivery.state).where(Delivery.announcement_id == announcement_id)
        )
        return {int(chat): str(state) for chat, state in rows}


async def test_an_announcement_reaches_every_active_subscriber_once_and_403s_are_blocked(
    catalog: Catalog, engine: AsyncEngine, fast_settings: DeliverySettings
) -> None:
    """Paged INSERT ... SELECT: active and paused subscribers get it once; stopped ones do not; 403s are blocked."""
    settings = replace(fast_settings, announce_page=7)
    async with delivery_rig(catalog, engine, settings) as rig:
        chats = await rig.add_subscribers(40)
        stopped, blocked_users = chats[5::10], chats[3::9]
        paused = chats[1]
        async with session_factory(engine).begin() as session:
            await session.execute(update(Subscriber).where(Subscriber.chat_id.in_(stopped)).values(active=False))
            paused_id = await session.scalar(select(Subscriber.id).where(Subscriber.chat_id == paused))
            session.add(Pause(subscriber_id=paused_id, first_day=date(2026, 11, 20), last_day=date(2026, 11, 30)))
        rig.api.add_fault(forbidden_for(blocked_users))

        announcement_id = await _announce(rig)
        created = await rig.engine.enqueue_announcements()
        await settle(rig)

        recipients = [chat for chat in chats if chat not in stopped]
        assert created == len(recipients)
        states = await _states(engine, announcement_id)
        assert states == {chat: State.BLOCKED if chat in blocked_users else State.SENT for chat in recipients}
        assert _announced(rig) == Counter(chat for chat in recipients if chat not in blocked_users)
        assert paused in _announced(rig)
        sent = rig.api.sent_messages(recipients[0])[0]
        assert sent.params.get("parse_mode") == "HTML"
        assert "reply_markup" not in sent.params
        async with session_factory(engine)() as session:
            rows = await session.execute(
                select(Subscriber.chat_id).where(Subscriber.active.is_(False), Subscriber.blocked_at.is_not(None))
            )
            assert sorted(chat for (chat,) in rows) == sorted(blocked_users)
        # Confirming or enqueuing again sends nothing more.
        async with session_factory(engine).begin() as session:
            assert not await announcements.confirm(session, announcement_id, now=rig.clock())
        assert await rig.engine.enqueue_announcements() == 0


async def test_the_days_workout_and_an_announcement_both_arrive(
    catalog: Catalog, engine: AsyncEngine, fast_settings: DeliverySettings
) -> None:
    """An announcement row does not take the place of the day's workout, nor the other way round."""
    async with delivery_rig(catalog, engine, fast_settings) as rig:
        chats = await rig.add_subscribers(12)
        await _announce(rig)
        await rig.engine.enqueue_announcements()
        await tick_at_seven(rig, 12)
        await settle(rig)
        per_chat = Counter(r.chat_id for r in rig.api.sent_messages())
        assert per_chat == Counter(dict.fromkeys(chats, 2))
        # The next tick enqueues no second workout for today.
        assert await rig.engine.tick() == 0


async def test_an_interrupted_enqueue_resumes_at_the_next_tick_without_duplicates(
    catalog: Catalog, engine: AsyncEngine, fast_settings: DeliverySettings
) -> None:
    """A stop after the first page: the tick creates the rest; nobody gets it twice; later subscribers do not."""
    async with delivery_rig(catalog, engine, fast_settings) as rig:
        chats = await rig.add_subscribers(25)
        announcement_id = await _announce(rig)
        async with session_factory(engine).begin() as session:
            assert await announcements.enqueue_page(session, announcement_id, now=rig.clock(), page=10) == 10
        # The same page again (a crash before its commit was acknowledged) adds nothing.
        async with session_factory(engine).begin() as session:
            await session.execute(
                update(Announcement).where(Announcement.id == announcement_id).values(enqueued_through=0)
            )
            assert await announcements.enqueue_page(session, announcement_id, now=rig.clock(), page=10) == 0
        late = await rig.add_subscribers(3, first_chat=90_000)

        rig.clock.advance(seconds=1)
        await rig.engine.tick()
        await settle(rig)
        assert _announced(rig) == Counter(chats)
        assert not set(late) & set(_announced(rig))
        async with session_factory(engine)() as session:
            assert await announcements.unfinished(session) == []


async def test_a_stale_announcement_is_dropped_not_sent(
    catalog: Catalog, engine: AsyncEngine, fast_settings: DeliverySettings
) -> None:
    """After an outage longer than the announcement's time to live, its rows fail as expired."""
    settings = replace(fast_settings, announcement_ttl=timedelta(hours=1))
    async with delivery_rig(catalog, engine, settings) as rig:
        chats = await rig.add_subscribers(5)
        announcement_id = await _announce(rig)
        async with session_factory(engine).begin() as session:
            await announcements.enqueue_page(session, announcement_id, now=rig.clock())
        rig.clock.advance(hours=2)
        await rig.engine.tick()
        await settle(rig)
        assert _announced(rig) == Counter()
        assert set((await _states(engine, announcement_id)).values()) == {State.FAILED}
        async with session_factory(engine)() as session:
            errors = await session.scalars(
                select(func.distinct(Delivery.last_error)).where(Delivery.announcement_id == announcement_id)
            )
            assert list(errors) == ["expired: the announcement is stale"]
        assert len(chats) == len(await _states(engine, announcement_id))
