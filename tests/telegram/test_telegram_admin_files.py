"""An administrator's files on Telegram: ``!stats`` shows its chart as a photo, ``!export``
sends the CSV as a document; both downloadable from the fake Bot API, byte for byte."""

from __future__ import annotations

import struct

from fake_bot_api import FakeBotApi
from fake_bot_records import FakeUser
from telegram_harness import TelegramUser, start_bot, telegram_settings

from bot.app.engine import Engine
from bot.app.services import build_services
from bot.consultation.export import contributions_csv
from config.settings import Settings
from storage.store import Store

ADMIN = FakeUser(id=77)


async def test_admin_stats_chart_is_a_photo_and_export_a_document(
    fake_bot_api: FakeBotApi, store: Store, clock, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path, admins=(f"telegram:{ADMIN.id}",))
    engine = Engine(build_services(settings), store, clock=clock)
    bot = await start_bot(fake_bot_api, engine, store, settings=telegram_settings(fake_bot_api))
    try:
        admin = TelegramUser(fake_bot_api, ADMIN)
        await admin.start()
        await admin.say("profil")  # an administrator is not asked for a profile: they make one
        await admin.say("Villeurbanne")
        await admin.press("Agent")
        await admin.say("DGS")
        await admin.say("passer")
        await admin.press("Décrire un besoin")
        await admin.say("Un portail pour les associations")
        await admin.say("Les associations remplissent des dossiers papier chaque année.")
        await admin.say("1")
        await admin.say("passer")
        await admin.say("1")
        await admin.say("1")
        assert "Voici votre besoin" in admin.text_of(admin.last)
        await admin.say("Envoyer")

        stats = await admin.say("!stats")
        assert [m.kind for m in stats[:2]] == ["text", "photo"]  # then the menu again
        assert "1 besoin et 0 service" in (stats[0].text or "")
        photo = fake_bot_api.files[stats[1].file_id or ""]
        assert photo.file_name is not None and photo.file_name.endswith(".png")
        png = photo.content
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        assert struct.unpack(">II", png[16:24]) == (800, 1000)

        export = await admin.say("!export")
        [document] = [m for m in export if m.kind == "document"]
        assert document.caption == "Export des contributions (1)."
        expected = contributions_csv(
            store.contributions(), engine.services.taxonomy, engine.services.calendar.zone
        )
        assert fake_bot_api.files[document.file_id or ""].content == expected
    finally:
        await bot.stop()
        await engine.close()
