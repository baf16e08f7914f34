"""Send pacing for the Bot API: 30 messages per second overall, 1 per second per chat.

The limiter grants the right to start a request; the caller reports when the request ended.
A grant is held from its start until one window after the request *ended*, so a send the
server stamps at any moment between start and end is at least one window after the send it
replaces: the limits hold whatever the latency or jitter, on any clock the server shares.
That costs throughput in proportion to latency (about 5 % at 50 ms); being refused by
Telegram costs far more.

Time is injectable (``clock`` and ``sleep``) so that tests and benchmarks can run the same
schedule on virtual time. Only the scheduler task sleeps, always until the earliest moment
something can change, which makes a clock that jumps on ``sleep`` exact; with ``virtual``
it also waits for the requests in flight to end first, so they take no virtual time.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

CATCH_UP = 0.1
"""Seconds of lateness the global spacing may recover, so a late wake-up costs no rate."""


@dataclass(frozen=True, slots=True)
class Limits:
    """Telegram's published send limits."""

    global_per_window: int = 30
    per_chat_per_window: int = 1
    window: float = 1.0

    @property
    def spacing(self) -> float:
        return self.window / self.global_per_window

    @property
    def chat_spacing(self) -> float:
        return self.window / self.per_chat_per_window


@dataclass(slots=True)
class _Request:
    chat: int
    paced: bool
    granted: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class RateLimiter:
    """Grants replies first, then pushes, each in arrival order, skipping chats that must wait.

    ``paced`` sends (pushes) wait for their chat's interval; unpaced ones (the replies of a
    turn, which the user is waiting for) only wait for the chat's previous send to end, but
    still count for the next paced one. Every send counts against the global limit. A reply
    never queues behind a campaign: during a push to thousands of agents, the agent who
    writes is answered at the next free grant and the campaign takes what is left.
    """

    def __init__(
        self,
        limits: Limits | None = None,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        virtual: bool = False,
    ) -> None:
        self.limits = limits or Limits()
        self.clock = clock
        self.sleep = sleep
        self.virtual = virtual
        self._queue: deque[_Request] = deque()
        self._in_flight = 0
        self._cooling: list[float] = []  # when the grants of ended requests return
        self._chat_busy: set[int] = set()
        self._chat_free_at: dict[int, float] = {}
        self._next_at = float("-inf")
        self._paused_until = float("-inf")
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @contextlib.asynccontextmanager
    async def slot(self, chat: int, *, paced: bool = True) -> AsyncIterator[None]:
        """Hold a grant for one request to ``chat``; released when the block exits."""
        await self.acquire(chat, paced=paced)
        try:
            yield
        finally:
            self.release(chat)

    async def acquire(self, chat: int, *, paced: bool = True) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._schedule(), name="telegram-rate-limiter")
        request = _Request(chat, paced)
        self._queue.append(request)
        self._wakeup.set()
        try:
            await request.granted
        except asyncio.CancelledError:
            if request.granted.done() and not request.granted.cancelled():
                self.release(chat)  # granted just as we were cancelled: give it back
            else:
                with contextlib.suppress(ValueError):
                    self._queue.remove(request)
            raise

    def release(self, chat: int) -> None:
        """The request ended (whatever its outcome): its grant returns one window later."""
        now = self.clock()
        self._in_flight -= 1
        heapq.heappush(self._cooling, now + self.limits.window)
        self._chat_busy.discard(chat)
        self._chat_free_at[chat] = now + self.limits.chat_spacing
        self._wakeup.set()

    def pause(self, seconds: float) -> None:
        """Telegram said ``retry_after``: grant nothing before ``seconds`` from now."""
        self._paused_until = max(self._paused_until, self.clock() + seconds)
        self._wakeup.set()

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    # -- the scheduler ----------------------------------------------------------------

    async def _schedule(self) -> None:
        while True:
            self._wakeup.clear()
            now = self.clock()
            self._grant(now)
            delay = self._next_change(now)
            if delay is None or (self.virtual and self._in_flight):
                # On virtual time a request takes no time: let those in flight end (and
                # report a ``retry_after``) before time moves on.
                await self._wakeup.wait()
                continue
            waiter = asyncio.ensure_future(self._wakeup.wait())
            sleeper = asyncio.ensure_future(self.sleep(delay))
            try:
                await asyncio.wait({waiter, sleeper}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (waiter, sleeper):
                    task.cancel()

    def _free(self, now: float) -> int:
        while self._cooling and self._cooling[0] <= now:
            heapq.heappop(self._cooling)
        return self.limits.global_per_window - self._in_flight - len(self._cooling)

    def _ready(self, request: _Request, now: float) -> bool:
        if request.granted.done() or request.chat in self._chat_busy:
            return False
        return not request.paced or self._chat_free_at.get(request.chat, now) <= now

    def _grant(self, now: float) -> None:
        if now < self._paused_until:
            return
        free = self._free(now)
        granted = False
        replies_first = sorted(self._queue, key=lambda r: r.paced)  # stable: arrival order
        for request in replies_first:
            if free <= 0 or now < self._next_at:
                break
            if not self._ready(request, now):
                continue
            request.granted.set_result(None)
            granted = True
            self._in_flight += 1
            free -= 1
            self._chat_busy.add(request.chat)
            self._next_at = max(self._next_at, now - CATCH_UP) + self.limits.spacing
        if granted or any(r.granted.done() for r in self._queue):
            self._queue = deque(r for r in self._queue if not r.granted.done())
        if len(self._chat_free_at) > 4 * self.limits.global_per_window:
            self._chat_free_at = {c: t for c, t in self._chat_free_at.items() if t > now}

    def _next_change(self, now: float) -> float | None:
        """Seconds until a waiting request may become grantable; None: wait for an event."""
        if not self._queue:
            return None
        if now < self._paused_until:
            return self._paused_until - now
        candidates: list[float] = []
        if self._free(now) <= 0:
            if not self._cooling:
                return None  # every grant is in flight: a release will wake us
            candidates.append(self._cooling[0])
        elif now < self._next_at:
            candidates.append(self._next_at)
        else:
            candidates.extend(
                self._chat_free_at[r.chat]
                for r in self._queue
                if r.paced and r.chat not in self._chat_busy and r.chat in self._chat_free_at
            )
        future = [at for at in candidates if at > now]
        return min(future) - now if future else None
