"""Campaigns (scheduled announcements and administrators' pushes) and their audiences.

An audience is a named query over the agents: who hears a campaign. Some take a laureate's
reference after a colon (``laureat:P-012``, ``volontaires:P-012``, ``suiveurs:P-012``).
Every audience leaves out agents without a profile, those who opted out (``stop``) and those
who blocked the bot; each agent is reached in their most recent conversation on the
transport they use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from storage.keys import ConversationKey
from storage.models import (
    DELIVERY_STATUSES,
    Agent,
    Campaign,
    Contribution,
    ProposalFollow,
    ReferentOffer,
    Support,
)
from storage.ops.base import proposal_reference
from storage.statements import agents, conversations, deliveries, proposals

if TYPE_CHECKING:
    from storage.store import Tx

campaigns = Campaign.__table__  # type: ignore[attr-defined]
contributions = Contribution.__table__  # type: ignore[attr-defined]
supports = Support.__table__  # type: ignore[attr-defined]
offers = ReferentOffer.__table__  # type: ignore[attr-defined]
follows = ProposalFollow.__table__  # type: ignore[attr-defined]

VOTERS = ("elu", "agent")
"""Who may support a proposal: élus and agents of a collectivité (partners may not)."""


@dataclass(frozen=True, slots=True)
class Recipient:
    key: ConversationKey
    agent_id: int


@dataclass(frozen=True, slots=True)
class CampaignProgress:
    id: str
    kind: str
    audience: str
    status: str
    recipients: int
    pending: int
    sent: int
    failed: int
    blocked: int
    expired: int
    erased: int = 0
    """Recipients whose deliveries an erasure deleted (storage.privacy): the recipients not
    counted by any status."""


def _with_profile() -> sa.ColumnElement[bool]:
    return sa.and_(
        agents.c.profile.is_not(None),
        agents.c.opted_out_at.is_(None),
        agents.c.blocked_at.is_(None),
        agents.c.erased_at.is_(None),  # storage.privacy: no push reaches an erased agent
    )


def _contributors() -> sa.ColumnElement[bool]:
    return agents.c.id.in_(sa.select(contributions.c.author_id))


def _supporters() -> sa.ColumnElement[bool]:
    standing = supports.c.withdrawn_at.is_(None)
    return agents.c.collectivite_id.in_(sa.select(supports.c.collectivite_id).where(standing))


def _volunteers() -> sa.ColumnElement[bool]:
    standing = offers.c.withdrawn_at.is_(None)
    return agents.c.collectivite_id.in_(sa.select(offers.c.collectivite_id).where(standing))


def _voters() -> sa.ColumnElement[bool]:
    return agents.c.profile.in_(VOTERS)


def _explicit(following: bool, proposal_id: Any = None) -> sa.ColumnElement[bool]:
    """Agents who typed ``suivre`` (or ``ne plus suivre``), of one laureate or of any."""
    chosen = sa.select(follows.c.agent_id).where(follows.c.following.is_(following))
    if proposal_id is not None:
        chosen = chosen.where(follows.c.proposal_id == proposal_id)
    return agents.c.id.in_(chosen)


AUDIENCES: dict[str, Callable[[], sa.ColumnElement[bool]]] = {
    "agents": lambda: sa.true(),
    "votants": _voters,
    "contributeurs": _contributors,
    "sans_soutien": lambda: sa.and_(_voters(), sa.not_(_supporters())),
    "participants_vote": _supporters,
    "volontaires": _volunteers,
    "suiveurs": lambda: sa.or_(_contributors(), _supporters(), _volunteers(), _explicit(True)),
}
"""Every audience by name (``config/audiences.py`` lists the names); the calendar and
``!annoncer`` name them (docs/campagnes.md)."""


def _proposal_id(reference: str) -> Any:
    return (
        sa.select(proposals.c.id)
        .where(proposals.c.reference == proposal_reference(reference))
        .scalar_subquery()
    )


def _contributors_of(proposal_id: Any) -> sa.ColumnElement[bool]:
    authors = sa.select(contributions.c.author_id).where(contributions.c.proposal_id == proposal_id)
    return agents.c.id.in_(authors)


def _supporters_of(proposal_id: Any) -> sa.ColumnElement[bool]:
    standing = sa.and_(supports.c.withdrawn_at.is_(None), supports.c.proposal_id == proposal_id)
    return agents.c.collectivite_id.in_(sa.select(supports.c.collectivite_id).where(standing))


def _volunteers_of(proposal_id: Any) -> sa.ColumnElement[bool]:
    standing = sa.and_(offers.c.withdrawn_at.is_(None), offers.c.proposal_id == proposal_id)
    return agents.c.collectivite_id.in_(sa.select(offers.c.collectivite_id).where(standing))


def _laureate_call(proposal_id: Any) -> sa.ColumnElement[bool]:
    return sa.or_(_contributors_of(proposal_id), _supporters_of(proposal_id))


def followers_of(proposal_id: Any) -> sa.ColumnElement[bool]:
    """Contributors, supporters and volunteers, and who typed ``suivre``; minus who typed
    ``ne plus suivre``."""
    automatic = sa.or_(
        _contributors_of(proposal_id),
        _supporters_of(proposal_id),
        _volunteers_of(proposal_id),
        _explicit(True, proposal_id),
    )
    return sa.and_(automatic, sa.not_(_explicit(False, proposal_id)))


PER_LAUREATE: dict[str, Callable[[Any], sa.ColumnElement[bool]]] = {
    "laureat": _laureate_call,
    "volontaires": _volunteers_of,
    "suiveurs": followers_of,
}
"""Audiences of one laureate, named with its reference: ``suiveurs:P-012``. Contributors are
the authors of its contributions; supporters, volunteers are the agents of the collectivités
whose support or offer stands (as in the audiences above)."""


def audience_condition(audience: str) -> sa.ColumnElement[bool]:
    """The condition on agents of a named audience (``KeyError`` for an unknown name)."""
    name, colon, reference = audience.partition(":")
    if colon:
        return PER_LAUREATE[name](_proposal_id(reference))
    return AUDIENCES[name]()


def recipients(tx: Tx, audience: str) -> list[Recipient]:
    """The agents an audience reaches, each in their latest conversation, by agent id."""
    condition = audience_condition(audience)
    statement = (
        sa.select(
            agents.c.id,
            conversations.c.transport,
            conversations.c.chat_id,
            conversations.c.user_id,
            conversations.c.id.label("conversation_id"),
        )
        .join(
            conversations,
            sa.and_(
                conversations.c.transport == agents.c.transport,
                conversations.c.user_id == agents.c.user_id,
            ),
        )
        .where(_with_profile(), condition)
    )
    # A plain join (hash-joined by both backends) and the latest conversation kept here: a
    # "latest per user" subquery made PostgreSQL loop for minutes over 35,000 agents.
    latest: dict[int, tuple[int, ConversationKey]] = {}
    for row in tx.connection.execute(statement):
        known = latest.get(row.id)
        if known is None or row.conversation_id > known[0]:
            key = ConversationKey(row.transport, row.chat_id, row.user_id)
            latest[row.id] = (row.conversation_id, key)
    return [Recipient(key, agent_id) for agent_id, (_, key) in sorted(latest.items())]


def claim(
    tx: Tx,
    campaign_id: str,
    *,
    kind: str,
    audience: str,
    phase: str | None = None,
    status: str = "queued",
    note: str | None = None,
    created_by: str | None = None,
) -> bool:
    """Record a campaign; False if it was already recorded (it must not run again)."""
    values = {
        "id": campaign_id,
        "phase": phase,
        "kind": kind,
        "audience": audience,
        "status": status,
        "recipients": 0,
        "note": note,
        "created_by": created_by,
        "created_at": tx.now,
    }
    return tx._insert_ignore(Campaign, values) == 1


def set_recipients(tx: Tx, campaign_id: str, count: int) -> None:
    tx.connection.execute(
        campaigns.update().where(campaigns.c.id == campaign_id).values(recipients=count)
    )


def recorded(tx: Tx) -> set[str]:
    return set(tx.connection.execute(sa.select(campaigns.c.id)).scalars())


def progress(tx: Tx) -> list[CampaignProgress]:
    """Every campaign with its deliveries by status (a push's rows are ``<id>#<n>``)."""
    rows = tx.connection.execute(sa.select(campaigns).order_by(campaigns.c.created_at)).all()
    counts: dict[tuple[str, str], int] = {}
    # A push whose moment passed is expired, even before the redelivery sweeps it (the bot
    # stopped, or its transport down): ``recueil campagnes`` must not promise it.
    status = sa.case(
        (
            sa.and_(deliveries.c.status == "pending", deliveries.c.expires_at <= tx.now),
            sa.literal("expired"),
        ),
        else_=deliveries.c.status,
    ).label("status")
    tally = (
        sa.select(deliveries.c.campaign, status, sa.func.count().label("n"))
        .where(deliveries.c.campaign.is_not(None))
        .group_by(deliveries.c.campaign, status)
    )
    for campaign, status, n in tx.connection.execute(tally):
        base = str(campaign).split("#", 1)[0]
        counts[(base, status)] = counts.get((base, status), 0) + int(n)
    # The agents still holding the campaign's rows: each message of a push (``<id>#<n>``)
    # went to every recipient, and an erasure deletes all of an agent's rows.
    reached = (
        sa.select(deliveries.c.campaign, sa.func.count(sa.distinct(deliveries.c.agent_id)))
        .where(deliveries.c.campaign.is_not(None))
        .group_by(deliveries.c.campaign)
    )
    held: dict[str, int] = {}
    for campaign, n in tx.connection.execute(reached):
        base = str(campaign).split("#", 1)[0]
        held[base] = max(held.get(base, 0), int(n))
    return [
        CampaignProgress(
            row.id,
            row.kind,
            row.audience,
            row.status,
            row.recipients,
            **{s: counts.get((row.id, s), 0) for s in DELIVERY_STATUSES},
            erased=max(0, row.recipients - held.get(row.id, 0)),
        )
        for row in rows
    ]


def set_opted_out(tx: Tx, agent_id: int, opted_out: bool) -> None:
    """``stop`` (no more pushes) or ``reprendre les annonces``; replies to the agent are never
    affected."""
    tx.connection.execute(
        sa.update(Agent)
        .where(Agent.id == agent_id)  # type: ignore[arg-type]
        .values(opted_out_at=tx.now if opted_out else None)
    )


def is_opted_out(tx: Tx, agent_id: int) -> bool:
    found = tx.connection.execute(
        sa.select(agents.c.opted_out_at).where(agents.c.id == agent_id)
    ).scalar_one_or_none()
    return found is not None
