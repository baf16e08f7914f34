"""The store: named operations over the database; the dialogue never builds queries.

``Store.transaction()`` yields a :class:`Tx` whose verbs run in one database transaction.
A dialogue turn uses one: it claims the platform event, locks the conversation row, reads
and writes the state, and queues the replies, all committed together before anything is sent.

The verbs live in ``storage/ops/``, one module per aggregate; ``Tx`` composes them. The
``Store``'s own verbs are the few that run outside a dialogue turn (marking deliveries,
the adapters' platform messages, exports): each is the ``Tx`` verb of the same name in a
transaction of its own, except ``mark_sent``, which is on the hot path.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from storage import statements as sql
from storage.db import POOL_OVERFLOW, POOL_SIZE, create_db_engine, ensure_schema
from storage.keys import ConversationKey
from storage.models import PlatformMessage, utcnow
from storage.ops.agents import AgentOps
from storage.ops.audit import AuditOps
from storage.ops.contributions import ContributionOps
from storage.ops.conversations import ConversationOps
from storage.ops.deliveries import DeliveryOps
from storage.ops.follows import FollowOps
from storage.ops.groups import GroupOps
from storage.ops.notices import NoticeOps
from storage.ops.platform_messages import PlatformMessageOps
from storage.ops.proposals import ProposalOps
from storage.ops.referents import OfferRecord, ReferentOps
from storage.ops.supports import SupportOps
from storage.ops.triage import TriageRefused
from storage.ops.triage_files import TriageFileOps
from storage.ops.vouching import VouchingOps
from storage.records import (
    AgentRecord,
    ContributionSummary,
    ContributionView,
    ConversationRow,
    PendingDelivery,
    ProposalDetail,
    ProposalRecord,
    Triage,
)

__all__ = [
    "AgentRecord",
    "ContributionSummary",
    "ContributionView",
    "ConversationRow",
    "PendingDelivery",
    "ProposalDetail",
    "ProposalRecord",
    "Store",
    "Triage",
    "TriageRefused",
    "Tx",
]

log = logging.getLogger(__name__)

# How SQLAlchemy stores datetimes in SQLite, for the one statement that bypasses it.
SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"


class Tx(
    ConversationOps,
    AgentOps,
    ContributionOps,
    GroupOps,
    DeliveryOps,
    PlatformMessageOps,
    ProposalOps,  # with TriageOps: what becomes of each contribution
    SupportOps,
    TriageFileOps,  # the reviewed spreadsheet's reads and draft keys
    NoticeOps,  # what contributors are told once proposals are published
    VouchingOps,  # what makes a support verified
    ReferentOps,
    FollowOps,
    AuditOps,
):
    """The verbs available inside one transaction, gathered from ``storage/ops/``."""


class ClaimOwner:
    """PostgreSQL: this process's identity in its delivery claims.

    A connection kept out of the pool for the process's life; its server process id is
    written with each claim. When the process dies, however it dies, the server drops the
    connection and the id leaves ``pg_stat_activity``: its claims stop holding at once, and
    a restarted process sends what the dead one left (a lease alone would keep those
    replies waiting). Checked again every ``RECHECK`` seconds, and reopened if the
    connection was lost (a server restart): claims made before then are released with it.
    """

    RECHECK = 30.0

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._connection: Any = None
        self._pid: int | None = None
        self._checked = float("-inf")

    def pid(self) -> int:
        with self._lock:
            now = time.monotonic()
            if self._pid is None or now - self._checked > self.RECHECK:
                self._pid = self._current_pid()
                self._checked = now
            return self._pid

    def _current_pid(self) -> int:
        for attempt in (1, 2):
            try:
                if self._connection is None:
                    self._connection = self._engine.raw_connection()
                    self._connection.detach()  # never handed to anyone else
                cursor = self._connection.cursor()
                cursor.execute("SELECT pg_backend_pid()")
                (pid,) = cursor.fetchone()
                cursor.close()
                self._connection.commit()
                return int(pid)
            except Exception:
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.close()
            self._connection = None


class Store:
    """Entry point to the database; thread-safe, one :class:`Tx` per unit of work.

    ``clock``: the bot's clock, which dates what each transaction records (:attr:`Tx.now`):
    the real one in production, the trial clock with ``RECUEIL_NOW``
    (:func:`bot.app.services.clock_of`).
    """

    def __init__(self, engine: sa.Engine, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.clock = clock
        self._raw_lock = threading.Lock()
        self._raw_checkout: Any = None
        self._raw_sqlite: Any = None
        if engine.dialect.name == "sqlite":
            # A pool connection kept checked out for the store's life, so that no other
            # thread is ever handed it (autocommit: isolation_level None, set by storage.db).
            self._raw_checkout = engine.raw_connection()
            self._raw_sqlite = self._raw_checkout.driver_connection
        self._claim_owner = ClaimOwner(engine) if engine.dialect.name == "postgresql" else None

    @classmethod
    def open(
        cls, url: str, *, auto_migrate: bool = True, clock: Callable[[], datetime] = utcnow
    ) -> Store:
        engine = create_db_engine(url)
        ensure_schema(engine, auto_migrate)
        return cls(engine, clock=clock)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def max_connections(self) -> int:
        """How many connections the pool may open at once (PostgreSQL)."""
        return POOL_SIZE + POOL_OVERFLOW

    def close(self) -> None:
        if self._claim_owner is not None:
            self._claim_owner.close()
        if self._raw_checkout is not None:
            with self._raw_lock:
                self._raw_checkout.close()  # back to the pool, closed by dispose()
                self._raw_checkout = self._raw_sqlite = None
        self.engine.dispose()

    @contextmanager
    def transaction(self, *, now: datetime | None = None) -> Iterator[Tx]:
        """One unit of work; what it records is dated ``now`` (by default, the store's
        clock read once): the engine gives the instant its dialogue turn sees."""
        with self.engine.begin() as connection:
            owner = self._claim_owner.pid() if self._claim_owner else None
            tx = Tx(connection, owner, now=now if now is not None else self.clock())
            try:
                yield tx
                tx.finish()
            finally:
                tx.close()

    # -- deliveries, outside a dialogue turn ----------------------------------------------

    def pending_deliveries(
        self, *, key: ConversationKey | None = None, transport: str | None = None
    ) -> list[PendingDelivery]:
        with self.transaction() as tx:
            return tx.pending_for(key) if key is not None else tx.pending_all(transport)

    def claim_deliveries(self, key: ConversationKey) -> list[PendingDelivery] | None:
        """PostgreSQL: claim what waits for ``key``, under its lock; None while another
        process sends its earlier messages (:meth:`Tx.claim_pending`)."""
        with self.transaction() as tx:
            tx.wait_for_conversation(key)
            return tx.claim_pending(key, utcnow())  # a lease: real time, even in a trial

    def release_deliveries(self, delivery_ids: list[int]) -> None:
        """Unclaim deliveries: those already marked sent stay sent."""
        with self.transaction() as tx:
            tx.release_claims(delivery_ids)

    def delivery_salt(self) -> int:
        with self.transaction() as tx:
            return tx.delivery_salt()

    def mark_sent(self, delivery_id: int, at: datetime | None = None) -> None:
        """Record one delivery as sent, at once (one autocommitted statement).

        This runs after every message the bot sends. On SQLite it goes straight to the
        driver: through SQLAlchemy a one-statement transaction costs twenty times more
        (benchmarks/intake.py, docs/benchmarks.md).
        """
        at = at or utcnow()  # when it went out, in real time (delivery bookkeeping)
        with self._raw_lock:
            if self._raw_sqlite is not None:
                self._raw_sqlite.execute(
                    "UPDATE delivery SET status = 'sent', sent_at = ? WHERE id = ?",
                    (at.astimezone(UTC).strftime(SQLITE_DATETIME), delivery_id),
                )
                return
        with self.engine.begin() as connection:
            connection.execute(sql.MARK_SENT, {"delivery_id": delivery_id, "sent_at": at})

    def mark_sent_many(self, marks: Sequence[tuple[int, datetime]]) -> None:
        """Record deliveries as sent, each at its time, in one transaction.

        On PostgreSQL the engine gathers the deliveries that went out while the previous
        batch was being written: one round trip for many instead of four for each (a
        checkout's ping, ``BEGIN``, the update, ``COMMIT``).
        """
        if not marks:
            return
        with self.transaction() as tx:
            if tx.on_postgresql:
                values = {"ids": [i for i, _ in marks], "sent_ats": [at for _, at in marks]}
                tx.execute(sql.MARK_SENT_MANY, values)
            else:
                tx.execute(sql.MARK_SENT, [{"delivery_id": i, "sent_at": at} for i, at in marks])

    def mark_failed(self, delivery_id: int, error: str, *, final: bool) -> None:
        with self.transaction() as tx:
            tx.mark_failed(delivery_id, error, final=final)

    def mark_blocked(self, delivery: PendingDelivery) -> None:
        """The user blocked the bot: stop sending to them, keep the record."""
        with self.transaction() as tx:
            tx.mark_blocked(delivery)

    def mark_expired(self, delivery_id: int) -> None:
        """A push whose moment passed: never sent (:meth:`Tx.expire`)."""
        with self.transaction() as tx:
            tx.expire(delivery_id)

    def expire_due(self, now: datetime) -> int:
        """Every push whose moment passed, even to a transport not running here
        (:meth:`Tx.expire_due`)."""
        with self.transaction() as tx:
            return tx.expire_due(now)

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
            tx.remember_platform_message(
                transport, chat_id, platform_id, kind=kind, core_ref=core_ref, data=data
            )

    def platform_message(self, transport: str, platform_id: str) -> PlatformMessage | None:
        with self.transaction() as tx:
            return tx.platform_message(transport, platform_id)

    def platform_messages_for(
        self, transport: str, chat_id: str, core_ref: str
    ) -> list[PlatformMessage]:
        with self.transaction() as tx:
            return tx.platform_messages_for(transport, chat_id, core_ref)

    def update_platform_message(
        self, message_id: int, *, data: dict[str, Any] | None = None, closed: bool = False
    ) -> None:
        if data is None and not closed:
            return
        with self.transaction() as tx:
            tx.update_platform_message(message_id, data=data, closed=closed)

    # -- reading, for exports and administrators ------------------------------------------

    def contributions(self) -> list[ContributionView]:
        with self.transaction() as tx:
            return tx.contribution_views()

    def volunteers(self) -> list[OfferRecord]:
        with self.transaction() as tx:
            return tx.volunteers()
