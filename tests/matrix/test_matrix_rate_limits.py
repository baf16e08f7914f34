"""A push to many rooms under the homeserver's rate limit: no herd of retries, replies first.

A scripted nio client applies Synapse's ``rc_message`` rule (a bucket of ``burst`` that
drains at ``per_second``; ``M_LIMIT_EXCEEDED`` with the exact ``retry_after_ms``) on the
event loop's clock, fast enough for a unit test: the real Synapse takes 5 s per message
at its defaults (``benchmarks/matrix_reach.py`` measures that).
"""

from __future__ import annotations

import asyncio
import math
from types import SimpleNamespace
from typing import Any

from nio import RoomSendError, RoomSendResponse

from bot.transports.matrix.pacing import MAX_IN_FLIGHT, Pacer
from bot.transports.matrix.sender import Sender

ROOMS = [f"!room{n}:localhost" for n in range(30)]


class RateLimitedServer:
    """``room_send`` as a homeserver with a per-account message limit answers it."""

    def __init__(self, per_second: float, burst: int) -> None:
        self.per_second = per_second
        self.burst = burst
        self.rooms = {room: SimpleNamespace(encrypted=True) for room in ROOMS}
        self.olm = object()
        self.accepted: list[str] = []  # bodies, in the order the server stored them
        self.refused = 0
        self.limiting = asyncio.Event()  # set at the first refusal
        self.in_flight = self.most_in_flight = 0
        self._level = 0.0
        self._stamp: float | None = None

    async def room_send(
        self, room_id: str, event_type: str, content: dict[str, Any], tx_id: str, **_: Any
    ) -> RoomSendResponse | RoomSendError:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await asyncio.sleep(0)  # the request is in flight
        self.in_flight -= 1
        now = asyncio.get_running_loop().time()
        if self._stamp is not None:
            self._level = max(0.0, self._level - (now - self._stamp) * self.per_second)
        self._stamp = now
        if self._level + 1 > self.burst:
            self.refused += 1
            self.limiting.set()
            retry_ms = math.ceil((self._level + 1 - self.burst) / self.per_second * 1000)
            return RoomSendError("Too Many Requests", "M_LIMIT_EXCEEDED", retry_ms)
        self._level += 1
        self.accepted.append(content["body"])
        return RoomSendResponse(f"${len(self.accepted)}", room_id)


def text(body: str) -> dict[str, Any]:
    return {"msgtype": "m.text", "body": body}


async def test_a_rate_limited_push_is_not_retried_in_a_herd() -> None:
    """Each time the limit lifted, every queued room retried at once: one got through,
    the others earned another refusal (about 10 refusals per message at 30 rooms)."""
    server = RateLimitedServer(per_second=100, burst=3)
    sender = Sender(server, Pacer(0))  # type: ignore[arg-type]
    await asyncio.gather(*(sender.send(room, "m.room.message", text(room)) for room in ROOMS))
    assert sorted(server.accepted) == sorted(ROOMS)  # each once
    # Once refused, rooms go one at a time, spaced by the advised delay: a couple of
    # refusals in all (the herd earned 78 here).
    assert sender.stats.rate_limited == server.refused < len(ROOMS)


async def test_a_reply_is_not_queued_behind_a_rate_limited_push() -> None:
    """A reply waited behind every queued push (at Synapse's defaults, 5 s per room), and
    behind its own room's push, queued like any other."""
    server = RateLimitedServer(per_second=100, burst=3)
    sender = Sender(server, Pacer(0))  # type: ignore[arg-type]
    push = asyncio.gather(*(sender.send(room, "m.room.message", text(room)) for room in ROOMS))
    await server.limiting.wait()  # the push is being limited: rooms wait their turn
    accepted_before = len(server.accepted)

    with sender.answering(ROOMS[-1]):  # as the transport does while its agent's turn runs
        await sender.send(ROOMS[-1], "m.room.message", text("réponse"))
    await push
    # The push to that room goes first (a room's messages keep their order), then the
    # reply; at most one request already in flight may come between.
    position = server.accepted.index("réponse")
    assert server.accepted.index(ROOMS[-1]) < position <= accepted_before + 2
    assert len(server.accepted) == len(ROOMS) + 1


async def test_a_push_does_not_queue_its_requests_at_the_server() -> None:
    """Without a limit, every push was in flight at once: the server's queue, which a reply
    cannot pass (a thousand-agent push delayed a reply by 43 s on Synapse)."""
    server = RateLimitedServer(per_second=1e9, burst=1_000)
    sender = Sender(server, Pacer(0))  # type: ignore[arg-type]
    push = asyncio.gather(*(sender.send(room, "m.room.message", text(room)) for room in ROOMS))
    await asyncio.sleep(0)
    with sender.answering("!other:localhost"):
        server.rooms["!other:localhost"] = SimpleNamespace(encrypted=True)
        await sender.send("!other:localhost", "m.room.message", text("réponse"))
    await push
    assert server.most_in_flight == MAX_IN_FLIGHT < len(ROOMS)
    assert server.accepted.index("réponse") <= MAX_IN_FLIGHT
