"""A whole contribution made on Telegram, over real HTTP, with the real engine and store."""

from __future__ import annotations

from fake_bot_records import FakeUser
from telegram_harness import Recorder, RunningBot, TelegramUser, start_bot

from bot.commands import build_commands
from bot.core.values import IncomingAttachment, IncomingChoice, IncomingStart, IncomingText
from config.catalogue import default_catalogue
from config.typography import french as fr
from storage.store import Store


async def test_a_new_agent_contributes_by_pressing_buttons_and_typing(
    fake_bot_api, engine, store: Store
) -> None:
    recorder = Recorder(engine)
    bot = await start_bot(fake_bot_api, engine, store, handle=recorder)
    try:
        agent = TelegramUser(fake_bot_api, FakeUser(id=4242, first_name="Camille"))

        welcome = agent.text_of(await agent.start("campagne-mairies"))
        assert "Bonjour et bienvenue" in welcome
        assert "Quelle est votre collectivité" in welcome

        [question] = await agent.say("Villeurbanne")
        assert question.text == fr(
            "Collectivité : Villeurbanne (Rhône). Si ce n’est pas la vôtre, tapez « retour ».\n\n"
            "Vous êtes :"
        )
        profile_keyboard = question.message_id

        [fonction] = await agent.press("Agent")
        assert "Quelle est votre fonction" in (fonction.text or "")
        # The answered keyboard shows the answer instead of its buttons.
        answered = fake_bot_api.message(agent.chat_id, profile_keyboard)
        assert answered.buttons == []
        assert answered.text.endswith("Votre réponse\u00a0: «\u00a0Agent de la collectivité\u00a0»")

        assert "adresse électronique" in agent.text_of(await agent.say("Secrétaire de mairie"))
        menu = await agent.say("passer")
        assert "votre profil est enregistré (Villeurbanne (Rhône))" in agent.text_of(menu)

        assert "quel est votre besoin" in agent.text_of(await agent.press("Décrire un besoin"))
        await agent.say("Réserver les salles communales en ligne")
        [beneficiaries] = await agent.say(
            "Les associations appellent la mairie pour chaque réservation de salle."
        )
        assert "un bouton pour une seule réponse" in (beneficiaries.text or "")
        assert beneficiaries.buttons[0]["text"] == "1. Les habitants"

        assert "Comment faites-vous aujourd’hui" in agent.text_of(
            await agent.press("Les associations")
        )
        theme = await agent.say("passer")
        assert theme[-1].buttons, "the thématique question offers buttons"
        usage = await agent.press(theme[-1].buttons[0]["text"])
        assert "Que doit surtout permettre ce service" in agent.text_of(usage)
        summary = await agent.press("Réserver ou prendre rendez-vous")
        assert "Voici votre besoin, avant envoi" in agent.text_of(summary)

        done = agent.text_of(await agent.press("Envoyer"))
        assert "Votre besoin est enregistré sous la référence" in done
    finally:
        await bot.stop()

    [view] = store.contributions()
    assert view.contribution.title == "Réserver les salles communales en ligne"
    assert view.author.transport == "telegram" and view.author.user_id == "4242"
    assert view.collectivite.name == "Villeurbanne"

    # What reached the core: typed values, never platform objects.
    [start] = recorder.of_type(IncomingStart)
    assert start.param == "campagne-mairies"
    assert all(i.key.transport == "telegram" and i.key.chat == "4242" for i in recorder.incoming)
    assert [c.choice_id for c in recorder.of_type(IncomingChoice)][:3] == [
        "agent",
        "besoin",
        "associations",
    ]
    assert len({i.event_id for i in recorder.incoming}) == len(recorder.incoming)
    assert "passer" in [t.text for t in recorder.of_type(IncomingText)]


async def test_commands_are_registered_in_french(running_bot: RunningBot) -> None:
    commands = running_bot.api.commands_for()
    menu = build_commands().menu(default_catalogue())
    assert [c["command"] for c in commands] == [name for name, _ in menu]
    descriptions = {c["command"]: c["description"] for c in commands}
    assert descriptions["mes_contributions"] == "Voir les contributions envoyées"
    assert descriptions["retour"] == "Revenir à la question précédente"


async def test_slash_commands_reach_the_dialogue(running_bot: RunningBot) -> None:
    agent = TelegramUser(running_bot.api, FakeUser(id=77))
    await agent.start()
    await agent.say("Villeurbanne")
    help_text = agent.text_of(await agent.say("/aide@recueil_test_bot"))
    assert "Commandes utilisables à tout moment" in help_text


async def test_several_answers_can_be_typed_as_numbers(fake_bot_api, engine, store: Store) -> None:
    bot = await start_bot(fake_bot_api, engine, store)
    try:
        agent = TelegramUser(fake_bot_api, FakeUser(id=31))
        await agent.start()
        for step in ("Villeurbanne",):
            await agent.say(step)
        await agent.press("Élu")
        await agent.say("Maire")
        await agent.say("passer")
        await agent.press("Décrire un besoin")
        await agent.say("Un portail pour les associations")
        await agent.say("Les associations remplissent des dossiers papier chaque année.")
        after = agent.text_of(await agent.say("1, 3"))
        assert "Comment faites-vous aujourd’hui" in after
        # The beneficiaries keyboard lost its buttons once the answer was typed.
        assert all(not m.buttons for m in fake_bot_api.sent_messages(agent.chat_id)[:-1])
    finally:
        await bot.stop()


async def test_photos_documents_and_voice_become_attachments(
    fake_bot_api, engine, store: Store
) -> None:
    recorder = Recorder(engine)
    bot = await start_bot(fake_bot_api, engine, store, handle=recorder)
    try:
        agent = TelegramUser(fake_bot_api, FakeUser(id=55))
        await agent.start()
        await agent.say("Villeurbanne")
        for kind in ("photo", "document", "voice", "sticker"):
            await fake_bot_api.user_sends_attachment(agent.user, kind, caption="voir pièce jointe")
            replies = agent.text_of(await agent.settle())
            assert "Je ne lis que les messages écrits" in replies
            assert "Vous êtes" in replies  # and the question again
    finally:
        await bot.stop()
    kinds = [a.kind for a in recorder.of_type(IncomingAttachment)]
    assert kinds == ["image", "file", "voice", "sticker"]


async def test_a_user_who_blocked_the_bot_is_recorded_and_nothing_crashes(
    fake_bot_api, engine, store: Store
) -> None:
    bot = await start_bot(fake_bot_api, engine, store)
    try:
        leaver = TelegramUser(fake_bot_api, FakeUser(id=66))
        await leaver.start()
        await leaver.say("Villeurbanne")
        fake_bot_api.block_user(leaver.chat_id)
        assert await leaver.say("Agent") == []  # the reply was refused with 403
        stayer = TelegramUser(fake_bot_api, FakeUser(id=67))
        assert "Bonjour et bienvenue" in stayer.text_of(await stayer.start())
        assert not bot.task.done()
    finally:
        await bot.stop()
    with store.engine.connect() as connection:
        statuses = dict(
            connection.exec_driver_sql(
                "SELECT status, count(*) FROM delivery WHERE user_id = '66' GROUP BY status"
            ).all()
        )
    assert statuses.get("blocked", 0) >= 1 and "pending" not in statuses
