"""An agent's rights over their personal data: see it all, have it erased.

Functions over an open transaction (:class:`storage.store.Tx`), in SQLAlchemy Core on the
tables of :mod:`storage.models`. An agent is one transport identity (transport, user id).

What is personal, table by table, and what erasure does with it:

- ``agent``: the platform id (a Tchap id holds an e-mail address), e-mail, platform e-mail,
  fonction and profile. Erasure blanks them and replaces the platform id by ``erased:<id>``;
  the row stays, as the anonymous author of the published contributions, and ``erased_at``
  keeps it out of every audience.
- ``contribution``, ``support``, ``referent_offer``: acts of the collectivité, published;
  they stay, pointing at the anonymous row. An engagement's ``contact`` (pre-filled from the
  profile's e-mail) is blanked: the team must find the collectivité's contact another way.
- ``conversation``: the dialogue state (a draft, profile answers); deleted.
- ``delivery``: the messages sent or waiting to be sent to the agent; deleted (the pushes
  not yet sent with them). Apart from any erasure, a message delivered (or given up) more
  than ``RECUEIL_DELIVERY_RETENTION_DAYS`` days ago loses its text (:func:`purge_delivered`),
  and a changed or removed e-mail address is blanked from the messages already delivered
  (:func:`forget_address`).
- ``platform_message``: the polls and keyboards shown in the agent's chats; deleted.
- ``audit_log``: the acts stay, with the platform id replaced by the anonymous one; so do
  the other columns that name an actor (:data:`ACTOR_COLUMNS`: a withdrawn support, a
  vouching by invitation code, what an administrator created).
- The messages to others (an administrator's ``!volontaires``) that quote the agent's
  e-mail addresses or engagement contact: blanked once delivered, as :func:`forget_address`
  does for the agent's own; still pending (the administrator's messaging was down), the
  quoted value is replaced in their text by the words the caller gives (« effacé… »), so
  the rest of the reply still goes out.
- Files written for the agent outside the database (the terminal saves « mes données »
  in the data folder) are the bot's to delete (:mod:`bot.app.privacy`).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from storage.models import (
    AgentVouch,
    Campaign,
    InvitationCode,
    PlatformMessage,
    ProposalFollow,
    ReferentOffer,
    Support,
    VouchedDomain,
)
from storage.statements import (
    agents,
    audit,
    collectivites,
    contributions,
    conversations,
    deliveries,
)

if TYPE_CHECKING:
    from storage.store import Tx

supports: sa.Table = Support.__table__  # type: ignore[attr-defined]
referent_offers: sa.Table = ReferentOffer.__table__  # type: ignore[attr-defined]
platform_messages: sa.Table = PlatformMessage.__table__  # type: ignore[attr-defined]
agent_vouches: sa.Table = AgentVouch.__table__  # type: ignore[attr-defined]
follows: sa.Table = ProposalFollow.__table__  # type: ignore[attr-defined]
campaigns: sa.Table = Campaign.__table__  # type: ignore[attr-defined]
invitation_codes: sa.Table = InvitationCode.__table__  # type: ignore[attr-defined]
vouched_domains: sa.Table = VouchedDomain.__table__  # type: ignore[attr-defined]
ACTOR_COLUMNS: tuple[sa.Column[Any], ...] = (
    audit.c.actor,
    supports.c.withdrawn_by,
    agent_vouches.c.created_by,
    vouched_domains.c.created_by,
    invitation_codes.c.created_by,
    campaigns.c.created_by,
)
"""Every column naming an actor (``transport:user id``, as in the audit): erasure replaces
the agent's by the anonymous one."""
EXPORTED_TABLES: dict[str, sa.Table] = {
    "agent": agents,
    "collectivite": collectivites,
    "contribution": contributions,
    "support": supports,
    "referent_offer": referent_offers,
    "agent_vouch": agent_vouches,
    "proposal_follow": follows,
    "conversation": conversations,
    "delivery": deliveries,
    "platform_message": platform_messages,
    "audit_log": audit,
}
"""The sections of :func:`agent_data` (besides ``exported_at``), each with its table: its
rows show every column of it, under the column's name."""
ERASED_PREFIX = "erased:"
EXPORT_TEXT_LIMIT = 1000
"""Longer message texts are cut in the export: an earlier export sent as text would
otherwise be copied whole into every later one."""

PURGED_PAYLOAD: dict[str, Any] = {"purged": True}
"""What a delivered message's payload becomes once its retention is over."""

REACHABLE = sa.and_(agents.c.erased_at.is_(None), agents.c.blocked_at.is_(None))
"""The agents a push may address: not erased, not blocked. Every audience query uses it."""


def _value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _rows(result: Iterable[sa.Row[Any]]) -> list[dict[str, Any]]:
    return [{key: _value(value) for key, value in row._mapping.items()} for row in result]


def _exported_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """A delivery's payload as the export shows it: files by size, long texts cut."""
    shown = dict(payload)
    if "content" in shown:
        shown["content"] = f"({len(base64.b64decode(shown['content']))} octets)"
    text = shown.get("text")
    if isinstance(text, str) and len(text) > EXPORT_TEXT_LIMIT:
        shown["text"] = text[:EXPORT_TEXT_LIMIT] + "…"
    return shown


def agent_id_of(tx: Tx, transport: str, user_id: str) -> int | None:
    found = tx.connection.execute(
        sa.select(agents.c.id).where(agents.c.transport == transport, agents.c.user_id == user_id)
    ).scalar_one_or_none()
    return int(found) if found is not None else None


def _chats_of(tx: Tx, transport: str, user_id: str) -> list[str]:
    statement = sa.select(conversations.c.chat_id).where(
        conversations.c.transport == transport, conversations.c.user_id == user_id
    )
    return [str(chat) for chat in tx.connection.execute(statement).scalars()]


def agent_data(tx: Tx, transport: str, user_id: str, *, now: datetime) -> dict[str, Any]:
    """Everything stored about the agent, table by table, as JSON-ready values.

    Keys are ``exported_at`` and those of :data:`EXPORTED_TABLES`; each row keeps every
    column, by its name. Message payloads are shown with files by their size and long texts
    cut (:data:`EXPORT_TEXT_LIMIT`). What the agent reads, in French, is the bot's
    business (:mod:`bot.consultation.personal_data`).
    """
    connection = tx.connection
    agent_id = agent_id_of(tx, transport, user_id)
    agent = _rows(connection.execute(sa.select(agents).where(agents.c.id == agent_id)))
    collectivite: list[dict[str, Any]] = []
    if agent and agent[0]["collectivite_id"] is not None:
        collectivite = _rows(
            connection.execute(
                sa.select(collectivites).where(collectivites.c.id == agent[0]["collectivite_id"])
            )
        )
    chats = _chats_of(tx, transport, user_id)
    by_agent = sa.literal(False) if agent_id is None else deliveries.c.agent_id == agent_id
    sent = _rows(
        connection.execute(
            sa.select(deliveries)
            .where(
                sa.or_(
                    sa.and_(deliveries.c.transport == transport, deliveries.c.user_id == user_id),
                    by_agent,
                )
            )
            .order_by(deliveries.c.id)
        )
    )
    for row in sent:
        row["payload"] = _exported_payload(row["payload"])
    return {
        "exported_at": now.isoformat(),
        "agent": agent[0] if agent else None,
        "collectivite": collectivite[0] if collectivite else None,
        "contribution": _rows(
            connection.execute(
                sa.select(contributions)
                .where(contributions.c.author_id == agent_id)
                .order_by(contributions.c.id)
            )
        ),
        "support": _rows(
            connection.execute(
                sa.select(supports).where(supports.c.agent_id == agent_id).order_by(supports.c.id)
            )
        ),
        "referent_offer": _rows(
            connection.execute(
                sa.select(referent_offers)
                .where(referent_offers.c.agent_id == agent_id)
                .order_by(referent_offers.c.id)
            )
        ),
        "agent_vouch": _rows(
            connection.execute(sa.select(agent_vouches).where(agent_vouches.c.agent_id == agent_id))
        ),
        "proposal_follow": _rows(
            connection.execute(sa.select(follows).where(follows.c.agent_id == agent_id))
        ),
        "conversation": _rows(
            connection.execute(
                sa.select(conversations).where(
                    conversations.c.transport == transport, conversations.c.user_id == user_id
                )
            )
        ),
        "delivery": sent,
        "platform_message": _rows(
            connection.execute(
                sa.select(platform_messages)
                .where(
                    platform_messages.c.transport == transport,
                    platform_messages.c.chat_id.in_(chats),
                )
                .order_by(platform_messages.c.id)
            )
        ),
        "audit_log": _rows(
            connection.execute(
                sa.select(audit)
                .where(audit.c.actor == f"{transport}:{user_id}")
                .order_by(audit.c.id)
            )
        ),
    }


def erase_agent(
    tx: Tx, transport: str, user_id: str, *, quoted_as: str, now: datetime | None = None
) -> int | None:
    """Erase the personal data of one transport identity; the id of its anonymous row.

    Published contributions, supports and référent offers stay, attributed to the
    collectivité through the anonymous row; an offer loses its contact. Every message to
    the agent goes, sent or pending (pushes included); the messages to others that quote
    their addresses or contact are blanked, or, not yet sent, say ``quoted_as`` in their
    place. The audit log keeps the acts under the anonymous name and records the erasure
    itself, without any data. None: no agent row existed (a conversation that never
    finished the profile), its conversation is erased all the same.
    """
    now = now or tx.now
    connection = tx.connection
    agent_id = agent_id_of(tx, transport, user_id)
    chats = _chats_of(tx, transport, user_id)
    anonymous = f"{ERASED_PREFIX}{agent_id}" if agent_id is not None else ERASED_PREFIX.rstrip(":")
    connection.execute(
        sa.delete(conversations).where(
            conversations.c.transport == transport, conversations.c.user_id == user_id
        )
    )
    addressed = sa.and_(deliveries.c.transport == transport, deliveries.c.user_id == user_id)
    if agent_id is not None:
        addressed = sa.or_(addressed, deliveries.c.agent_id == agent_id)
    connection.execute(sa.delete(deliveries).where(addressed))
    if chats:
        connection.execute(
            sa.delete(platform_messages).where(
                platform_messages.c.transport == transport, platform_messages.c.chat_id.in_(chats)
            )
        )
    for column in ACTOR_COLUMNS:
        connection.execute(
            sa.update(column.table)
            .where(column == f"{transport}:{user_id}")
            .values({column.name: f"{transport}:{anonymous}"})
        )
    if agent_id is not None:
        quoted = _addresses_of(tx, agent_id)
        connection.execute(
            sa.update(referent_offers)
            .where(referent_offers.c.agent_id == agent_id)
            .values(contact=None)
        )
        _forget_quoted(connection, quoted, quoted_as)
        connection.execute(
            sa.update(agents)
            .where(agents.c.id == agent_id)
            .values(
                user_id=anonymous,
                profile=None,
                fonction=None,
                email=None,
                platform_email=None,
                erased_at=now,
                updated_at=now,
            )
        )
    tx.audit(
        f"{transport}:{anonymous}",
        "privacy.erased",
        subject=f"agent:{agent_id}" if agent_id is not None else None,
    )
    return agent_id


def _addresses_of(tx: Tx, agent_id: int) -> set[str]:
    """The agent's e-mail addresses and engagement contacts: what others' messages may quote."""
    connection = tx.connection
    found = connection.execute(
        sa.select(agents.c.email, agents.c.platform_email).where(agents.c.id == agent_id)
    ).one()
    contacts = connection.execute(
        sa.select(referent_offers.c.contact).where(referent_offers.c.agent_id == agent_id)
    ).scalars()
    return {value.strip() for value in (*found, *contacts) if value and value.strip()}


def _forget_quoted(connection: sa.Connection, quoted: Iterable[str], quoted_as: str) -> int:
    """Forget ``quoted`` in the messages to anyone: an administrator's ``!volontaires``
    showed an engagement's contact. A message delivered is blanked; one still pending has
    each quoted value replaced by ``quoted_as``, and goes out so. The payload's JSON text is
    searched first (by the database), then each candidate's values. Returns how many."""
    changed = 0
    for text in quoted:
        escaped = json.dumps(text.lower())[1:-1]  # as the payload's JSON text holds it
        candidates = connection.execute(
            sa.select(deliveries.c.id, deliveries.c.status, deliveries.c.payload).where(
                sa.func.lower(sa.cast(deliveries.c.payload, sa.Text)).contains(
                    escaped, autoescape=True
                ),
            )
        ).all()
        quoting = [row for row in candidates if _holds(row.payload, text)]
        delivered = [row.id for row in quoting if row.status != "pending"]
        if delivered:
            connection.execute(
                sa.update(deliveries)
                .where(deliveries.c.id.in_(delivered))
                .values(payload=PURGED_PAYLOAD)
            )
        for row in quoting:
            if row.status == "pending":
                connection.execute(
                    sa.update(deliveries)
                    .where(deliveries.c.id == row.id)
                    .values(payload=_replaced(row.payload, text, quoted_as))
                )
        changed += len(quoting)
    return changed


def _replaced(payload: Any, text: str, replacement: str) -> Any:
    """``payload`` with every occurrence of ``text`` in its strings (any case) replaced."""
    if isinstance(payload, str):
        return re.sub(re.escape(text), lambda _found: replacement, payload, flags=re.IGNORECASE)
    if isinstance(payload, dict):
        return {key: _replaced(value, text, replacement) for key, value in payload.items()}
    if isinstance(payload, list):
        return [_replaced(value, text, replacement) for value in payload]
    return payload


def forget_sent(tx: Tx, transport: str, chat_id: str, user_id: str) -> int:
    """Delete the messages already delivered to a conversation (the erasure's own notice)."""
    result = tx.connection.execute(
        sa.delete(deliveries).where(
            deliveries.c.transport == transport,
            deliveries.c.chat_id == chat_id,
            deliveries.c.user_id == user_id,
            deliveries.c.status == "sent",
        )
    )
    return int(result.rowcount or 0)


def last_activity(tx: Tx) -> dict[tuple[str, str], datetime]:
    """When each identity that still has personal data was last active.

    An agent's last activity is its profile's last change or its conversations' last turn;
    a conversation without an agent (a profile never finished) counts as well.
    """
    latest: dict[tuple[str, str], datetime] = {}

    def see(transport: str, user_id: str, at: datetime | None) -> None:
        known = latest.get((transport, user_id))
        if at is not None and (known is None or at > known):
            latest[(transport, user_id)] = at

    living = sa.select(agents.c.transport, agents.c.user_id, agents.c.updated_at).where(
        agents.c.erased_at.is_(None)
    )
    for transport, user_id, at in tx.connection.execute(living):
        see(transport, user_id, at)
    talked = sa.select(
        conversations.c.transport,
        conversations.c.user_id,
        sa.func.max(conversations.c.updated_at),
    ).group_by(conversations.c.transport, conversations.c.user_id)
    for transport, user_id, at in tx.connection.execute(talked):
        see(transport, user_id, at)
    return latest


def erase_inactive(
    tx: Tx, *, inactive_since: datetime, quoted_as: str, now: datetime | None = None
) -> list[tuple[str, str]]:
    """Erase every identity not active since ``inactive_since`` (as :func:`erase_agent`);
    the (transport, user id) of each one erased."""
    stale = [ident for ident, at in last_activity(tx).items() if at < inactive_since]
    for transport, user_id in stale:
        erase_agent(tx, transport, user_id, quoted_as=quoted_as, now=now)
    return stale


def _blanked(payload: Any) -> sa.ColumnElement[bool]:
    """Not yet purged: the payload's JSON text differs from the purged one (the same text on
    SQLite and PostgreSQL, both store what SQLAlchemy serialised)."""
    return sa.cast(payload, sa.Text) != sa.cast(sa.literal(PURGED_PAYLOAD, sa.JSON), sa.Text)


def purge_delivered(tx: Tx, *, before: datetime) -> tuple[int, int]:
    """Forget the messages delivered, failed or refused before ``before``.

    A reply is deleted. A campaign's row stays, its payload replaced by
    :data:`PURGED_PAYLOAD`: the row is what keeps a push from being queued twice for the
    same agent, and what the campaign's progress counts. Returns (deleted, blanked).
    """
    connection = tx.connection
    done = sa.and_(
        deliveries.c.status != "pending",
        sa.func.coalesce(deliveries.c.sent_at, deliveries.c.created_at) < before,
    )
    deleted = connection.execute(
        sa.delete(deliveries).where(done, deliveries.c.campaign.is_(None))
    ).rowcount
    blanked = connection.execute(
        sa.update(deliveries)
        .where(done, deliveries.c.campaign.is_not(None), _blanked(deliveries.c.payload))
        .values(payload=PURGED_PAYLOAD)
    ).rowcount
    return int(deleted or 0), int(blanked or 0)


def _holds(payload: Any, text: str) -> bool:
    if isinstance(payload, str):
        return text.lower() in payload.lower()
    if isinstance(payload, dict):
        return any(_holds(value, text) for value in payload.values())
    if isinstance(payload, list):
        return any(_holds(value, text) for value in payload)
    return False


def forget_address(connection: sa.Connection, agent_id: int, address: str) -> int:
    """Blank the messages already delivered to the agent that quote ``address``.

    Called when the agent changes or removes an e-mail address: the profile summaries and
    confirmations sent before would otherwise keep the old one. Pending messages are left
    to go out (they are the agent's own replies). Returns how many were blanked.
    """
    delivered = connection.execute(
        sa.select(deliveries.c.id, deliveries.c.payload).where(
            deliveries.c.agent_id == agent_id, deliveries.c.status != "pending"
        )
    ).all()
    quoting = [row.id for row in delivered if _holds(row.payload, address)]
    if quoting:
        connection.execute(
            sa.update(deliveries).where(deliveries.c.id.in_(quoting)).values(payload=PURGED_PAYLOAD)
        )
    return len(quoting)
