"""conversation by user

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06

The audiences of a campaign find each agent's conversations by (transport, user id): without
this index, PostgreSQL with stale statistics (just after a bulk import) scanned the whole
unique index once per agent, minutes for 35,000 agents.
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_conversation_user", "conversation", ["transport", "user_id"])


def downgrade() -> None:
    op.drop_index("ix_conversation_user", table_name="conversation")
