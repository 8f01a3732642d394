"""Prometheus metrics: what the engine counts as it goes, and database figures read at scrape time.

Each application has its own registry (no process-global state), so tests
and several apps in one process never see each other's counts.
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bot.db.admin import AdminFigures
from bot.db.ledger import State

# Round trips to Telegram: tens of milliseconds to a few seconds.
_SEND_BUCKETS = (0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.5, 3.0, 6.0, 12.0)
# From the instant a message was due to its delivery: on time is under a few seconds.
_DELAY_BUCKETS = (1.0, 2.0, 5.0, 15.0, 30.0, 60.0, 300.0, 900.0, 3600.0)


class Metrics:
    """The bot's metrics in their own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.send_seconds = Histogram(
            "calfbot_send_seconds",
            "Round trip of one scheduled message to the Telegram Bot API",
            buckets=_SEND_BUCKETS,
            registry=self.registry,
        )
        self.delivery_delay_seconds = Histogram(
            "calfbot_delivery_delay_seconds",
            "Time from a message's due instant to Telegram accepting it",
            buckets=_DELAY_BUCKETS,
            registry=self.registry,
        )
        self.telegram_errors = Counter(
            "calfbot_telegram_errors",
            "Errors the Telegram Bot API answered to scheduled messages, by kind",
            ["kind"],
            registry=self.registry,
        )
        self.deliveries_finished = Counter(
            "calfbot_deliveries_finished",
            "Scheduled messages that reached a final state in this process, by state",
            ["state"],
            registry=self.registry,
        )
        self.subscribers = Gauge("calfbot_subscribers", "Subscribers by status", ["status"], registry=self.registry)
        self.deliveries_today = Gauge(
            "calfbot_deliveries_today",
            "Today's daily messages (UTC date) in the ledger, by state",
            ["state"],
            registry=self.registry,
        )
        self.oldest_pending_seconds = Gauge(
            "calfbot_oldest_pending_seconds",
            "Age of the longest-waiting pending delivery (0 when none waits)",
            registry=self.registry,
        )
        self.database_up = Gauge(
            "calfbot_database_up", "1 if the last scrape could read the database", registry=self.registry
        )
        self.last_tick_timestamp = Gauge(
            "calfbot_last_tick_timestamp_seconds",
            "Unix time of the last delivery tick (0 before the first)",
            registry=self.registry,
        )
        for state in State:
            self.deliveries_finished.labels(state.value)

    def observe_figures(self, figures: AdminFigures, now: datetime) -> None:
        """Set the gauges from freshly read database figures."""
        counts = figures.subscribers
        for status, value in (
            ("active", counts.active),
            ("paused", counts.paused),
            ("stopped", counts.stopped),
            ("blocked", counts.blocked),
        ):
            self.subscribers.labels(status).set(value)
        for state in State:
            self.deliveries_today.labels(state.value).set(figures.deliveries.get(state.value, 0))
        waiting = figures.oldest_pending
        self.oldest_pending_seconds.set(max(0.0, (now - waiting).total_seconds()) if waiting else 0.0)
        self.last_tick_timestamp.set(figures.last_tick.timestamp() if figures.last_tick else 0.0)

    def exposition(self) -> bytes:
        """The registry in Prometheus' text format."""
        return generate_latest(self.registry)
