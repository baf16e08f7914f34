"""The delivery log: replies and pushes queued in a transaction, then marked as they go out."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from storage import driver
from storage import statements as sql
from storage.keys import ConversationKey
from storage.models import Agent, Counter, Delivery, utcnow
from storage.ops.base import TxBase
from storage.records import PendingDelivery

CLAIM_LEASE = timedelta(minutes=2)
"""How long a process's claim on deliveries holds: past it, the process is taken for dead
and another sends them (a send never takes that long, even paced by the rate limit)."""


_ROW_INSERT: dict[sa.Dialect, driver.RowInsert] = {}
"""SQLite: the delivery insert compiled for each engine's dialect (one in practice)."""

DELIVERY_SALT = "delivery-salt"
"""The counter row that holds this database's salt (:meth:`DeliveryOps.delivery_salt`)."""


class DeliveryOps(TxBase):
    def delivery_salt(self) -> int:
        """A random number drawn once per database, the same for every process on it.

        With a delivery's id it makes a key no delivery of another database shares: a
        Matrix transaction id outlives a database reset by a day (the homeserver keeps them).
        """
        self._insert_ignore(Counter, {"name": DELIVERY_SALT, "value": secrets.randbits(31)})
        return int(self.execute(sql.READ_COUNTER, {"counter": DELIVERY_SALT}).scalar_one())

    def queue(
        self,
        key: ConversationKey,
        payloads: Sequence[dict[str, Any]],
        *,
        agent_id: int | None = None,
        campaign: str | None = None,
        claimed_at: datetime | None = None,
    ) -> list[PendingDelivery]:
        """Write outgoing messages, already serialised, to the delivery log; the engine sends
        them after commit. ``claimed_at``: written already claimed by this process
        (:meth:`claim_pending`)."""
        if not payloads:
            return []
        now = utcnow()  # delivery bookkeeping is about real time, even in a trial (Tx.now)
        owner = self.claim_owner if claimed_at is not None else None
        rows = [
            {
                "transport": key.transport,
                "chat_id": key.chat,
                "user_id": key.user,
                "agent_id": agent_id,
                "campaign": campaign,
                "payload": payload,
                "status": "pending",
                "attempts": 0,
                "created_at": now,
                "claimed_at": claimed_at,
                "claimed_by": owner,
            }
            for payload in payloads
        ]
        if self.on_postgresql:
            values = {
                f"{column}_{n}": value
                for n, row in enumerate(rows)
                for column, value in row.items()
            }
            # the ids only, no JSON read back: the rows take the sequence's values in the
            # order they are written, so the sorted ids are the payloads' in their order
            ids = sorted(self.execute(sql.insert_deliveries(len(rows)), values).scalars())
        else:  # SQLite: row by row, each id in turn
            dialect = self.connection.dialect
            insert = _ROW_INSERT.get(dialect)
            if insert is None:
                insert = _ROW_INSERT[dialect] = driver.RowInsert(
                    Delivery.__table__,  # type: ignore[attr-defined]
                    sql.QUEUED_COLUMNS,
                    dialect,
                )
            ids = driver.insert_rows(self.connection, insert, rows)
        return [
            PendingDelivery(i, key.transport, key.chat, key.user, payload, 0, campaign)
            for i, payload in zip(ids, payloads, strict=True)
        ]

    def pending_for(self, key: ConversationKey) -> list[PendingDelivery]:
        rows = self.execute(
            sql.PENDING_FOR, {"transport": key.transport, "chat_id": key.chat, "user_id": key.user}
        )
        return [PendingDelivery(*row) for row in rows]

    def claim_pending(self, key: ConversationKey, now: datetime) -> list[PendingDelivery] | None:
        """PostgreSQL, several processes: claim the conversation's pending deliveries for this
        process to send, oldest first; None if another process holds a live claim on some of
        them: it is sending the earlier ones, and this process must claim again later.

        Called under the conversation's lock (:meth:`wait_for_conversation`), so that two
        claims, or a claim and a turn's queuing, never interleave.
        """
        values = {
            "c_transport": key.transport,
            "c_chat_id": key.chat,
            "c_user_id": key.user,
            "c_now": now,
            "c_owner": self.claim_owner,
            "stale_before": now - CLAIM_LEASE,
        }
        rows = self.execute(sql.CLAIM_PENDING, values).all()
        if not rows and self.execute(sql.IS_HELD_ELSEWHERE, values).scalar():
            return None
        return sorted((PendingDelivery(*row) for row in rows), key=lambda d: d.id)

    def release_claims(self, delivery_ids: Sequence[int]) -> None:
        """Give back deliveries claimed but not sent (a failure, the window closed): the next
        turn or the redelivery job sends them."""
        if delivery_ids:
            self.connection.execute(sql.RELEASE_CLAIMS, {"ids": list(delivery_ids)})

    def pending_all(self, transport: str | None = None) -> list[PendingDelivery]:
        """Every delivery still pending (of one transport), oldest first."""
        statement = sql.PENDING_ALL
        if transport is not None:
            statement = statement.where(sql.deliveries.c.transport == transport)
        return [PendingDelivery(*row) for row in self.connection.execute(statement)]

    def queue_push(
        self,
        key: ConversationKey,
        agent_id: int,
        payloads: Sequence[dict[str, Any]],
        campaign: str,
        *,
        expires_at: datetime | None = None,
    ) -> int:
        """Queue a scheduled push once per agent: a second call for the campaign adds nothing.
        ``expires_at``: not sent from then on (:meth:`expire`)."""
        now = utcnow()  # real time, like every delivery's bookkeeping
        return sum(
            self._insert_ignore(
                Delivery, push_row(key, agent_id, campaign, index, payload, now, expires_at)
            )
            for index, payload in enumerate(payloads)
        )

    def queue_campaign_pushes(
        self,
        recipients: Sequence[tuple[ConversationKey, int]],
        payloads: Sequence[dict[str, Any]],
        campaign: str,
        *,
        expires_at: datetime | None = None,
    ) -> int:
        """Queue a campaign just recorded (so none of its rows exist yet) for every recipient,
        in one batched statement: 35,000 agents in seconds. The unique (campaign, agent) key
        still refuses a duplicate; returns how many rows were written."""
        now = utcnow()  # real time, like every delivery's bookkeeping
        rows = [
            push_row(key, agent_id, campaign, index, payload, now, expires_at)
            for key, agent_id in recipients
            for index, payload in enumerate(payloads)
        ]
        if rows:
            self.connection.execute(sa.insert(Delivery.__table__), rows)  # type: ignore[attr-defined]
        return len(rows)

    def has_pending_push(self, campaign: str) -> bool:
        """Whether some of ``campaign``'s messages wait to be sent."""
        found = self.connection.execute(
            sa.select(sql.deliveries.c.id)
            .where(
                sql.deliveries.c.campaign.startswith(f"{campaign}#", autoescape=True),
                sql.deliveries.c.status == "pending",
            )
            .limit(1)
        ).first()
        return found is not None

    def rewrite_pending_push(self, campaign: str, payloads: Sequence[dict[str, Any]]) -> int:
        """Replace the messages of ``campaign`` not yet sent by ``payloads`` (its messages in
        order, as queued); those sent, expired or given up keep theirs. A process sending one
        right now sends what it had read. Returns how many rows changed."""
        changed = 0
        for index, payload in enumerate(payloads):
            result = self.connection.execute(
                sa.update(sql.deliveries)
                .where(
                    sql.deliveries.c.campaign == push_campaign(campaign, index),
                    sql.deliveries.c.status == "pending",
                )
                .values(payload=payload)
            )
            changed += int(result.rowcount or 0)
        return changed

    def expire(self, delivery_id: int) -> None:
        """A push whose moment passed before it could be sent: marked ``expired``, never
        sent (unless it went out meanwhile)."""
        self.execute(sql.MARK_EXPIRED, {"delivery_id": delivery_id})

    def expire_due(self, now: datetime) -> int:
        """Every push whose moment passed by ``now`` (the bot's clock), whatever its
        transport: marked ``expired``; returns how many. One sent meanwhile is marked sent
        afterwards (``MARK_SENT`` does not look at the status): the truth wins."""
        return self.connection.execute(sql.EXPIRE_DUE, {"now": now}).rowcount

    def mark_failed(self, delivery_id: int, error: str, *, final: bool) -> None:
        delivery = self.session.get(Delivery, delivery_id)
        if delivery is None:
            return
        delivery.attempts += 1
        delivery.last_error = error[:1000]
        if final:
            delivery.status = "failed"
        self.session.add(delivery)

    def mark_blocked(self, delivery: PendingDelivery) -> None:
        """The user blocked the bot: stop sending to them, keep the record."""
        self.session.execute(
            sa.update(Delivery)
            .where(
                col(Delivery.transport) == delivery.transport,
                col(Delivery.user_id) == delivery.user_id,
                col(Delivery.status) == "pending",
            )
            .values(status="blocked")
        )
        self.session.execute(
            sa.update(Agent)
            .where(
                col(Agent.transport) == delivery.transport,
                col(Agent.user_id) == delivery.user_id,
            )
            .values(blocked_at=self.now)
        )


def push_campaign(campaign: str, index: int) -> str:
    """The ``campaign`` column of a push's ``index``-th message."""
    return f"{campaign}#{index}"


def push_row(
    key: ConversationKey,
    agent_id: int,
    campaign: str,
    index: int,
    payload: dict[str, Any],
    now: datetime,
    expires_at: datetime | None = None,
) -> dict[str, Any]:
    """A campaign's ``index``-th message for one agent: ``<campaign>#<index>`` with the agent
    is unique, so a push is never queued twice."""
    return {
        "transport": key.transport,
        "chat_id": key.chat,
        "user_id": key.user,
        "agent_id": agent_id,
        "campaign": push_campaign(campaign, index),
        "payload": payload,
        "status": "pending",
        "attempts": 0,
        "created_at": now,
        "expires_at": expires_at,
    }
