"""Admin reports: ``calfbot deliveries``, ``calfbot stats``, and the figures text ``/admin`` shows too."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import database_url, read_settings
from bot.db.admin import AdminFigures, admin_figures
from bot.db.engine import create_engine, describe_url, session_factory
from bot.db.ledger import State, counts_by_state
from bot.db.migrate import DatabaseError, upgrade_url

T = TypeVar("T")


async def _read(url: str, query: Callable[[AsyncSession], Awaitable[T]]) -> T:
    await upgrade_url(url)
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            return await query(session)
    finally:
        await engine.dispose()


def format_deliveries(day: date, counts: dict[str, int]) -> str:
    """A small table of a day's ledger rows by state, every state listed."""
    lines = [f"deliveries for local date {day.isoformat()}"]
    for state in State:
        lines.append(f"  {state.value:<10} {counts.get(state.value, 0):>8}")
    lines.append(f"  {'total':<10} {sum(counts.values()):>8}")
    return "\n".join(lines)


def _ago(then: datetime, now: datetime) -> str:
    seconds = max(0, round((now - then).total_seconds()))
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"


def _states(counts: dict[str, int]) -> str:
    return " · ".join(f"{counts.get(state.value, 0):,} {state.value}" for state in State)


def figures_lines(figures: AdminFigures, now: datetime) -> list[str]:
    """The admin figures as plain lines; the same words in the terminal and in Telegram."""
    people = figures.subscribers
    tick = figures.last_tick
    lines = [
        f"Subscribers: {people.active:,} active · {people.paused:,} paused · "
        f"{people.stopped:,} stopped · {people.blocked:,} blocked",
        f"Today's workouts (UTC date {figures.today.isoformat()}): {_states(figures.deliveries)}",
        "Oldest waiting message: "
        + (f"due {_ago(figures.oldest_pending, now)}" if figures.oldest_pending else "none waiting"),
        f"Sessions logged: {figures.sessions_today:,} today · {figures.sessions_this_week:,} this week",
        "Last delivery tick: " + (f"{tick:%Y-%m-%d %H:%M:%S} UTC ({_ago(tick, now)})" if tick else "never"),
    ]
    if figures.announcement is not None:
        progress = figures.announcement
        lines.append(
            f"Last announcement #{progress.id} ({progress.created_at:%Y-%m-%d %H:%M} UTC): {_states(progress.by_state)}"
        )
    return lines


def _run(query: Callable[[AsyncSession], Awaitable[T]]) -> tuple[str, T | None]:
    url = database_url(read_settings())
    try:
        return describe_url(url), asyncio.run(_read(url, query))
    except DatabaseError as exc:
        return str(exc), None


def deliveries(day: date) -> tuple[int, str]:
    """Exit status and text for ``calfbot deliveries``."""
    where, counts = _run(lambda session: counts_by_state(session, day))
    if counts is None:
        return 1, where
    return 0, f"{format_deliveries(day, counts)}\n  (database {where})"


def stats(now: datetime) -> tuple[int, str]:
    """Exit status and text for ``calfbot stats``."""
    where, figures = _run(lambda session: admin_figures(session, today=now.date()))
    if figures is None:
        return 1, where
    return 0, "\n".join([f"calfbot at {now:%Y-%m-%d %H:%M} UTC (database {where})", *figures_lines(figures, now)])
