"""Announcements: drafts, confirmation, and their ledger rows.

An announcement reaches its recipients through the same ledger as the daily
messages, so the same workers, pacer, error mapping and crash recovery apply.
Its rows are created in pages with one ``INSERT ... SELECT`` each, keyed by
subscriber id: a million recipients never pass through Python, and a crash
between pages resumes from ``enqueued_through``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.dialect import insert, rowcount
from bot.db.ledger import State
from bot.db.models import Announcement, Delivery, Subscriber

PAGE = 20_000


@dataclass(frozen=True, slots=True)
class Draft:
    """An announcement waiting for its admin's confirmation."""

    id: int
    text: str
    recipients: int


async def active_count(session: AsyncSession) -> int:
    """Subscribers an announcement would reach now."""
    return int(await session.scalar(select(func.count()).select_from(Subscriber).where(Subscriber.active)) or 0)


async def create_draft(session: AsyncSession, *, text: str, admin_id: int, now: datetime) -> Draft:
    """Store the text; nothing is sent until ``confirm``."""
    announcement = Announcement(text=text, created_by=admin_id, created_at=now, enqueued_through=0)
    session.add(announcement)
    await session.flush()
    return Draft(announcement.id, text, await active_count(session))


async def confirm(session: AsyncSession, announcement_id: int, *, now: datetime) -> bool:
    """Mark a draft for sending, once: False if it is unknown or was confirmed before (a double tap)."""
    last_id = await session.scalar(select(func.max(Subscriber.id)))
    result = await session.execute(
        update(Announcement)
        .where(Announcement.id == announcement_id, Announcement.confirmed_at.is_(None))
        .values(confirmed_at=now, last_subscriber_id=last_id or 0)
    )
    return rowcount(result) == 1


async def cancel(session: AsyncSession, announcement_id: int) -> bool:
    """Drop a draft; False if it is unknown or already confirmed."""
    result = await session.execute(
        delete(Announcement).where(Announcement.id == announcement_id, Announcement.confirmed_at.is_(None))
    )
    return rowcount(result) == 1


async def unfinished(session: AsyncSession) -> list[int]:
    """Confirmed announcements whose ledger rows are not all created yet."""
    rows = await session.scalars(
        select(Announcement.id)
        .where(Announcement.confirmed_at.is_not(None), Announcement.enqueued_at.is_(None))
        .order_by(Announcement.id)
    )
    return list(rows)


async def enqueue_page(session: AsyncSession, announcement_id: int, *, now: datetime, page: int = PAGE) -> int | None:
    """Create the ledger rows of the next ``page`` recipients; None once every row exists.

    Returns how many rows this page created. Re-running a page after a crash
    creates nothing twice (the partial unique index on announcement and
    subscriber settles it).
    """
    announcement = (
        await session.execute(
            select(Announcement.enqueued_through, Announcement.last_subscriber_id, Announcement.enqueued_at).where(
                Announcement.id == announcement_id
            )
        )
    ).one()
    if announcement.enqueued_at is not None or announcement.last_subscriber_id is None:
        return None
    start = announcement.enqueued_through
    end = await session.scalar(
        select(Subscriber.id)
        .where(Subscriber.id > start, Subscriber.id <= announcement.last_subscriber_id)
        .order_by(Subscriber.id)
        .offset(page - 1)
        .limit(1)
    )
    through = end if end is not None else announcement.last_subscriber_id
    recipients = select(
        Subscriber.id,
        literal(announcement_id),
        Subscriber.chat_id,
        literal(now.date()),
        literal(now, Delivery.due_at.type),
        literal(State.PENDING.value),
        literal(now, Delivery.not_before.type),
        literal(0),
        literal(0),
        literal(now, Delivery.created_at.type),
        literal(now, Delivery.updated_at.type),
    ).where(Subscriber.active, Subscriber.id > start, Subscriber.id <= through)
    statement = (
        insert(session, Delivery)
        .from_select(
            [
                "subscriber_id",
                "announcement_id",
                "chat_id",
                "local_date",
                "due_at",
                "state",
                "not_before",
                "attempts",
                "migrations",
                "created_at",
                "updated_at",
            ],
            recipients,
        )
        .on_conflict_do_nothing(
            index_elements=["announcement_id", "subscriber_id"], index_where=Delivery.announcement_id.is_not(None)
        )
    )
    created = rowcount(await session.execute(statement))
    done = through >= announcement.last_subscriber_id
    await session.execute(
        update(Announcement)
        .where(Announcement.id == announcement_id)
        .values(enqueued_through=through, enqueued_at=now if done else None)
    )
    return created


async def texts_of(session: AsyncSession, announcement_ids: Sequence[int]) -> dict[int, str]:
    """The text of each announcement."""
    if not announcement_ids:
        return {}
    rows = await session.execute(
        select(Announcement.id, Announcement.text).where(Announcement.id.in_(set(announcement_ids)))
    )
    return {row.id: row.text for row in rows}


@dataclass(frozen=True, slots=True)
class Progress:
    """Where the newest announcement stands."""

    id: int
    created_at: datetime
    by_state: dict[str, int]


async def latest_progress(session: AsyncSession) -> Progress | None:
    """The newest confirmed announcement's rows by state, or None if there is none."""
    latest = (
        await session.execute(
            select(Announcement.id, Announcement.created_at)
            .where(Announcement.confirmed_at.is_not(None))
            .order_by(Announcement.id.desc())
            .limit(1)
        )
    ).first()
    if latest is None:
        return None
    rows = await session.execute(
        select(Delivery.state, func.count()).where(Delivery.announcement_id == latest.id).group_by(Delivery.state)
    )
    return Progress(latest.id, latest.created_at, {str(state): int(count) for state, count in rows})
