"""Pushes: every message once, in order per chat, within Telegram's limits, despite 429s.

Time is virtual (``VirtualClock``) for the server and the transport's rate limiter alike:
the schedule is the one real time would give, without waiting for it. Compliance is read
from the server's send log, never from how long the test took.
"""

from __future__ import annotations

import asyncio

import pytest
from fake_bot_api import FakeBotApi
from fake_bot_rate import VirtualClock, find_violations
from telegram_harness import start_bot

from bot.core.values import ConversationKey, OutText
from bot.transports.telegram.ratelimit import RateLimiter
from storage.store import Store

# PTB warns about the future type of ``retry_after`` while building each RetryAfter.
pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")

CHATS = 500
BLOCKED = {1_003, 1_250, 1_499}
MESSAGES = (OutText("Le vote est ouvert (1/2)."), OutText("Pour voter, tapez « voter » (2/2)."))


def agents(store: Store) -> list[tuple[ConversationKey, int]]:
    recipients = []
    with store.transaction() as tx:
        for chat in range(1_000, 1_000 + CHATS):
            agent = tx.ensure_agent("telegram", str(chat))
            assert agent.id is not None
            recipients.append((ConversationKey("telegram", str(chat), str(chat)), agent.id))
    return recipients


async def test_a_thousand_pushes_to_500_chats_arrive_once_in_order_within_limits_despite_429s(
    engine, store: Store
) -> None:
    clock = VirtualClock()
    async with FakeBotApi(clock=clock) as api:
        bot = await start_bot(
            api, engine, store, limiter=RateLimiter(clock=clock, sleep=clock.sleep, virtual=True)
        )
        for chat in BLOCKED:
            api.block_user(chat)
        api.inject_retry_after(3, seconds=2)  # the very first sends are refused

        async def flood_midway() -> None:
            await api.wait_until(lambda: len(api.send_log) >= 400, what="400 sends")
            api.inject_retry_after(5, seconds=3, method="sendMessage")

        midway = asyncio.create_task(flood_midway())
        try:
            queued = await engine.push(agents(store), MESSAGES, campaign="vote-ouverture")
            await midway
        finally:
            await bot.stop()

        assert queued == 2 * CHATS
        delivered = CHATS - len(BLOCKED)
        expected = [m.text for m in MESSAGES]
        for chat in range(1_000, 1_000 + CHATS):
            texts = [m.text for m in api.sent_messages(chat)]
            assert texts == ([] if chat in BLOCKED else expected), chat

        sends = [r for r in api.send_log if r.method.lower() == "sendmessage"]
        assert len(sends) == 2 * delivered  # nothing lost, nothing twice
        assert find_violations(api.send_log) == []  # 30/s overall, 1/s per chat, no tolerance

        refused = [c for c in api.calls if c.status == 429]
        assert len(refused) == 8
        for call in refused:  # nothing was sent while Telegram asked to wait
            wait = 2 if call.at < refused[3].at else 3
            assert not [s for s in api.send_log if call.at < s.at < call.at + wait]

    with store.engine.connect() as connection:
        statuses = dict(
            connection.exec_driver_sql(
                "SELECT status, count(*) FROM delivery GROUP BY status"
            ).all()
        )
    assert statuses == {"sent": 2 * delivered, "blocked": 2 * len(BLOCKED)}
