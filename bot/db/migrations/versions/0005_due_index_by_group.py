"""The due index groups subscribers by instant, send time and zone, so a due group is one range.

The tick plans subscribers due at the same instant with the same send time
and zone together and writes them with set-based statements (``INSERT ...
SELECT`` and ``UPDATE ... WHERE``) instead of naming each one. With these
columns in the index, each of those statements reads just the group's
entries, in id order.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _due_index(*columns: str) -> None:
    op.create_index(
        "ix_subscribers_due",
        "subscribers",
        list(columns),
        sqlite_where=sa.text("active = 1"),
        postgresql_where=sa.text("active"),
    )


def upgrade() -> None:
    op.drop_index("ix_subscribers_due", table_name="subscribers")
    _due_index("next_send_at", "send_time", "timezone", "id")


def downgrade() -> None:
    op.drop_index("ix_subscribers_due", table_name="subscribers")
    _due_index("next_send_at", "id")
