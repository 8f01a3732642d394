"""The delivery ledger: who is due, claiming rows, and recording what happened.

Every function is one short transaction run by the caller; none is ever held
open across a Telegram API call. PostgreSQL claims with ``FOR UPDATE SKIP
LOCKED`` so two replicas never take the same row; SQLite serializes writers,
so its single ``UPDATE ... RETURNING`` is atomic on its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import BigInteger, String, Table, and_, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.dialect import insert, rowcount
from bot.db.models import Delivery, Subscriber, UTCDateTime
from bot.db.queries import pauses_of
from bot.progress import Member
from bot.schedule import next_send_at

# Daily workout rows, as opposed to announcement rows.
DAILY = Delivery.announcement_id.is_(None)
# The table itself, for Core statements on hot paths (no ORM bookkeeping per row).
_TABLE = cast(Table, Delivery.__table__)
_DELIVERIES = _TABLE.c


class State(StrEnum):
    """Ledger states; see ``Delivery``."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"
    UNCERTAIN = "uncertain"


@dataclass(frozen=True, slots=True)
class DueSubscriber:
    """An active subscriber whose next send instant has come."""

    id: int
    chat_id: int
    send_time: time
    timezone: str
    next_send_at: datetime
    member: Member


async def due_subscribers(
    session: AsyncSession, *, now: datetime, after: tuple[datetime, int] | None, limit: int
) -> list[DueSubscriber]:
    """One page of due subscribers, oldest instant first, after the keyset ``after``.

    Uses the partial index ``ix_subscribers_due (next_send_at, id) WHERE active``.
    """
    query = (
        select(
            Subscriber.id,
            Subscriber.chat_id,
            Subscriber.send_time,
            Subscriber.timezone,
            Subscriber.next_send_at,
            Subscriber.program_start,
            Subscriber.seed,
        )
        .where(Subscriber.active, Subscriber.next_send_at <= now)
        .order_by(Subscriber.next_send_at, Subscriber.id)
        .limit(limit)
    )
    if after is not None:
        at, last_id = after
        query = query.where(
            or_(Subscriber.next_send_at > at, and_(Subscriber.next_send_at == at, Subscriber.id > last_id))
        )
    rows = (await session.execute(query)).all()
    pauses = await pauses_of(session, [row.id for row in rows])
    return [
        DueSubscriber(
            id=row.id,
            chat_id=row.chat_id,
            send_time=row.send_time,
            timezone=row.timezone,
            next_send_at=row.next_send_at,
            member=Member(program_start=row.program_start, seed=row.seed, pauses=pauses.get(row.id, ())),
        )
        for row in rows
    ]


async def members_of(session: AsyncSession, subscriber_ids: Sequence[int]) -> dict[int, tuple[Member, str]]:
    """Planning data and zone of the still-active subscribers among ``subscriber_ids``."""
    if not subscriber_ids:
        return {}
    rows = (
        await session.execute(
            select(Subscriber.id, Subscriber.program_start, Subscriber.seed, Subscriber.timezone).where(
                Subscriber.id.in_(subscriber_ids), Subscriber.active
            )
        )
    ).all()
    pauses = await pauses_of(session, [row.id for row in rows])
    return {
        row.id: (Member(program_start=row.program_start, seed=row.seed, pauses=pauses.get(row.id, ())), row.timezone)
        for row in rows
    }


@dataclass(frozen=True, slots=True)
class NewDelivery:
    """A ledger row to create."""

    subscriber_id: int
    chat_id: int
    local_date: date
    due_at: datetime


async def enqueue(session: AsyncSession, rows: Sequence[NewDelivery], *, now: datetime) -> int:
    """Insert pending rows; a (subscriber, date) that already has one is left alone."""
    if not rows:
        return 0
    # Core, one executemany: what is the same for every row is bound once in
    # the statement, so each row converts only its own five values.
    values = [
        {
            "subscriber_id": row.subscriber_id,
            "chat_id": row.chat_id,
            "local_date": row.local_date,
            "due_at": row.due_at,
            "not_before": row.due_at,
        }
        for row in rows
    ]
    statement = (
        insert(session, _TABLE)
        .values(
            subscriber_id=bindparam("subscriber_id"),
            chat_id=bindparam("chat_id"),
            local_date=bindparam("local_date"),
            due_at=bindparam("due_at"),
            not_before=bindparam("not_before"),
            state=State.PENDING.value,
            attempts=0,
            migrations=0,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["subscriber_id", "local_date"], index_where=DAILY)
        # RETURNING counts the rows created (rowcount is not reliable for executemany on every driver).
        .returning(_DELIVERIES.id)
    )
    result = await session.execute(statement, values)
    return len(result.all())


_SUBSCRIBERS = cast(Table, Subscriber.__table__).c
_SET_NEXT_SEND = (
    update(cast(Table, Subscriber.__table__))
    .where(_SUBSCRIBERS.id == bindparam("b_id"))
    .values(next_send_at=bindparam("b_next", type_=UTCDateTime()))
)


async def set_next_send(session: AsyncSession, instants: Iterable[tuple[int, datetime | None]]) -> None:
    """Store new next-send instants, many subscribers in one executemany."""
    params = [{"b_id": subscriber_id, "b_next": instant} for subscriber_id, instant in instants]
    if params:
        await session.execute(_SET_NEXT_SEND, params)


async def last_local_date(session: AsyncSession, subscriber_id: int) -> date | None:
    """The newest local date with a ledger row, whatever its state."""
    day: date | None = await session.scalar(
        select(func.max(Delivery.local_date)).where(Delivery.subscriber_id == subscriber_id, DAILY)
    )
    return day


async def replan(session: AsyncSession, subscriber_id: int, *, now: datetime) -> datetime:
    """Recompute the next send after a subscribe or a change of time or zone.

    Later today if today's message has not been enqueued yet, otherwise
    tomorrow: never a second scheduled message for a local date in the ledger.
    """
    row = (
        await session.execute(select(Subscriber.send_time, Subscriber.timezone).where(Subscriber.id == subscriber_id))
    ).one()
    last = await last_local_date(session, subscriber_id)
    instant, _ = next_send_at(
        send_time=row.send_time,
        zone=row.timezone,
        after=now,
        not_before=last + timedelta(days=1) if last else None,
    )
    await session.execute(update(Subscriber).where(Subscriber.id == subscriber_id).values(next_send_at=instant))
    return instant


@dataclass(frozen=True, slots=True)
class Claim:
    """A row taken for sending, with what is needed to render it."""

    id: int
    subscriber_id: int
    chat_id: int
    local_date: date
    attempts: int
    migrations: int
    due_at: datetime
    announcement_id: int | None


async def claim(session: AsyncSession, *, now: datetime, claimed_until: datetime, limit: int) -> list[Claim]:
    """Reserve up to ``limit`` due pending rows for this process until ``claimed_until``.

    The rows stay ``pending``: a crash before they are sent loses nothing, the
    reservation simply runs out. ``mark_sending_many`` takes each one just
    before its API call.
    """
    dialect = session.get_bind().dialect.name
    chosen = (
        select(Delivery.id)
        .where(
            Delivery.state == State.PENDING.value,
            Delivery.not_before <= now,
            or_(Delivery.claimed_until.is_(None), Delivery.claimed_until < now),
        )
        .order_by(Delivery.not_before, Delivery.id)
        .limit(limit)
    )
    if dialect == "postgresql":
        # Two replicas reserve disjoint rows instead of queueing on the same ones.
        chosen = chosen.with_for_update(skip_locked=True)
    statement = (
        update(Delivery)
        .where(Delivery.id.in_(chosen.scalar_subquery()))
        .values(claimed_until=claimed_until, updated_at=now)
        .returning(
            Delivery.id,
            Delivery.subscriber_id,
            Delivery.chat_id,
            Delivery.local_date,
            Delivery.attempts,
            Delivery.migrations,
            Delivery.due_at,
            Delivery.announcement_id,
        )
        .execution_options(synchronize_session=False)
    )
    rows = (await session.execute(statement)).all()
    claims = (
        Claim(
            id=row.id,
            subscriber_id=row.subscriber_id,
            chat_id=row.chat_id,
            local_date=row.local_date,
            attempts=row.attempts,
            migrations=row.migrations,
            due_at=row.due_at,
            announcement_id=row.announcement_id,
        )
        for row in rows
    )
    return sorted(claims, key=lambda c: c.id)


async def release(session: AsyncSession, delivery_ids: Sequence[int], *, now: datetime) -> None:
    """Drop this process's reservations of rows it will not send (shutdown, fatal errors)."""
    if delivery_ids:
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_(delivery_ids), Delivery.state == State.PENDING.value)
            .values(claimed_until=None, updated_at=now)
        )


async def mark_sending_many(
    session: AsyncSession, delivery_ids: Sequence[int], *, now: datetime, lease_until: datetime
) -> set[int]:
    """``pending -> sending`` for reserved rows, committed by the caller before their API calls.

    Returns the ids this process may send: a row no longer pending (another
    process took it after the reservation ran out) must not be sent here.
    """
    if not delivery_ids:
        return set()
    result = await session.execute(
        update(Delivery)
        .where(Delivery.id.in_(delivery_ids), Delivery.state == State.PENDING.value)
        .values(
            state=State.SENDING.value,
            lease_until=lease_until,
            claimed_until=None,
            attempts=Delivery.attempts + 1,
            updated_at=now,
        )
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    )
    return set(result.scalars())


@dataclass(frozen=True, slots=True)
class Outcome:
    """A final state to record for one row."""

    delivery_id: int
    state: State
    message_id: int | None = None
    error: str | None = None


# Core, not ORM: one compiled statement, run as one executemany without per-row bookkeeping.
_FINISH = (
    update(_TABLE)
    .where(_DELIVERIES.id == bindparam("b_id"))
    .values(
        state=bindparam("b_state", type_=String()),
        updated_at=bindparam("b_now", type_=UTCDateTime()),
        lease_until=None,
        message_id=func.coalesce(bindparam("b_message_id", type_=BigInteger()), _DELIVERIES.message_id),
        last_error=func.coalesce(bindparam("b_error", type_=String()), _DELIVERIES.last_error),
    )
)


async def finish_many(session: AsyncSession, outcomes: Sequence[Outcome], *, now: datetime) -> None:
    """Record many final states in one executemany."""
    if not outcomes:
        return
    params = [
        {
            "b_id": outcome.delivery_id,
            "b_state": outcome.state.value,
            "b_now": now,
            "b_message_id": outcome.message_id,
            "b_error": outcome.error[:300] if outcome.error is not None else None,
        }
        for outcome in outcomes
    ]
    await session.execute(_FINISH, params)


async def finish(
    session: AsyncSession,
    delivery_id: int,
    state: State,
    *,
    now: datetime,
    message_id: int | None = None,
    error: str | None = None,
) -> None:
    """Record a final state (sent, failed, blocked or uncertain)."""
    await finish_many(session, [Outcome(delivery_id, state, message_id, error)], now=now)


async def retry_later(
    session: AsyncSession, delivery_id: int, *, now: datetime, not_before: datetime, error: str, count_attempt: bool
) -> None:
    """Put a row back to pending, to be claimed again from ``not_before``.

    ``count_attempt=False`` (flood control, shutdown) gives back the attempt
    the claim counted: nothing reached the user.
    """
    values: dict[str, Any] = {
        "state": State.PENDING.value,
        "not_before": not_before,
        "lease_until": None,
        "claimed_until": None,
        "last_error": error[:300],
        "updated_at": now,
    }
    if not count_attempt:
        values["attempts"] = Delivery.attempts - 1
    await session.execute(update(Delivery).where(Delivery.id == delivery_id).values(**values))


async def migrate_chat(session: AsyncSession, claim_: Claim, new_chat_id: int, *, now: datetime) -> None:
    """A group became a supergroup: store the new chat id and queue the row once more."""
    await session.execute(update(Subscriber).where(Subscriber.id == claim_.subscriber_id).values(chat_id=new_chat_id))
    await session.execute(
        update(Delivery)
        .where(Delivery.id == claim_.id)
        .values(
            chat_id=new_chat_id,
            state=State.PENDING.value,
            not_before=now,
            lease_until=None,
            claimed_until=None,
            migrations=Delivery.migrations + 1,
            updated_at=now,
            last_error="chat migrated",
        )
    )


async def deactivate(session: AsyncSession, subscriber_id: int, *, now: datetime) -> None:
    """The user blocked the bot or the chat is gone."""
    await session.execute(update(Subscriber).where(Subscriber.id == subscriber_id).values(active=False, blocked_at=now))


async def recover_orphans(session: AsyncSession, *, now: datetime, at_start: bool) -> int:
    """Rows left ``sending`` by a stopped process become ``uncertain``: maybe sent, never resent.

    A row is an orphan once its lease ran out. At start on SQLite every
    ``sending`` row is one: a SQLite file has a single bot process, and it is
    this one. Reservations of pending rows are dropped at start as well.
    """
    orphaned = Delivery.state == State.SENDING.value
    single_process = at_start and session.get_bind().dialect.name == "sqlite"
    if not single_process:
        orphaned = and_(orphaned, Delivery.lease_until < now)
    result = await session.execute(
        update(Delivery)
        .where(orphaned)
        .values(state=State.UNCERTAIN.value, updated_at=now, last_error="the process stopped while sending")
    )
    if at_start:
        await session.execute(
            update(Delivery)
            .where(Delivery.state == State.PENDING.value, Delivery.claimed_until.is_not(None))
            .values(claimed_until=None)
        )
    return rowcount(result)


async def counts_by_state(session: AsyncSession, day: date) -> dict[str, int]:
    """How many daily rows of a local date are in each state."""
    rows = await session.execute(
        select(Delivery.state, func.count()).where(Delivery.local_date == day, DAILY).group_by(Delivery.state)
    )
    return {str(state): int(count) for state, count in rows}
