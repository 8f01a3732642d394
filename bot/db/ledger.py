"""The delivery ledger: who is due, claiming rows, and recording what happened.

Every function is one short transaction run by the caller; none is ever held
open across a Telegram API call. PostgreSQL claims with ``FOR UPDATE SKIP
LOCKED`` so two replicas never take the same row; SQLite serializes writers,
so its single ``UPDATE ... RETURNING`` is atomic on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from operator import attrgetter
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    Integer,
    String,
    Table,
    Time,
    and_,
    bindparam,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.dialect import INSERTS, dialect_of, rowcount
from bot.db.models import Delivery, Pause, Subscriber, UTCDateTime
from bot.db.queries import pauses_of
from bot.progress import Member
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
class DueGroup:
    """Active subscribers whose next send is the same instant, at the same send time in the same zone.

    They share their local date, whether they are too late and their next
    instant, so the tick plans a group once and writes it with two set-based
    statements, whatever its size: no row of it passes through Python.
    """

    next_send_at: datetime
    send_time: time
    timezone: str


async def oldest_due_group(session: AsyncSession, *, now: datetime) -> DueGroup | None:
    """The due group with the oldest instant, or None when nobody is due.

    One seek in the partial index ``ix_subscribers_due (next_send_at,
    send_time, timezone, id) WHERE active``.
    """
    columns = _SUBSCRIBERS
    row = (
        await session.execute(
            select(columns.next_send_at, columns.send_time, columns.timezone)
            .where(columns.active, columns.next_send_at <= now)
            .order_by(columns.next_send_at, columns.send_time, columns.timezone)
            .limit(1)
        )
    ).first()
    return None if row is None else DueGroup(*row)


# The statements of a group's page, built once with parameters: the tick runs
# them for every page, and building them each time cost more than running them.
# The group: a range of ``ix_subscribers_due``, in id order.
_IN_GROUP = and_(
    _SUBSCRIBERS.active,
    _SUBSCRIBERS.next_send_at == bindparam("g_at", type_=UTCDateTime()),
    _SUBSCRIBERS.send_time == bindparam("g_time", type_=Time()),
    _SUBSCRIBERS.timezone == bindparam("g_zone", type_=String()),
)
_PAGE = select(_SUBSCRIBERS.id).where(_IN_GROUP).order_by(_SUBSCRIBERS.id).limit(bindparam("g_limit")).subquery()
_PAGE_LAST_ID = select(func.max(_PAGE.c.id))
_TAKEN = and_(_IN_GROUP, _SUBSCRIBERS.id <= bindparam("g_last", type_=Integer()))
_DAY = bindparam("g_day", type_=Date())
# No pause of the subscriber covers the day (an index probe per subscriber).
_NOT_PAUSED = ~(
    select(Pause.id).where(Pause.subscriber_id == _SUBSCRIBERS.id, Pause.first_day <= _DAY, Pause.last_day >= _DAY)
).exists()
# The pending rows of a page, in ``_DAILY_COLUMNS`` order; the chat id comes from the subscriber row.
_DAILY_ROWS = select(
    _SUBSCRIBERS.id,
    _SUBSCRIBERS.chat_id,
    _DAY,
    bindparam("g_due_at", type_=UTCDateTime()),
    bindparam("g_not_before", type_=UTCDateTime()),
    literal(State.PENDING.value),
    literal(0),
    literal(0),
    bindparam("g_created_at", type_=UTCDateTime()),
    bindparam("g_updated_at", type_=UTCDateTime()),
).where(_TAKEN, _NOT_PAUSED)
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
# By dialect: a (subscriber, date) that already has a row keeps it alone.
_ENQUEUE = {
    name: make(_TABLE)
    .from_select(_DAILY_COLUMNS, _DAILY_ROWS)
    .on_conflict_do_nothing(index_elements=["subscriber_id", "local_date"], index_where=DAILY)
    for name, make in INSERTS.items()
}
_MOVE = update(_SUBSCRIBER_TABLE).where(_TAKEN).values(next_send_at=bindparam("g_next", type_=UTCDateTime()))


@dataclass(frozen=True, slots=True)
class Advanced:
    """What ``advance_group`` did: pending rows created, subscribers moved to their next instant."""

    created: int
    moved: int


async def advance_group(
    session: AsyncSession,
    group: DueGroup,
    *,
    send_on: date | None,
    upcoming: datetime,
    now: datetime,
    limit: int,
) -> Advanced:
    """Enqueue the day's message for up to ``limit`` of the group's subscribers and move them on.

    ``send_on`` is the group's local date, or None when it is too late to send
    (a long downtime): then they are only moved. Subscribers paused on that
    day get no row. A (subscriber, date) that already has a row keeps it
    alone. The subscribers taken are the group's ``limit`` lowest ids; once
    moved to ``upcoming`` they leave the group, so the next call takes the next ones.
    """
    params: dict[str, Any] = {
        "g_at": group.next_send_at,
        "g_time": group.send_time,
        "g_zone": group.timezone,
        "g_limit": limit,
    }
    last_id: int | None = await session.scalar(_PAGE_LAST_ID, params)
    if last_id is None:
        return Advanced(0, 0)
    params["g_last"] = last_id
    created = 0
    if send_on is not None:
        rows = {
            "g_day": send_on,
            "g_due_at": group.next_send_at,
            "g_not_before": group.next_send_at,
            "g_created_at": now,
            "g_updated_at": now,
        }
        created = rowcount(await session.execute(_ENQUEUE[dialect_of(session)], params | rows))
    moved = await session.execute(_MOVE, params | {"g_next": upcoming})
    return Advanced(created, rowcount(moved))


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


def _state_of_row_is(state: State) -> ColumnElement[bool]:
    """``state = :state``, checked on each row found by its id, never through an index.

    Next to ``id IN (...)``, SQLite (no statistics) would rather walk
    ``ix_deliveries_claim`` over every row in that state than look the ids
    up: at a million pending rows that was a million index entries read per
    batch of marks. ``state || ''`` cannot use an index, so the ids' primary
    key is what it searches (tests/db/test_query_plans.py).
    """
    return (_DELIVERIES.state + "") == state.value


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


def _claim_statement(dialect: str) -> Any:
    """The claim's ``UPDATE ... RETURNING`` for a dialect, with parameters ``c_now``, ``c_until``, ``c_limit``."""
    now = bindparam("c_now", type_=UTCDateTime())
    chosen = (
        select(_DELIVERIES.id)
        .where(
            _DELIVERIES.state == State.PENDING.value,
            _DELIVERIES.not_before <= now,
            or_(_DELIVERIES.claimed_until.is_(None), _DELIVERIES.claimed_until < now),
        )
        .order_by(_DELIVERIES.not_before, _DELIVERIES.id)
        .limit(bindparam("c_limit"))
    )
    if dialect == "postgresql":
        # Two replicas reserve disjoint rows instead of queueing on the same ones.
        chosen = chosen.with_for_update(skip_locked=True)
    return (
        update(_TABLE)
        .where(_DELIVERIES.id.in_(chosen.scalar_subquery()))
        .values(claimed_until=bindparam("c_until", type_=UTCDateTime()), updated_at=now)
        .returning(*_CLAIMED)
    )


# Built once, like the tick's: a dispatcher claims several times a second.
_CLAIM = {name: _claim_statement(name) for name in INSERTS}


async def claim(session: AsyncSession, *, now: datetime, claimed_until: datetime, limit: int) -> list[Claim]:
    """Reserve up to ``limit`` due pending rows for this process until ``claimed_until``.

    The rows stay ``pending``: a crash before they are sent loses nothing, the
    reservation simply runs out. ``mark_sending_many`` takes each one just
    before its API call.

    Core, not the ORM: the statement is the same, but ORM loading of the
    RETURNING rows and named access to them cost more than the SQL itself.
    """
    params = {"c_now": now, "c_until": claimed_until, "c_limit": limit}
    rows = (await session.execute(_CLAIM[dialect_of(session)], params)).all()
    return sorted((Claim(*row) for row in rows), key=attrgetter("id"))


async def release(session: AsyncSession, delivery_ids: Sequence[int], *, now: datetime) -> None:
    """Drop this process's reservations of rows it will not send (shutdown, fatal errors)."""
    if delivery_ids:
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_(delivery_ids), _state_of_row_is(State.PENDING))
            .values(claimed_until=None, updated_at=now)
        )


# Core and built once, like ``_FINISH``: marks run every few milliseconds while
# sending, and the ORM's bulk-update path and a freshly built statement each
# time were most of their cost.
_MARK_SENDING = (
    update(_TABLE)
    .where(_DELIVERIES.id.in_(bindparam("m_ids", expanding=True)), _state_of_row_is(State.PENDING))
    .values(
        state=State.SENDING.value,
        lease_until=bindparam("m_lease_until", type_=UTCDateTime()),
        claimed_until=None,
        attempts=_DELIVERIES.attempts + 1,
        updated_at=bindparam("m_now", type_=UTCDateTime()),
    )
    .returning(_DELIVERIES.id)
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
    params = {"m_ids": list(delivery_ids), "m_now": now, "m_lease_until": lease_until}
    result = await session.execute(_MARK_SENDING, params)
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
