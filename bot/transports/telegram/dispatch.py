"""Handing updates to the core: in order within a chat, chats side by side.

Polling hands a batch and acknowledges it (by asking for the next one) only once every
update of the batch was handled; the webhook answers Telegram only after handling. An
update handled just before a crash therefore comes again after the restart, and the engine,
which records each ``event_id`` (the update id) in the turn's transaction, drops it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from telegram import Update

from bot.core.locks import KeyedLocks
from bot.core.transport import IncomingHandler
from bot.transports.telegram.context import handling_update, replying_to
from bot.transports.telegram.updates import UpdateRouter, lane

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(self, router: UpdateRouter, handle: IncomingHandler) -> None:
        self.router = router
        self.handle = handle
        self._lanes = KeyedLocks[int]()

    async def process_batch(self, updates: Sequence[Update]) -> None:
        lanes: dict[int, list[Update]] = {}
        for update in updates:
            lanes.setdefault(lane(update), []).append(update)
        await asyncio.gather(*(self._run_lane(batch) for batch in lanes.values()))

    async def process_one(self, update: Update) -> None:
        """For the webhook, where Telegram may send a chat's updates concurrently."""
        async with self._lanes(lane(update)):
            await self._process(update)

    async def _run_lane(self, updates: list[Update]) -> None:
        for update in updates:
            await self._process(update)

    async def _process(self, update: Update) -> None:
        handling_update.set(update.update_id)
        try:
            incoming = await self.router.incoming(update)
            if incoming is None:
                return
            replying_to.set(int(incoming.key.chat))
            await self.handle(incoming)
        except Exception:
            # A poison update must not block the others forever: log it and move on.
            log.exception("Telegram update %s could not be handled", update.update_id)
