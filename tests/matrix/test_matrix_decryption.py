"""Messages whose room key comes late, or never: retried, then a kind request to resend.

The agent's client encrypts a message with a Megolm session it has not shared (real
vodozemac encryption, sent as ``m.room.encrypted``), as happens when a key is delayed.
"""

from __future__ import annotations

from dataclasses import replace
from uuid import uuid4

from nio import Api, RoomSendResponse
from nio.crypto import OutboundGroupSession

from bot.core.values import IncomingText

from .conftest import TEST_BOT_OPTIONS, BotFactory
from .synced_client import MEGOLM, BotChat, ClientFactory, check, open_chat_with_bot


async def send_with_unshared_key(chat: BotChat, text: str) -> tuple[str, OutboundGroupSession]:
    """Send ``text`` encrypted with a new Megolm session that nobody else has.

    Returns the event id and a copy of the session as it was before encrypting, which
    ``share_group_session`` can share later.
    """
    client = chat.agent.client
    assert client.olm is not None and client.access_token
    session = OutboundGroupSession()
    # What will be shared later must be the key at message index 0: keep a copy of the
    # session before encrypting (sharing exports the current ratchet).
    before = OutboundGroupSession.from_pickle(session.pickle())
    session.mark_as_shared()  # nio's guard only; nobody has the key
    plaintext = {
        "type": "m.room.message",
        "content": {"msgtype": "m.text", "body": text},
        "room_id": chat.room_id,
    }
    payload = {
        "algorithm": MEGOLM,
        "sender_key": client.olm.account.identity_keys["curve25519"],
        "ciphertext": session.encrypt(Api.to_json(plaintext)),
        "session_id": session.id,
        "device_id": client.device_id,
    }
    method, path, data = Api.room_send(
        client.access_token, chat.room_id, "m.room.encrypted", payload, uuid4()
    )
    response = await client._send(RoomSendResponse, method, path, data, (chat.room_id,))
    return check(response, RoomSendResponse).event_id, before


async def test_message_decrypted_when_its_key_arrives_late(
    matrix_client: ClientFactory, recueil_bot: BotFactory
) -> None:
    bot = await recueil_bot(exempt_from_rate_limits=True)
    agent = await matrix_client("agent", exempt_from_rate_limits=True)
    chat = await open_chat_with_bot(agent, bot.user_id)
    await chat.expect("Quelle est votre collectivité")

    event_id, session = await send_with_unshared_key(chat, "Villeurbanne")
    waiting = bot.transport.undecryptable
    async with waiting.arrived:
        await waiting.arrived.wait_for(lambda: waiting.waiting == 1)
    # Now the key travels: the agent shares exactly that session with the bot's device.
    assert agent.client.olm is not None
    agent.client.olm.outbound_group_sessions[chat.room_id] = session
    await agent.client.share_group_session(chat.room_id, ignore_unverified_devices=True)

    assert len(await chat.expect("Vous êtes")) == 1
    handled = await bot.wait_incoming(lambda i: i.event_id == event_id, "decrypted message")
    assert isinstance(handled, IncomingText) and handled.text == "Villeurbanne"


async def test_message_whose_key_never_comes_gets_a_kind_request_to_resend(
    matrix_client: ClientFactory, recueil_bot: BotFactory
) -> None:
    options = replace(TEST_BOT_OPTIONS, undecryptable_grace=0.5)
    bot = await recueil_bot(exempt_from_rate_limits=True, options=options)
    agent = await matrix_client("agent", exempt_from_rate_limits=True)
    chat = await open_chat_with_bot(agent, bot.user_id)
    await chat.expect("Quelle est votre collectivité")

    await send_with_unshared_key(chat, "Villeurbanne")

    [kind] = await chat.expect("Pouvez-vous l’envoyer à nouveau")
    assert "Je n’ai pas pu lire votre dernier message" in kind
    assert len(await chat.say("Villeurbanne", then="Vous êtes")) == 1  # nothing else is lost
