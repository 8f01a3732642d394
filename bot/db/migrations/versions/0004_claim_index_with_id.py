"""The claim index ends with the id, so it yields rows in the claim's exact order.

Workers claim pending rows ``ORDER BY not_before, id LIMIT n``. On SQLite the
old index ``(state, not_before)`` already ended with the rowid, which is the
id; on PostgreSQL it did not, so every row sharing a ``not_before`` (a whole
announcement, a minute of daily rows) was sorted before the first ``n`` came
out. With the id in the index both engines read the first ``n`` entries in
order and stop.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_deliveries_claim", table_name="deliveries")
    op.create_index("ix_deliveries_claim", "deliveries", ["state", "not_before", "id"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_claim", table_name="deliveries")
    op.create_index("ix_deliveries_claim", "deliveries", ["state", "not_before"])
