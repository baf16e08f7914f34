"""One holder at a time per key, in arrival order, and nothing kept once released."""

from __future__ import annotations

import asyncio

from bot.core.locks import KeyedLocks


async def test_holders_of_one_key_run_in_order_and_others_in_parallel() -> None:
    locks = KeyedLocks[str]()
    order: list[str] = []
    inside_a = asyncio.Event()
    release_a = asyncio.Event()

    async def first() -> None:
        async with locks("chat-1"):
            order.append("first in")
            inside_a.set()
            await release_a.wait()
            order.append("first out")

    async def second() -> None:
        await inside_a.wait()
        async with locks("chat-1"):
            order.append("second in")

    async def other_key() -> None:
        await inside_a.wait()
        async with locks("chat-2"):
            order.append("other key")
        release_a.set()

    await asyncio.gather(first(), second(), other_key())
    assert order == ["first in", "other key", "first out", "second in"]
    assert len(locks) == 0  # no lock left behind for keys nobody uses
