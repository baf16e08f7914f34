"""Incoming work: in order within a conversation, concurrent across conversations.

A sync batch's token may be saved only when every job of that batch and of the batches
before it is done: then a restart never skips an unhandled event (and the engine drops the
ones handled twice by their event id). :class:`Dispatcher` tracks that.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


@dataclass(eq=False)
class Batch:
    token: str
    pending: int = 0
    sealed: bool = False


class Dispatcher:
    """Runs jobs per lane (a conversation), lanes side by side; saves tokens when safe."""

    def __init__(self, save_token: Callable[[str], None]) -> None:
        self._save_token = save_token
        self._batches: deque[Batch] = deque()
        self._lanes: dict[Hashable, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def open_batch(self, token: str) -> Batch:
        batch = Batch(token)
        self._batches.append(batch)
        return batch

    def submit(self, batch: Batch, lane: Hashable, job: Job) -> None:
        """Run ``job`` after the jobs already submitted to ``lane``."""
        batch.pending += 1
        previous = self._lanes.get(lane)
        task = asyncio.create_task(self._run(previous, job, batch))
        self._lanes[lane] = task
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._finished(lane, done))

    async def _run(self, previous: asyncio.Task[None] | None, job: Job, batch: Batch) -> None:
        try:
            if previous is not None:
                await asyncio.wait([previous])
            await job()
        except Exception:
            log.exception("incoming job failed")
        finally:
            batch.pending -= 1
            self._advance()

    def _finished(self, lane: Hashable, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if self._lanes.get(lane) is task:
            del self._lanes[lane]

    def seal(self, batch: Batch) -> None:
        """No more jobs for ``batch``: its token is saved once they are all done."""
        batch.sealed = True
        self._advance()

    def _advance(self) -> None:
        token = None
        while self._batches and self._batches[0].sealed and self._batches[0].pending == 0:
            token = self._batches.popleft().token
        if token is not None:
            self._save_token(token)

    async def drain(self) -> None:
        """Wait for every submitted job (tests, shutdown)."""
        while self._tasks:
            await asyncio.wait(list(self._tasks))

    async def cancel(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks))
