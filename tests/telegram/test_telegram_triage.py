"""Triage over real HTTP: an administrator on Telegram groups and publishes, the contributor
is told once."""

from __future__ import annotations

from fake_bot_records import FakeUser
from telegram_harness import TelegramUser, start_bot, telegram_settings

from bot.app.engine import Engine
from bot.app.services import build_services
from storage.store import Store


async def register(user: TelegramUser, town: str) -> None:
    welcome = user.text_of(await user.start())
    if "Quelle est votre collectivité" not in welcome:  # an administrator: none asked
        await user.say("profil")
    await user.say(town)
    await user.press("Agent")
    await user.say("Secrétaire de mairie")
    await user.say("passer")


async def test_an_administrator_triages_on_telegram_and_the_contributor_is_told_once(
    fake_bot_api, store: Store, clock, tmp_path
) -> None:
    settings = telegram_settings(fake_bot_api, admins=("telegram:71",), data_dir=tmp_path)
    engine = Engine(build_services(settings), store, clock=clock)
    bot = await start_bot(fake_bot_api, engine, store)
    try:
        author = TelegramUser(fake_bot_api, FakeUser(id=70))
        await register(author, "Villeurbanne")
        await author.press("Décrire un besoin")
        await author.say("Réserver les salles municipales en ligne")
        await author.say("Les associations appellent la mairie chaque semaine pour une salle.")
        await author.say("1")
        await author.say("passer")
        await author.say("1")
        await author.say("autre")
        sent = author.text_of(await author.say("Envoyer"))
        assert "B-0001" in sent

        admin = TelegramUser(fake_bot_api, FakeUser(id=71))
        await register(admin, "Lyon")
        created = admin.text_of(await admin.say("/creer B-0001 : Réserver une salle en ligne"))
        assert "P-001" in created and "!" in created  # what changed, and how to undo it
        published = admin.text_of(await admin.say("!publier"))
        assert "P-001" in published
        await engine.drain()
        told = [m.text or "" for m in await author.settle()]
        assert sum("P-001" in text for text in told) == 1
        again = admin.text_of(await admin.say("!publier"))
        assert "Aucun brouillon à publier" in again
        await engine.drain()
        assert not any("P-001" in (m.text or "") for m in await author.settle())
    finally:
        await bot.stop()
        await engine.close()
