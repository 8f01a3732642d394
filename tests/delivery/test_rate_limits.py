"""Telegram's limits as the server sees them: R messages a second overall, one a second per chat.

The pacer spaces sends on the bot's side; what counts is when they arrive. These
tests read the fake's arrival timestamps (``RecordedRequest.at``, monotonic,
taken when the server has read the request) and check every sliding one-second
window ``[t, t + 1)``, on SQLite and PostgreSQL, with some chats getting a second
request through a retry.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.delivery.engine import DeliverySettings
from bot.domain import Catalog
from tests.delivery.conftest import Rig, delivery_rig
from tests.delivery.test_faults import IN_FLIGHT, clock_follows_real_time
from tests.fakes.bot_api_server import RecordedRequest, retry_after_for, server_error_burst

# Every test here runs over each Bot API transport (the ``transport`` fixture, tests/conftest.py).
pytestmark = pytest.mark.usefixtures("transport")


@dataclass(frozen=True, slots=True)
class Busiest:
    """The sliding one-second window with the most arrivals."""

    count: int
    start: float


def busiest_second(arrivals: Sequence[float]) -> Busiest:
    """The most arrivals in any window ``[t, t + 1)``; the busiest windows start at an arrival."""
    times = sorted(arrivals)
    best = Busiest(0, times[0] if times else 0.0)
    for i, start in enumerate(times):
        count = bisect_left(times, start + 1.0, lo=i) - i
        if count > best.count:
            best = Busiest(count, start)
    return best


def closest_repeat(requests: Sequence[RecordedRequest]) -> tuple[int, float] | None:
    """The chat with the two closest sendMessage arrivals and their distance (None: no chat had two)."""
    by_chat: dict[int, list[float]] = {}
    for request in requests:
        if request.chat_id is not None:
            by_chat.setdefault(request.chat_id, []).append(request.at)
    closest: tuple[int, float] | None = None
    for chat, times in by_chat.items():
        times.sort()
        for earlier, later in itertools.pairwise(times):
            if closest is None or later - earlier < closest[1]:
                closest = (chat, later - earlier)
    return closest


def sends(rig: Rig) -> list[RecordedRequest]:
    """Every sendMessage that reached the server, whatever the answer."""
    return rig.api.calls("sendMessage")


def describe(arrivals: Sequence[float], start: float) -> str:
    times = sorted(t - arrivals[0] for t in arrivals)
    return f"busiest window starts at +{start - arrivals[0]:.3f}s; arrivals: " + " ".join(f"{t:.3f}" for t in times)


@pytest.mark.parametrize("rate", [20, 30])
async def test_sends_stay_within_the_global_and_per_chat_limits(
    catalog: Catalog, engine: AsyncEngine, rate: int
) -> None:
    """3R subscribers due at once: never more than R arrivals in a second, never two in a second per chat.

    A few chats near the end of the backlog get a 500 first; their retries are
    claimed at once (backoff 0.1 s) and only the pacer's per-chat interval keeps
    them a second from the first try. While the backlog lasts the rate is close to R.
    """
    settings = DeliverySettings(rate=float(rate), idle_poll=0.05, backoff_cap=timedelta(seconds=0.1))
    async with delivery_rig(catalog, engine, settings) as rig, clock_follows_real_time(rig.clock):
        chats = await rig.add_subscribers(3 * rate)
        retried = chats[-rate : -rate // 2 : 3]
        for chat in retried:
            rig.api.add_fault(server_error_burst(1, 500, chat_ids=[chat]))
        rig.clock.advance(seconds=30)
        assert await rig.engine.tick() == len(chats)
        await rig.wait_until_settled(within=15)
        assert set((await rig.states()).values()) == {"sent"}

    requests = sends(rig)
    assert len(requests) == len(chats) + len(retried)
    assert sorted(r.chat_id for r in requests if not r.ok and r.chat_id is not None) == retried
    arrivals = [r.at for r in requests]
    busiest = busiest_second(arrivals)
    assert busiest.count <= rate, describe(arrivals, busiest.start)
    repeat = closest_repeat(requests)
    assert repeat is not None
    assert repeat[1] >= 1.0, f"chat {repeat[0]} got two requests {repeat[1]:.3f}s apart"
    # The backlog: the first 3R arrivals, while rows were always waiting.
    backlog = sorted(arrivals)[: len(chats)]
    sustained = (len(backlog) - 1) / (backlog[-1] - backlog[0])
    assert sustained >= 0.95 * rate, f"{sustained:.2f}/s at rate {rate}"


async def test_limits_hold_across_a_flood_control_pause(catalog: Catalog, engine: AsyncEngine) -> None:
    """A 429 in the middle: the pause is kept, and the restart after it is not a burst."""
    rate = 30
    settings = DeliverySettings(rate=float(rate), idle_poll=0.05, backoff_cap=timedelta(seconds=0.1))
    async with delivery_rig(catalog, engine, settings) as rig, clock_follows_real_time(rig.clock):
        chats = await rig.add_subscribers(rate)
        flooded = chats[rate // 3]
        rig.api.add_fault(retry_after_for([flooded], 1))
        rig.clock.advance(seconds=30)
        assert await rig.engine.tick() == len(chats)
        await rig.wait_until_settled(within=15)
        assert set((await rig.states()).values()) == {"sent"}

    requests = sends(rig)
    assert len(requests) == len(chats) + 1
    arrivals = [r.at for r in requests]
    busiest = busiest_second(arrivals)
    assert busiest.count <= rate, describe(arrivals, busiest.start)
    repeat = closest_repeat(requests)
    assert repeat is not None
    assert repeat[0] == flooded
    assert repeat[1] >= 1.0, f"chat {repeat[0]} got two requests {repeat[1]:.3f}s apart"
    refused = next(r for r in requests if not r.ok)
    pause_end = refused.at + 1.0
    # Requests already on their way when the 429 came back may still arrive; later ones may not.
    during = [round(r.at - refused.at, 3) for r in requests if refused.at + IN_FLIGHT <= r.at < pause_end]
    assert during == [], f"sendMessage arrived during the pause, at +{during}s"
    # Before and after the pause the pacer runs at the rate.
    before = sorted(r.at for r in requests if r.at <= refused.at)
    after = sorted(r.at for r in requests if r.at >= pause_end)
    for part in (before, after):
        assert (len(part) - 1) / (part[-1] - part[0]) >= 0.95 * rate
