"""The store: named operations over the database; the dialogue never builds queries.

``Store.transaction()`` yields a :class:`Tx` whose verbs run in one database transaction.
A dialogue turn uses one: it claims the platform event, locks the conversation row, reads
and writes the state, and queues the replies, all committed together before anything is sent.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from bot.core.values import ConversationKey, Outgoing, outgoing_to_dict
from storage import statements as sql
from storage.db import create_db_engine, ensure_schema
from storage.models import (
    Agent,
    Collectivite,
    Contribution,
    Conversation,
    Counter,
    Delivery,
    InboundEvent,
    PlatformMessage,
    utcnow,
)
from storage.records import (
    AgentRecord,
    ContributionSummary,
    ContributionView,
    ConversationRow,
    PendingDelivery,
)
from storage.referential import CollectiviteRef

__all__ = [
    "AgentRecord",
    "ContributionSummary",
    "ContributionView",
    "ConversationRow",
    "PendingDelivery",
    "Store",
    "Tx",
]

log = logging.getLogger(__name__)

# How SQLAlchemy stores datetimes in SQLite, for the one statement that bypasses it.
SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"
REFERENCE_PREFIX = {"besoin": "B", "service": "S", "proposal": "P"}


class Tx:
    """The verbs available inside one transaction.

    Hot verbs run Core statements on ``connection``; the ORM ``session`` (bound to the same
    connection and transaction) is only created for the rarer verbs that need it.
    """

    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = Session(bind=self.connection, expire_on_commit=False)
        return self._session

    def finish(self) -> None:
        """Write what the session holds before the transaction commits."""
        if self._session is not None:
            self._session.flush()
            self._session.close()

    # -- idempotence and conversation state -------------------------------------------

    def _insert_ignore(self, model: type[Any], values: dict[str, Any]) -> int:
        """Insert a row unless it conflicts with a unique key; 1 if inserted, else 0.

        ``RETURNING`` tells the two cases apart on every backend (psycopg reports no
        row count for ``ON CONFLICT DO NOTHING``).
        """
        table = model.__table__
        cache_key = (table.name, tuple(values))
        statement = sql.INSERT_IGNORE.get(cache_key)
        if statement is None:
            statement = sql.INSERT_IGNORE[cache_key] = sql.insert_ignore_statement(
                table, cache_key[1]
            )
        return int(self.connection.execute(statement, values).first() is not None)

    def claim_event(self, transport: str, event_id: str) -> bool:
        """Record a platform event; False if it was already handled."""
        inserted = self._insert_ignore(
            InboundEvent, {"transport": transport, "event_id": event_id, "received_at": utcnow()}
        )
        return inserted == 1

    def lock_conversation(self, key: ConversationKey) -> ConversationRow:
        """Read the conversation under a row lock (PostgreSQL) or the write lock (SQLite)."""
        ident = {"transport": key.transport, "chat_id": key.chat, "user_id": key.user}
        row = self.connection.execute(sql.SELECT_CONVERSATION, ident).first()
        if row is None:
            self._insert_ignore(
                Conversation, {**ident, "state": {}, "turns": 0, "updated_at": utcnow()}
            )
            row = self.connection.execute(sql.SELECT_CONVERSATION, ident).one()
        agent = (
            AgentRecord(
                row.agent_id,
                row.agent_transport,
                row.agent_user_id,
                row.collectivite_id,
                row.profile,
                row.fonction,
                row.email,
            )
            if row.agent_id is not None
            else None
        )
        return ConversationRow(row.id, row.state or {}, row.turns, agent, bool(row.has_pending))

    def save_conversation(self, conversation: ConversationRow, state: dict[str, Any]) -> None:
        self.connection.execute(
            sql.UPDATE_CONVERSATION,
            {
                "conversation_id": conversation.id,
                "state": state,
                "turns": conversation.turns + 1,
                "updated_at": utcnow(),
            },
        )

    # -- agents and collectivités ---------------------------------------------------------

    def get_agent(self, transport: str, user_id: str) -> AgentRecord | None:
        row = self.connection.execute(
            sql.SELECT_AGENT, {"transport": transport, "user_id": user_id}
        ).first()
        return AgentRecord(*row) if row is not None else None

    def ensure_agent(self, transport: str, user_id: str) -> AgentRecord:
        """The agent of this transport identity, created if new."""
        now = utcnow()
        self._insert_ignore(
            Agent,
            {"transport": transport, "user_id": user_id, "created_at": now, "updated_at": now},
        )
        agent = self.get_agent(transport, user_id)
        assert agent is not None
        return agent

    def collectivite(self, collectivite_id: int) -> Collectivite | None:
        return self.session.get(Collectivite, collectivite_id)

    def upsert_collectivite(self, ref: CollectiviteRef) -> int:
        """The id of the collectivité's row, created from the referential on first use."""
        self._insert_ignore(
            Collectivite,
            {
                "kind": ref.kind,
                "code": ref.code,
                "name": ref.name,
                "departement": ref.departement,
                "siren": ref.siren,
                "population": ref.population,
                "created_at": utcnow(),
            },
        )
        found = self.connection.execute(
            sql.SELECT_COLLECTIVITE_ID, {"kind": ref.kind, "code": ref.code}
        )
        return int(found.scalar_one())

    def save_profile(
        self,
        agent: AgentRecord,
        *,
        collectivite: CollectiviteRef,
        profile: str,
        fonction: str,
        email: str | None,
        platform_email: str | None = None,
    ) -> AgentRecord:
        self.connection.execute(
            sql.UPDATE_PROFILE,
            {
                "agent_id": agent.id,
                "collectivite_id": self.upsert_collectivite(collectivite),
                "profile": profile,
                "fonction": fonction,
                "email": email,
                "platform_email": platform_email,
                "updated_at": utcnow(),
            },
        )
        saved = self.get_agent(agent.transport, agent.user_id)
        assert saved is not None
        return saved

    # -- contributions ------------------------------------------------------------------

    def next_reference(self, kind: str) -> str:
        """The next reference number for ``kind``, safe under concurrent writers."""
        self._insert_ignore(Counter, {"name": kind, "value": 0})
        value = self.connection.execute(sql.NEXT_COUNTER, {"counter": kind}).scalar_one()
        width = 3 if kind == "proposal" else 4
        return f"{REFERENCE_PREFIX[kind]}-{value:0{width}d}"

    def add_contribution(
        self,
        agent: AgentRecord,
        *,
        kind: str,
        title: str,
        description: str,
        answers: dict[str, Any],
        thematique: str,
        confidence: float | None,
        thematique_source: str,
        same_as_id: int | None = None,
        now: datetime | None = None,
    ) -> tuple[int, str]:
        """Store a contribution; returns its id and reference number (``B-0042``)."""
        if agent.collectivite_id is None:
            raise ValueError("an agent needs a profile before contributing")
        now = now or utcnow()
        reference = self.next_reference(kind)
        inserted = self.connection.execute(
            sql.INSERT_CONTRIBUTION,
            {
                "reference": reference,
                "kind": kind,
                "title": title,
                "description": description,
                "answers": answers,
                "thematique": thematique,
                "thematique_confidence": confidence,
                "thematique_source": thematique_source,
                "status": "soumise",
                "author_id": agent.id,
                "collectivite_id": agent.collectivite_id,
                "proposal_id": None,
                "same_as_id": same_as_id,
                "created_at": now,
                "updated_at": now,
            },
        )
        return int(inserted.scalar_one()), reference

    def contribution_summaries(self, ids: Sequence[int]) -> list[ContributionSummary]:
        """The contributions of ``ids``, in that order (unknown ids are left out)."""
        if not ids:
            return []
        statement = (
            sa.select(
                sql.contributions.c.id,
                sql.contributions.c.reference,
                sql.contributions.c.kind,
                sql.contributions.c.title,
                sql.collectivites.c.id,
                sql.collectivites.c.kind,
                sql.collectivites.c.code,
                sql.contributions.c.answers,
            )
            .join(sql.collectivites, sql.collectivites.c.id == sql.contributions.c.collectivite_id)
            .where(sql.contributions.c.id.in_(list(ids)))
        )
        found = {}
        for row in self.connection.execute(statement):
            contribution_id, reference, kind, title, coll_id, coll_kind, coll_code, answers = row
            found[contribution_id] = ContributionSummary(
                contribution_id,
                reference,
                kind,
                title,
                coll_id,
                coll_kind,
                coll_code,
                (answers or {}).get("url"),
                (answers or {}).get("usage"),
            )
        return [found[i] for i in ids if i in found]

    def contribution_texts(self) -> list[tuple[int, str, str, str]]:
        """(id, kind, title, description) of every contribution, for the search index."""
        statement = sa.select(
            sql.contributions.c.id,
            sql.contributions.c.kind,
            sql.contributions.c.title,
            sql.contributions.c.description,
        ).order_by(sql.contributions.c.id)
        return [
            (row.id, row.kind, row.title, row.description)
            for row in self.connection.execute(statement)
        ]

    def contribution_by_reference(self, reference: str) -> Contribution | None:
        statement = select(Contribution).where(Contribution.reference == reference.upper())
        return self.session.exec(statement).first()

    def same_as_links(self, kind: str) -> dict[int, tuple[int | None, int]]:
        """Every contribution of ``kind``: id → (the one it was joined to, its collectivité)."""
        c = sql.contributions.c
        statement = sa.select(c.id, c.same_as_id, c.collectivite_id).where(c.kind == kind)
        return {
            row.id: (row.same_as_id, row.collectivite_id)
            for row in self.connection.execute(statement)
        }

    def set_same_as(self, contribution_id: int, same_as_id: int | None) -> None:
        """Record (or, with None, undo) that a contribution describes the same need as another."""
        self.connection.execute(
            sa.update(sql.contributions)
            .where(sql.contributions.c.id == contribution_id)
            .values(same_as_id=same_as_id, updated_at=utcnow())
        )

    def contributions_of(self, agent_id: int) -> list[Contribution]:
        statement = (
            select(Contribution)
            .where(Contribution.author_id == agent_id)
            .order_by(col(Contribution.id))
        )
        return list(self.session.exec(statement))

    def contribution_views(self) -> list[ContributionView]:
        statement = (
            select(Contribution, Collectivite, Agent)
            .join(Collectivite, col(Collectivite.id) == Contribution.collectivite_id)
            .join(Agent, col(Agent.id) == Contribution.author_id)
            .order_by(col(Contribution.id))
        )
        return [ContributionView(c, coll, a) for c, coll, a in self.session.exec(statement)]

    def counts(self) -> dict[str, int]:
        """Totals for the administrators' ``stats`` command."""

        def count(statement: Any) -> int:
            return int(self.session.execute(statement).scalar_one())

        return {
            "besoins": count(
                select(func.count()).select_from(Contribution).where(Contribution.kind == "besoin")
            ),
            "services": count(
                select(func.count()).select_from(Contribution).where(Contribution.kind == "service")
            ),
            "agents": count(
                select(func.count()).select_from(Agent).where(col(Agent.profile).is_not(None))
            ),
            "collectivites": count(select(func.count(func.distinct(Contribution.collectivite_id)))),
        }

    # -- outgoing messages and audit ------------------------------------------------------

    def queue(
        self,
        key: ConversationKey,
        messages: Sequence[Outgoing],
        *,
        agent_id: int | None = None,
        campaign: str | None = None,
    ) -> list[PendingDelivery]:
        """Write outgoing messages to the delivery log; the engine sends them after commit."""
        if not messages:
            return []
        now = utcnow()
        rows = self.connection.execute(
            sql.INSERT_DELIVERY,
            [
                {
                    "transport": key.transport,
                    "chat_id": key.chat,
                    "user_id": key.user,
                    "agent_id": agent_id,
                    "campaign": campaign,
                    "payload": outgoing_to_dict(message),
                    "status": "pending",
                    "attempts": 0,
                    "created_at": now,
                }
                for message in messages
            ],
        )
        return sorted((PendingDelivery(*row) for row in rows), key=lambda d: d.id)

    def pending_for(self, key: ConversationKey) -> list[PendingDelivery]:
        rows = self.connection.execute(
            sql.PENDING_FOR, {"transport": key.transport, "chat_id": key.chat, "user_id": key.user}
        )
        return [PendingDelivery(*row) for row in rows]

    def queue_push(
        self, key: ConversationKey, agent_id: int, messages: Sequence[Outgoing], campaign: str
    ) -> int:
        """Queue a scheduled push once per agent: a second call for the campaign adds nothing."""
        added = 0
        for index, message in enumerate(messages):
            added += self._insert_ignore(
                Delivery,
                {
                    "transport": key.transport,
                    "chat_id": key.chat,
                    "user_id": key.user,
                    "agent_id": agent_id,
                    "campaign": f"{campaign}#{index}",
                    "payload": outgoing_to_dict(message),
                    "status": "pending",
                    "attempts": 0,
                    "created_at": utcnow(),
                },
            )
        return added

    def audit(self, actor: str, action: str, subject: str | None = None, **details: Any) -> None:
        self.connection.execute(
            sql.INSERT_AUDIT,
            {
                "at": utcnow(),
                "actor": actor,
                "action": action,
                "subject": subject,
                "details": details,
            },
        )


class Store:
    """Entry point to the database; thread-safe, one :class:`Tx` per unit of work."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._raw_lock = threading.Lock()
        self._raw_checkout: Any = None
        self._raw_sqlite: Any = None
        if engine.dialect.name == "sqlite":
            # A pool connection kept checked out for the store's life, so that no other
            # thread is ever handed it (autocommit: isolation_level None, set by storage.db).
            self._raw_checkout = engine.raw_connection()
            self._raw_sqlite = self._raw_checkout.driver_connection

    @classmethod
    def open(cls, url: str, *, auto_migrate: bool = True) -> Store:
        engine = create_db_engine(url)
        ensure_schema(engine, auto_migrate)
        return cls(engine)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def close(self) -> None:
        if self._raw_checkout is not None:
            with self._raw_lock:
                self._raw_checkout.close()  # back to the pool, closed by dispose()
                self._raw_checkout = self._raw_sqlite = None
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self.engine.begin() as connection:
            tx = Tx(connection)
            try:
                yield tx
                tx.finish()
            finally:
                if tx._session is not None:
                    tx._session.close()

    # -- deliveries, outside a dialogue turn ----------------------------------------------

    def pending_deliveries(
        self, *, key: ConversationKey | None = None, transport: str | None = None
    ) -> list[PendingDelivery]:
        with self.transaction() as tx:
            if key is not None:
                return tx.pending_for(key)
            statement = sql.PENDING_ALL
            if transport is not None:
                statement = statement.where(sql.deliveries.c.transport == transport)
            return [PendingDelivery(*row) for row in tx.connection.execute(statement)]

    def mark_sent(self, delivery_id: int, at: datetime | None = None) -> None:
        """Record one delivery as sent, at once (one autocommitted statement).

        This runs after every message the bot sends. On SQLite it goes straight to the
        driver: through SQLAlchemy a one-statement transaction costs twenty times more
        (benchmarks/intake.py, docs/benchmarks.md).
        """
        at = at or utcnow()
        with self._raw_lock:
            if self._raw_sqlite is not None:
                self._raw_sqlite.execute(
                    "UPDATE delivery SET status = 'sent', sent_at = ? WHERE id = ?",
                    (at.astimezone(UTC).strftime(SQLITE_DATETIME), delivery_id),
                )
                return
        with self.engine.begin() as connection:
            connection.execute(sql.MARK_SENT, {"delivery_id": delivery_id, "sent_at": at})

    def mark_failed(self, delivery_id: int, error: str, *, final: bool) -> None:
        with self.transaction() as tx:
            delivery = tx.session.get(Delivery, delivery_id)
            if delivery is None:
                return
            delivery.attempts += 1
            delivery.last_error = error[:1000]
            if final:
                delivery.status = "failed"
            tx.session.add(delivery)

    def mark_blocked(self, delivery: PendingDelivery) -> None:
        """The user blocked the bot: stop sending to them, keep the record."""
        with self.transaction() as tx:
            tx.session.execute(
                sa.update(Delivery)
                .where(
                    col(Delivery.transport) == delivery.transport,
                    col(Delivery.user_id) == delivery.user_id,
                    col(Delivery.status) == "pending",
                )
                .values(status="blocked")
            )
            tx.session.execute(
                sa.update(Agent)
                .where(
                    col(Agent.transport) == delivery.transport,
                    col(Agent.user_id) == delivery.user_id,
                )
                .values(blocked_at=utcnow())
            )

    def _update_delivery(self, delivery_id: int, **values: Any) -> None:
        with self.transaction() as tx:
            tx.session.execute(
                sa.update(Delivery).where(col(Delivery.id) == delivery_id).values(**values)
            )

    # -- platform messages (polls, keyboards), for the adapters -------------------------

    def remember_platform_message(
        self,
        transport: str,
        chat_id: str,
        platform_id: str,
        *,
        kind: str,
        core_ref: str,
        data: dict[str, Any] | None = None,
    ) -> None:
        with self.transaction() as tx:
            tx._insert_ignore(
                PlatformMessage,
                {
                    "transport": transport,
                    "chat_id": chat_id,
                    "platform_id": platform_id,
                    "kind": kind,
                    "core_ref": core_ref,
                    "data": data or {},
                    "created_at": utcnow(),
                },
            )

    def platform_message(self, transport: str, platform_id: str) -> PlatformMessage | None:
        with self.transaction() as tx:
            statement = select(PlatformMessage).where(
                PlatformMessage.transport == transport,
                PlatformMessage.platform_id == platform_id,
            )
            return tx.session.exec(statement).first()

    def platform_messages_for(
        self, transport: str, chat_id: str, core_ref: str
    ) -> list[PlatformMessage]:
        with self.transaction() as tx:
            statement = (
                select(PlatformMessage)
                .where(
                    PlatformMessage.transport == transport,
                    PlatformMessage.chat_id == chat_id,
                    PlatformMessage.core_ref == core_ref,
                )
                .order_by(col(PlatformMessage.id))
            )
            return list(tx.session.exec(statement))

    def update_platform_message(
        self, message_id: int, *, data: dict[str, Any] | None = None, closed: bool = False
    ) -> None:
        values: dict[str, Any] = {}
        if data is not None:
            values["data"] = data
        if closed:
            values["closed_at"] = utcnow()
        if values:
            with self.transaction() as tx:
                tx.session.execute(
                    sa.update(PlatformMessage)
                    .where(col(PlatformMessage.id) == message_id)
                    .values(**values)
                )

    # -- reading, for exports and administrators ------------------------------------------

    def contributions(self) -> list[ContributionView]:
        with self.transaction() as tx:
            return tx.contribution_views()
