"""Deliveries marked sent in batches, for a database across the network (PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from storage.models import utcnow

Write = Callable[[Sequence[tuple[int, datetime]]], Awaitable[None]]


class SentMarks:
    """Marks deliveries sent; those delivered while a batch is being written go together.

    :meth:`mark` returns once the delivery is recorded as sent, as a mark of its own did:
    a conversation's next reply still goes only after the previous one is marked. But the
    replies of every conversation that went out meanwhile share one transaction, and one
    thread hand-off, instead of a transaction each (on PostgreSQL four round trips: the
    pool's ping, ``BEGIN``, the update, ``COMMIT``). Each keeps the time it was delivered.
    """

    def __init__(self, write: Write) -> None:
        self._write = write
        self._waiting: list[tuple[int, datetime, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def mark(self, delivery_id: int) -> None:
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((delivery_id, utcnow(), future))  # real time, even in a trial
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_batches())
        await future

    async def _write_batches(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    await self._write([(delivery_id, at) for delivery_id, at, _ in batch])
                except Exception as exc:  # each waiter fails as its own mark would have
                    for *_, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                else:
                    for *_, future in batch:
                        if not future.done():
                            future.set_result(None)
        finally:
            self._writer = None
