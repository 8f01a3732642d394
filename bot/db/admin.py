"""Figures for admins (``/admin``, ``calfbot stats``, ``/metrics``) and the tick's heartbeat."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.announcements import Progress, latest_progress
from bot.db.dialect import insert, rowcount
from bot.db.ledger import State, counts_by_state
from bot.db.models import Delivery, Heartbeat, Pause, Subscriber, Workout

TICK = "delivery-tick"


async def beat(session: AsyncSession, name: str, at: datetime) -> None:
    """Record that ``name`` ran at ``at``."""
    result = await session.execute(update(Heartbeat).where(Heartbeat.name == name).values(at=at))
    if rowcount(result) == 0:
        await session.execute(
            insert(session, Heartbeat).values(name=name, at=at).on_conflict_do_nothing(index_elements=["name"])
        )


async def last_beat(session: AsyncSession, name: str) -> datetime | None:
    """When ``name`` last ran, if ever."""
    at: datetime | None = await session.scalar(select(Heartbeat.at).where(Heartbeat.name == name))
    return at


@dataclass(frozen=True, slots=True)
class SubscriberCounts:
    """Subscribers by status; ``paused`` are active ones on a pause today."""

    active: int
    paused: int
    stopped: int
    blocked: int


async def subscriber_counts(session: AsyncSession, today: date) -> SubscriberCounts:
    """Subscribers by status on ``today``."""
    rows = await session.execute(
        select(Subscriber.active, Subscriber.blocked_at.is_not(None), func.count()).group_by(
            Subscriber.active, Subscriber.blocked_at.is_not(None)
        )
    )
    active = stopped = blocked = 0
    for is_active, is_blocked, count in rows:
        if is_active:
            active += count
        elif is_blocked:
            blocked += count
        else:
            stopped += count
    paused = await session.scalar(
        select(func.count(func.distinct(Pause.subscriber_id)))
        .join(Subscriber, Subscriber.id == Pause.subscriber_id)
        .where(Subscriber.active, and_(Pause.first_day <= today, Pause.last_day >= today))
    )
    paused = int(paused or 0)
    return SubscriberCounts(active=active - paused, paused=paused, stopped=stopped, blocked=blocked)


@dataclass(frozen=True, slots=True)
class AdminFigures:
    """Everything ``/admin`` and ``calfbot stats`` show."""

    today: date
    subscribers: SubscriberCounts
    deliveries: dict[str, int]
    oldest_pending: datetime | None
    sessions_today: int
    sessions_this_week: int
    last_tick: datetime | None
    announcement: Progress | None


async def oldest_pending(session: AsyncSession) -> datetime | None:
    """When the longest-waiting pending row became due, if any is waiting."""
    at: datetime | None = await session.scalar(
        select(func.min(Delivery.not_before)).where(Delivery.state == State.PENDING.value)
    )
    return at


async def admin_figures(session: AsyncSession, *, today: date) -> AdminFigures:
    """The figures of ``today`` (a UTC date) and its ISO week."""
    week_start = today - timedelta(days=today.weekday())
    sessions_today, sessions_week = (
        await session.execute(
            select(func.count().filter(Workout.day == today), func.count()).where(
                Workout.day >= week_start, Workout.day <= today
            )
        )
    ).one()
    return AdminFigures(
        today=today,
        subscribers=await subscriber_counts(session, today),
        deliveries=await counts_by_state(session, today),
        oldest_pending=await oldest_pending(session),
        sessions_today=int(sessions_today),
        sessions_this_week=int(sessions_week),
        last_tick=await last_beat(session, TICK),
        announcement=await latest_progress(session),
    )
