"""Pacing and backoff: how long to wait before the next request to the homeserver."""

from __future__ import annotations

import asyncio
import random


class Pacer:
    """Spaces request starts by ``interval`` seconds, first come first served.

    Tchap asks bots for about one request per second. The homeserver's own limit is per
    account, so a rate-limit answer in one room holds back every room: :meth:`hold`.
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            loop = asyncio.get_running_loop()
            delay = self._next - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            self._next = max(loop.time(), self._next) + self.interval

    def hold(self, seconds: float) -> None:
        """No request starts in the next ``seconds`` (the server's advised delay)."""
        loop = asyncio.get_running_loop()
        self._next = max(self._next, loop.time() + seconds)


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
