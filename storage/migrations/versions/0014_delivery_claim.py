"""delivery claim

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08

Several ``recueil run`` processes on one PostgreSQL base: a process claims a conversation's
pending deliveries (``claimed_at``) before sending them, so that no other process sends them
too. A claim older than the lease (a process that died) no longer holds. SQLite, one process,
leaves the column empty.
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


def downgrade() -> None:
    with op.batch_alter_table("delivery") as batch:
        batch.drop_column("claimed_at")
