"""Small read-only values the store returns instead of ORM objects (the hot path, triage)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.keys import ConversationKey
from storage.models import Agent, Collectivite, Contribution, Proposal


@dataclass(frozen=True, slots=True)
class ConversationRow:
    """A conversation read under its lock: the state to step, and the row to write back."""

    id: int
    state: dict[str, Any]
    turns: int
    agent: AgentRecord | None  # the agent of this transport identity, if known
    has_pending: bool  # replies of an earlier turn still wait to be delivered


@dataclass(frozen=True, slots=True)
class AgentRecord:
    """An agent as a dialogue turn sees it (read on every turn, so without the ORM)."""

    id: int
    transport: str
    user_id: str
    collectivite_id: int | None
    profile: str | None
    fonction: str | None
    email: str | None


@dataclass(frozen=True, slots=True)
class PendingDelivery:
    """An outgoing message not yet delivered, oldest first."""

    id: int
    transport: str
    chat_id: str
    user_id: str
    payload: dict[str, Any]
    attempts: int
    campaign: str | None = None  # a push (held back outside the sending window), or a reply
    expires_at: datetime | None = None  # a push's: not sent from then on (bot's clock)

    @property
    def key(self) -> ConversationKey:
        return ConversationKey(self.transport, self.chat_id, self.user_id)


@dataclass(frozen=True, slots=True)
class ContributionSummary:
    """What the dialogue shows of someone else's contribution: title and collectivité."""

    id: int
    reference: str
    kind: str
    title: str
    collectivite_id: int
    collectivite_kind: str
    collectivite_code: str
    url: str | None
    usage: str | None = None


@dataclass(frozen=True, slots=True)
class NewContribution:
    """A contribution to store among many at once (an import), as ``add_contribution``
    stores one."""

    author_id: int
    collectivite_id: int
    kind: str
    title: str
    description: str
    answers: dict[str, Any]
    thematique: str
    confidence: float | None
    thematique_source: str
    created_at: datetime | None = None
    """When it was sent; None: the transaction's time."""
    reference: str | None = None
    """A free reference of its kind to give it; None: the next one."""


@dataclass(frozen=True, slots=True)
class ContributionView:
    """A contribution with its collectivité and author, for listings and exports, and the
    proposal triage grouped it into (its status, message and link are on the contribution)."""

    contribution: Contribution
    collectivite: Collectivite
    author: Agent
    proposal: Proposal | None = None


@dataclass(frozen=True, slots=True)
class ProposalRecord:
    """A proposal as listed: its text, its status and how many contributions it gathers."""

    id: int
    reference: str
    title: str
    description: str
    thematique: str
    status: str
    contributions: int
    collectivites: int
    merged_into: str | None = None  # the proposal it was merged into (status fusionnee)


@dataclass(frozen=True, slots=True)
class ProposalMember:
    """A contribution of a proposal, with its collectivité."""

    reference: str
    kind: str
    title: str
    collectivite_name: str
    collectivite_kind: str
    collectivite_code: str
    departement: str | None
    population: int | None


@dataclass(frozen=True, slots=True)
class ProposalDetail:
    """One proposal with its contributions (in reference order)."""

    proposal: ProposalRecord
    members: tuple[ProposalMember, ...]

    @property
    def collectivites(self) -> tuple[str, ...]:
        """The names of the collectivités behind it, each once, in order of appearance."""
        return tuple(dict.fromkeys(m.collectivite_name for m in self.members))


@dataclass(frozen=True, slots=True)
class Triage:
    """Where triage left a contribution (what its author will be told)."""

    reference: str
    status: str  # soumise, regroupee, reorientee, rejetee
    proposal: str | None  # the proposal's reference, when regroupee
    message: str | None  # the redirection message or the rejection reason
    url: str | None  # the service it was redirected to

    def as_dict(self) -> dict[str, str | None]:
        return {
            "status": self.status,
            "proposal": self.proposal,
            "message": self.message,
            "url": self.url,
        }


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the audit log."""

    id: int
    at: datetime
    actor: str
    action: str
    subject: str | None
    details: dict[str, Any]
