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
    Text,
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
    # The next scheduled send (UTC); the delivery tick takes subscribers whose
    # instant has come, a group (instant, send time, zone) at a time, through a
    # partial index over active subscribers.
    next_send_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set when Telegram says the user blocked the bot (inactive but not by /stop).
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# The predicate is written as each dialect renders ``Subscriber.active`` in a
# WHERE clause: SQLite only uses a partial index whose terms appear literally.
# A due group is one range of it, in id order (migration 0005).
Index(
    "ix_subscribers_due",
    Subscriber.next_send_at,
    Subscriber.send_time,
    Subscriber.timezone,
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


class Announcement(Base):
    """A message from an admin to every active subscriber.

    A draft until an admin confirms it; then its ledger rows are created in
    pages (``enqueued_through`` is the keyset), so a crash mid-way resumes
    where it stopped instead of starting over or skipping anyone.
    """

    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Telegram HTML, as the admin wrote it (entities kept).
    text: Mapped[str] = mapped_column(Text())
    created_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Subscribers with an id up to this one, active when it was confirmed, receive it.
    last_subscriber_id: Mapped[int | None] = mapped_column(Integer)
    # Ledger rows exist for every recipient with an id up to this one.
    enqueued_through: Mapped[int] = mapped_column(Integer, default=0)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Heartbeat(Base):
    """When something last ran (the delivery tick), for admins in another process."""

    __tablename__ = "heartbeats"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class Delivery(Base):
    """The ledger: one row per subscriber and local date, and one per announcement and recipient.

    States: pending -> sending -> sent | failed | blocked | uncertain.
    ``sending`` is committed before the API call and holds a lease; a row
    still ``sending`` after its lease (a crash) becomes ``uncertain`` and is
    never sent again blindly, because Telegram has no idempotency key.
    """

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    # None: the daily workout of ``local_date``; else the announcement sent.
    announcement_id: Mapped[int | None] = mapped_column(ForeignKey("announcements.id", ondelete="CASCADE"))
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


# At most one daily message per subscriber and local date, and one copy of an
# announcement per recipient: the database settles every race and every resume.
Index(
    "uq_deliveries_daily",
    Delivery.subscriber_id,
    Delivery.local_date,
    unique=True,
    sqlite_where=text("announcement_id IS NULL"),
    postgresql_where=text("announcement_id IS NULL"),
)
Index(
    "uq_deliveries_announcement",
    Delivery.announcement_id,
    Delivery.subscriber_id,
    unique=True,
    sqlite_where=text("announcement_id IS NOT NULL"),
    postgresql_where=text("announcement_id IS NOT NULL"),
)
# Workers claim the oldest pending rows (ORDER BY not_before, id: the id is in
# the index so PostgreSQL need not sort; see migration 0004); admins count a
# day's rows by state.
Index("ix_deliveries_claim", Delivery.state, Delivery.not_before, Delivery.id)
Index("ix_deliveries_day", Delivery.local_date, Delivery.state)
