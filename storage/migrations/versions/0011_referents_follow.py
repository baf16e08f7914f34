"""référent offers get a reference (V-0001); explicit follows of a laureate

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("referent_offer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reference", sa.String(length=16), nullable=True))
        batch_op.create_unique_constraint("uq_referent_offer_reference", ["reference"])

    op.create_table(
        "proposal_follow",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("following", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"]),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposal.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("proposal_id", "agent_id"),
    )
    op.create_index("ix_proposal_follow_agent_id", "proposal_follow", ["agent_id"])


def downgrade() -> None:
    op.drop_index("ix_proposal_follow_agent_id", table_name="proposal_follow")
    op.drop_table("proposal_follow")
    with op.batch_alter_table("referent_offer", schema=None) as batch_op:
        batch_op.drop_constraint("uq_referent_offer_reference", type_="unique")
        batch_op.drop_column("reference")
