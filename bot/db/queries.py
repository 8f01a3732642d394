"""Small async queries. Callers own the transaction; nothing here imports Telegram.

Inserts that may race (a double /start, a double tap on ✅) use the dialect's
``INSERT ... ON CONFLICT DO NOTHING``, so the database settles the race.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.dialect import insert, rowcount
from bot.db.models import Pause, Subscriber, Workout
from bot.progress import Member, PauseSpan


@dataclass(frozen=True, slots=True)
class SubscriberInfo:
    """A subscriber as handlers see it."""

    id: int
    chat_id: int
    active: bool
    send_time: time
    timezone: str
    member: Member


async def pauses_of(session: AsyncSession, subscriber_ids: Sequence[int]) -> dict[int, tuple[PauseSpan, ...]]:
    """Every pause of each subscriber, oldest first, in one query."""
    if not subscriber_ids:
        return {}
    found: dict[int, list[PauseSpan]] = {}
    rows = await session.execute(
        select(Pause.subscriber_id, Pause.first_day, Pause.last_day)
        .where(Pause.subscriber_id.in_(subscriber_ids))
        .order_by(Pause.first_day)
    )
    for subscriber_id, first, last in rows:
        found.setdefault(subscriber_id, []).append(PauseSpan(first, last))
    return {key: tuple(value) for key, value in found.items()}


async def _info(session: AsyncSession, row: Subscriber) -> SubscriberInfo:
    pauses = await pauses_of(session, [row.id])
    return SubscriberInfo(
        id=row.id,
        chat_id=row.chat_id,
        active=row.active,
        send_time=row.send_time,
        timezone=row.timezone,
        member=Member(
            program_start=row.program_start,
            seed=row.seed,
            pauses=pauses.get(row.id, ()),
        ),
    )


async def get_subscriber(session: AsyncSession, chat_id: int) -> SubscriberInfo | None:
    """The subscriber of a chat, active or not."""
    row = await session.scalar(select(Subscriber).where(Subscriber.chat_id == chat_id))
    return None if row is None else await _info(session, row)


@dataclass(frozen=True, slots=True)
class Subscription:
    """The result of /start: the subscriber and what changed."""

    subscriber: SubscriberInfo
    created: bool
    reactivated: bool


async def subscribe(
    session: AsyncSession,
    *,
    chat_id: int,
    user_id: int | None,
    now: datetime,
    send_time: time,
    timezone: str,
    local_today: date,
) -> Subscription:
    """Subscribe a chat, or reactivate it; progress and settings of a known chat are kept."""
    inserted = await session.execute(
        insert(session, Subscriber)
        .values(
            chat_id=chat_id,
            user_id=user_id,
            created_at=now,
            active=True,
            send_time=send_time,
            timezone=timezone,
            program_start=local_today,
            seed=secrets.token_hex(8),
        )
        .on_conflict_do_nothing(index_elements=["chat_id"])
    )
    created = rowcount(inserted) == 1
    reactivated = False
    if not created:
        result = await session.execute(
            update(Subscriber)
            .where(Subscriber.chat_id == chat_id, Subscriber.active.is_(False))
            .values(active=True, blocked_at=None)
        )
        reactivated = rowcount(result) == 1
    info = await get_subscriber(session, chat_id)
    if info is None:
        raise RuntimeError(f"subscriber for chat {chat_id} vanished during /start")
    return Subscription(info, created=created, reactivated=reactivated)


async def set_active(session: AsyncSession, chat_id: int, *, active: bool, blocked_at: datetime | None = None) -> bool:
    """Mark a chat's subscriber active or not (``blocked_at``: the user blocked the bot); False if unknown."""
    result = await session.execute(
        update(Subscriber).where(Subscriber.chat_id == chat_id).values(active=active, blocked_at=blocked_at)
    )
    return rowcount(result) > 0


async def set_send_time(session: AsyncSession, subscriber_id: int, value: time) -> None:
    """Change the local time of the daily message."""
    await session.execute(update(Subscriber).where(Subscriber.id == subscriber_id).values(send_time=value))


async def set_timezone(session: AsyncSession, subscriber_id: int, zone: str) -> None:
    """Change the subscriber's time zone (already normalized)."""
    await session.execute(update(Subscriber).where(Subscriber.id == subscriber_id).values(timezone=zone))


async def add_pause(session: AsyncSession, subscriber_id: int, span: PauseSpan) -> None:
    """Record a pause; the caller ensures it does not overlap another."""
    session.add(Pause(subscriber_id=subscriber_id, first_day=span.first, last_day=span.last))
    await session.flush()


async def end_pause(session: AsyncSession, subscriber_id: int, today: date) -> PauseSpan | None:
    """End the pause covering ``today``: today becomes a normal day again.

    A pause that had not started before today is removed; otherwise it ends
    yesterday. Returns the pause as it was, or None if none covered today.
    """
    pause = await session.scalar(
        select(Pause).where(Pause.subscriber_id == subscriber_id, Pause.first_day <= today, Pause.last_day >= today)
    )
    if pause is None:
        return None
    before = PauseSpan(pause.first_day, pause.last_day)
    if pause.first_day >= today:
        await session.execute(delete(Pause).where(Pause.id == pause.id))
    else:
        pause.last_day = today - timedelta(days=1)
    await session.flush()
    return before


async def log_workout(
    session: AsyncSession, *, subscriber_id: int, day: date, exercise_id: str | None, now: datetime
) -> bool:
    """Log a session for a local day; False if that day was already logged."""
    result = await session.execute(
        insert(session, Workout)
        .values(subscriber_id=subscriber_id, day=day, exercise_id=exercise_id, logged_at=now)
        .on_conflict_do_nothing(index_elements=["subscriber_id", "day"])
    )
    return rowcount(result) > 0


async def workout_days(session: AsyncSession, subscriber_id: int) -> list[date]:
    """Every local day with a logged session, oldest first."""
    days = await session.scalars(
        select(Workout.day).where(Workout.subscriber_id == subscriber_id).order_by(Workout.day)
    )
    return list(days)
