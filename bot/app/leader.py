"""The scheduler runs in one process at a time: the leader, elected through PostgreSQL.

Every ``recueil run`` on a PostgreSQL base starts its scheduler paused and tries, every few
seconds, to take the leader's lock (:class:`storage.leader.LeaderLock`). The process that
holds it runs the scheduled jobs (redelivery, announcements, retention); the others only
answer their webhooks. When the leader dies its session ends, the lock is freed, and
another process takes over at its next try. A leader that loses its connection (the server
restarted) pauses its jobs before trying again. On SQLite, one process only, there is no
election: the scheduler simply runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from apscheduler.schedulers.base import BaseScheduler

from storage.leader import LeaderLock

log = logging.getLogger(__name__)

RETRY_SECONDS = 5.0
"""At most this long between two tries of a follower, or two checks of the leader."""


async def lead(lock: LeaderLock, scheduler: BaseScheduler, every: float) -> None:
    """Run ``scheduler`` (started paused) while this process holds ``lock``; until cancelled."""
    leading = False
    try:
        while True:
            if leading:
                leading = await asyncio.to_thread(lock.still_held)
                if not leading:
                    scheduler.pause()
                    log.warning(
                        "tâches planifiées suspendues : ce processus n’est plus leur responsable"
                    )
            else:
                leading = await asyncio.to_thread(lock.acquire)
                if leading:
                    scheduler.resume()
                    log.info("ce processus est le responsable des tâches planifiées")
            await asyncio.sleep(every)
    finally:
        if leading:
            with contextlib.suppress(Exception):
                scheduler.pause()
        await asyncio.to_thread(lock.release)
