"""The store: named operations over the database; the dialogue never builds queries.

``Store.transaction()`` yields a :class:`Tx` whose verbs run in one database transaction.
A dialogue turn uses one: it claims the platform event, locks the conversation row, reads
and writes the state, and queues the replies, all committed together before anything is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, func, select

from bot.values import ConversationKey, Outgoing, outgoing_to_dict
from storage.db import create_db_engine, ensure_schema
from storage.models import (
    Agent,
    AuditLog,
    Collectivite,
    Contribution,
    Conversation,
    Counter,
    Delivery,
    InboundEvent,
    PlatformMessage,
    utcnow,
)
from storage.referential import CollectiviteRef

log = logging.getLogger(__name__)

REFERENCE_PREFIX = {"besoin": "B", "service": "S", "proposal": "P"}


@dataclass(frozen=True, slots=True)
class ContributionView:
    """A contribution with its collectivité and author, for listings and exports."""

    contribution: Contribution
    collectivite: Collectivite
    author: Agent


class Tx:
    """The verbs available inside one transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._dialect = session.get_bind().dialect.name

    # -- idempotence and conversation state -------------------------------------------

    def _insert_ignore(self, model: type[Any], values: dict[str, Any]) -> int:
        """Insert a row unless it conflicts with a unique key; 1 if inserted, else 0.

        ``RETURNING`` tells the two cases apart on every backend (psycopg reports no
        row count for ``ON CONFLICT DO NOTHING`` through the ORM session).
        """
        table = model.__table__
        dialect: Any = postgresql if self._dialect == "postgresql" else sqlite
        key = next(iter(table.primary_key.columns))
        statement = dialect.insert(table).values(**values).on_conflict_do_nothing()
        return int(self.session.execute(statement.returning(key)).first() is not None)

    def claim_event(self, transport: str, event_id: str) -> bool:
        """Record a platform event; False if it was already handled."""
        inserted = self._insert_ignore(
            InboundEvent, {"transport": transport, "event_id": event_id, "received_at": utcnow()}
        )
        return inserted == 1

    def lock_conversation(self, key: ConversationKey) -> Conversation:
        """Read the conversation row under a row lock (PostgreSQL) or the write lock (SQLite)."""
        ident = {"transport": key.transport, "chat_id": key.chat, "user_id": key.user}
        self._insert_ignore(
            Conversation, {**ident, "state": {}, "turns": 0, "updated_at": utcnow()}
        )
        statement = select(Conversation).filter_by(**ident).with_for_update()
        return self.session.exec(statement).one()

    def save_conversation(self, conversation: Conversation, state: dict[str, Any]) -> None:
        conversation.state = state
        conversation.turns += 1
        conversation.updated_at = utcnow()
        self.session.add(conversation)

    # -- agents and collectivités ---------------------------------------------------------

    def get_agent(self, transport: str, user_id: str) -> Agent | None:
        statement = select(Agent).where(Agent.transport == transport, Agent.user_id == user_id)
        return self.session.exec(statement).first()

    def ensure_agent(self, transport: str, user_id: str) -> Agent:
        agent = self.get_agent(transport, user_id)
        if agent is None:
            agent = Agent(transport=transport, user_id=user_id)
            self.session.add(agent)
            self.session.flush()
        return agent

    def collectivite(self, collectivite_id: int) -> Collectivite | None:
        return self.session.get(Collectivite, collectivite_id)

    def upsert_collectivite(self, ref: CollectiviteRef) -> Collectivite:
        values = {
            "kind": ref.kind,
            "code": ref.code,
            "name": ref.name,
            "departement": ref.departement,
            "siren": ref.siren,
            "population": ref.population,
            "created_at": utcnow(),
        }
        self._insert_ignore(Collectivite, values)
        statement = select(Collectivite).where(
            Collectivite.kind == ref.kind, Collectivite.code == ref.code
        )
        return self.session.exec(statement).one()

    def save_profile(
        self,
        agent: Agent,
        *,
        collectivite: CollectiviteRef,
        profile: str,
        fonction: str,
        email: str | None,
    ) -> Agent:
        agent.collectivite_id = self.upsert_collectivite(collectivite).id
        agent.profile = profile
        agent.fonction = fonction
        agent.email = email
        agent.updated_at = utcnow()
        self.session.add(agent)
        self.session.flush()
        return agent

    # -- contributions ------------------------------------------------------------------

    def next_reference(self, kind: str) -> str:
        """The next reference number for ``kind``, safe under concurrent writers."""
        self._insert_ignore(Counter, {"name": kind, "value": 0})
        statement = (
            sa.update(Counter)
            .where(col(Counter.name) == kind)
            .values(value=Counter.value + 1)
            .returning(col(Counter.value))
        )
        value = self.session.execute(statement).scalar_one()
        width = 3 if kind == "proposal" else 4
        return f"{REFERENCE_PREFIX[kind]}-{value:0{width}d}"

    def add_contribution(
        self,
        agent: Agent,
        *,
        kind: str,
        title: str,
        description: str,
        answers: dict[str, Any],
        thematique: str,
        confidence: float | None,
        thematique_source: str,
        now: datetime | None = None,
    ) -> Contribution:
        if agent.id is None or agent.collectivite_id is None:
            raise ValueError("an agent needs a profile before contributing")
        now = now or utcnow()
        contribution = Contribution(
            reference=self.next_reference(kind),
            kind=kind,
            title=title,
            description=description,
            answers=answers,
            thematique=thematique,
            thematique_confidence=confidence,
            thematique_source=thematique_source,
            author_id=agent.id,
            collectivite_id=agent.collectivite_id,
            created_at=now,
            updated_at=now,
        )
        self.session.add(contribution)
        self.session.flush()
        return contribution

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
    ) -> list[int]:
        """Write outgoing messages to the delivery log; the engine sends them after commit."""
        rows = [
            Delivery(
                transport=key.transport,
                chat_id=key.chat,
                user_id=key.user,
                agent_id=agent_id,
                campaign=campaign,
                payload=outgoing_to_dict(message),
            )
            for message in messages
        ]
        self.session.add_all(rows)
        self.session.flush()
        return [row.id for row in rows if row.id is not None]

    def pending_for(self, key: ConversationKey) -> list[Delivery]:
        statement = (
            select(Delivery)
            .where(
                Delivery.status == "pending",
                Delivery.transport == key.transport,
                Delivery.chat_id == key.chat,
                Delivery.user_id == key.user,
            )
            .order_by(col(Delivery.id))
        )
        return list(self.session.exec(statement))

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
        self.session.add(AuditLog(actor=actor, action=action, subject=subject, details=details))


class Store:
    """Entry point to the database; thread-safe, one :class:`Tx` per unit of work."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str, *, auto_migrate: bool = True) -> Store:
        engine = create_db_engine(url)
        ensure_schema(engine, auto_migrate)
        return cls(engine)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield Tx(session)

    # -- deliveries, outside a dialogue turn ----------------------------------------------

    def pending_deliveries(
        self, *, key: ConversationKey | None = None, transport: str | None = None
    ) -> list[Delivery]:
        with self.transaction() as tx:
            if key is not None:
                return tx.pending_for(key)
            statement = select(Delivery).where(Delivery.status == "pending")
            if transport is not None:
                statement = statement.where(Delivery.transport == transport)
            return list(tx.session.exec(statement.order_by(col(Delivery.id))))

    def mark_sent(self, delivery_id: int, at: datetime | None = None) -> None:
        self._update_delivery(delivery_id, status="sent", sent_at=at or utcnow())

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

    def mark_blocked(self, delivery: Delivery) -> None:
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
