"""Pacing and backoff: how long to wait before the next request to the homeserver."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import random
from collections.abc import AsyncIterator

URGENT, PUSH = 0, 1
"""Priorities: an agent waits for a reply; a push can wait."""

MAX_IN_FLIGHT = 8
"""Requests started and not yet answered, at most. The homeserver answers a bot's requests
about as fast with a few in flight as with hundreds; beyond that, a campaign's requests
would queue at the server, first come first served, where a reply cannot pass them (a
thousand-agent push with 200 in flight delayed a reply by 43 s, every request waiting 17 s)."""


class Pacer:
    """Grants request starts ``interval`` seconds apart: urgent ones first, each kind in order.

    Tchap asks bots for about one request per second. The homeserver's own limit is per
    account, so a rate-limit answer in one room holds back every room (:meth:`hold`). From
    then on, until no request is left waiting, requests go one at a time, spaced by the
    longest delay the server advised: a campaign queued for a thousand rooms then costs
    about one refusal, not a thousand refusals every time the limit lifts. Replies to agents
    (``urgent``) go before queued pushes, so a push never delays an answer by more than one
    interval or one advised delay, and at most :data:`MAX_IN_FLIGHT` requests are in flight,
    so that the queue a reply passes is this one, not the server's.
    """

    def __init__(self, interval: float, max_in_flight: int = MAX_IN_FLIGHT) -> None:
        self.interval = interval
        self.max_in_flight = max_in_flight
        self._next = 0.0
        self._queue: list[tuple[int, int, asyncio.Future[None], str | None]] = []
        self._tickets = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._running = 0  # granted requests not yet answered
        self._limited = False  # a rate-limit answer since the queue was last empty
        self._spacing = 0.0  # the longest delay advised since then

    @contextlib.asynccontextmanager
    async def slot(self, *, urgent: bool = False, room: str | None = None) -> AsyncIterator[None]:
        """Wait for the right to start one request, which runs inside the block.

        ``room``: what :meth:`promote` finds the waiting request by.
        """
        loop = asyncio.get_running_loop()
        granted: asyncio.Future[None] = loop.create_future()
        ticket = (URGENT if urgent else PUSH, next(self._tickets), granted, room)
        heapq.heappush(self._queue, ticket)
        self._schedule(loop)
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                self._release(loop)  # granted just as the waiter was cancelled
            raise
        try:
            yield
        finally:
            self._release(loop)

    def hold(self, seconds: float) -> None:
        """No request starts in the next ``seconds`` (the server's advised delay)."""
        loop = asyncio.get_running_loop()
        self._next = max(self._next, loop.time() + seconds)
        self._limited = True
        self._spacing = max(self._spacing, seconds)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._schedule(loop)

    def promote(self, room: str) -> None:
        """Make urgent what waits for ``room`` (a push a reply in that room waits behind)."""
        if any(priority == PUSH and key == room for priority, _, _, key in self._queue):
            self._queue = [
                (URGENT if key == room else priority, number, granted, key)
                for priority, number, granted, key in self._queue
            ]
            heapq.heapify(self._queue)

    @property
    def _full(self) -> bool:
        """As many requests in flight as allowed (one at a time while limited)."""
        return self._running >= (1 if self._limited else self.max_in_flight)

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._timer is None and self._queue and not self._full:
            self._timer = loop.call_at(self._next, self._grant, loop)

    def _grant(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        if self._full:
            return  # a release schedules the next
        while self._queue and not self._full and loop.time() >= self._next:
            _, _, granted, _ = heapq.heappop(self._queue)
            if not granted.done():  # a cancelled waiter is skipped
                granted.set_result(None)
                self._running += 1
                spacing = self.interval if not self._limited else max(self.interval, self._spacing)
                self._next = loop.time() + spacing
        self._schedule(loop)

    def _release(self, loop: asyncio.AbstractEventLoop) -> None:
        self._running -= 1
        if self._running == 0 and not any(not entry[2].done() for entry in self._queue):
            self._limited, self._spacing = False, 0.0
        self._schedule(loop)


class Backoff:
    """Exponential delays with jitter, capped; :meth:`reset` after a success."""

    def __init__(self, base: float = 1.0, cap: float = 60.0, jitter: float = 0.1) -> None:
        self.base = base
        self.cap = cap
        self.jitter = jitter
        self.failures = 0

    def next_delay(self) -> float:
        delay = min(self.cap, self.base * 2**self.failures)
        self.failures += 1
        return delay * (1 + random.uniform(0, self.jitter))

    def reset(self) -> None:
        self.failures = 0
