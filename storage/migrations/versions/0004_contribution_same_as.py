"""contribution same as

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:

    with op.batch_alter_table("contribution", schema=None) as batch_op:
        batch_op.add_column(sa.Column("same_as_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_contribution_same_as_id"), ["same_as_id"], unique=False
        )
        batch_op.create_foreign_key(
            "fk_contribution_same_as_id", "contribution", ["same_as_id"], ["id"]
        )


def downgrade() -> None:

    with op.batch_alter_table("contribution", schema=None) as batch_op:
        batch_op.drop_constraint("fk_contribution_same_as_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_contribution_same_as_id"))
        batch_op.drop_column("same_as_id")
