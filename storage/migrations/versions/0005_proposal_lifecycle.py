"""proposal lifecycle: triage statuses, merges, supports and référent offers, index entries

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:

    with op.batch_alter_table("contribution", schema=None) as batch_op:
        batch_op.add_column(sa.Column("triage_message", sa.String(length=2000), nullable=True))
        batch_op.add_column(sa.Column("triage_url", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("index_entry", sa.JSON(), nullable=True))
        batch_op.create_check_constraint(
            "ck_contribution_status",
            "status IN ('soumise', 'regroupee', 'reorientee', 'rejetee')",
        )

    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("published_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            "fk_proposal_merged_into_id", "proposal", ["merged_into_id"], ["id"]
        )
        batch_op.create_check_constraint(
            "ck_proposal_status",
            "status IN ('brouillon', 'publiee', 'retenue', 'non_retenue', 'fusionnee')",
        )

    with op.batch_alter_table("support", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("verified", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_by", sa.String(length=300), nullable=True))

    with op.batch_alter_table("referent_offer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("elu_agreement", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_check_constraint(
            "ck_referent_offer_elu_agreement", "elu_agreement IN ('oui', 'non', 'en_cours')"
        )


def downgrade() -> None:

    with op.batch_alter_table("referent_offer", schema=None) as batch_op:
        batch_op.drop_constraint("ck_referent_offer_elu_agreement", type_="check")
        batch_op.drop_column("withdrawn_at")
        batch_op.drop_column("elu_agreement")
        batch_op.drop_column("contact")

    with op.batch_alter_table("support", schema=None) as batch_op:
        batch_op.drop_column("withdrawn_by")
        batch_op.drop_column("withdrawn_at")
        batch_op.drop_column("verified")

    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.drop_constraint("ck_proposal_status", type_="check")
        batch_op.drop_constraint("fk_proposal_merged_into_id", type_="foreignkey")
        batch_op.drop_column("published_at")
        batch_op.drop_column("merged_into_id")

    with op.batch_alter_table("contribution", schema=None) as batch_op:
        batch_op.drop_constraint("ck_contribution_status", type_="check")
        batch_op.drop_column("index_entry")
        batch_op.drop_column("triage_url")
        batch_op.drop_column("triage_message")
