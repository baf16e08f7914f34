"""delivery claim

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08

Several ``recueil run`` processes on one PostgreSQL base: a process claims a conversation's
pending deliveries (``claimed_at``, ``claimed_by``) before sending them, so that no other
process sends them too. A claim holds while the process that made it lives (``claimed_by``: the
server pid of its liveness connection, gone from ``pg_stat_activity`` when it dies) and at most
the lease. SQLite, one process, leaves the columns empty.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("delivery") as batch:
        batch.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("claimed_by", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("delivery") as batch:
        batch.drop_column("claimed_by")
        batch.drop_column("claimed_at")
