"""Many agents at once, and Synapse's default rate limits: every reply, in order.

Synapse's default ``rc_message`` lets an account send 0.2 events per second after a
burst of 10, and ``rc_joins.local`` 0.1 joins per second after 10. Thirty agents opening a
chat at once need 30 joins and 60 welcome messages from the bot: about 300 s of waiting
at default limits. So the thirty-agent test exempts the *bot* account (as a homeserver
operator does for a bot, through ``override_ratelimit``; Tchap's one request per second
is itself beyond 0.2/s), while the agents keep the default limits; the second test keeps
the defaults for the bot too, with enough agents to exceed the burst, and proves the
rate-limited sends are retried after the advised delay, once each and in order. Thirty
agents with the bot at default limits too would take over ten minutes of waiting, which
proves nothing the second test does not.
"""

from __future__ import annotations

import asyncio

import pytest

from .conftest import BotFactory
from .synced_client import BotChat, ClientFactory, open_chat_with_bot

# the greeting, then the profile's introduction with its first question, in one message
WELCOME = ("Bonjour et bienvenue", "Faisons d’abord connaissance")
QUESTION = "Quelle est votre collectivité"


async def converse(chat: BotChat, within: float) -> None:
    """Welcome, then two profile answers: exactly the expected replies, in order."""
    welcome = await chat.expect(QUESTION, within=within)
    assert [WELCOME[i] in body for i, body in enumerate(welcome)] == [True] * 2, welcome
    assert len(await chat.say("Villeurbanne", then="Vous êtes")) == 1
    assert len(await chat.say("2", then="Quelle est votre fonction")) == 1
    assert len(chat.bot_messages()) == 4  # nothing sent twice


async def agents_at_once(
    count: int, matrix_client: ClientFactory, bot_id: str, within: float
) -> list[BotChat]:
    agents = await asyncio.gather(*(matrix_client("agent") for _ in range(count)))
    chats = await asyncio.gather(*(open_chat_with_bot(agent, bot_id) for agent in agents))
    await asyncio.gather(*(converse(chat, within) for chat in chats))
    return chats


@pytest.mark.slow  # a load test (about a minute on two cores): .ci/run runs it after ./dev test
async def test_thirty_agents_at_once_get_every_reply_in_order(
    matrix_client: ClientFactory, recueil_bot: BotFactory
) -> None:
    bot = await recueil_bot(exempt_from_rate_limits=True, pacing=0.01)

    chats = await agents_at_once(30, matrix_client, bot.user_id, within=60)

    assert len({chat.room_id for chat in chats}) == 30
    assert bot.transport.sender.stats.sent == 30 * 4


async def test_default_rate_limits_are_waited_out_without_duplicates(
    matrix_client: ClientFactory, recueil_bot: BotFactory
) -> None:
    bot = await recueil_bot()  # Synapse's default limits for the bot as well
    agents = [await matrix_client("agent") for _ in range(4)]

    chats = await asyncio.gather(*(open_chat_with_bot(agent, bot.user_id) for agent in agents))
    # 4 joins and 8 welcome messages: Synapse counts both against rc_message (burst 10)
    for chat in chats:
        welcome = await chat.expect(QUESTION, within=60)
        assert [WELCOME[i] in body for i, body in enumerate(welcome)] == [True] * 2

    stats = bot.transport.sender.stats
    assert stats.rate_limited >= 1
    assert stats.sent == 8
