"""The SQL of the hot path, built once so that SQLAlchemy reuses its compiled form.

Tables are taken from the SQLModel models; every statement takes bind parameters.
"""

from __future__ import annotations

import functools
from typing import Any

import sqlalchemy as sa

from storage.models import (
    Agent,
    AuditLog,
    Collectivite,
    Contribution,
    Conversation,
    Counter,
    Delivery,
    InboundEvent,
    Proposal,
    Support,
)

conversations = Conversation.__table__  # type: ignore[attr-defined]
deliveries = Delivery.__table__  # type: ignore[attr-defined]
agents = Agent.__table__  # type: ignore[attr-defined]
events = InboundEvent.__table__  # type: ignore[attr-defined]

# The statements of a dialogue turn, built once: SQLAlchemy then reuses their compiled form.
# One statement reads what a turn needs: the state, the agent, whether replies still wait.
SELECT_CONVERSATION = (
    sa.select(
        conversations.c.id,
        conversations.c.state,
        conversations.c.turns,
        sa.exists()
        .where(
            deliveries.c.status == "pending",
            deliveries.c.transport == conversations.c.transport,
            deliveries.c.chat_id == conversations.c.chat_id,
            deliveries.c.user_id == conversations.c.user_id,
        )
        .label("has_pending"),
        agents.c.id.label("agent_id"),
        agents.c.transport.label("agent_transport"),
        agents.c.user_id.label("agent_user_id"),
        agents.c.collectivite_id,
        agents.c.profile,
        agents.c.fonction,
        agents.c.email,
    )
    .select_from(
        conversations.outerjoin(
            agents,
            sa.and_(
                agents.c.transport == conversations.c.transport,
                agents.c.user_id == conversations.c.user_id,
            ),
        )
    )
    .where(
        conversations.c.transport == sa.bindparam("transport"),
        conversations.c.chat_id == sa.bindparam("chat_id"),
        conversations.c.user_id == sa.bindparam("user_id"),
    )
    .with_for_update(of=conversations)
)
# PostgreSQL: one transaction at a time per conversation, across processes (ConversationOps).
LOCK_CONVERSATION = sa.text(
    "SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || :key, 0))"
)
UPDATE_CONVERSATION = (
    conversations.update()
    .where(conversations.c.id == sa.bindparam("conversation_id"))
    .values(
        state=sa.bindparam("state"),
        turns=sa.bindparam("turns"),
        updated_at=sa.bindparam("updated_at"),
    )
)
# The columns of a PendingDelivery, in its order.
PENDING_COLUMNS = (
    deliveries.c.id,
    deliveries.c.transport,
    deliveries.c.chat_id,
    deliveries.c.user_id,
    deliveries.c.payload,
    deliveries.c.attempts,
    deliveries.c.campaign,
    deliveries.c.expires_at,
)
# The columns a queued delivery is written with.
QUEUED_COLUMNS = (
    "transport",
    "chat_id",
    "user_id",
    "agent_id",
    "campaign",
    "payload",
    "status",
    "attempts",
    "created_at",
    "claimed_at",
    "claimed_by",
)


def author_still_speaks_for(agent_id: Any, collectivite_id: Any) -> sa.ColumnElement[bool]:
    """Whether the agent who gave a support or made an offer still speaks for its
    collectivité (neither moved to another nor erased); if not, any of its agents may
    withdraw it."""
    return sa.exists().where(
        agents.c.id == agent_id,
        agents.c.collectivite_id == collectivite_id,
        agents.c.erased_at.is_(None),
    )


@functools.lru_cache(maxsize=64)
def insert_deliveries(count: int) -> sa.Insert:
    """PostgreSQL: the replies of a turn inserted in one statement, the n-th row's values
    named ``column_n`` (``storage/driver.py`` would send a list of rows one by one; SQLite
    sends them one by one to sqlite3: :class:`storage.driver.RowInsert`)."""
    rows = [
        {c: sa.bindparam(f"{c}_{n}", type_=deliveries.c[c].type) for c in QUEUED_COLUMNS}
        for n in range(count)
    ]
    return deliveries.insert().values(rows).returning(deliveries.c.id)


PENDING_ALL = (
    sa.select(*PENDING_COLUMNS).where(deliveries.c.status == "pending").order_by(deliveries.c.id)
)
PENDING_FOR = (
    sa.select(*PENDING_COLUMNS)
    .where(
        deliveries.c.status == "pending",
        deliveries.c.transport == sa.bindparam("transport"),
        deliveries.c.chat_id == sa.bindparam("chat_id"),
        deliveries.c.user_id == sa.bindparam("user_id"),
    )
    .order_by(deliveries.c.id)
)
# PostgreSQL, several processes: claim a conversation's pending deliveries, unless another
# process holds a live claim on some of them (it is sending the earlier ones).
_held = deliveries.alias("held")
_activity = sa.table("pg_stat_activity", sa.column("pid", sa.Integer))
HELD_ELSEWHERE = sa.exists().where(
    _held.c.status == "pending",
    _held.c.transport == sa.bindparam("c_transport"),
    _held.c.chat_id == sa.bindparam("c_chat_id"),
    _held.c.user_id == sa.bindparam("c_user_id"),
    _held.c.claimed_at > sa.bindparam("stale_before"),
    # a claim holds only while its process lives: its liveness connection is still there
    _held.c.claimed_by.in_(sa.select(_activity.c.pid)),
)
CLAIM_PENDING = (
    deliveries.update()
    .where(
        deliveries.c.status == "pending",
        deliveries.c.transport == sa.bindparam("c_transport"),
        deliveries.c.chat_id == sa.bindparam("c_chat_id"),
        deliveries.c.user_id == sa.bindparam("c_user_id"),
        ~HELD_ELSEWHERE,
    )
    .values(claimed_at=sa.bindparam("c_now"), claimed_by=sa.bindparam("c_owner"))
    .returning(*PENDING_COLUMNS)
)
IS_HELD_ELSEWHERE = sa.select(HELD_ELSEWHERE)
RELEASE_CLAIMS = (
    deliveries.update()
    .where(deliveries.c.id.in_(sa.bindparam("ids", expanding=True)))
    .values(claimed_at=None, claimed_by=None)
)
# A push whose moment passed: expired, unless sent (or refused) meanwhile.
MARK_EXPIRED = (
    deliveries.update()
    .where(deliveries.c.id == sa.bindparam("delivery_id"), deliveries.c.status == "pending")
    .values(status="expired")
)
# Every push whose moment passed and that no process is sending: the sweep of the redelivery.
EXPIRE_DUE = (
    deliveries.update()
    .where(
        deliveries.c.status == "pending",
        deliveries.c.expires_at.is_not(None),
        deliveries.c.expires_at <= sa.bindparam("now"),
    )
    .values(status="expired")
)
MARK_SENT = (
    deliveries.update()
    .where(deliveries.c.id == sa.bindparam("delivery_id"))
    .values(status="sent", sent_at=sa.bindparam("sent_at"))
)
# PostgreSQL: the marks made while the previous batch was written, in one statement.
MARK_SENT_MANY = sa.text(
    "UPDATE delivery SET status = 'sent', sent_at = marks.sent_at"
    " FROM unnest(CAST(:ids AS integer[]), CAST(:sent_ats AS timestamptz[]))"
    " AS marks (id, sent_at) WHERE delivery.id = marks.id"
)


def insert_ignore_statement(table: sa.Table, keys: tuple[str, ...]) -> sa.TextClause:
    """``INSERT … ON CONFLICT DO NOTHING RETURNING 1``, the same on SQLite and PostgreSQL.

    Written as text because SQLAlchemy does not cache the compiled form of its dialects'
    ``on_conflict_do_nothing()``; the typed bind parameters keep JSON and UTC conversions.
    """
    columns = ", ".join(keys)
    values = ", ".join(f":{key}" for key in keys)
    return sa.text(
        f"INSERT INTO {table.name} ({columns}) VALUES ({values}) ON CONFLICT DO NOTHING RETURNING 1"
    ).bindparams(*(sa.bindparam(key, type_=table.c[key].type) for key in keys))


INSERT_IGNORE: dict[tuple[str, tuple[str, ...]], sa.TextClause] = {}
CLAIM_EVENT = insert_ignore_statement(events, ("transport", "event_id", "received_at"))
collectivites = Collectivite.__table__  # type: ignore[attr-defined]
contributions = Contribution.__table__  # type: ignore[attr-defined]
counters = Counter.__table__  # type: ignore[attr-defined]
audit = AuditLog.__table__  # type: ignore[attr-defined]
SELECT_COLLECTIVITE_ID = sa.select(collectivites.c.id).where(
    collectivites.c.kind == sa.bindparam("kind"), collectivites.c.code == sa.bindparam("code")
)
UPDATE_PROFILE = (
    agents.update()
    .where(agents.c.id == sa.bindparam("agent_id"))
    .values(
        collectivite_id=sa.bindparam("collectivite_id"),
        profile=sa.bindparam("profile"),
        fonction=sa.bindparam("fonction"),
        email=sa.bindparam("email"),
        platform_email=sa.bindparam("platform_email"),
        updated_at=sa.bindparam("updated_at"),
    )
)
READ_COUNTER = sa.select(counters.c.value).where(counters.c.name == sa.bindparam("counter"))
NEXT_COUNTER = (
    counters.update()
    .where(counters.c.name == sa.bindparam("counter"))
    .values(value=counters.c.value + 1)
    .returning(counters.c.value)
)
INSERT_CONTRIBUTION = contributions.insert().returning(contributions.c.id)
INSERT_AUDIT = audit.insert()
SELECT_AGENT = sa.select(
    agents.c.id,
    agents.c.transport,
    agents.c.user_id,
    agents.c.collectivite_id,
    agents.c.profile,
    agents.c.fonction,
    agents.c.email,
).where(
    agents.c.transport == sa.bindparam("transport"),
    agents.c.user_id == sa.bindparam("user_id"),
)
proposals = Proposal.__table__  # type: ignore[attr-defined]
supports = Support.__table__  # type: ignore[attr-defined]
