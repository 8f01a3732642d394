"""Fixtures for delivery tests: a real engine, a real database, the fake Bot API over HTTP."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Bot
from telegram.request import BaseRequest

from bot.db.engine import session_factory
from bot.db.models import Delivery, Subscriber
from bot.delivery.engine import DeliveryEngine, DeliverySettings
from bot.domain import Catalog
from tests.bot.harness import FakeClock
from tests.fakes.bot_api_server import FakeBotApi, fast_request

# 06:59:30 UTC on a Saturday: subscribers at 07:00 UTC are due 30 s later.
NOW = datetime(2026, 11, 21, 6, 59, 30, tzinfo=UTC)


@dataclass
class Rig:
    """What a delivery test drives: the fake API, the engine, the clock and the database."""

    api: FakeBotApi
    engine: DeliveryEngine
    clock: FakeClock
    db: AsyncEngine
    fatal: list[str] = field(default_factory=list)

    async def add_subscribers(
        self,
        count: int,
        *,
        first_chat: int = 10_000,
        send_time: time = time(7, 0),
        zone: str = "UTC",
        start: date = date(2026, 11, 21),
        due: datetime | None = None,
    ) -> list[int]:
        """Insert active subscribers in bulk; returns their chat ids."""
        chats = list(range(first_chat, first_chat + count))
        rows = [
            {
                "chat_id": chat,
                "user_id": chat,
                "created_at": self.clock.now,
                "active": True,
                "send_time": send_time,
                "timezone": zone,
                "program_start": start,
                "seed": secrets.token_hex(8),
                "next_send_at": due or datetime.combine(start, send_time, tzinfo=UTC),
            }
            for chat in chats
        ]
        async with session_factory(self.db).begin() as session:
            await session.execute(insert(Subscriber), rows)
        return chats

    async def states(self) -> dict[int, str]:
        """Ledger state by chat id (the chat the row was last sent to); for tests with one day per chat."""
        async with session_factory(self.db)() as session:
            rows = await session.execute(select(Delivery.chat_id, Delivery.state))
        return {int(chat): str(state) for chat, state in rows}

    async def wait_until_settled(self, *, within: float = 20.0, poll: float = 0.05) -> None:
        """Wait until no ledger row is pending or sending (or ``within`` seconds pass)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            async with session_factory(self.db)() as session:
                busy = await session.scalar(
                    select(func.count()).select_from(Delivery).where(Delivery.state.in_(("pending", "sending")))
                )
            if busy == 0:
                return
            if loop.time() >= deadline:
                raise TimeoutError(f"{busy} deliveries still pending or sending after {within}s")
            await asyncio.sleep(poll)


@asynccontextmanager
async def delivery_rig(
    catalog: Catalog,
    db: AsyncEngine,
    settings: DeliverySettings,
    *,
    now: datetime = NOW,
    request: BaseRequest | None = None,
    **api_kwargs: object,
) -> AsyncIterator[Rig]:
    """Start the fake API and an engine against it; stop both afterwards.

    ``request`` replaces the Bot's HTTP client (pool size, timeouts); by default it is
    ``fast_request()``'s, over the transport of the test's ``transport`` fixture.
    """
    async with FakeBotApi(**api_kwargs) as api:  # type: ignore[arg-type]
        clock = FakeClock(now)
        fatal: list[str] = []
        request = request or fast_request(connection_pool_size=64, read_timeout=2.0)
        bot = Bot(api.token, base_url=api.base_url, request=request)
        async with bot:
            engine = DeliveryEngine(
                sessions=session_factory(db),
                bot=bot,
                catalog=lambda: catalog,
                clock=clock,
                settings=settings,
                on_fatal=fatal.append,
            )
            await engine.start()
            try:
                yield Rig(api=api, engine=engine, clock=clock, db=db, fatal=fatal)
            finally:
                await engine.stop()


@pytest.fixture
def fast_settings() -> DeliverySettings:
    """A high rate so tests are quick; small idle poll so retries are picked up fast."""
    return DeliverySettings(rate=200.0, idle_poll=0.05, backoff_cap=timedelta(seconds=0.2))
