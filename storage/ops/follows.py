"""Following a laureate: the explicit ``suivre`` and ``ne plus suivre``.

Contributors, supporters and volunteers of a laureate follow it without a row (the audience
``suiveurs:P-012`` in :mod:`storage.campaigns` computes them); a row records an agent's own
choice, which wins either way. Every change is in the audit log.
"""

from __future__ import annotations

from enum import StrEnum

import sqlalchemy as sa

from storage import statements as sql
from storage.campaigns import followers_of
from storage.models import ProposalFollow
from storage.ops.audit import AuditOps
from storage.ops.base import TxBase

_f = ProposalFollow.__table__  # type: ignore[attr-defined]
_p = sql.proposals

FOLLOWABLE = "retenue"
_LAUREATES_FOLLOWED = (
    sa.select(_p.c.reference, followers_of(_p.c.id))
    .select_from(_p.join(sql.agents, sql.agents.c.id == sa.bindparam("agent_id")))
    .where(_p.c.status == FOLLOWABLE)
    .order_by(_p.c.reference)
)
"""Each laureate, and whether the agent ``agent_id`` follows it."""


class FollowOutcome(StrEnum):
    FOLLOWING = "following"
    UNFOLLOWED = "unfollowed"
    UNKNOWN = "unknown"  # no such proposal
    NOT_LAUREATE = "not_laureate"  # only selected proposals have news to follow


class FollowOps(AuditOps, TxBase):
    def laureates_followed(self, agent_id: int) -> dict[str, bool]:
        """Every laureate by reference, and whether the agent follows its news: as one of
        its contributors, supporters or volunteers, or by ``suivre``, unless they typed
        ``ne plus suivre`` (who the audience ``suiveurs:P-012`` reaches)."""
        rows = self.execute(_LAUREATES_FOLLOWED, {"agent_id": agent_id})
        return {reference: bool(following) for reference, following in rows}

    def explicit_followers(self, proposal_reference: str) -> int:
        """How many agents typed ``suivre`` for this proposal (and did not take it back)."""
        statement = (
            sa.select(sa.func.count())
            .select_from(_f.join(_p, _p.c.id == _f.c.proposal_id))
            .where(_p.c.reference == proposal_reference, _f.c.following.is_(True))
        )
        return int(self.connection.execute(statement).scalar_one())

    def set_following(
        self, actor: str, agent_id: int, proposal_reference: str, following: bool
    ) -> FollowOutcome:
        """Record that the agent follows (or no longer follows) a laureate's news."""
        proposal = self.connection.execute(
            sa.select(_p.c.id, _p.c.status).where(_p.c.reference == proposal_reference)
        ).first()
        if proposal is None:
            return FollowOutcome.UNKNOWN
        if proposal.status != FOLLOWABLE:
            return FollowOutcome.NOT_LAUREATE
        now = self.now
        inserted = self._insert_ignore(
            ProposalFollow,
            {
                "proposal_id": proposal.id,
                "agent_id": agent_id,
                "following": following,
                "created_at": now,
                "updated_at": now,
            },
        )
        if not inserted:
            self.connection.execute(
                _f.update()
                .where(_f.c.proposal_id == proposal.id, _f.c.agent_id == agent_id)
                .values(following=following, updated_at=now)
            )
        self.audit(
            actor,
            "follow.added" if following else "follow.removed",
            subject=proposal_reference,
            agent=agent_id,
        )
        return FollowOutcome.FOLLOWING if following else FollowOutcome.UNFOLLOWED
