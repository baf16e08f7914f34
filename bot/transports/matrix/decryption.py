"""Events that could not be decrypted yet: kept, retried when keys arrive, then given up.

A room key may reach the bot after the message it opens (to-device messages and room
events travel separately). After each sync, every waiting event is tried again; if the key
has not come within the grace period, the caller tells the agent to send it again.
"""

from __future__ import annotations

import asyncio
import logging

from nio import AsyncClient, EncryptionError, Event, LocalProtocolError, MegolmEvent

log = logging.getLogger(__name__)


class Undecryptable:
    def __init__(self, client: AsyncClient, grace: float) -> None:
        self.client = client
        self.grace = grace
        self._waiting: dict[str, tuple[MegolmEvent, asyncio.Future[Event]]] = {}
        self.arrived = asyncio.Condition()
        """Notified whenever an event starts waiting (tests wait on it instead of sleeping)."""

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    async def wait(self, event: MegolmEvent) -> Event | None:
        """The decrypted event, or None if its key did not arrive within the grace period."""
        decrypted = self._try(event)
        if decrypted is not None:
            return decrypted
        future: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
        self._waiting[event.event_id] = (event, future)
        async with self.arrived:
            self.arrived.notify_all()
        await self._request_key(event)
        try:
            return await asyncio.wait_for(future, self.grace)
        except TimeoutError:
            log.warning("event %s still undecryptable after %.0fs", event.event_id, self.grace)
            return None
        finally:
            self._waiting.pop(event.event_id, None)

    def retry(self) -> None:
        """Try every waiting event again (after a sync brought new keys)."""
        for event, future in list(self._waiting.values()):
            if future.done():
                continue
            decrypted = self._try(event)
            if decrypted is not None:
                future.set_result(decrypted)

    def _try(self, event: MegolmEvent) -> Event | None:
        try:
            decrypted = self.client.decrypt_event(event)
        except EncryptionError:
            return None
        return None if isinstance(decrypted, MegolmEvent) else decrypted

    async def _request_key(self, event: MegolmEvent) -> None:
        """Ask the sender's devices for the key once (clients may honour it)."""
        try:
            await self.client.request_room_key(event)
        except LocalProtocolError:
            pass  # already requested for this session
        except Exception:
            log.warning("room key request for %s failed", event.session_id, exc_info=True)
