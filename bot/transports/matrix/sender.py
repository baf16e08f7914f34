"""Sending room events: encrypted, paced, in order per room, retried without duplicates.

Each event gets one transaction id, reused by every retry: the homeserver answers a
repeated ``PUT .../send/{type}/{txnId}`` with the event it already stored, so a retry after
a lost answer never posts twice. ``M_LIMIT_EXCEEDED`` is retried after the advised delay
for as long as it takes (nothing is dropped); a connection or server error is retried a
few times with backoff, then raised as :class:`MatrixSendError` so that the engine keeps
the reply queued; a refusal for good becomes :class:`DeliveryRefused`.

While the transport handles an agent's event in a room (:meth:`Sender.answering`), the
requests for that room are urgent: they go before queued pushes (:class:`.pacing.Pacer`),
and so does a push already queued there, which the reply would otherwise wait behind (the
room's order, and the engine's lock on the conversation).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import uuid4

import aiohttp
from nio import AsyncClient, LocalProtocolError, RoomSendError, RoomSendResponse, SendRetryError

from bot.core.transport import DeliveryRefused
from bot.transports.matrix.errors import MatrixSendError
from bot.transports.matrix.pacing import Backoff, Pacer

log = logging.getLogger(__name__)
ResponseT = TypeVar("ResponseT")

LIMIT_EXCEEDED = "M_LIMIT_EXCEEDED"
REFUSED = frozenset({"M_FORBIDDEN", "M_NOT_FOUND", "M_UNKNOWN_TOKEN", "M_BAD_JSON"})
TRANSIENT_ATTEMPTS = 5
DEFAULT_RETRY_MS = 5000
TRANSIENT_ERRORS = (aiohttp.ClientError, TimeoutError, OSError, SendRetryError, ValueError)


@dataclass
class SendStats:
    """What the sender went through; read by tests and logs."""

    sent: int = 0
    rate_limited: int = 0
    transient_failures: int = 0


_KEYED: ContextVar[Iterator[str] | None] = ContextVar("matrix_transaction_ids", default=None)


@contextlib.contextmanager
def transaction_ids(key: str | None) -> Iterator[None]:
    """The events sent meanwhile by this task get ``recueil.<key>.<n>`` as transaction ids.

    ``key`` is the engine's for one delivery: sending the delivery again (a restart lost
    the mark « sent ») repeats the same ids, which the homeserver answers with the events it
    already stored, so the agent sees the message once. Without a key, ids are random.
    """
    if key is None:
        yield
        return
    token = _KEYED.set(f"recueil.{key}.{n}" for n in itertools.count())
    try:
        yield
    finally:
        _KEYED.reset(token)


def _transaction_id() -> str:
    keyed = _KEYED.get()
    return next(keyed) if keyed is not None else str(uuid4())


class Sender:
    """Sends events for one nio client; the client must run encryption (``olm``)."""

    def __init__(self, client: AsyncClient, pacer: Pacer, backoff_cap: float = 30.0) -> None:
        self.client = client
        self.pacer = pacer
        self.backoff_cap = backoff_cap
        self.stats = SendStats()
        self._room_locks: dict[str, asyncio.Lock] = {}
        self._answering: dict[str, int] = {}  # room -> agent events being handled there

    async def send(self, room_id: str, event_type: str, content: dict[str, Any]) -> str:
        """Send one event to ``room_id`` after the ones already queued there; its event id."""
        tx_id = _transaction_id()
        lock = self._room_locks.setdefault(room_id, asyncio.Lock())
        async with lock:
            return await self._send(room_id, event_type, content, tx_id=tx_id)

    @contextlib.contextmanager
    def answering(self, room_id: str) -> Iterator[None]:
        """While an agent's event in ``room_id`` is handled: that room's requests go first."""
        self._answering[room_id] = self._answering.get(room_id, 0) + 1
        self.pacer.promote(room_id)
        try:
            yield
        finally:
            self._answering[room_id] -= 1
            if not self._answering[room_id]:
                del self._answering[room_id]

    async def _send(
        self, room_id: str, event_type: str, content: dict[str, Any], tx_id: str
    ) -> str:
        # A room unknown to nio cannot be sent to; one whose encryption nio has not
        # synced would get clear text: both are ruled out before the first send.
        room = self.client.rooms.get(room_id)
        if self.client.olm is None:
            raise MatrixSendError("encryption is not loaded: refusing to send in clear text")
        if room is None:
            raise DeliveryRefused(f"the bot is not in room {room_id}")
        backoff = Backoff(base=0.5, cap=self.backoff_cap)
        while True:
            try:
                urgent = room_id in self._answering
                async with self.pacer.slot(urgent=urgent, room=room_id):
                    response = await self.client.room_send(
                        room_id,
                        event_type,
                        copy.deepcopy(content),  # nio moves m.relates_to out of what it encrypts
                        tx_id=tx_id,
                        ignore_unverified_devices=True,
                    )
                    if (delay := _advised_delay(response)) is not None:
                        self.pacer.hold(delay)  # inside the slot: before anyone else starts
            except LocalProtocolError as exc:
                raise DeliveryRefused(f"cannot send to {room_id}: {exc}") from exc
            except TRANSIENT_ERRORS as exc:
                response = None
                error = repr(exc)
            if isinstance(response, RoomSendResponse):
                self.stats.sent += 1
                return response.event_id
            if isinstance(response, RoomSendError):
                if response.status_code == LIMIT_EXCEEDED:
                    self.stats.rate_limited += 1
                    log.info("rate limited in %s: %s waits its turn again", room_id, tx_id)
                    continue
                if response.status_code in REFUSED:
                    raise DeliveryRefused(f"{room_id}: {response.status_code} {response.message}")
                error = f"{response.status_code} {response.message}"
            self.stats.transient_failures += 1
            if backoff.failures >= TRANSIENT_ATTEMPTS:
                raise MatrixSendError(f"{room_id}: {error}")
            delay = backoff.next_delay()
            log.warning(
                "send to %s failed (%s): retrying %s in %.1fs", room_id, error, tx_id, delay
            )
            await asyncio.sleep(delay)

    async def call(
        self, request: Callable[[], Awaitable[ResponseT]], room: str | None = None
    ) -> ResponseT:
        """Run another paced request (join, leave, upload) about ``room``, waiting out rate
        limits.

        Connection errors are retried a few times with backoff; the last response
        (possibly an error value) is returned for the caller to check.
        """
        backoff = Backoff(base=0.5, cap=self.backoff_cap)
        while True:
            try:
                async with self.pacer.slot(urgent=room in self._answering, room=room):
                    response = await request()
                    if (delay := _advised_delay(response)) is not None:
                        self.pacer.hold(delay)
            except TRANSIENT_ERRORS:
                if backoff.failures >= TRANSIENT_ATTEMPTS:
                    raise
                await asyncio.sleep(backoff.next_delay())
                continue
            if _advised_delay(response) is not None:
                self.stats.rate_limited += 1
                continue
            return response


def _advised_delay(response: object) -> float | None:
    """Seconds to wait when ``response`` is ``M_LIMIT_EXCEEDED`` (None otherwise)."""
    if getattr(response, "status_code", None) != LIMIT_EXCEEDED:
        return None
    return (getattr(response, "retry_after_ms", None) or DEFAULT_RETRY_MS) / 1000
