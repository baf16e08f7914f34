"""A complete contribution through an encrypted Tchap-like direct room, and inert rendering."""

from __future__ import annotations

from nio import RoomMessageText

from .conftest import BotFactory
from .synapse_server import SynapseServer
from .synced_client import ClientFactory, open_chat_with_bot

MEGOLM = "m.megolm.v1.aes-sha2"


async def test_besoin_intake_end_to_end_encrypted_is_stored(
    synapse: SynapseServer, matrix_client: ClientFactory, recueil_bot: BotFactory
) -> None:
    bot = await recueil_bot(exempt_from_rate_limits=True)
    agent = await matrix_client("agent", exempt_from_rate_limits=True)

    chat = await open_chat_with_bot(agent, bot.user_id)
    welcome = await chat.expect("Quelle est votre collectivité")
    assert "Bonjour et bienvenue" in welcome[0]
    assert len(welcome) == 2  # welcome, then the profile intro with its question: nothing else
    assert "Faisons d’abord connaissance" in welcome[1]

    turns = [
        ("Villeurbanne", "Vous êtes"),
        ("2", "Quelle est votre fonction"),
        ("Chargée de mission numérique", "adresse électronique"),
        ("passer", "Que souhaitez-vous faire"),
        ("1", "En une ligne, quel est votre besoin"),
        ("Réserver les salles communales en ligne", "Décrivez le problème"),
        ("Les associations appellent la mairie pour chaque réservation.", "Qui en bénéficierait"),
        ("1", "Comment faites-vous aujourd’hui"),
        ("passer", "C’est bien cela"),
        ("1", "Que doit surtout permettre ce service"),
        ("3", "Voici votre besoin, avant envoi"),
        ("Envoyer", "Que souhaitez-vous faire"),
    ]
    replies = [await chat.say(text, then=question) for text, question in turns]
    assert "Villeurbanne (Rhône)" in replies[3][0]  # the profile is saved, then the menu
    assert "Réserver les salles communales en ligne" in replies[10][-1]  # the summary
    done = replies[-1]
    assert "Votre besoin est enregistré sous la référence B-0001" in done[0]

    [view] = bot.store.contributions()
    assert view.contribution.reference == "B-0001"
    assert view.contribution.kind == "besoin"
    assert view.contribution.title == "Réserver les salles communales en ligne"
    assert view.collectivite is not None and view.collectivite.name == "Villeurbanne"
    assert view.author.user_id == agent.user_id
    assert view.author.transport == "matrix"

    # Both directions were end-to-end encrypted: the server holds only ciphertext.
    last = chat.bot_messages()[-1]
    assert last.decrypted
    raw = await synapse.raw_event(agent.user.access_token, chat.room_id, last.event_id)
    assert raw["type"] == "m.room.encrypted" and raw["content"]["algorithm"] == MEGOLM
    assert "souhaitez" not in str(raw)
    mine = next(
        entry.event
        for entry in agent.timeline
        if entry.room_id == chat.room_id
        and entry.event.sender == agent.user_id
        and isinstance(entry.event, RoomMessageText)
    )
    raw = await synapse.raw_event(agent.user.access_token, chat.room_id, mine.event_id)
    assert raw["type"] == "m.room.encrypted"
    # Replies are formatted messages: HTML plus plain body, and no mention at all.
    content = last.source["content"]
    assert content["format"] == "org.matrix.custom.html"
    assert content["msgtype"] == "m.text"
    assert content["m.mentions"] == {}
    assert "<br>" in content["formatted_body"]


async def test_html_and_room_mention_in_a_contribution_come_back_inert(
    matrix_client: ClientFactory, recueil_bot: BotFactory
) -> None:
    bot = await recueil_bot(exempt_from_rate_limits=True)
    agent = await matrix_client("agent", exempt_from_rate_limits=True)
    chat = await open_chat_with_bot(agent, bot.user_id)
    await chat.expect("Quelle est votre collectivité")
    for text, question in [
        ("Villeurbanne", "Vous êtes"),
        ("2", "Quelle est votre fonction"),
        ("DGS", "adresse électronique"),
        ("passer", "Que souhaitez-vous faire"),
        ("1", "En une ligne"),
    ]:
        await chat.say(text, then=question)
    title = '<b>Urgent</b> @room <a href="https://evil.example">clic</a>'
    await chat.say(title, then="Décrivez le problème")
    await chat.say("<script>alert(1)</script> et @ROOM : tout le monde est prévenu ?", "Qui")
    await chat.say("1", then="Comment faites-vous")
    await chat.say("passer", then="thème")  # a guess to confirm, or the list of thèmes
    await chat.say("1", then="Que doit surtout permettre")
    summary = (await chat.say("1", then="Voici votre besoin"))[-1]

    event = chat.bot_messages()[-1]
    content = event.source["content"]
    html = content["formatted_body"]
    # No tag from the agent survives in the HTML: all of it is text.
    assert "<b>" not in html and "<a " not in html and "<script>" not in html
    assert "&lt;b&gt;Urgent&lt;/b&gt;" in html
    assert "&lt;script&gt;" in html
    assert "&quot;https://evil.example&quot;" in html
    # @room cannot ping the room, in either body, whatever its case; the words remain.
    for body in (summary, html):
        assert "@room" not in body.lower()
        assert "@\u2060room" in body and "@\u2060ROOM" in body
    assert content["m.mentions"] == {}
    assert "<b>Urgent</b>" in summary  # the plain body shows what the agent typed
