"""proposal draft key: the key a reviewed spreadsheet created the proposal under

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.add_column(sa.Column("draft_key", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_proposal_draft_key"), ["draft_key"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposal_draft_key"))
        batch_op.drop_column("draft_key")
