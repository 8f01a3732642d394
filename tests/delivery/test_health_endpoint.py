"""/healthz and /metrics over real HTTP, against a real engine and database."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import aiohttp
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db.engine import create_engine, session_factory
from bot.delivery.engine import DeliverySettings
from bot.domain import Catalog
from bot.health import HealthServer
from tests.delivery.conftest import Rig, delivery_rig
from tests.delivery.test_faults import settle, tick_at_seven
from tests.fakes.bot_api_server import forbidden_for


@asynccontextmanager
async def serving(rig: Rig, db: AsyncEngine | None = None) -> AsyncIterator[str]:
    """A health server for the rig's engine on a free loopback port; yields its base URL."""
    server = HealthServer(
        host="127.0.0.1",
        port=0,
        sessions=session_factory(db or rig.db),
        engine=rig.engine,
        metrics=rig.engine.metrics,
        clock=rig.clock,
    )
    await server.start()
    try:
        yield f"http://127.0.0.1:{server.bound_port}"
    finally:
        await server.stop()


async def _get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as client, client.get(url) as response:
        return response.status, await response.text()


def _samples(page: str) -> dict[str, float]:
    """Prometheus text: sample name with labels -> value."""
    found = {}
    for line in page.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            found[name] = float(value)
    return found


async def test_healthz_is_ok_after_a_tick_and_failing_when_ticks_stop(
    catalog: Catalog, engine: AsyncEngine, fast_settings: DeliverySettings
) -> None:
    """200 with the database reachable and a fresh tick; 503 before the first tick and 2 minutes after the last."""
    async with delivery_rig(catalog, engine, fast_settings) as rig, serving(rig) as base:
        status, body = await _get(f"{base}/healthz")
        assert status == 503
        assert json.loads(body)["problems"] == ["no delivery tick in the last 2 minutes"]

        await rig.engine.tick()
        status, body = await _get(f"{base}/healthz")
        health = json.loads(body)
        assert status == 200, body
        assert health["status"] == "ok"
        assert health["database"] == "ok"
        assert health["last_tick_age_seconds"] == 0.0
        assert health["oldest_pending_seconds"] == 0.0

        rig.clock.advance(minutes=2, seconds=1)
        status, body = await _get(f"{base}/healthz")
        assert status == 503
        assert json.loads(body)["last_tick_age_seconds"] == 121.0


async def test_healthz_reports_the_oldest_pending_delivery(
    catalog: Catalog, engine: AsyncEngine, fast_settings: DeliverySettings
) -> None:
    """A backlog is reported (in seconds since it came due) without failing the check."""
    async with delivery_rig(catalog, engine, fast_settings) as rig:
        await rig.engine.stop()  # nothing drains the ledger
        await rig.add_subscribers(3)
        await tick_at_seven(rig, 3)
        rig.clock.advance(seconds=90)
        async with serving(rig) as base:
            status, body = await _get(f"{base}/healthz")
        assert status == 200, body
        assert json.loads(body)["oldest_pending_seconds"] == 90.0
        await rig.engine.start()


async def test_healthz_fails_when_the_database_is_unreachable(
    catalog: Catalog, engine: AsyncEngine, fast_settings: DeliverySettings, unused_tcp_port: int
) -> None:
    """A database server that refuses connections makes the check fail, with the reason, not a crash."""
    broken = create_engine(f"postgresql+asyncpg://calfbot@127.0.0.1:{unused_tcp_port}/calfbot")
    async with delivery_rig(catalog, engine, fast_settings) as rig:
        await rig.engine.tick()
        async with serving(rig, broken) as base:
            status, body = await _get(f"{base}/healthz")
            metrics_status, page = await _get(f"{base}/metrics")
    await broken.dispose()
    assert status == 503
    health = json.loads(body)
    assert health["database"].startswith("unreachable: ")
    assert health["problems"] == ["database unreachable"]
    assert metrics_status == 200
    assert _samples(page)["calfbot_database_up"] == 0.0


async def test_metrics_count_subscribers_deliveries_latency_and_errors(
    catalog: Catalog, engine: AsyncEngine, fast_settings: DeliverySettings
) -> None:
    """Prometheus text with gauges read from the database and the engine's own counters."""
    async with delivery_rig(catalog, engine, fast_settings) as rig:
        chats = await rig.add_subscribers(10)
        rig.api.add_fault(forbidden_for(chats[:2]))
        await tick_at_seven(rig, 10)
        await settle(rig)
        rig.clock.advance(seconds=5)
        async with serving(rig) as base:
            status, page = await _get(f"{base}/metrics")
    assert status == 200
    samples = _samples(page)
    assert samples['calfbot_subscribers{status="active"}'] == 8.0
    assert samples['calfbot_subscribers{status="blocked"}'] == 2.0
    assert samples['calfbot_deliveries_today{state="sent"}'] == 8.0
    assert samples['calfbot_deliveries_today{state="blocked"}'] == 2.0
    assert samples['calfbot_telegram_errors_total{kind="Forbidden"}'] == 2.0
    assert samples['calfbot_deliveries_finished_total{state="sent"}'] == 8.0
    assert samples["calfbot_send_seconds_count"] == 8.0
    assert samples["calfbot_delivery_delay_seconds_count"] == 8.0
    assert samples["calfbot_database_up"] == 1.0
    assert samples["calfbot_last_tick_timestamp_seconds"] == (rig.clock() - timedelta(seconds=5)).timestamp()
    assert samples["calfbot_oldest_pending_seconds"] == 0.0
