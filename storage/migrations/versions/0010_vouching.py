"""vouching: validated e-mail domains, invitation codes, agents vouched for

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0010"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vouched_domain",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("collectivite_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["collectivite_id"], ["collectivite.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("domain", "collectivite_id"),
    )
    with op.batch_alter_table("vouched_domain", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_vouched_domain_collectivite_id"), ["collectivite_id"], unique=False
        )

    op.create_table(
        "invitation_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("collectivite_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["collectivite_id"], ["collectivite.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
        sa.UniqueConstraint("collectivite_id"),
    )

    op.create_table(
        "agent_vouch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("collectivite_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("method IN ('code', 'admin')", name="ck_agent_vouch_method"),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"]),
        sa.ForeignKeyConstraint(["collectivite_id"], ["collectivite.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("agent_id", "collectivite_id"),
    )
    with op.batch_alter_table("agent_vouch", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agent_vouch_collectivite_id"), ["collectivite_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("agent_vouch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agent_vouch_collectivite_id"))
    op.drop_table("agent_vouch")
    op.drop_table("invitation_code")
    with op.batch_alter_table("vouched_domain", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vouched_domain_collectivite_id"))
    op.drop_table("vouched_domain")
