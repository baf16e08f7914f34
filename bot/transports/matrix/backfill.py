"""Events a sync left out: a room whose timeline came back ``limited`` is read back to the token.

After a stop, the first sync returns at most ``timeline_limit`` events per room; when more
arrived meanwhile, the older ones are only reachable by paginating ``/messages`` backwards
from the timeline's ``prev_batch`` to the sync token the bot had saved. Without this, an
agent who sent many messages while the bot was down would lose the first ones.
"""

from __future__ import annotations

import asyncio
import logging

from nio import AsyncClient, Event, MessageDirection, RoomMessagesResponse

from bot.transports.matrix.pacing import Backoff
from bot.transports.matrix.sender import TRANSIENT_ERRORS, Sender

log = logging.getLogger(__name__)

PAGE = 100


async def missed_events(
    client: AsyncClient,
    sender: Sender,
    room_id: str,
    prev_batch: str,
    since: str,
    *,
    pages: int,
    backoff_cap: float,
) -> list[Event]:
    """The events between ``since`` and ``prev_batch``, oldest first (decrypted if possible).

    Requests are paced like every other (``sender.call`` also waits out rate limits).
    Transient failures (network, server errors) are retried with backoff: the batch's token
    is not saved meanwhile, so a stop in the middle loses nothing. A refusal (a Matrix error
    code such as ``M_FORBIDDEN``) ends the backfill with what was read, logged.
    """
    events: list[Event] = []
    start = prev_batch
    for _ in range(pages):
        response = await _page(client, sender, room_id, start, since, backoff_cap)
        if response is None:
            break
        events.extend(response.chunk)
        if not response.chunk or not response.end or response.end == start:
            break
        start = response.end
    else:
        log.warning("room %s: over %d missed events, older ones skipped", room_id, pages * PAGE)
    events.reverse()
    log.info("room %s: %d events read back after a limited sync", room_id, len(events))
    return events


async def _page(
    client: AsyncClient, sender: Sender, room_id: str, start: str, since: str, backoff_cap: float
) -> RoomMessagesResponse | None:
    backoff = Backoff(base=1.0, cap=backoff_cap)
    while True:
        try:
            response = await sender.call(
                lambda: client.room_messages(
                    room_id, start=start, end=since, direction=MessageDirection.back, limit=PAGE
                )
            )
        except TRANSIENT_ERRORS as exc:
            problem = repr(exc)
        else:
            if isinstance(response, RoomMessagesResponse):
                return response
            if (response.status_code or "").startswith("M_"):
                log.error("room %s: cannot read missed events (%s)", room_id, response)
                return None
            problem = str(response)
        delay = backoff.next_delay()
        log.warning(
            "room %s: reading missed events failed (%s), retry in %.1fs", room_id, problem, delay
        )
        await asyncio.sleep(delay)
