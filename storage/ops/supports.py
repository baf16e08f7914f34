"""Supports (soutiens): one per collectivité per proposal, enforced by the database.

A withdrawn support keeps its row (who withdrew it, when), so the unique key still holds and
supporting again reuses the row. Every change is in the audit log.

Whether a support is verified is computed when it is read, from the vouching tables
(:mod:`storage.ops.vouching`); the row's ``verified`` only records what it was when given.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import sqlalchemy as sa

from storage.models import Proposal, Support
from storage.ops.audit import AuditOps
from storage.ops.base import TxBase, proposal_reference
from storage.ops.vouching import vouched
from storage.statements import agents as _a
from storage.statements import author_still_speaks_for

_s = Support.__table__  # type: ignore[attr-defined]
_p = Proposal.__table__  # type: ignore[attr-defined]

OPEN_TO_VOTE = "publiee"
VOTED = (OPEN_TO_VOTE, "retenue", "non_retenue")

# The statements of a vote turn, built once so that SQLAlchemy reuses their compiled form
# (building them at each call cost more CPU than running them: benchmarks/vote.py).
_agent = sa.bindparam("agent_id", type_=sa.Integer)
_collectivite = sa.bindparam("collectivite_id", type_=sa.Integer)
# ``status IN (…)`` written out: a literal IN list is expanded at each execution, which
# keeps a statement from psycopg's direct path (storage/driver.py)
_IS_VOTED = sa.or_(*(_p.c.status == status for status in VOTED))
# Each proposal with the collectivité's standing support for it, if any (NULL columns: none).
_WITH_STANDING_SUPPORT = _p.outerjoin(
    _s,
    sa.and_(
        _s.c.proposal_id == _p.c.id,
        _s.c.collectivite_id == _collectivite,
        _s.c.withdrawn_at.is_(None),
    ),
)
# A poll's answer in one read: the proposals of its thématique put to the vote, each with the
# agent who gave the collectivité's standing support for it (NULL: not supported).
_POLL_SUPPORTS = (
    sa.select(_p.c.reference, _s.c.agent_id)
    .select_from(_WITH_STANDING_SUPPORT)
    .where(_p.c.thematique == sa.bindparam("thematique"), _IS_VOTED)
)
# What « propositions » lists: no counts (the listing's join over every contribution).
_VOTED_LISTING = (
    sa.select(_p.c.reference, _p.c.title, _p.c.thematique)
    .where(_IS_VOTED)
    .order_by(_p.c.thematique, _p.c.reference)
)
# What a support needs, in one read: the proposal, whether the agent is vouched for, and the
# collectivité's row for it if any (standing, or withdrawn and to be renewed).
_TO_SUPPORT = (
    sa.select(
        _p.c.id,
        _p.c.reference,
        _p.c.status,
        vouched(_agent, _collectivite).label("vouched"),
        _s.c.id.label("support_id"),
        _s.c.withdrawn_at,
    )
    .select_from(
        _p.outerjoin(
            _s, sa.and_(_s.c.proposal_id == _p.c.id, _s.c.collectivite_id == _collectivite)
        )
    )
    .where(_p.c.reference == sa.bindparam("reference"))
)
# Renewed only if still withdrawn: of two colleagues renewing at once, the second changes
# nothing (PostgreSQL re-reads the row once the first commits) and is told it is supported.
_RENEW = (
    _s.update()
    .where(_s.c.id == sa.bindparam("support_id"), _s.c.withdrawn_at.is_not(None))
    .values(
        agent_id=_agent,
        verified=sa.bindparam("verified"),
        created_at=sa.bindparam("created_at"),
        withdrawn_at=None,
        withdrawn_by=None,
    )
)
# What a withdrawal needs, in one read: the proposal and the collectivité's standing support.
_TO_WITHDRAW = (
    sa.select(
        _p.c.id,
        _p.c.reference,
        _s.c.id.label("support_id"),
        _s.c.agent_id,
        author_still_speaks_for(_s.c.agent_id, _s.c.collectivite_id).label("author_here"),
    )
    .select_from(_WITH_STANDING_SUPPORT)
    .where(_p.c.reference == sa.bindparam("reference"))
)
# Withdrawn only if still standing and given by the agent read: a support withdrawn (or
# withdrawn and given again by a colleague) meanwhile is left as it is.
_WITHDRAW = (
    _s.update()
    .where(
        _s.c.id == sa.bindparam("support_id"),
        _s.c.withdrawn_at.is_(None),
        _s.c.agent_id == sa.bindparam("given_by"),
    )
    .values(withdrawn_at=sa.bindparam("withdrawn_at"), withdrawn_by=sa.bindparam("actor"))
)
_SUPPORTS_OF = (
    sa.select(
        _p.c.id,
        _p.c.reference,
        _p.c.title,
        _p.c.thematique,
        _s.c.agent_id,
        vouched(_s.c.agent_id, _s.c.collectivite_id),
        # the author's fonction while they still speak for the collectivité (not moved, not
        # erased): how a colleague knows whom to ask
        sa.case(
            (
                sa.and_(_a.c.collectivite_id == _s.c.collectivite_id, _a.c.erased_at.is_(None)),
                _a.c.fonction,
            ),
            else_=None,
        ),
    )
    .join(_p, _p.c.id == _s.c.proposal_id)
    .outerjoin(_a, _a.c.id == _s.c.agent_id)
    .where(_s.c.collectivite_id == _collectivite, _s.c.withdrawn_at.is_(None))
    .order_by(_p.c.reference)
)


class SupportOutcome(StrEnum):
    ADDED = "added"
    ALREADY = "already"  # this collectivité already supports it (maybe through a colleague)
    UNKNOWN = "unknown"  # no such proposal
    NOT_OPEN = "not_open"  # not a published proposal
    WITHDRAWN = "withdrawn"
    NOT_SUPPORTED = "not_supported"
    NOT_YOURS = "not_yours"  # given by another agent of the collectivité


@dataclass(frozen=True, slots=True)
class SupportRecord:
    proposal_id: int
    reference: str
    title: str
    thematique: str
    agent_id: int
    verified: bool
    author_fonction: str | None  # in their profile (public); None once they left or erased


@dataclass(frozen=True, slots=True)
class VotedProposal:
    """A proposal put to the vote (published, or decided), as the vote lists it."""

    reference: str
    title: str
    thematique: str


@dataclass(frozen=True, slots=True)
class SupportTally:
    reference: str
    title: str
    thematique: str
    verified: int
    total: int
    status: str = OPEN_TO_VOTE
    """``publiee`` while undecided, then ``retenue`` or ``non_retenue`` (``!retenir``)."""


class SupportOps(AuditOps, TxBase):
    def support(
        self, actor: str, agent_id: int, collectivite_id: int, reference: str
    ) -> SupportOutcome:
        """The collectivité of ``agent_id`` supports the proposal ``reference``."""
        proposal = self.execute(
            _TO_SUPPORT,
            {
                "reference": proposal_reference(reference),
                "agent_id": agent_id,
                "collectivite_id": collectivite_id,
            },
        ).first()
        if proposal is None:
            return SupportOutcome.UNKNOWN
        if proposal.status != OPEN_TO_VOTE:
            return SupportOutcome.NOT_OPEN
        if proposal.support_id is not None and proposal.withdrawn_at is None:
            return SupportOutcome.ALREADY
        now = self.now
        verified = bool(proposal.vouched)
        if proposal.support_id is not None:
            renewed = self.execute(
                _RENEW,
                {
                    "support_id": proposal.support_id,
                    "agent_id": agent_id,
                    "verified": verified,
                    "created_at": now,
                },
            )
            if renewed.rowcount == 0:  # a colleague renewed it at the same moment
                return SupportOutcome.ALREADY
        else:
            inserted = self._insert_ignore(
                Support,
                {
                    "proposal_id": proposal.id,
                    "collectivite_id": collectivite_id,
                    "agent_id": agent_id,
                    "verified": verified,
                    "created_at": now,
                },
            )
            if not inserted:  # a colleague's support landed at the same moment
                return SupportOutcome.ALREADY
        self.audit(
            actor,
            "support.added",
            subject=proposal.reference,
            collectivite=collectivite_id,
            agent=agent_id,
            verified=verified,
        )
        return SupportOutcome.ADDED

    def withdraw_support(
        self, actor: str, agent_id: int | None, collectivite_id: int, reference: str
    ) -> SupportOutcome:
        """Withdraw the collectivité's support; ``agent_id`` None: an administrator does."""
        found = self.execute(
            _TO_WITHDRAW,
            {"reference": proposal_reference(reference), "collectivite_id": collectivite_id},
        ).first()
        if found is None:
            return SupportOutcome.UNKNOWN
        if found.support_id is None:
            return SupportOutcome.NOT_SUPPORTED
        if agent_id is not None and found.agent_id != agent_id and found.author_here:
            return SupportOutcome.NOT_YOURS
        withdrawn = self.execute(
            _WITHDRAW,
            {
                "support_id": found.support_id,
                "given_by": found.agent_id,
                "withdrawn_at": self.now,
                "actor": actor,
            },
        )
        if withdrawn.rowcount == 0:  # withdrawn meanwhile (by a colleague, an administrator)
            return SupportOutcome.NOT_SUPPORTED
        self.audit(
            actor,
            "support.withdrawn",
            subject=found.reference,
            collectivite=collectivite_id,
            agent=found.agent_id,
        )
        return SupportOutcome.WITHDRAWN

    def supports_of(self, collectivite_id: int) -> list[SupportRecord]:
        """The collectivité's standing supports, by proposal reference; verified now."""
        rows = self.execute(_SUPPORTS_OF, {"collectivite_id": collectivite_id})
        return [SupportRecord(*row) for row in rows]

    def poll_supports(self, collectivite_id: int, thematique: str) -> dict[str, int | None]:
        """The proposals of ``thematique`` put to the vote (published or decided), each with
        the agent who gave the collectivité's standing support for it, or None: what a poll
        answer changes (it withdraws only the supports its agent gave)."""
        values = {"collectivite_id": collectivite_id, "thematique": thematique}
        return {row.reference: row.agent_id for row in self.execute(_POLL_SUPPORTS, values)}

    def voted_proposals(self) -> list[VotedProposal]:
        """The proposals put to the vote (published or decided), by thématique, reference."""
        return [VotedProposal(*row) for row in self.execute(_VOTED_LISTING)]

    def support_tallies(self) -> list[SupportTally]:
        """Every published or decided proposal with its verified and total supports.

        Verified as of now (a collectivité vouched for after supporting counts)."""
        standing = _s.c.withdrawn_at.is_(None)
        statement = (
            sa.select(
                _p.c.reference,
                _p.c.title,
                _p.c.thematique,
                sa.func.count(_s.c.id).filter(
                    sa.and_(standing, vouched(_s.c.agent_id, _s.c.collectivite_id))
                ),
                sa.func.count(_s.c.id).filter(standing),
                _p.c.status,
            )
            .select_from(_p.outerjoin(_s, _s.c.proposal_id == _p.c.id))
            .where(_p.c.status.in_(VOTED))
            .group_by(_p.c.id, _p.c.reference, _p.c.title, _p.c.thematique, _p.c.status)
        )
        rows = [SupportTally(*row) for row in self.connection.execute(statement)]
        return sorted(rows, key=lambda t: (-t.verified, -t.total, t.reference))
