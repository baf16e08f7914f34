"""Flood control: a token bucket per conversation, consulted before a turn is run.

A conversation may send ``burst`` messages at once, then ``rate`` per second. Past that its
messages are ignored, before any lock or database work, so that one agent pasting hundreds
of lines (or a script) costs the others nothing; it is told once per flood, in French.
The buckets live in memory: losing them on a restart only forgives a flood.

Keys for which ``exempt`` is true are never throttled (the administrators: their scripted
or pasted batches of commands are work, not a flood, and they are few).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from enum import Enum
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class Verdict(Enum):
    PASS = "pass"  # run the turn
    NOTICE = "notice"  # the first message refused in this flood: say why, once
    DROP = "drop"  # refused, already told


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float
    noticed: bool = False


class FloodGate(Generic[K]):
    """Token buckets by key. ``check`` is synchronous and O(1): call it before any await."""

    def __init__(
        self,
        *,
        burst: int,
        rate: float,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
        exempt: Callable[[K], bool] | None = None,
    ) -> None:
        if burst < 1 or rate <= 0:
            raise ValueError("a flood gate needs burst >= 1 and rate > 0")
        self.burst = burst
        self.rate = rate
        self.clock = clock
        self.max_keys = max_keys
        self.exempt = exempt
        self._buckets: dict[K, _Bucket] = {}

    def check(self, key: K) -> Verdict:
        if self.exempt is not None and self.exempt(key):
            return Verdict.PASS
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._forget_full(now)
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            bucket.noticed = False
            return Verdict.PASS
        if bucket.noticed:
            return Verdict.DROP
        bucket.noticed = True
        return Verdict.NOTICE

    def _forget_full(self, now: float) -> None:
        """Drop the buckets that have refilled: they hold nothing a new bucket would not."""
        full = [
            key
            for key, bucket in self._buckets.items()
            if bucket.tokens + (now - bucket.at) * self.rate >= self.burst
        ]
        for key in full:
            del self._buckets[key]
