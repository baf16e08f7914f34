"""Send-rate bookkeeping for the fake Bot API: clocks, a send log and a limit checker.

Telegram asks bots to stay under about 30 messages per second overall and 1 message per
second in a given chat, and answers 429 with ``retry_after`` beyond that. The fake server
timestamps every accepted send with an injectable clock, so a test or a benchmark can either
check the log afterwards (``find_violations``) or have the server refuse excess sends the way
Telegram does (``RateLimits`` passed as ``enforce_rate_limits``).

Clocks:
    * ``time.monotonic`` (default): real time.
    * ``ManualClock``: time moves only when the test calls ``advance``; deterministic, for tests
      of the bookkeeping itself.
    * ``ScaledClock(scale)``: real elapsed time multiplied by ``scale``. A benchmark that runs a
      client limiter at ``scale`` times Telegram's rates, checked against Telegram's limits on
      this clock, tests the same schedule ``scale`` times faster (2,000 chats at 30 msg/s take
      67 s of virtual time, 0.67 s of real time at ``scale=100``). Real jitter is scaled too, so
      give ``find_violations`` a tolerance of a few real milliseconds times ``scale``.
"""

from __future__ import annotations

import asyncio
import math
import time
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass

Clock = Callable[[], float]


class ManualClock:
    """A clock that only moves when told to."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start

    def __call__(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        if seconds < 0:
            raise ValueError("a clock does not go backwards")
        self._now += seconds


class ScaledClock:
    """Real elapsed time multiplied by ``scale``, starting at zero."""

    def __init__(self, scale: float) -> None:
        if scale <= 0:
            raise ValueError("scale must be positive")
        self.scale = scale
        self._origin = time.monotonic()

    def __call__(self) -> float:
        return (time.monotonic() - self._origin) * self.scale


@dataclass(frozen=True)
class RateLimits:
    """Telegram's documented send limits, in messages per ``window`` seconds."""

    global_per_window: int = 30
    per_chat_per_window: int = 1
    window: float = 1.0


@dataclass(frozen=True)
class SendRecord:
    """One accepted send (a method that creates a message)."""

    at: float
    chat_id: int
    method: str


@dataclass(frozen=True)
class RateViolation:
    """More than ``limit`` sends within ``window`` seconds, ``scope`` "global" or a chat id."""

    scope: str | int
    limit: int
    count: int
    first_at: float
    last_at: float


def _window_violations(
    times: list[float], scope: str | int, limit: int, window: float, tolerance: float
) -> list[RateViolation]:
    """Sliding half-open windows: sends at t and t + window do not share a window."""
    violations: list[RateViolation] = []
    start = 0
    for end, at in enumerate(times):
        while at - times[start] >= window - tolerance:
            start += 1
        count = end - start + 1
        if count > limit:
            violations.append(RateViolation(scope, limit, count, times[start], at))
    return violations


def find_violations(
    sends: Iterable[SendRecord], limits: RateLimits | None = None, tolerance: float = 0.0
) -> list[RateViolation]:
    """Every window in which ``sends`` exceeded ``limits``, globally or per chat.

    Args:
        sends: The send log, in any order.
        limits: The limits to check; Telegram's by default.
        tolerance: Seconds by which two sends may be closer than the limit allows and still
            count as spaced correctly, to absorb transport jitter between the client's clock
            and the server's.
    """
    limits = limits or RateLimits()
    ordered = sorted(sends, key=lambda record: record.at)
    violations = _window_violations(
        [record.at for record in ordered],
        "global",
        limits.global_per_window,
        limits.window,
        tolerance,
    )
    per_chat: dict[int, list[float]] = {}
    for record in ordered:
        per_chat.setdefault(record.chat_id, []).append(record.at)
    for chat_id, times in per_chat.items():
        violations.extend(
            _window_violations(times, chat_id, limits.per_chat_per_window, limits.window, tolerance)
        )
    return violations


def retry_after(sends: list[SendRecord], chat_id: int, now: float, limits: RateLimits) -> int:
    """Seconds a new send to ``chat_id`` must wait, 0 if it may go now.

    ``sends`` is the log in time order. Telegram reports whole seconds, at least 1.
    """
    recent = sends[bisect_right(sends, now - limits.window, key=lambda record: record.at) :]
    waits: list[float] = []
    if len(recent) >= limits.global_per_window:
        waits.append(recent[-limits.global_per_window].at + limits.window - now)
    in_chat = [record for record in recent if record.chat_id == chat_id]
    if len(in_chat) >= limits.per_chat_per_window:
        waits.append(in_chat[-limits.per_chat_per_window].at + limits.window - now)
    if not waits:
        return 0
    return max(1, math.ceil(max(waits)))


class VirtualClock:
    """Time that moves only when someone sleeps on it: the whole schedule, no waiting.

    Give it to the server (``clock=``) and to the client's rate limiter (``clock=`` and
    ``sleep=``). The limiter sleeps only until the earliest moment something can change, so
    jumping there at once runs the same schedule as real time, with zero latency and jitter.
    Time is kept in whole nanoseconds and each sleep lands one nanosecond past its target,
    so a wake-up is never a rounding error short of the instant it waited for.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._ns = round(start * 1e9)

    def __call__(self) -> float:
        return self._ns / 1e9

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._ns += math.ceil(seconds * 1e9) + 1
        await asyncio.sleep(0)
