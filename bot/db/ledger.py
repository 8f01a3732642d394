"""The delivery ledger: who is due, claiming rows, and recording what happened.

Every function is one short transaction run by the caller; none is ever held
open across a Telegram API call. PostgreSQL claims with ``FOR UPDATE SKIP
LOCKED`` so two replicas never take the same row; SQLite serializes writers,
so its single ``UPDATE ... RETURNING`` is atomic on its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from operator import attrgetter
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    BindParameter,
    Date,
    Select,
    String,
    Table,
    and_,
    bindparam,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.dialect import insert, rowcount
from bot.db.models import Delivery, Subscriber, UTCDateTime
from bot.db.queries import pauses_of
from bot.progress import Member, PauseSpan
from bot.schedule import next_send_at

# Daily workout rows, as opposed to announcement rows.
DAILY = Delivery.announcement_id.is_(None)
# The table itself, for Core statements on hot paths (no ORM bookkeeping per row).
_TABLE = cast(Table, Delivery.__table__)
_DELIVERIES = _TABLE.c
_SUBSCRIBER_TABLE = cast(Table, Subscriber.__table__)
_SUBSCRIBERS = _SUBSCRIBER_TABLE.c


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
    """An active subscriber whose next send instant has come: what the tick plans with.

    Only what planning needs: the ledger row's chat id is read by the INSERT
    itself, and the program start and seed matter only when a message is rendered.
    """

    id: int
    send_time: time
    timezone: str
    next_send_at: datetime
    pauses: tuple[PauseSpan, ...]

    def paused_on(self, day: date) -> bool:
        """Whether a pause covers ``day`` (then no daily message that day)."""
        return any(pause.covers(day) for pause in self.pauses)


async def due_subscribers(
    session: AsyncSession, *, now: datetime, after: tuple[datetime, int] | None, limit: int
) -> list[DueSubscriber]:
    """One page of due subscribers, oldest instant first, after the keyset ``after``.

    Uses the partial index ``ix_subscribers_due (next_send_at, id) WHERE active``.
    """
    columns = _SUBSCRIBERS
    query = (
        select(columns.id, columns.send_time, columns.timezone, columns.next_send_at)
        .where(columns.active, columns.next_send_at <= now)
        .order_by(columns.next_send_at, columns.id)
        .limit(limit)
    )
    if after is not None:
        at, last_id = after
        query = query.where(or_(columns.next_send_at > at, and_(columns.next_send_at == at, columns.id > last_id)))
    rows = (await session.execute(query)).all()
    pauses = await pauses_of(session, [row[0] for row in rows])
    # Plain tuple unpacking: a page is a thousand rows, and named access costs per row.
    return [
        DueSubscriber(subscriber_id, send_time, zone, instant, pauses.get(subscriber_id, ()))
        for subscriber_id, send_time, zone, instant in rows
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
class DailyBatch:
    """Daily rows to create that share their local date and due instant.

    Subscribers due at the same instant with the same send time and zone do
    (most of a tick's page), so one statement creates them all.
    """

    local_date: date
    due_at: datetime
    subscriber_ids: Sequence[int]


# Ids per ``IN (...)`` list: well under SQLite's and asyncpg's 32,767 bound parameters.
_IDS_PER_STATEMENT = 5000
# The ids of an ``IN`` list as one expanding parameter, given at execution: a
# literal list would be coerced into a bound parameter per id when the
# statement is built, which costs more than running it.
_IDS: BindParameter[Any] = bindparam("ids", expanding=True)


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), _IDS_PER_STATEMENT):
        yield ids[start : start + _IDS_PER_STATEMENT]


# The columns ``_daily_rows`` selects, in its order.
_DAILY_COLUMNS = [
    "subscriber_id",
    "chat_id",
    "local_date",
    "due_at",
    "not_before",
    "state",
    "attempts",
    "migrations",
    "created_at",
    "updated_at",
]


def _daily_rows(batch: DailyBatch, now: datetime) -> Select[Any]:
    """``INSERT ... SELECT`` of a batch's pending rows; the chat id comes from the subscriber row.

    Per statement, not per row: the date and instants are bound once, and the
    ids are the only thing that grows with the batch.
    """
    return select(
        _SUBSCRIBERS.id,
        _SUBSCRIBERS.chat_id,
        literal(batch.local_date, Date()),
        literal(batch.due_at, UTCDateTime()),
        literal(batch.due_at, UTCDateTime()),
        literal(State.PENDING.value),
        literal(0),
        literal(0),
        literal(now, UTCDateTime()),
        literal(now, UTCDateTime()),
    ).where(_SUBSCRIBERS.id.in_(_IDS))


async def enqueue_daily(session: AsyncSession, batches: Iterable[DailyBatch], *, now: datetime) -> int:
    """Insert pending daily rows; a (subscriber, date) that already has one is left alone.

    Returns how many rows were created.
    """
    created = 0
    for batch in batches:
        for subscriber_ids in _chunks(batch.subscriber_ids):
            statement = (
                insert(session, _TABLE)
                .from_select(_DAILY_COLUMNS, _daily_rows(batch, now))
                .on_conflict_do_nothing(index_elements=["subscriber_id", "local_date"], index_where=DAILY)
            )
            created += rowcount(await session.execute(statement, {"ids": subscriber_ids}))
    return created


async def set_next_send(session: AsyncSession, moves: Mapping[datetime | None, Sequence[int]]) -> None:
    """Store new next-send instants: one UPDATE per instant, for every subscriber moved to it.

    A page's subscribers share a handful of next instants (same time, zone and
    day), so this is a few statements instead of one per subscriber.
    """
    for instant, subscriber_ids in moves.items():
        for chunk in _chunks(subscriber_ids):
            await session.execute(
                update(_SUBSCRIBER_TABLE)
                .where(_SUBSCRIBERS.id.in_(_IDS))
                .values(next_send_at=literal(instant, UTCDateTime())),
                {"ids": chunk},
            )


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


# The columns a claim returns, in ``Claim``'s field order.
_CLAIMED = (
    _DELIVERIES.id,
    _DELIVERIES.subscriber_id,
    _DELIVERIES.chat_id,
    _DELIVERIES.local_date,
    _DELIVERIES.attempts,
    _DELIVERIES.migrations,
    _DELIVERIES.due_at,
    _DELIVERIES.announcement_id,
)


async def claim(session: AsyncSession, *, now: datetime, claimed_until: datetime, limit: int) -> list[Claim]:
    """Reserve up to ``limit`` due pending rows for this process until ``claimed_until``.

    The rows stay ``pending``: a crash before they are sent loses nothing, the
    reservation simply runs out. ``mark_sending_many`` takes each one just
    before its API call.

    Core, not the ORM: the statement is the same, but ORM loading of the
    RETURNING rows and named access to them cost more than the SQL itself.
    """
    dialect = session.get_bind().dialect.name
    chosen = (
        select(_DELIVERIES.id)
        .where(
            _DELIVERIES.state == State.PENDING.value,
            _DELIVERIES.not_before <= now,
            or_(_DELIVERIES.claimed_until.is_(None), _DELIVERIES.claimed_until < now),
        )
        .order_by(_DELIVERIES.not_before, _DELIVERIES.id)
        .limit(limit)
    )
    if dialect == "postgresql":
        # Two replicas reserve disjoint rows instead of queueing on the same ones.
        chosen = chosen.with_for_update(skip_locked=True)
    statement = (
        update(_TABLE)
        .where(_DELIVERIES.id.in_(chosen.scalar_subquery()))
        .values(claimed_until=claimed_until, updated_at=now)
        .returning(*_CLAIMED)
    )
    rows = (await session.execute(statement)).all()
    return sorted((Claim(*row) for row in rows), key=attrgetter("id"))


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
