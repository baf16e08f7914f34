"""Restarts: the bot's (same device, sync token) and the homeserver's (reconnection)."""

from __future__ import annotations

import json
from dataclasses import replace

import sqlalchemy as sa
from webhook_load import until

from bot.core.values import IncomingText
from bot.transports.matrix.identity import credentials_path

from .conftest import TEST_BOT_OPTIONS, BotFactory
from .synapse_server import SynapseServer
from .synced_client import ClientFactory, open_chat_with_bot


async def test_restart_mid_conversation_answers_the_message_sent_while_down_once(
    synapse: SynapseServer, matrix_client: ClientFactory, recueil_bot: BotFactory
) -> None:
    bot = await recueil_bot(exempt_from_rate_limits=True, login="password")
    device = bot.transport.device_id
    saved = json.loads(credentials_path(bot.settings.data_dir).read_text())
    assert saved["device_id"] == device
    agent = await matrix_client("agent", exempt_from_rate_limits=True)
    chat = await open_chat_with_bot(agent, bot.user_id)
    await chat.expect("Quelle est votre collectivité")
    assert await chat.say("Villeurbanne", then="Vous êtes") == [chat.bot_messages()[-1].body]

    await bot.stop()
    await agent.send(chat.room_id, "m.room.message", {"msgtype": "m.text", "body": "2"})
    await bot.start()  # same data directory and database, new engine and transport

    # The message sent while down is answered, and only it: nothing older comes again.
    [answer] = await chat.expect("Quelle est votre fonction")
    assert "Vous êtes" not in answer
    # Replies keep the room's order, so a repeated answer would show up before this one.
    assert len(await chat.say("DGS", then="adresse électronique")) == 1
    assert sum("Quelle est votre fonction" in m.body for m in chat.bot_messages()) == 1
    assert sum("Vous êtes" in m.body for m in chat.bot_messages()) == 1

    # The restart logged in with nothing: same device, same token, no new device.
    assert bot.transport.device_id == device
    assert json.loads(credentials_path(bot.settings.data_dir).read_text()) == saved
    devices = await synapse._request(  # the harness's HTTP helper, with the bot's token
        "GET", "/_matrix/client/v3/devices", access_token=saved["access_token"]
    )
    # One device from the registration, one from the bot's single password login.
    assert len(devices["devices"]) == 2
    assert device in {d["device_id"] for d in devices["devices"]}


async def test_homeserver_restart_is_survived_by_reconnecting(
    synapse: SynapseServer, matrix_client: ClientFactory, recueil_bot: BotFactory
) -> None:
    bot = await recueil_bot(exempt_from_rate_limits=True)
    agent = await matrix_client("agent", exempt_from_rate_limits=True)
    chat = await open_chat_with_bot(agent, bot.user_id)
    await chat.expect("Quelle est votre collectivité")
    syncs = bot.transport.sync_stats.syncs

    await synapse.restart()
    await chat.say("Villeurbanne", then="Vous êtes")

    stats = bot.transport.sync_stats
    assert stats.failures >= 1  # it noticed the outage...
    assert stats.syncs > syncs  # ...and synced again after it
    assert bot.task is not None and not bot.task.done()


async def test_messages_beyond_the_timeline_limit_sent_while_down_are_all_answered(
    synapse: SynapseServer, matrix_client: ClientFactory, recueil_bot: BotFactory
) -> None:
    # The first sync after the restart returns 3 events per room: the 3 older ones that
    # arrived while the bot was down are only reachable by reading the room back.
    options = replace(TEST_BOT_OPTIONS, timeline_limit=3)
    bot = await recueil_bot(exempt_from_rate_limits=True, options=options)
    agent = await matrix_client("agent", exempt_from_rate_limits=True)
    chat = await open_chat_with_bot(agent, bot.user_id)
    await chat.expect("Quelle est votre collectivité")

    await bot.stop()
    sent = ["Villeurbanne", "2", "DGS", "passer", "1", "Horaires de la déchèterie"]
    for text in sent:
        await agent.send(chat.room_id, "m.room.message", {"msgtype": "m.text", "body": text})
    await bot.start()

    await chat.expect("Décrivez le problème")  # the answer to the sixth message
    handled = [i.text for i in bot.incoming if isinstance(i, IncomingText)]
    assert handled == sent  # every one, once, in the order sent
    bodies = [m.body for m in chat.bot_messages()]
    for question in ("Vous êtes", "Quelle est votre fonction", "peut-elle vous recontacter"):
        assert sum(question in body for body in bodies) == 1, question


async def test_a_reply_sent_again_after_its_mark_was_lost_shows_once(
    synapse: SynapseServer, matrix_client: ClientFactory, recueil_bot: BotFactory
) -> None:
    """A crash between a send and its mark « sent » leaves the reply pending: the engine
    sends it again, with the same transaction ids, and the homeserver keeps one event."""
    bot = await recueil_bot(exempt_from_rate_limits=True)
    agent = await matrix_client("agent", exempt_from_rate_limits=True)
    chat = await open_chat_with_bot(agent, bot.user_id)
    await chat.expect("Quelle est votre collectivité")

    await bot.stop()
    with bot.store.transaction() as tx:  # the marks the crash lost
        lost = tx.connection.execute(
            sa.text("UPDATE delivery SET status = 'pending', sent_at = NULL WHERE status = 'sent'")
        ).rowcount
    assert lost >= 1
    await bot.start()

    # The welcome goes again before this answer (the room's order): shown once all the same.
    await chat.say("Villeurbanne", then="Vous êtes")
    assert sum("Quelle est votre collectivité" in m.body for m in chat.bot_messages()) == 1

    async def resent() -> bool:  # the answer shows before its mark is written (a batch)
        with bot.store.transaction() as tx:
            query = "SELECT count(*) FROM delivery WHERE status = 'sent' AND sent_at IS NOT NULL"
            marked = tx.connection.execute(sa.text(query)).scalar_one()
        return bool(marked >= lost + 1)

    await until(resent, "the lost ones sent again, then the answer, all marked sent")
