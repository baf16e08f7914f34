"""platform messages

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "platform_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transport", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.String(length=255), nullable=False),
        sa.Column("platform_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("core_ref", sa.String(length=255), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("transport", "platform_id"),
    )
    with op.batch_alter_table("platform_message", schema=None) as batch_op:
        batch_op.create_index(
            "ix_platform_message_ref", ["transport", "chat_id", "core_ref"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("platform_message", schema=None) as batch_op:
        batch_op.drop_index("ix_platform_message_ref")

    op.drop_table("platform_message")
