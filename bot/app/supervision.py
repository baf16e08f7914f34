"""Keeping each transport running on its own: one that fails is retried, the others go on.

An unreachable Matrix homeserver at start used to stop the whole bot, Telegram included.
Now a transport whose ``run`` raises is logged and started again after a growing delay;
a transport that ran for a while before failing starts again from the shortest delay.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backoff:
    first: float = 1.0
    cap: float = 300.0
    healthy_after: float = 60.0  # a run this long resets the delay


async def supervise(
    name: str,
    run: Callable[[], Awaitable[None]],
    backoff: Backoff = Backoff(),
    on_state: Callable[[str, bool], None] | None = None,
) -> None:
    """Run ``run()`` until it returns (end of input) or is cancelled, retrying failures.

    ``on_state(name, up)`` is told when the transport starts and when it fails (the health
    endpoint reports it).
    """
    loop = asyncio.get_running_loop()
    delay = backoff.first
    while True:
        started = loop.time()
        if on_state is not None:
            on_state(name, True)
        try:
            await run()
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if on_state is not None:
                on_state(name, False)
            if loop.time() - started >= backoff.healthy_after:
                delay = backoff.first
            log.error(
                "transport %s stopped (%s); next start in %.0f s",
                name,
                exc,
                delay,
                exc_info=log.isEnabledFor(logging.DEBUG) or None,
            )
        await asyncio.sleep(delay)
        delay = min(delay * 2, backoff.cap)
