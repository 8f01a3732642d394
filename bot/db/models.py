"""Tables. Every change here needs an Alembic migration (a test compares them)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so migrations can refer to them on both engines.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every engine (SQLite would drop the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Subscriber(Base):
    """A private chat that subscribed with /start."""

    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    active: Mapped[bool]
    send_time: Mapped[time] = mapped_column(Time())
    timezone: Mapped[str] = mapped_column(String(64))
    program_start: Mapped[date] = mapped_column(Date())
    # Per-subscriber seed for the tip order; random, not derived from the chat id.
    seed: Mapped[str] = mapped_column(String(32))
    # The next scheduled send (UTC); the delivery tick picks subscribers whose
    # instant has come through a partial index over active subscribers.
    next_send_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# The predicate is written as each dialect renders ``Subscriber.active`` in a
# WHERE clause: SQLite only uses a partial index whose terms appear literally.
Index(
    "ix_subscribers_due",
    Subscriber.next_send_at,
    Subscriber.id,
    sqlite_where=text("active = 1"),
    postgresql_where=text("active"),
)


class Pause(Base):
    """Local days (inclusive) on which a subscriber paused the program."""

    __tablename__ = "pauses"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    first_day: Mapped[date] = mapped_column(Date())
    last_day: Mapped[date] = mapped_column(Date())


class Workout(Base):
    """A completed session: one per subscriber and local day."""

    __tablename__ = "workouts"
    __table_args__ = (UniqueConstraint("subscriber_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date())
    exercise_id: Mapped[str | None] = mapped_column(String(40))
    logged_at: Mapped[datetime] = mapped_column(UTCDateTime())


# Stats by day across subscribers (admin figures, "sessions logged today").
Index("ix_workouts_day", Workout.day)


class Delivery(Base):
    """The ledger: one row per subscriber and local date, whatever happened to it.

    States: pending -> sending -> sent | failed | blocked | uncertain.
    ``sending`` is committed before the API call and holds a lease; a row
    still ``sending`` after its lease (a crash) becomes ``uncertain`` and is
    never sent again blindly, because Telegram has no idempotency key.
    """

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("subscriber_id", "local_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    local_date: Mapped[date] = mapped_column(Date())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(16))
    # Earliest time to (re)try: backoff and retry_after push it forward.
    not_before: Mapped[datetime] = mapped_column(UTCDateTime())
    # A worker reserved the row (still pending) until then; it becomes
    # ``sending`` only when the worker holds a send slot, just before the call.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    migrations: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


# Workers claim the oldest pending rows; admins count a day's rows by state.
Index("ix_deliveries_claim", Delivery.state, Delivery.not_before)
Index("ix_deliveries_day", Delivery.local_date, Delivery.state)
