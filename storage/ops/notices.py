"""What the contributors are told once proposals are published: each contribution's fate
(the published proposal it joined, its redirection, its rejection), and the fates already told.

A fate told is written in the audit log (``contribution.notified``, with the campaign), so a
publication tells each contributor only what changed since they were last told.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from storage import statements as sql
from storage.campaigns import Recipient
from storage.keys import ConversationKey
from storage.ops.audit import AuditOps

NOTIFIED = "contribution.notified"
PUBLISHED = ("publiee", "retenue", "non_retenue")

_c = sql.contributions.c
_p = sql.proposals.c
_k = sql.collectivites.c
_a = sql.audit.c
_g = sql.agents.c
_v = sql.conversations.c


@dataclass(frozen=True, slots=True)
class Fate:
    """Where triage left a contribution, as its author will be told."""

    reference: str
    title: str
    author_id: int
    collectivite_id: int
    status: str
    proposal_id: int | None
    proposal: str | None
    proposal_title: str | None
    proposal_description: str | None
    message: str | None
    url: str | None

    @property
    def told(self) -> dict[str, Any]:
        """What the audit keeps of a fate told: a new one differs from it."""
        return {
            "status": self.status,
            "proposal": self.proposal,
            "message": self.message,
            "url": self.url,
        }


class NoticeOps(AuditOps):
    def fates_to_tell(self) -> list[Fate]:
        """Contributions in a published proposal, redirected or rejected, by id."""
        statement = (
            sa.select(
                _c.reference,
                _c.title,
                _c.author_id,
                _c.collectivite_id,
                _c.status,
                _c.proposal_id,
                _p.reference,
                _p.title,
                _p.description,
                _c.triage_message,
                _c.triage_url,
            )
            .select_from(sql.contributions.outerjoin(sql.proposals, _p.id == _c.proposal_id))
            .where(
                sa.or_(
                    sa.and_(_c.status == "regroupee", _p.status.in_(PUBLISHED)),
                    _c.status.in_(("reorientee", "rejetee")),
                )
            )
            .order_by(_c.id)
        )
        return [Fate(*row) for row in self.connection.execute(statement)]

    def fates_told(self) -> dict[str, dict[str, Any]]:
        """The last fate told of each contribution, by reference."""
        statement = sa.select(_a.subject, _a.details).where(_a.action == NOTIFIED).order_by(_a.id)
        told = {}
        for subject, details in self.connection.execute(statement):
            after = dict((details or {}).get("after") or {})
            after.pop("campaign", None)
            told[subject] = after
        return told

    def collectivites_of(self, proposal_ids: list[int]) -> dict[int, list[tuple[int, str]]]:
        """Each proposal's collectivités (id, name), each once, in order of contribution."""
        found: dict[int, list[tuple[int, str]]] = {}
        if not proposal_ids:
            return found
        statement = (
            sa.select(_c.proposal_id, _k.id, _k.name)
            .join(sql.collectivites, _k.id == _c.collectivite_id)
            .where(_c.proposal_id.in_(proposal_ids))
            .order_by(_c.id)
        )
        for proposal_id, collectivite_id, name in self.connection.execute(statement):
            places = found.setdefault(proposal_id, [])
            if (collectivite_id, name) not in places:
                places.append((collectivite_id, name))
        return found

    def record_told(self, actor: str, campaign: str, fates: list[Fate]) -> None:
        self.audit_changes(
            actor, NOTIFIED, [(f.reference, None, {**f.told, "campaign": campaign}) for f in fates]
        )

    def reachable(self, agent_ids: set[int]) -> list[Recipient]:
        """Those of ``agent_ids`` a push reaches, as ``storage.campaigns.recipients`` says
        (a profile, no ``stop``, not blocked; their latest conversation), by agent id.

        Two plain reads joined here: the audience query's join on the latest conversation
        takes seconds on SQLite at 2,500 agents (docs/benchmarks.md)."""
        agents = {
            (row.transport, row.user_id): row.id
            for row in self.connection.execute(
                sa.select(_g.id, _g.transport, _g.user_id).where(
                    _g.profile.is_not(None), _g.opted_out_at.is_(None), _g.blocked_at.is_(None)
                )
            )
            if row.id in agent_ids
        }
        latest: dict[int, ConversationKey] = {}
        statement = sa.select(_v.transport, _v.chat_id, _v.user_id).order_by(_v.id)
        for transport, chat_id, user_id in self.connection.execute(statement):
            agent_id = agents.get((transport, user_id))
            if agent_id is not None:
                latest[agent_id] = ConversationKey(transport, chat_id, user_id)
        return [Recipient(latest[i], i) for i in sorted(latest)]
