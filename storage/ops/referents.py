"""Référent offers: a collectivité volunteers to co-build a laureate (territoire référent).

One offer per collectivité per laureate, enforced by the database; several collectivités per
laureate, no selection. An offer is numbered ``V-0001``; withdrawing it keeps its row (and
its reference), and volunteering again reuses both. Every change is in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa

from storage import statements as sql
from storage.models import ReferentOffer
from storage.ops.audit import AuditOps
from storage.ops.base import TxBase

_o = ReferentOffer.__table__  # type: ignore[attr-defined]
_p = sql.proposals
_c = sql.collectivites
_a = sql.agents

LAUREATE = "retenue"
OFFER_KIND = "offer"


class OfferOutcome(StrEnum):
    ADDED = "added"
    ALREADY = "already"  # this collectivité already volunteers (maybe through a colleague)
    UNKNOWN = "unknown"  # no such proposal, or no such offer
    NOT_LAUREATE = "not_laureate"  # the proposal was not selected
    UPDATED = "updated"  # its author volunteered again: the answers are the new ones
    UNCHANGED = "unchanged"  # volunteered again with the same answers
    WITHDRAWN = "withdrawn"
    NOT_STANDING = "not_standing"  # already withdrawn
    NOT_YOURS = "not_yours"  # made by another agent, or for another collectivité


@dataclass(frozen=True, slots=True)
class OfferResult:
    outcome: OfferOutcome
    reference: str | None = None  # the offer's V- reference, when there is one
    proposal: str | None = None  # the laureate's P- reference


@dataclass(frozen=True, slots=True)
class OfferRecord:
    """A standing offer, with the laureate and the collectivité it concerns."""

    reference: str
    proposal: str
    title: str
    collectivite: str
    collectivite_kind: str
    collectivite_code: str
    departement: str | None
    agent_id: int
    agent_profile: str | None
    agent_fonction: str | None
    commitment: str | None
    contact: str | None  # None once its author's data was erased (storage.privacy)
    elu_agreement: str | None
    created_at: datetime
    author_erased: bool
    author_here: bool  # its author still speaks for the collectivité: only they change it

    def changeable_by(self, agent_id: int) -> bool:
        """Whether ``agent_id`` may withdraw or update it (as :meth:`withdraw_offer` rules)."""
        return self.agent_id == agent_id or not self.author_here


@dataclass(frozen=True, slots=True)
class OwnOffer:
    """The answers of an agent's offer for a laureate, standing or withdrawn: what a new
    form for the same laureate starts from."""

    reference: str
    commitment: str | None
    contact: str | None
    elu_agreement: str | None
    standing: bool


_STANDING = (
    sa.select(
        _o.c.reference,
        _p.c.reference,
        _p.c.title,
        _c.c.name,
        _c.c.kind,
        _c.c.code,
        _c.c.departement,
        _o.c.agent_id,
        _a.c.profile,
        _a.c.fonction,
        _o.c.commitment,
        _o.c.contact,
        _o.c.elu_agreement,
        _o.c.created_at,
        _a.c.erased_at.is_not(None),
        sa.and_(_a.c.collectivite_id == _o.c.collectivite_id, _a.c.erased_at.is_(None)),
    )
    .join(_p, _p.c.id == _o.c.proposal_id)
    .join(_c, _c.c.id == _o.c.collectivite_id)
    .join(_a, _a.c.id == _o.c.agent_id)
    .where(_o.c.withdrawn_at.is_(None))
    .order_by(_p.c.reference, _o.c.reference)
)


class ReferentOps(AuditOps, TxBase):
    def volunteer(
        self,
        actor: str,
        agent_id: int,
        collectivite_id: int,
        proposal_reference: str,
        *,
        commitment: str,
        contact: str,
        elu_agreement: str,
    ) -> OfferResult:
        """The collectivité of ``agent_id`` volunteers for the laureate ``proposal_reference``.

        Its standing offer for it, if the agent may change it (theirs, or its author no
        longer speaks for the collectivité), takes the new answers: one offer, updated."""
        proposal = self.connection.execute(
            sa.select(_p.c.id, _p.c.reference, _p.c.status).where(
                _p.c.reference == proposal_reference
            )
        ).first()
        if proposal is None:
            return OfferResult(OfferOutcome.UNKNOWN, proposal=proposal_reference)
        if proposal.status != LAUREATE:
            return OfferResult(OfferOutcome.NOT_LAUREATE, proposal=proposal.reference)
        existing = self.connection.execute(
            sa.select(
                _o.c.id,
                _o.c.reference,
                _o.c.withdrawn_at,
                _o.c.agent_id,
                _o.c.commitment,
                _o.c.contact,
                _o.c.elu_agreement,
                sql.author_still_speaks_for(_o.c.agent_id, _o.c.collectivite_id).label(
                    "author_here"
                ),
            )
            .where(_o.c.proposal_id == proposal.id, _o.c.collectivite_id == collectivite_id)
            .with_for_update(of=_o)
        ).first()
        if existing is not None and existing.withdrawn_at is None:
            if existing.agent_id != agent_id and existing.author_here:  # a colleague's
                return OfferResult(OfferOutcome.ALREADY, existing.reference, proposal.reference)
            answers = {"commitment": commitment, "contact": contact, "elu_agreement": elu_agreement}
            if agent_id == existing.agent_id and all(
                getattr(existing, name) == value for name, value in answers.items()
            ):
                return OfferResult(OfferOutcome.UNCHANGED, existing.reference, proposal.reference)
            self.connection.execute(
                _o.update().where(_o.c.id == existing.id).values(**answers, agent_id=agent_id)
            )
            self.audit(
                actor,
                "referent.updated",
                subject=existing.reference,
                proposal=proposal.reference,
                collectivite=collectivite_id,
                agent=agent_id,
                elu_agreement=elu_agreement,
            )
            return OfferResult(OfferOutcome.UPDATED, existing.reference, proposal.reference)
        values = {
            "agent_id": agent_id,
            "commitment": commitment,
            "contact": contact,
            "elu_agreement": elu_agreement,
            "created_at": self.now,
        }
        if existing is not None:
            reference = existing.reference or self.next_reference(OFFER_KIND)
            self.connection.execute(
                _o.update()
                .where(_o.c.id == existing.id)
                .values(**values, reference=reference, withdrawn_at=None)
            )
        else:
            reference = self.next_reference(OFFER_KIND)
            inserted = self._insert_ignore(
                ReferentOffer,
                {
                    **values,
                    "reference": reference,
                    "proposal_id": proposal.id,
                    "collectivite_id": collectivite_id,
                },
            )
            if not inserted:  # a colleague's offer landed at the same moment
                return OfferResult(OfferOutcome.ALREADY, None, proposal.reference)
        self.audit(
            actor,
            "referent.volunteered",
            subject=reference,
            proposal=proposal.reference,
            collectivite=collectivite_id,
            agent=agent_id,
            elu_agreement=elu_agreement,
        )
        return OfferResult(OfferOutcome.ADDED, reference, proposal.reference)

    def withdraw_offer(
        self,
        actor: str,
        agent_id: int | None,
        offer_reference: str,
        collectivite_id: int | None = None,
    ) -> OfferResult:
        """Withdraw an offer; only the agent who made it may (``agent_id`` None: an
        administrator). Another collectivité's offer is unknown to an agent: its existence
        is not revealed."""
        found = self.connection.execute(
            sa.select(
                _o.c.id,
                _o.c.agent_id,
                _o.c.collectivite_id,
                _o.c.withdrawn_at,
                _p.c.reference,
                sql.author_still_speaks_for(_o.c.agent_id, _o.c.collectivite_id).label(
                    "author_here"
                ),
            )
            .join(_p, _p.c.id == _o.c.proposal_id)
            .where(_o.c.reference == offer_reference)
            .with_for_update(of=_o)
        ).first()
        if found is None or collectivite_id not in (None, found.collectivite_id):
            return OfferResult(OfferOutcome.UNKNOWN, offer_reference)
        proposal = str(found.reference)
        if agent_id is not None and found.agent_id != agent_id and found.author_here:
            return OfferResult(OfferOutcome.NOT_YOURS, offer_reference, proposal)
        if found.withdrawn_at is not None:
            return OfferResult(OfferOutcome.NOT_STANDING, offer_reference, proposal)
        self.connection.execute(
            _o.update().where(_o.c.id == found.id).values(withdrawn_at=self.now)
        )
        self.audit(
            actor, "referent.withdrawn", subject=offer_reference, proposal=proposal, agent=agent_id
        )
        return OfferResult(OfferOutcome.WITHDRAWN, offer_reference, proposal)

    def own_offer(
        self, agent_id: int, collectivite_id: int, proposal_reference: str
    ) -> OwnOffer | None:
        """The agent's offer for the laureate, standing or withdrawn (its row is kept), if
        they made the collectivité's last one; a colleague's answers are not theirs to see."""
        row = self.connection.execute(
            sa.select(
                _o.c.reference,
                _o.c.commitment,
                _o.c.contact,
                _o.c.elu_agreement,
                _o.c.withdrawn_at.is_(None),
            )
            .join(_p, _p.c.id == _o.c.proposal_id)
            .where(
                _p.c.reference == proposal_reference,
                _o.c.collectivite_id == collectivite_id,
                _o.c.agent_id == agent_id,
            )
        ).first()
        return OwnOffer(*row) if row is not None and row[0] is not None else None

    def offers_of(self, collectivite_id: int) -> list[OfferRecord]:
        """The collectivité's standing offers, by laureate."""
        statement = _STANDING.where(_o.c.collectivite_id == collectivite_id)
        return [OfferRecord(*row) for row in self.connection.execute(statement)]

    def volunteers(self, proposal_reference: str | None = None) -> list[OfferRecord]:
        """Every standing offer by laureate then reference; of one laureate on request."""
        statement = _STANDING
        if proposal_reference is not None:
            statement = statement.where(_p.c.reference == proposal_reference)
        return [OfferRecord(*row) for row in self.connection.execute(statement)]
