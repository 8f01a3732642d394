"""Announcements through the ledger, blocked subscribers, and the tick's heartbeat.

The ledger's one-row-per-(subscriber, local date) rule becomes a partial
unique index over daily rows, and announcement rows get their own: one copy
of an announcement per recipient.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.db.models import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "announcements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("confirmed_at", UTCDateTime(), nullable=True),
        sa.Column("last_subscriber_id", sa.Integer(), nullable=True),
        sa.Column("enqueued_through", sa.Integer(), nullable=False),
        sa.Column("enqueued_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcements")),
    )
    op.create_table(
        "heartbeats",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_heartbeats")),
    )
    with op.batch_alter_table("subscribers") as batch:
        batch.add_column(sa.Column("blocked_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("announcement_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_deliveries_announcement_id_announcements"),
            "announcements",
            ["announcement_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.drop_constraint(op.f("uq_deliveries_subscriber_id_local_date"), type_="unique")
    op.create_index(
        "uq_deliveries_daily",
        "deliveries",
        ["subscriber_id", "local_date"],
        unique=True,
        sqlite_where=sa.text("announcement_id IS NULL"),
        postgresql_where=sa.text("announcement_id IS NULL"),
    )
    op.create_index(
        "uq_deliveries_announcement",
        "deliveries",
        ["announcement_id", "subscriber_id"],
        unique=True,
        sqlite_where=sa.text("announcement_id IS NOT NULL"),
        postgresql_where=sa.text("announcement_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_deliveries_announcement", table_name="deliveries")
    op.drop_index("uq_deliveries_daily", table_name="deliveries")
    op.execute("DELETE FROM deliveries WHERE announcement_id IS NOT NULL")
    with op.batch_alter_table("deliveries") as batch:
        batch.create_unique_constraint(op.f("uq_deliveries_subscriber_id_local_date"), ["subscriber_id", "local_date"])
        batch.drop_constraint(op.f("fk_deliveries_announcement_id_announcements"), type_="foreignkey")
        batch.drop_column("announcement_id")
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("blocked_at")
    op.drop_table("heartbeats")
    op.drop_table("announcements")
