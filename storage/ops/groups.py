"""Same-need groups: the links agents (or administrators) made between contributions.

A contribution joined to another (``same_as_id``) belongs to that one's group; the rules for
regrouping live in the bot (``bot/regroup.py``), the links here.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from storage import statements as sql
from storage.ops.base import TxBase


class GroupOps(TxBase):
    def same_as_links(self, kind: str) -> dict[int, tuple[int | None, int]]:
        """Every contribution of ``kind``: id → (the one it was joined to, its collectivité)."""
        c = sql.contributions.c
        statement = sa.select(c.id, c.same_as_id, c.collectivite_id).where(c.kind == kind)
        return {
            row.id: (row.same_as_id, row.collectivite_id)
            for row in self.connection.execute(statement)
        }

    def set_same_as(self, contribution_id: int, same_as_id: int | None) -> None:
        """Record (or, with None, undo) that a contribution describes the same need as another."""
        self.connection.execute(
            sa.update(sql.contributions)
            .where(sql.contributions.c.id == contribution_id)
            .values(same_as_id=same_as_id, updated_at=self.now)
        )

    def set_same_as_many(self, links: Sequence[tuple[int, int]]) -> None:
        """Record many links at once (an import): (contribution id, the one it joined)."""
        if not links:
            return
        c = sql.contributions.c
        self.connection.execute(
            sa.update(sql.contributions)
            .where(c.id == sa.bindparam("member"))
            .values(same_as_id=sa.bindparam("joined"), updated_at=self.now),
            [{"member": member, "joined": joined} for member, joined in links],
        )
