"""Supports (soutiens): one per collectivité per proposal, enforced by the database.

A withdrawn support keeps its row (who withdrew it, when), so the unique key still holds and
supporting again reuses the row. Every change is in the audit log.

Whether a support is verified is computed when it is read, from the vouching tables
(:mod:`storage.ops.vouching`); the row's ``verified`` only records what it was when given.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from storage.models import Proposal, Support, utcnow
from storage.ops.audit import AuditOps
from storage.ops.base import TxBase
from storage.ops.vouching import vouched

_s = Support.__table__  # type: ignore[attr-defined]
_p = Proposal.__table__  # type: ignore[attr-defined]

OPEN_TO_VOTE = "publiee"
VOTED = (OPEN_TO_VOTE, "retenue", "non_retenue")

# The statements of a vote turn, built once so that SQLAlchemy reuses their compiled form
# (building them at each call cost more CPU than running them: benchmarks/vote.py).
_agent = sa.bindparam("agent_id", type_=sa.Integer)
_collectivite = sa.bindparam("collectivite_id", type_=sa.Integer)
_VOTED_PROPOSAL = sa.select(_p.c.id, _p.c.reference, _p.c.status).where(
    _p.c.reference == sa.bindparam("reference")
)
# ``status IN (…)`` written out: a literal IN list is expanded at each execution, which
# keeps a statement from psycopg's direct path (storage/driver.py)
_IS_VOTED = sa.or_(*(_p.c.status == status for status in VOTED))
_PUBLISHED_REFERENCES = (
    sa.select(_p.c.reference)
    .where(_p.c.thematique == sa.bindparam("thematique"), _IS_VOTED)
    .order_by(_p.c.reference)
)
# Who gave each of a collectivité's standing supports in one thématique (a poll's answer).
_GIVEN_IN = (
    sa.select(_p.c.reference, _s.c.agent_id)
    .join(_p, _p.c.id == _s.c.proposal_id)
    .where(
        _s.c.collectivite_id == _collectivite,
        _s.c.withdrawn_at.is_(None),
        _p.c.thematique == sa.bindparam("thematique"),
    )
)
# What « propositions » lists: no counts (the listing's join over every contribution).
_VOTED_LISTING = (
    sa.select(_p.c.reference, _p.c.title, _p.c.thematique)
    .where(_IS_VOTED)
    .order_by(_p.c.thematique, _p.c.reference)
)
# The proposal, and whether the agent is vouched for: what a new support needs, in one read.
_TO_SUPPORT = sa.select(
    _p.c.id, _p.c.reference, _p.c.status, vouched(_agent, _collectivite).label("vouched")
).where(_p.c.reference == sa.bindparam("reference"))
_EXISTING = (
    sa.select(_s.c.id, _s.c.withdrawn_at)
    .where(_s.c.proposal_id == sa.bindparam("proposal_id"), _s.c.collectivite_id == _collectivite)
    .with_for_update()
)
_RENEW = (
    _s.update()
    .where(_s.c.id == sa.bindparam("support_id"))
    .values(
        agent_id=_agent,
        verified=sa.bindparam("verified"),
        created_at=sa.bindparam("created_at"),
        withdrawn_at=None,
        withdrawn_by=None,
    )
)
_STANDING = (
    sa.select(_s.c.id, _s.c.agent_id)
    .where(
        _s.c.proposal_id == sa.bindparam("proposal_id"),
        _s.c.collectivite_id == _collectivite,
        _s.c.withdrawn_at.is_(None),
    )
    .with_for_update()
)
_WITHDRAW = (
    _s.update()
    .where(_s.c.id == sa.bindparam("support_id"))
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
    )
    .join(_p, _p.c.id == _s.c.proposal_id)
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


class SupportOps(AuditOps, TxBase):
    def support(
        self, actor: str, agent_id: int, collectivite_id: int, reference: str
    ) -> SupportOutcome:
        """The collectivité of ``agent_id`` supports the proposal ``reference``."""
        proposal = self.execute(
            _TO_SUPPORT,
            {
                "reference": normalize_reference(reference),
                "agent_id": agent_id,
                "collectivite_id": collectivite_id,
            },
        ).first()
        if proposal is None:
            return SupportOutcome.UNKNOWN
        if proposal.status != OPEN_TO_VOTE:
            return SupportOutcome.NOT_OPEN
        existing = self.execute(
            _EXISTING, {"proposal_id": proposal.id, "collectivite_id": collectivite_id}
        ).first()
        now = utcnow()
        if existing is not None and existing.withdrawn_at is None:
            return SupportOutcome.ALREADY
        verified = bool(proposal.vouched)
        if existing is not None:
            self.execute(
                _RENEW,
                {
                    "support_id": existing.id,
                    "agent_id": agent_id,
                    "verified": verified,
                    "created_at": now,
                },
            )
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
        proposal = self._voted_proposal(reference)
        if proposal is None:
            return SupportOutcome.UNKNOWN
        existing = self.execute(
            _STANDING, {"proposal_id": proposal.id, "collectivite_id": collectivite_id}
        ).first()
        if existing is None:
            return SupportOutcome.NOT_SUPPORTED
        if agent_id is not None and existing.agent_id != agent_id:
            return SupportOutcome.NOT_YOURS
        self.execute(
            _WITHDRAW, {"support_id": existing.id, "withdrawn_at": utcnow(), "actor": actor}
        )
        self.audit(
            actor,
            "support.withdrawn",
            subject=proposal.reference,
            collectivite=collectivite_id,
            agent=existing.agent_id,
        )
        return SupportOutcome.WITHDRAWN

    def supports_of(self, collectivite_id: int) -> list[SupportRecord]:
        """The collectivité's standing supports, by proposal reference; verified now."""
        rows = self.execute(_SUPPORTS_OF, {"collectivite_id": collectivite_id})
        return [SupportRecord(*row) for row in rows]

    def supporters_in(self, collectivite_id: int, thematique: str) -> dict[str, int]:
        """The collectivité's standing supports in ``thematique``: reference → the agent
        who gave it (a poll answer withdraws only its own)."""
        values = {"collectivite_id": collectivite_id, "thematique": thematique}
        return {row.reference: row.agent_id for row in self.execute(_GIVEN_IN, values)}

    def published_references(self, thematique: str) -> list[str]:
        """The proposals of ``thematique`` put to the vote (published or decided), in order."""
        rows = self.execute(_PUBLISHED_REFERENCES, {"thematique": thematique})
        return list(rows.scalars())

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
            )
            .select_from(_p.outerjoin(_s, _s.c.proposal_id == _p.c.id))
            .where(_p.c.status.in_(VOTED))
            .group_by(_p.c.id, _p.c.reference, _p.c.title, _p.c.thematique)
        )
        rows = [SupportTally(*row) for row in self.connection.execute(statement)]
        return sorted(rows, key=lambda t: (-t.verified, -t.total, t.reference))

    def _voted_proposal(self, reference: str) -> sa.Row[Any] | None:
        return self.execute(_VOTED_PROPOSAL, {"reference": normalize_reference(reference)}).first()


def normalize_reference(reference: str) -> str:
    """``p12``, ``P-12``, ``p-012`` → ``P-012``."""
    digits = "".join(ch for ch in reference if ch.isdigit())
    return f"P-{int(digits):03d}" if digits else reference.upper()
