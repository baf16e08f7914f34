"""RGPD on Telegram, over real HTTP: the export arrives as a document, erasure by buttons."""

from __future__ import annotations

import json

from fake_bot_records import FakeUser
from telegram_harness import RunningBot, TelegramUser

from storage.store import Store


async def register(agent: TelegramUser) -> None:
    await agent.start()
    await agent.say("Villeurbanne")
    await agent.press("Agent")
    await agent.say("Secrétaire de mairie")
    menu = await agent.say("camille@villeurbanne.fr")
    assert "votre profil est enregistré" in agent.text_of(menu)


async def test_mes_donnees_arrives_as_a_json_document_and_erasure_forgets_the_agent(
    fake_bot_api, running_bot: RunningBot, store: Store
) -> None:
    agent = TelegramUser(fake_bot_api, FakeUser(id=4242, first_name="Camille"))
    await register(agent)

    replies = await agent.say("/mes_donnees")
    [document] = [m for m in replies if m.kind == "document"]
    assert "tout ce qui est enregistré" in (document.caption or "")
    stored = fake_bot_api.files[document.file_id or ""]
    assert stored.file_name.startswith("mes-donnees-") and stored.file_name.endswith(".json")
    exported = json.loads(stored.content)
    assert exported["profil"]["identifiant sur la messagerie"] == "4242"
    assert exported["profil"]["adresse électronique"] == "camille@villeurbanne.fr"
    assert exported["conversations"][0]["identifiant de la conversation"] == "4242"

    confirm = await agent.say("supprimer mes données")
    assert "Voulez-vous vraiment effacer" in agent.text_of(confirm)
    erased = await agent.press("Oui")
    assert "Vos données personnelles sont effacées" in agent.text_of(erased)
    with store.transaction() as tx:
        assert tx.get_agent("telegram", "4242") is None

    again = await agent.say("Bonjour")
    assert "bienvenue" in agent.text_of(again)
