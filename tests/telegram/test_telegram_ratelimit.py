"""The rate limiter alone, on virtual time: its schedule, checked like the server's log."""

from __future__ import annotations

import asyncio
import itertools
import random

import pytest
from fake_bot_rate import RateLimits, SendRecord, VirtualClock, find_violations

from bot.transports.telegram.ratelimit import RateLimiter


async def send_all(
    limiter: RateLimiter, clock: VirtualClock, plan: list[tuple[int, bool]]
) -> list[SendRecord]:
    """Send ``plan`` (chat, paced) per chat in order, chats concurrently; the stamps."""
    log: list[SendRecord] = []
    by_chat: dict[int, list[bool]] = {}
    for chat, paced in plan:
        by_chat.setdefault(chat, []).append(paced)

    async def chat_worker(chat: int, sends: list[bool]) -> None:
        for paced in sends:
            async with limiter.slot(chat, paced=paced):
                log.append(SendRecord(clock(), chat, "sendMessage"))
                await asyncio.sleep(0)  # the request: no virtual time

    await asyncio.gather(*(chat_worker(c, s) for c, s in by_chat.items()))
    await limiter.aclose()
    return log


def limiter_on(clock: VirtualClock) -> RateLimiter:
    return RateLimiter(clock=clock, sleep=clock.sleep, virtual=True)


async def test_uneven_pushes_and_replies_stay_within_both_limits() -> None:
    clock = VirtualClock()
    rng = random.Random(5)
    plan = [(rng.randrange(40), rng.random() < 0.8) for _ in range(300)]
    log = await send_all(limiter_on(clock), clock, plan)
    assert len(log) == 300
    # Globally 30/s, replies included; per chat, a push comes 1 s after the previous send.
    assert find_violations(log, RateLimits(per_chat_per_window=len(log))) == []
    for chat in range(40):
        sent = [r.at for r in log if r.chat_id == chat]
        paced = [p for c, p in plan if c == chat]
        for before, at, is_push in zip(sent, sent[1:], paced[1:], strict=False):
            assert not is_push or at - before >= 1.0


async def test_a_push_campaign_uses_at_least_95_percent_of_the_global_limit() -> None:
    clock = VirtualClock()
    plan = [(chat, True) for _ in range(2) for chat in range(200)]
    log = await send_all(limiter_on(clock), clock, plan)
    assert find_violations(log) == []
    elapsed = max(r.at for r in log) - min(r.at for r in log)
    assert (len(log) - 1) / elapsed >= 0.95 * 30


async def test_each_chat_gets_one_paced_message_per_second_in_order() -> None:
    clock = VirtualClock()
    log = await send_all(limiter_on(clock), clock, [(1, True)] * 4)
    times = [r.at for r in log]
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(times))
    assert times[-1] < 3.1


async def test_replies_are_not_held_back_by_the_chat_limit_but_count_for_pushes() -> None:
    clock = VirtualClock()
    log = await send_all(limiter_on(clock), clock, [(1, False), (1, False), (1, False), (1, True)])
    first, _, third, push = (r.at for r in log)
    assert third - first < 0.1  # a turn's three replies go out together
    assert push - third >= 1.0  # the push waits a second after the last reply


async def test_a_reply_is_granted_before_the_queued_pushes_of_a_campaign() -> None:
    clock = VirtualClock()
    limiter = limiter_on(clock)
    log: list[SendRecord] = []
    under_way = asyncio.Event()

    async def send(chat: int, paced: bool) -> None:
        async with limiter.slot(chat, paced=paced):
            log.append(SendRecord(clock(), chat, "sendMessage"))
            if len(log) == 60:
                under_way.set()  # the campaign is under way, 240 pushes wait
            await asyncio.sleep(0)

    pushes = [asyncio.create_task(send(chat, True)) for chat in range(1, 301)]
    await under_way.wait()
    pushed_before = clock()
    await send(1000, False)  # an agent writes in the middle of it
    await asyncio.gather(*pushes)
    await limiter.aclose()
    [reply] = [r for r in log if r.chat_id == 1000]
    # At the next free grant (virtual time: within the window that the campaign filled),
    # not after the 240 pushes queued before it (8 s in arrival order).
    assert reply.at - pushed_before <= limiter.limits.window
    assert sum(r.chat_id != 1000 for r in log if r.at > reply.at) >= 200  # pushes waited
    assert find_violations(log) == []


async def test_retry_after_stops_every_grant_until_it_has_elapsed() -> None:
    clock = VirtualClock()
    limiter = limiter_on(clock)
    async with limiter.slot(1):
        limiter.pause(5)
        paused_at = clock()
    async with limiter.slot(2):
        assert clock() >= paused_at + 5
    await limiter.aclose()


async def test_a_cancelled_wait_leaks_no_grant() -> None:
    clock = VirtualClock()
    limiter = limiter_on(clock)
    async with limiter.slot(1):
        waiter = asyncio.create_task(limiter.acquire(1))  # waits for chat 1's slot
        await asyncio.sleep(0)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
    for chat in range(2, 40):  # every one of the 30 grants is still usable
        await limiter.acquire(chat)
        limiter.release(chat)
    assert limiter._in_flight == 0
    await limiter.aclose()
