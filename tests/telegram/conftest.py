"""Fixtures for the Telegram transport tests: a fake Bot API server on a free local port."""

from collections.abc import AsyncIterator

import pytest_asyncio
from fake_bot_api import FakeBotApi
from telegram_harness import RunningBot, start_bot


# The project sets the default fixture loop scope to "session"; the server must live on the
# test's own loop, or its handlers would never run while the test awaits.
@pytest_asyncio.fixture(loop_scope="function")
async def fake_bot_api() -> AsyncIterator[FakeBotApi]:
    """A started server, fresh for each test (start and stop take a few milliseconds)."""
    async with FakeBotApi() as api:
        yield api


@pytest_asyncio.fixture(loop_scope="function")
async def running_bot(fake_bot_api: FakeBotApi, engine, store) -> AsyncIterator[RunningBot]:  # type: ignore[no-untyped-def]
    """The Telegram transport, with the real engine and store, polling the fake server."""
    bot = await start_bot(fake_bot_api, engine, store)
    yield bot
    await bot.stop()
