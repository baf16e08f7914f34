"""Database tables.

The schema covers the four phases: contributions (collecte), proposals grouping them and one
support per collectivité per proposal (vote), référent offers (territoires référents), and the
delivery log of every message the bot sends (replies and scheduled pushes). Changes go through
Alembic migrations in ``storage/migrations``; never edit an applied one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the offset)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(nullable: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_type=UTCDateTime, nullable=True)
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


def _json() -> Any:
    return Field(default_factory=dict, sa_type=sa.JSON, nullable=False)


def _one_of(column: str, values: tuple[str, ...], name: str) -> sa.CheckConstraint:
    listed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=name)


# Triage: a contribution is submitted, then grouped into a proposal, redirected to an existing
# programme or service (with a message, optionally a link), or rejected (with a reason).
CONTRIBUTION_STATUSES = ("soumise", "regroupee", "reorientee", "rejetee")
# A proposal is drafted, published (open to the vote when it starts), then selected or not;
# one merged into another keeps its row, marked ``fusionnee``, so the merge can be undone.
PROPOSAL_STATUSES = ("brouillon", "publiee", "retenue", "non_retenue", "fusionnee")
ELU_AGREEMENTS = ("oui", "non", "en_cours")
# A delivery waits (pending), then is sent, failed for good, blocked (the user blocked the
# bot) or, for a push whose moment passed, expired.
DELIVERY_STATUSES = ("pending", "sent", "failed", "blocked", "expired")


class Collectivite(SQLModel, table=True):
    """A collectivité that took part; created from the referential on first use."""

    __table_args__ = (sa.UniqueConstraint("kind", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # commune, epci, departement, region
    code: str = Field(max_length=16)  # INSEE code, or SIREN for an EPCI
    name: str = Field(max_length=200)
    departement: str | None = Field(default=None, max_length=3)
    siren: str | None = Field(default=None, max_length=9)
    population: int | None = None
    created_at: datetime = _ts()


class Agent(SQLModel, table=True):
    """One transport identity of an agent or élu; its profile and collectivité."""

    __table_args__ = (sa.UniqueConstraint("transport", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    transport: str = Field(max_length=16)
    user_id: str = Field(max_length=255)
    collectivite_id: int | None = Field(default=None, foreign_key="collectivite.id", index=True)
    profile: str | None = Field(default=None, max_length=16)  # elu, agent, partenaire
    fonction: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)  # private
    # private: the address the platform vouches for (a Tchap id encodes it), for the vote
    platform_email: str | None = Field(default=None, max_length=320)
    blocked_at: datetime | None = _ts(nullable=True)  # the user blocked the bot
    opted_out_at: datetime | None = _ts(nullable=True)  # the agent asked for no more pushes
    # personal data erased (at the agent's request, or after the retention period): the row
    # stays as the anonymous author of published contributions; no audience includes it
    erased_at: datetime | None = _ts(nullable=True)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class Contribution(SQLModel, table=True):
    """A need (besoin) or an existing service described during the collecte.

    Triage sets ``status``, ``proposal_id``, ``triage_message`` and ``triage_url`` only: what
    the agent wrote (and ``updated_at``, the time of their last edit) is never touched, so
    taking a contribution out of a proposal restores it exactly.
    """

    __table_args__ = (_one_of("status", CONTRIBUTION_STATUSES, "ck_contribution_status"),)

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=16, unique=True)  # B-0042, S-0017
    kind: str = Field(max_length=16, index=True)  # besoin, service
    title: str = Field(max_length=120)
    description: str = Field(max_length=4000)
    answers: dict[str, Any] = _json()  # the other fields of the form, by field name
    thematique: str = Field(max_length=64, index=True)
    thematique_confidence: float | None = None
    thematique_source: str = Field(default="agent", max_length=16)  # classifier, agent, admin
    status: str = Field(default="soumise", max_length=16, index=True)
    author_id: int = Field(foreign_key="agent.id", index=True)
    collectivite_id: int = Field(foreign_key="collectivite.id", index=True)
    proposal_id: int | None = Field(default=None, foreign_key="proposal.id", index=True)
    # the earlier contribution, from another collectivité, that the agent said is the same
    same_as_id: int | None = Field(default=None, foreign_key="contribution.id", index=True)
    # the redirection message (reorientee) or the rejection reason (rejetee), for the author
    triage_message: str | None = Field(default=None, max_length=2000)
    triage_url: str | None = Field(default=None, max_length=500)  # the service redirected to
    # the same-need index's precomputed entry (its content is the nlp package's business)
    index_entry: Any | None = Field(default=None, sa_type=sa.JSON(none_as_null=True), nullable=True)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class Proposal(SQLModel, table=True):
    """A proposal put to the vote, grouping one or more contributions."""

    __table_args__ = (_one_of("status", PROPOSAL_STATUSES, "ck_proposal_status"),)

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=16, unique=True)  # P-001
    title: str = Field(max_length=200)
    description: str = Field(max_length=4000)
    thematique: str = Field(max_length=64, index=True)
    status: str = Field(default="brouillon", max_length=16)  # PROPOSAL_STATUSES
    merged_into_id: int | None = Field(default=None, foreign_key="proposal.id")
    # the key a reviewed spreadsheet created it under (G-B-0012): a re-import finds it again
    draft_key: str | None = Field(default=None, max_length=64, unique=True, index=True)
    published_at: datetime | None = _ts(nullable=True)
    created_at: datetime = _ts()


class Support(SQLModel, table=True):
    """A collectivité supports (soutient) a proposal: one per collectivité per proposal.

    A withdrawn support keeps its row (who withdrew it, when); supporting again reuses it.
    ``verified``: whether the agent was vouched for when they gave it (validated e-mail
    domain, invitation code, or an administrator), kept as a record. Tallies and lists
    compute it again from the vouching tables, so a later vouch applies to earlier supports.
    """

    __table_args__ = (sa.UniqueConstraint("proposal_id", "collectivite_id"),)

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id")
    collectivite_id: int = Field(foreign_key="collectivite.id", index=True)
    agent_id: int = Field(foreign_key="agent.id")
    verified: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    created_at: datetime = _ts()
    withdrawn_at: datetime | None = _ts(nullable=True)
    withdrawn_by: str | None = Field(default=None, max_length=300)  # an actor, as in the audit


VOUCH_METHODS = ("code", "admin")


class VouchedDomain(SQLModel, table=True):
    """An e-mail domain an administrator validated for a collectivité.

    An agent of that collectivité whose platform address (the one a Tchap id reveals) is at
    the domain or one of its subdomains is vouched for. A domain may be validated for
    several collectivités (a ville and its agglomération often share their services).
    """

    __tablename__ = "vouched_domain"
    __table_args__ = (sa.UniqueConstraint("domain", "collectivite_id"),)

    id: int | None = Field(default=None, primary_key=True)
    domain: str = Field(max_length=253)  # lower case, no leading dot: vichy.fr
    collectivite_id: int = Field(foreign_key="collectivite.id", index=True)
    created_by: str = Field(max_length=300)  # an actor, as in the audit
    created_at: datetime = _ts()


class InvitationCode(SQLModel, table=True):
    """The invitation code of a collectivité, sent to it by the organisers: one each, reusable
    by all its agents (``ABCD-1234``)."""

    __tablename__ = "invitation_code"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True)
    collectivite_id: int = Field(foreign_key="collectivite.id", unique=True)
    created_by: str = Field(max_length=300)
    created_at: datetime = _ts()


class AgentVouch(SQLModel, table=True):
    """An agent vouched for as one of a collectivité's: by its invitation code, or by an
    administrator. Tied to the collectivité: an agent who changes theirs is not vouched for
    the new one."""

    __tablename__ = "agent_vouch"
    __table_args__ = (
        sa.UniqueConstraint("agent_id", "collectivite_id"),
        _one_of("method", VOUCH_METHODS, "ck_agent_vouch_method"),
    )

    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = Field(foreign_key="agent.id")
    collectivite_id: int = Field(foreign_key="collectivite.id", index=True)
    method: str = Field(max_length=16)  # VOUCH_METHODS
    created_by: str = Field(max_length=300)
    created_at: datetime = _ts()


class ReferentOffer(SQLModel, table=True):
    """A collectivité volunteers to co-build a selected service (territoire référent).

    One per collectivité per laureate; a withdrawn offer keeps its row and its reference
    (``V-0001``), and volunteering again reuses both.
    """

    __tablename__ = "referent_offer"
    __table_args__ = (
        sa.UniqueConstraint("proposal_id", "collectivite_id"),
        _one_of("elu_agreement", ELU_AGREEMENTS, "ck_referent_offer_elu_agreement"),
    )

    id: int | None = Field(default=None, primary_key=True)
    reference: str | None = Field(default=None, max_length=16, unique=True)  # V-0001
    proposal_id: int = Field(foreign_key="proposal.id")
    collectivite_id: int = Field(foreign_key="collectivite.id", index=True)
    agent_id: int = Field(foreign_key="agent.id")
    commitment: str | None = Field(default=None, max_length=4000)  # what the collectivité brings
    contact: str | None = Field(default=None, max_length=500)  # pre-filled from the profile
    elu_agreement: str | None = Field(default=None, max_length=16)  # ELU_AGREEMENTS
    created_at: datetime = _ts()
    withdrawn_at: datetime | None = _ts(nullable=True)


class ProposalFollow(SQLModel, table=True):
    """An agent's explicit choice about a laureate's news: ``suivre`` or ``ne plus suivre``.

    Contributors, supporters and volunteers follow a laureate without a row; a row with
    ``following`` False takes one of them out, a row with True adds anyone else.
    """

    __tablename__ = "proposal_follow"
    __table_args__ = (sa.UniqueConstraint("proposal_id", "agent_id"),)

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(foreign_key="proposal.id")
    agent_id: int = Field(foreign_key="agent.id", index=True)
    following: bool
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class Conversation(SQLModel, table=True):
    """The dialogue state of one (transport, chat, user); the source of truth between turns."""

    __table_args__ = (
        sa.UniqueConstraint("transport", "chat_id", "user_id"),
        sa.Index("ix_conversation_user", "transport", "user_id"),  # audiences
    )

    id: int | None = Field(default=None, primary_key=True)
    transport: str = Field(max_length=16)
    chat_id: str = Field(max_length=255)
    user_id: str = Field(max_length=255)
    state: dict[str, Any] = _json()
    turns: int = 0
    updated_at: datetime = _ts()


class InboundEvent(SQLModel, table=True):
    """Platform event ids already handled, so a redelivered event is never handled twice."""

    __tablename__ = "inbound_event"

    transport: str = Field(max_length=16, primary_key=True)
    event_id: str = Field(max_length=255, primary_key=True)
    received_at: datetime = _ts()


class Delivery(SQLModel, table=True):
    """An outgoing message: written in the turn's transaction, marked sent once delivered.

    ``campaign`` names a scheduled push (e.g. ``vote-opening``); with ``agent_id`` it is
    unique, so a push is never queued twice for the same agent. A push not sent by
    ``expires_at`` (on the bot's clock) is marked ``expired``: it no longer makes sense.
    """

    __table_args__ = (
        sa.UniqueConstraint("campaign", "agent_id"),
        sa.Index("ix_delivery_pending", "status", "transport", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    transport: str = Field(max_length=16)
    chat_id: str = Field(max_length=255)
    user_id: str = Field(max_length=255)
    agent_id: int | None = Field(default=None, foreign_key="agent.id")
    campaign: str | None = Field(default=None, max_length=64)
    payload: dict[str, Any] = _json()
    status: str = Field(default="pending", max_length=16)  # DELIVERY_STATUSES
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=1000)
    created_at: datetime = _ts()
    sent_at: datetime | None = _ts(nullable=True)
    claimed_at: datetime | None = _ts(nullable=True)  # PostgreSQL: a process is sending it
    claimed_by: int | None = None  # the server pid of that process's liveness connection
    # a push no longer sent from then (the end of its phase; docs/campagnes.md); replies: None
    expires_at: datetime | None = _ts(nullable=True)


class Campaign(SQLModel, table=True):
    """A scheduled announcement or an administrator's push, recorded once it is queued.

    The row is written in the transaction that queues the deliveries, so an announcement is
    queued exactly once, whatever restarts; ``status`` is ``queued`` or ``skipped`` (missed
    while the bot was down, and no longer meaningful).
    """

    id: str = Field(max_length=64, primary_key=True)
    phase: str | None = Field(default=None, max_length=16)
    kind: str = Field(max_length=16)  # ouverture, rappel, cloture, annonce
    audience: str = Field(max_length=32)
    status: str = Field(default="queued", max_length=16)
    recipients: int = 0
    note: str | None = Field(default=None, max_length=200)
    created_by: str | None = Field(default=None, max_length=300)
    created_at: datetime = _ts()


class Counter(SQLModel, table=True):
    """Named sequences for reference numbers (B-0042), safe across processes."""

    name: str = Field(max_length=32, primary_key=True)
    value: int = 0


class AuditLog(SQLModel, table=True):
    """Who did what, for administrators: contributions, profile changes, admin commands."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts()
    actor: str = Field(max_length=300)
    action: str = Field(max_length=64, index=True)
    subject: str | None = Field(default=None, max_length=64)
    details: dict[str, Any] = _json()


class PlatformMessage(SQLModel, table=True):
    """A message the bot sent that users can act on later (a poll, a keyboard).

    Maps the platform's id (Telegram poll id, Matrix event id) to the core's reference (the
    core's poll id, a question token), so that answers still resolve after a restart.
    """

    __tablename__ = "platform_message"
    __table_args__ = (
        sa.UniqueConstraint("transport", "platform_id"),
        sa.Index("ix_platform_message_ref", "transport", "chat_id", "core_ref"),
    )

    id: int | None = Field(default=None, primary_key=True)
    transport: str = Field(max_length=16)
    chat_id: str = Field(max_length=255)
    platform_id: str = Field(max_length=255)
    kind: str = Field(max_length=16)  # poll, choices
    core_ref: str = Field(max_length=255)
    data: dict[str, Any] = _json()
    created_at: datetime = _ts()
    closed_at: datetime | None = _ts(nullable=True)
