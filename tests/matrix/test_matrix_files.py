"""Files on Matrix: encrypted attachments in an encrypted room, plain ones elsewhere.

The test client downloads what the bot uploaded and decrypts it with nio's
``decrypt_attachment`` and the keys carried by the (end-to-end encrypted) event: the
bytes must be exactly the ones the bot meant to send, and the server must hold only
ciphertext, of the event and of the file.
"""

from __future__ import annotations

import struct

from nio import (
    Event,
    RoomCreateResponse,
    RoomEncryptedFile,
    RoomEncryptedImage,
    RoomEncryptedMedia,
    RoomMessageFile,
    RoomPreset,
)
from nio.crypto.attachments import decrypt_attachment
from nio.responses import DownloadResponse

from bot.consultation.export import contributions_csv
from bot.core.values import OutFile
from bot.transports.matrix.events import conversation

from .conftest import BotFactory, RunningBot
from .synapse_server import SynapseServer
from .synced_client import BotChat, ClientFactory, SyncedClient, check, open_chat_with_bot

PROFILE = [
    ("Villeurbanne", "Vous êtes"),
    ("2", "Quelle est votre fonction"),
    ("Directrice générale des services", "adresse électronique"),
    ("passer", "Que souhaitez-vous faire"),
]
BESOIN = [
    ("1", "En une ligne, quel est votre besoin"),
    ("Réserver les salles communales en ligne", "Décrivez le problème"),
    ("Les associations appellent la mairie pour chaque réservation.", "Qui en bénéficierait"),
    ("1", "Comment faites-vous aujourd’hui"),
    ("passer", "C’est bien cela"),
    ("1", "Que doit surtout permettre ce service"),
    ("3", "Voici votre besoin, avant envoi"),
    ("Envoyer", "Que souhaitez-vous faire"),
]


async def admin_chat(
    matrix_client: ClientFactory, recueil_bot: BotFactory
) -> tuple[RunningBot, BotChat]:
    """An administrator with a profile, in an encrypted direct room with the bot."""
    admin = await matrix_client("admin", exempt_from_rate_limits=True)
    bot = await recueil_bot(exempt_from_rate_limits=True, admins=(f"matrix:{admin.user_id}",))
    chat = await open_chat_with_bot(admin, bot.user_id)
    await chat.expect("pas besoin de profil")  # an administrator makes one with « profil »
    await chat.say("profil", then="Quelle est votre collectivité")
    for text, question in PROFILE:
        await chat.say(text, then=question)
    return bot, chat


async def bot_event(chat: BotChat, kind: type[Event], what: str) -> Event:
    return await chat.agent.wait_for_event(
        chat.room_id, lambda e: isinstance(e, kind) and e.sender == chat.bot_id, what
    )


async def download(agent: SyncedClient, mxc: str) -> bytes:
    return check(await agent.client.download(mxc=mxc), DownloadResponse).body


async def decrypted(agent: SyncedClient, event: RoomEncryptedMedia) -> bytes:
    ciphertext = await download(agent, event.url)
    return decrypt_attachment(ciphertext, event.key["k"], event.hashes["sha256"], event.iv)


async def test_an_admin_export_in_an_encrypted_dm_arrives_as_an_encrypted_csv(
    synapse: SynapseServer, matrix_client: ClientFactory, recueil_bot: BotFactory
) -> None:
    bot, chat = await admin_chat(matrix_client, recueil_bot)
    for text, question in BESOIN:
        await chat.say(text, then=question)

    await chat.say("!export", then="Export des contributions (1)")
    event = await bot_event(chat, RoomEncryptedFile, "the export")
    assert isinstance(event, RoomEncryptedFile)
    expected = contributions_csv(
        bot.store.contributions(), bot.engine.services.taxonomy, bot.engine.services.calendar.zone
    )
    assert "Réserver les salles communales en ligne" in expected.decode("utf-8-sig")
    content = event.source["content"]
    assert content["msgtype"] == "m.file" and "url" not in content
    assert {"url", "key", "iv", "hashes", "v"} <= content["file"].keys()
    assert content["info"] == {"mimetype": "text/csv", "size": len(expected)}
    assert content["body"].startswith("contributions-") and content["body"].endswith(".csv")
    assert await decrypted(chat.agent, event) == expected

    # The server holds ciphertext only: the event, and the file's bytes.
    raw = await synapse.raw_event(chat.agent.user.access_token, chat.room_id, event.event_id)
    assert raw["type"] == "m.room.encrypted"
    assert "contributions-" not in str(raw) and "mxc://" not in str(raw)
    stored = await download(chat.agent, event.url)
    assert len(stored) == len(expected) and stored != expected
    assert "Réserver".encode() not in stored

    # !stats: the figures, then the chart as an encrypted m.image with its size in pixels.
    await chat.say("!stats", then="1 besoin et 0 service")
    image = await bot_event(chat, RoomEncryptedImage, "the chart")
    assert isinstance(image, RoomEncryptedImage)
    content = image.source["content"]
    assert content["msgtype"] == "m.image" and "url" not in content
    assert content["info"]["mimetype"] == "image/png"
    assert (content["info"]["w"], content["info"]["h"]) == (800, 1000)
    png = await decrypted(chat.agent, image)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) == content["info"]["size"]
    assert struct.unpack(">II", png[16:24]) == (800, 1000)


async def test_a_room_without_encryption_gets_a_plain_upload(
    matrix_client: ClientFactory, recueil_bot: BotFactory
) -> None:
    bot = await recueil_bot(exempt_from_rate_limits=True)
    agent = await matrix_client("agent", exempt_from_rate_limits=True)
    created = await agent.client.room_create(
        is_direct=True, preset=RoomPreset.trusted_private_chat, invite=[bot.user_id]
    )
    room_id = check(created, RoomCreateResponse).room_id
    chat = BotChat(agent, room_id, bot.user_id)
    await chat.expect("Quelle est votre collectivité")  # the bot joined and greeted

    data = "référence;titre\r\nB-0001;=HYPERLINK(...)\r\n".encode()
    await bot.transport.send(
        conversation(room_id, agent.user_id), OutFile("essai.csv", data, "text/csv", "Voici.")
    )
    event = await bot_event(chat, RoomMessageFile, "the file")
    assert isinstance(event, RoomMessageFile)
    content = event.source["content"]
    assert "file" not in content and content["url"].startswith("mxc://")
    assert content["info"] == {"mimetype": "text/csv", "size": len(data)}
    assert await download(agent, event.url) == data
    await chat.expect("Voici.")
    order = [e.event.event_id for e in agent.timeline if e.event.sender == bot.user_id]
    caption = chat.bot_messages()[-1]
    assert order.index(caption.event_id) < order.index(event.event_id)  # caption first
