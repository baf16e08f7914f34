"""delivery expiry

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07

A push (a delivery with a campaign) carries the moment it stops making sense
(``expires_at``, from the phase calendar; docs/campagnes.md): one still pending then is
marked ``expired`` instead of being sent late. Replies leave it empty and never expire.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("delivery") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("delivery") as batch:
        batch.drop_column("expires_at")
