"""The engine: runs dialogue turns under a per-conversation lock and delivers the replies.

A turn is one database transaction: claim the platform event (a redelivered event is
dropped), lock and read the conversation, step the dialogue, write the new state and queue
the replies. Only after the commit are the replies sent, each marked sent once delivered,
so a crash at any point loses no answer and a restart resends only what was not sent.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from bot.app.marks import SentMarks
from bot.app.privacy import forget_sent
from bot.consultation.campaigns import Campaign, queue_campaign
from bot.core.flood import FloodGate, Verdict
from bot.core.locks import KeyedLocks
from bot.core.reconnect import while_unreachable
from bot.core.transport import Capability, DeliveryRefused, Transport, UnsupportedMessage
from bot.core.values import (
    ConversationKey,
    Incoming,
    Outgoing,
    OutText,
    outgoing_from_dict,
    outgoing_to_dict,
)
from bot.dialogue.context import Context, Services
from bot.dialogue.step import DialogueState, step
from config.window import ALWAYS, SendingWindow
from storage.campaigns import Recipient
from storage.models import utcnow
from storage.store import PendingDelivery, Store, Tx

if TYPE_CHECKING:
    from bot.app.metrics import Metrics

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_ATTEMPTS = 5
CLAIM_RETRY_FIRST, CLAIM_RETRY_MAX = 0.02, 1.0
"""PostgreSQL: seconds between two claims of a conversation's deliveries while another
process sends its earlier messages (rare: two messages of one user in two processes)."""


class Engine:
    """Shared by every transport; one per process."""

    def __init__(
        self,
        services: Services,
        store: Store,
        *,
        clock: Callable[[], datetime] | None = None,
        window: SendingWindow = ALWAYS,
        flood: FloodGate[ConversationKey] | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.services = services
        self.store = store
        self.clock = clock if clock is not None else store.clock
        """The dialogue's notion of now (phases, dates shown and stored): the store's clock
        unless given; every transaction the engine opens is dated by it (``Tx.now``)."""
        self.window = window
        """When pushes may go out; replies are never held back."""
        self._background: set[asyncio.Task[None]] = set()
        self.flood = flood  # None: no flood control (tests that type fast)
        self.metrics = metrics  # None: nothing counted (RECUEIL_METRICS_ADDRESS unset)
        self._erased: set[ConversationKey] = set()  # their replies are deleted once sent
        self._transports: dict[str, Transport] = {}
        self._salt: int | None = None  # this database's delivery salt (_key_of), read once
        self._conversation_lock = KeyedLocks[ConversationKey]()
        # SQLite has one writer at a time and answers in microseconds: its work runs inline,
        # which spares a thread hand-off per statement. PostgreSQL waits on the network:
        # its work runs in a pool of threads so the event loop stays free, one thread per
        # connection the pool may open, one of them kept for the marks.
        self._inline = store.is_sqlite
        # PostgreSQL may be shared by several processes (webhook workers): a process claims
        # a conversation's deliveries before sending them. SQLite has one process: no claims.
        self._claims = not store.is_sqlite
        self._executor = ThreadPoolExecutor(
            max_workers=store.max_connections - 1, thread_name_prefix="recueil-db"
        )
        # SQLite marks a delivery sent in 10 µs inline; PostgreSQL gathers the marks, written
        # by a thread of their own: a batch never waits behind turns for a thread.
        self._marks_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="recueil-sent")
        self._marks = SentMarks(self._write_marks)

    def register(self, transport: Transport) -> None:
        self._transports[transport.name] = transport

    async def drain(self) -> None:
        """Wait until the pushes that turns queued for others are delivered (or failed)."""
        while self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    async def close(self) -> None:
        await self.drain()
        self._executor.shutdown(wait=True)
        self._marks_executor.shutdown(wait=True)

    async def _write_marks(self, marks: Sequence[tuple[int, datetime]]) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._marks_executor, self.store.mark_sent_many, marks)

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """A transaction of the engine's work (a turn, a campaign), dated by its clock."""
        with self.store.transaction(now=self.clock()) as tx:
            yield tx

    async def run_db(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking database work the way the engine does (inline, or in its pool)."""
        return await self._db(function, *args, **kwargs)

    async def _db(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if self._inline:
            return function(*args, **kwargs)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, partial(function, *args, **kwargs))

    async def _db_retrying(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """PostgreSQL: run ``function`` (one transaction, or one idempotent statement) again
        while the connection is lost (the server restarting): a failed try left nothing
        behind, so the turn is played once and no reply is lost. SQLite: run it once."""
        if not self._claims:
            return await self._db(function, *args, **kwargs)
        return await while_unreachable(lambda: self._db(function, *args, **kwargs))

    async def handle(self, incoming: Incoming) -> None:
        """Run one turn for ``incoming`` and deliver its replies, in order."""
        started = time.perf_counter()
        key = incoming.key
        if self.flood is not None and (verdict := self.flood.check(key)) is not Verdict.PASS:
            if self.metrics is not None:
                self.metrics.flood_ignored.inc()
            if verdict is Verdict.NOTICE:  # before the lock: a flood waits on nothing
                log.info("flood from %s: its messages are ignored for a while", key)
                await self._send_apology(key, "input.flood")
            return
        async with self._conversation_lock(key):
            try:
                pending, pushed = await self._db_retrying(self._turn, incoming)
            except Exception:
                log.exception("turn failed for %s", key)
                if self.metrics is not None:
                    self.metrics.turn_failures.inc()
                await self._send_apology(key)
                return
            await self._send(key, pending)
            if key in self._erased:
                self._erased.discard(key)
                await self._db(forget_sent, self.store, key)
                self._forget_files(key)
        if self.metrics is not None:
            self.metrics.turn(key.transport, started)
        if pushed:  # a turn that queued messages for others (an administrator's push)
            task = asyncio.create_task(self.flush(pushed))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    def _forget_files(self, key: ConversationKey) -> None:
        """After an erasure: the files the transport saved for the user (the terminal's
        « mes données ») go too."""
        transport = self._transports.get(key.transport)
        if transport is None:
            return
        try:
            removed = transport.forget(key)
        except OSError:
            log.exception("the files saved for %s could not be deleted", key)
            return
        if removed:
            log.info("erasure: %d files saved for %s deleted", removed, key)

    def _turn(
        self, incoming: Incoming
    ) -> tuple[list[PendingDelivery] | None, list[ConversationKey]]:
        key = incoming.key
        with self.transaction() as tx:
            if incoming.event_id is not None and not tx.claim_event(
                key.transport, incoming.event_id
            ):
                log.info("event %s already handled, dropped", incoming.event_id)
                return [], []
            conversation = tx.lock_conversation(key)
            state = DialogueState.model_validate(conversation.state or {})
            transport = self._transports.get(key.transport)
            ctx = Context(
                self.services,
                tx,
                key,
                conversation.agent,
                tx.now,  # what the turn sees and what it stores: one instant
                platform_emails=transport.emails_of(key.user) if transport else (),
                can_send_files=transport is not None and Capability.FILES in transport.capabilities,
            )
            replies = step(ctx, state, incoming)
            if ctx.forget_after_delivery:
                self._erased.add(key)
            tx.save_conversation(conversation, state.model_dump(mode="json"))
            # Nothing else waits: this process sends the replies, claimed as they are written.
            claim = self._claims and not conversation.has_pending
            # claims are leases between processes: real time, even on a trial clock
            queued = tx.queue(
                key,
                [outgoing_to_dict(reply) for reply in replies],
                agent_id=ctx.agent.id if ctx.agent else None,
                claimed_at=utcnow() if claim else None,
            )
            # replies of an earlier turn that failed to go out must go first
            if not conversation.has_pending:
                return queued, [k for k in ctx.pushed if k != key]
            if self._claims:  # None: another process is sending them; wait for it
                return tx.claim_pending(key, utcnow()), [k for k in ctx.pushed if k != key]
            return tx.pending_for(key), [k for k in ctx.pushed if k != key]

    async def _send(self, key: ConversationKey, pending: list[PendingDelivery] | None) -> None:
        """Deliver ``pending`` in order (on PostgreSQL, claimed by this process).

        None (PostgreSQL): another process is sending this conversation's earlier messages;
        claim again until it is done, then send what is left, ours included, in order.
        """
        delay = CLAIM_RETRY_FIRST
        while pending is None:
            await asyncio.sleep(delay)
            delay = min(delay * 2, CLAIM_RETRY_MAX)
            pending = await self._db_retrying(self.store.claim_deliveries, key)
        if not self._claims:
            await self._deliver(key, pending)
            return
        if pending:
            try:
                kept = await self._deliver(key, pending)
            except BaseException:  # the database lost midway: unclaim, for the next turn
                ids = [d.id for d in pending]
                await asyncio.shield(self._db_retrying(self.store.release_deliveries, ids))
                raise
            if kept:  # let the next turn, the redelivery or the window's opening send them
                ids = [d.id for d in kept]
                await self._db_retrying(self.store.release_deliveries, ids)

    async def _deliver(
        self, key: ConversationKey, pending: list[PendingDelivery]
    ) -> list[PendingDelivery]:
        """Send ``pending`` in order; returns those that stay pending (the others are sent,
        or failed for good, or blocked, or expired).

        Pushes wait for the sending window, and replies go past them: an agent who writes on
        a Saturday is answered at once, the push they had not yet received comes on Monday.
        A push whose moment passed (``expires_at``, on the engine's clock, so a trial's) is
        marked expired instead of being sent late, on every transport; replies never are.
        """
        transport = self._transports.get(key.transport)
        if transport is None:  # a platform this process does not run: worth a warning
            log.warning(
                "aucun transport « %s » ici : %d messages pour %s restent en file",
                key.transport,
                len(pending),
                key,
            )
            return pending
        if not transport.reaches(key):  # the terminal and another of its users: by design
            log.info("%s not reached here: %d messages stay queued", key, len(pending))
            return pending
        held: list[PendingDelivery] = []  # pushes waiting for the window
        for index, delivery in enumerate(pending):
            if delivery.campaign is not None:
                now = self.clock()
                if delivery.expires_at is not None and now >= delivery.expires_at:
                    log.info("push %s to %s expired unsent", delivery.campaign, key)
                    await self._db_retrying(self.store.mark_expired, delivery.id)
                    self._count(key, "expired")
                    continue
                if not self.window.is_open(now):
                    held.append(delivery)
                    continue
            try:
                message = outgoing_from_dict(delivery.payload)
                await transport.send(key, message, idempotency=await self._key_of(delivery))
            except UnsupportedMessage as exc:
                # a programming error, not an outage: say it loudly, never retry it
                log.error("delivery %s to %s cannot be rendered: %s", delivery.id, key, exc)
                await self._db(self.store.mark_failed, delivery.id, repr(exc), final=True)
                self._count(key, "unsupported")
                continue
            except DeliveryRefused as exc:
                log.info("delivery to %s refused: %s", key, exc)
                await self._db(self.store.mark_blocked, delivery)
                self._count(key, "blocked")
                return []  # every pending delivery to this user is now blocked
            except Exception as exc:
                log.exception("delivery %s to %s failed", delivery.id, key)
                final = delivery.attempts + 1 >= MAX_ATTEMPTS
                await self._db_retrying(self.store.mark_failed, delivery.id, repr(exc), final=final)
                self._count(key, "failed")
                # keep the order: later replies wait for this one (unless it failed for good)
                return held + pending[index + final :]
            await self._mark_sent(delivery.id)
            self._count(key, "sent")
        return held

    async def _key_of(self, delivery: PendingDelivery) -> str:
        """The delivery's idempotency key: this database's salt (read once) and its id."""
        if self._salt is None:
            self._salt = await self._db(self.store.delivery_salt)
        return f"{self._salt:x}-{delivery.id}"

    async def _mark_sent(self, delivery_id: int) -> None:
        """SQLite: one statement, inline. PostgreSQL: with the marks made meanwhile, in one
        transaction (:class:`SentMarks`), tried again while the server restarts: a message
        sent and not marked would go out twice."""
        if self._inline:
            self.store.mark_sent(delivery_id)
            return
        await while_unreachable(lambda: self._marks.mark(delivery_id))

    def _count(self, key: ConversationKey, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.delivery(key.transport, outcome)

    async def push(
        self,
        recipients: Sequence[tuple[ConversationKey, int]],
        messages: Sequence[Outgoing],
        *,
        campaign: str,
        expires_at: datetime | None = None,
        concurrency: int = 200,
    ) -> int:
        """Send ``messages`` to each (conversation, agent id) once for this ``campaign``.

        The deliveries are queued first (a repeated campaign queues nothing new), then sent
        conversation by conversation, each in order; the transport paces itself; those not
        sent by ``expires_at`` never are. Returns how many messages were newly queued.
        """
        queued = await self._db(self._queue_push, recipients, messages, campaign, expires_at)
        await self.flush([k for k, _ in recipients], concurrency=concurrency)
        return queued

    async def flush(self, keys: Sequence[ConversationKey], *, concurrency: int = 200) -> None:
        """Deliver what waits for each conversation, several at a time, each in order."""
        limit = asyncio.Semaphore(concurrency)

        async def deliver(key: ConversationKey) -> None:
            async with limit:
                await self._flush(key)

        await asyncio.gather(*(deliver(key) for key in dict.fromkeys(keys)))

    async def close_polls(self, poll_prefix: str) -> int:
        """End, on every platform, the open polls whose id starts with ``poll_prefix``
        (the vote's, when it closes); returns how many platform polls were ended."""
        found = await self._db(self._open_polls, poll_prefix)
        closed = 0
        for transport_name, chat, poll_id in found:
            transport = self._transports.get(transport_name)
            if transport is None:
                continue
            try:
                closed += await transport.close_poll(
                    ConversationKey(transport_name, chat, ""), poll_id
                )
            except Exception:
                log.exception("could not close poll %s on %s", poll_id, transport_name)
        return closed

    def _open_polls(self, poll_prefix: str) -> list[tuple[str, str, str]]:
        with self.transaction() as tx:
            return tx.open_polls(poll_prefix)

    async def announce(self, campaign: Campaign, messages: Sequence[Outgoing]) -> int | None:
        """Queue ``campaign`` for its audience once, then deliver it (in the window).

        The campaign is recorded in the transaction that queues its deliveries: after a
        crash it is either wholly queued (and what is unsent goes out on restart) or not at
        all (and the next tick queues it). None: the campaign was already queued.
        """
        recipients = await self._db(self._queue_campaign, campaign, messages)
        if recipients is None:
            return None
        await self.flush([r.key for r in recipients])
        return len(recipients)

    def _queue_campaign(
        self, campaign: Campaign, messages: Sequence[Outgoing]
    ) -> list[Recipient] | None:
        with self.transaction() as tx:
            return queue_campaign(tx, campaign, messages)

    def _queue_push(
        self,
        recipients: Sequence[tuple[ConversationKey, int]],
        messages: Sequence[Outgoing],
        campaign: str,
        expires_at: datetime | None,
    ) -> int:
        payloads = [outgoing_to_dict(message) for message in messages]
        with self.transaction() as tx:
            return sum(
                tx.queue_push(key, agent_id, payloads, campaign, expires_at=expires_at)
                for key, agent_id in recipients
            )

    async def _flush(self, key: ConversationKey, *, wait: bool = True) -> None:
        """Deliver what waits for ``key``, under its lock. PostgreSQL, while another process
        sends earlier messages of ``key``: wait for it, or (``wait`` False) leave them to
        the next turn or the next redelivery."""
        async with self._conversation_lock(key):
            if self._claims:
                claimed = await self._db_retrying(self.store.claim_deliveries, key)
                if claimed is not None or wait:
                    await self._send(key, claimed)
            else:
                await self._deliver(key, await self._db(self.store.pending_deliveries, key=key))

    async def redeliver_pending(self, transport: str | None = None) -> int:
        """Send what a crash or an outage left queued; returns how many were pending.

        Pushes whose moment passed are marked expired first, on every transport: a push to a
        transport that is down, or not run by this process, would otherwise show as pending
        in ``recueil campagnes`` until someone tried to send it."""
        expired = await self._db_retrying(self.store.expire_due, self.clock())
        if expired:
            log.info("%d pushes expired unsent", expired)
        pending = await self._db(self.store.pending_deliveries, transport=transport)
        by_key: dict[ConversationKey, list[PendingDelivery]] = {}
        for delivery in pending:
            by_key.setdefault(delivery.key, []).append(delivery)
        for key in by_key:
            adapter = self._transports.get(key.transport)
            if adapter is None or adapter.reaches(key):  # the terminal: its own user only
                await self._flush(key, wait=False)
        return len(pending)

    async def _send_apology(self, key: ConversationKey, message: str = "error.internal") -> None:
        transport = self._transports.get(key.transport)
        if transport is None:
            return
        try:
            await transport.send(key, OutText(self.services.catalogue.t(message)))
        except Exception:
            log.exception("could not apologise to %s", key)
