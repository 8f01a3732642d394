"""The health and metrics endpoint: ``/healthz`` and ``/metrics`` over plain HTTP.

Off unless ``CALFBOT_HTTP_PORT`` is set, and on loopback unless
``CALFBOT_HTTP_HOST`` says otherwise: it is for a local health check
(Docker's HEALTHCHECK, ``calfbot healthcheck``) and a Prometheus scraper,
not for the internet. It runs on the bot's own event loop, so a stuck loop
shows up as a failed check.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from bot.db.admin import admin_figures, oldest_pending
from bot.db.engine import SessionFactory
from bot.delivery.engine import DeliveryEngine
from bot.metrics import Metrics

log = logging.getLogger(__name__)

# A tick runs every minute; two missed ones mean the scheduler is stuck.
TICK_STALE_AFTER = timedelta(minutes=2)
DATABASE_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class Health:
    """The answer of ``/healthz``: healthy, and why not."""

    healthy: bool
    body: dict[str, Any]


async def check_health(
    *, sessions: SessionFactory, engine: DeliveryEngine | None, clock: Callable[[], datetime]
) -> Health:
    """Process alive (this runs), database reachable, last tick fresh; the backlog's age for information."""
    now = clock()
    problems: list[str] = []
    body: dict[str, Any] = {"time": now.isoformat()}
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT):
            async with sessions() as session:
                await session.execute(text("SELECT 1"))
                waiting = await oldest_pending(session)
        body["database"] = "ok"
        body["oldest_pending_seconds"] = round(max(0.0, (now - waiting).total_seconds()), 1) if waiting else 0.0
    except Exception as exc:  # any failure to reach the database is the answer, not a crash
        body["database"] = f"unreachable: {type(exc).__name__}"
        problems.append("database unreachable")
    if engine is not None:
        last = engine.status.last_tick
        body["last_tick"] = last.isoformat() if last else None
        body["last_tick_age_seconds"] = round((now - last).total_seconds(), 1) if last else None
        if last is None or now - last > TICK_STALE_AFTER:
            problems.append("no delivery tick in the last 2 minutes")
    body["status"] = "ok" if not problems else "failing"
    if problems:
        body["problems"] = problems
    return Health(not problems, body)


class HealthServer:
    """A tiny aiohttp server with ``/healthz`` and ``/metrics``."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sessions: SessionFactory,
        engine: DeliveryEngine | None,
        metrics: Metrics,
        clock: Callable[[], datetime],
    ) -> None:
        self.host = host
        self.port = port
        self._sessions = sessions
        self._engine = engine
        self._metrics = metrics
        self._clock = clock
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics_page)
        self._runner = web.AppRunner(app, access_log=None)

    async def start(self) -> None:
        """Listen; an address in use is an OSError with a clear message."""
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            raise OSError(f"cannot serve /healthz on {self.host}:{self.port}: {exc.strerror}") from None
        log.info("health and metrics on http://%s:%d/healthz and /metrics", self.host, self.port)

    @property
    def bound_port(self) -> int:
        """The port actually listened on (``port=0`` picks a free one)."""
        address = self._runner.addresses[0]
        return int(address[1])

    async def stop(self) -> None:
        """Stop listening."""
        await self._runner.cleanup()

    async def _healthz(self, _request: web.Request) -> web.Response:
        health = await check_health(sessions=self._sessions, engine=self._engine, clock=self._clock)
        return web.Response(
            status=200 if health.healthy else 503,
            text=json.dumps(health.body, indent=1) + "\n",
            content_type="application/json",
        )

    async def _metrics_page(self, _request: web.Request) -> web.Response:
        now = self._clock()
        try:
            async with asyncio.timeout(DATABASE_TIMEOUT):
                async with self._sessions() as session:
                    figures = await admin_figures(session, today=now.date())
        except Exception:  # the counters are still worth serving; the gauge says the database is down
            log.warning("metrics: the database did not answer", exc_info=True)
            self._metrics.database_up.set(0)
        else:
            self._metrics.database_up.set(1)
            self._metrics.observe_figures(figures, now)
        return web.Response(body=self._metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST})
