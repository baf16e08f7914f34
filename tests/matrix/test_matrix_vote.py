"""The vote on the real Synapse, in an encrypted DM: the opening pushed by the announcer, an
MSC3381 poll answered and changed, supports by text, then the close ends the poll."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from nio import Event, UnknownEvent

from bot.app import announcer
from bot.app.services import Services
from bot.transports.matrix.polls import POLL_END, POLL_RESPONSE, POLL_START, TEXT
from storage.store import Store

from .conftest import BotFactory
from .synced_client import BotChat, ClientFactory, open_chat_with_bot

PARIS = ZoneInfo("Europe/Paris")
VOTE_OPEN = datetime(2027, 2, 16, 11, 0, tzinfo=PARIS)
VOTE_CLOSED = datetime(2027, 3, 16, 10, 0, tzinfo=PARIS)
PROPOSALS = (
    ("Réserver les salles en ligne", "culture_sport_tourisme"),
    ("Louer le matériel sportif", "culture_sport_tourisme"),
    ("Inscriptions au club de sport", "culture_sport_tourisme"),
    ("Budget participatif en ligne", "citoyennete"),
)


def publish_proposals(store: Store, services: Services) -> None:
    """P-001 to P-003 in one thématique (one poll), P-004 in another, from Lyon's needs."""
    with store.transaction() as tx:
        author = tx.ensure_agent("test", "lyon")
        ref = services.referential.search("Lyon", limit=1)[0]
        author = tx.save_profile(
            author, collectivite=ref, profile="agent", fonction="DGS", email=None
        )
        for title, thematique in PROPOSALS:
            _, reference = tx.add_contribution(
                author,
                kind="besoin",
                title=title,
                description="Les associations appellent la mairie chaque semaine pour cela.",
                answers={"usage": "reserver"},
                thematique=thematique,
                confidence=0.9,
                thematique_source="agent",
            )
            tx.create_proposal("test:admin", title=title, contributions=[reference])
        tx.publish_proposals("test:admin")


def standing_supports(store: Store) -> list[str]:
    """The references the database counts a standing support for, whoever gave it."""
    with store.transaction() as tx:
        rows = tx.connection.execute(
            sa.text(
                "SELECT p.reference FROM support s JOIN proposal p ON p.id = s.proposal_id"
                " WHERE s.withdrawn_at IS NULL ORDER BY p.reference"
            )
        )
        return [row[0] for row in rows]


def plain(texts: list[str]) -> str:
    """The bot's messages as one text, French typography's narrow spaces made plain."""
    return "\n".join(texts).replace("\u00a0", " ").replace("\u202f", " ")


def poll_event(event_type: str, sender: str) -> Callable[[Event], bool]:
    def matches(event: Event) -> bool:
        return (
            isinstance(event, UnknownEvent) and event.type == event_type and event.sender == sender
        )

    return matches


def polls_of(chat: BotChat, event_type: str) -> list[UnknownEvent]:
    return [
        entry.event
        for entry in chat.agent.timeline
        if entry.room_id == chat.room_id and poll_event(event_type, chat.bot_id)(entry.event)
    ]


def response(start: UnknownEvent, answers: list[str]) -> dict[str, Any]:
    """An MSC3381 response as Element sends it (the unstable form)."""
    return {
        "m.relates_to": {"rel_type": "m.reference", "event_id": start.event_id},
        POLL_RESPONSE: {"answers": answers},
    }


async def test_an_agent_votes_with_a_poll_and_by_text_and_the_close_ends_the_poll(
    matrix_client: ClientFactory, recueil_bot: BotFactory, clock
) -> None:
    # The test clock starts in the collecte, where the agent makes a profile.
    bot = await recueil_bot(exempt_from_rate_limits=True, clock=clock)
    publish_proposals(bot.store, bot.engine.services)
    agent = await matrix_client("agent", exempt_from_rate_limits=True)
    chat = await open_chat_with_bot(agent, bot.user_id)
    await chat.expect("Quelle est votre collectivité")
    for text, question in [
        ("Villeurbanne", "Vous êtes"),
        ("2", "Quelle est votre fonction"),
        ("Secrétaire de mairie", "adresse électronique"),
        ("passer", "Que souhaitez-vous faire"),
    ]:
        await chat.say(text, then=question)

    # The vote opens: the announcer's tick pushes the opening, as `recueil run` does.
    clock.now = VOTE_OPEN
    assert "vote-ouverture" in await announcer.tick(bot.engine)
    opening = plain(await chat.expect("Le vote est ouvert jusqu’au 15 mars 2027"))
    assert "Tapez « propositions » pour les voir" in opening

    # Each thématique: a message listing its proposals, then its poll (a notice first).
    listing = await chat.say("propositions", then="Un vote vous attend")
    listing += await chat.expect("Un vote vous attend")
    assert "Voici les propositions soumises au vote, par thème" in listing[0]
    shown = plain(listing)
    assert "• P-001 — Réserver les salles en ligne\n• P-002 — Louer le matériel sportif" in shown
    assert "Citoyenneté / Démocratie participative\n• P-004 — Budget participatif en ligne" in shown
    assert shown.count("Répondez dans le sondage ci-dessous") == 2
    await agent.sync_until(lambda: len(polls_of(chat, POLL_START)) == 2, "two polls")
    by_first_answer = {
        e.source["content"][POLL_START]["answers"][0]["id"]: e for e in polls_of(chat, POLL_START)
    }
    sport, citizenship = by_first_answer["P-001"], by_first_answer["P-004"]
    body = sport.source["content"][POLL_START]
    assert [(a["id"], a[TEXT]) for a in body["answers"]] == [
        ("P-001", "P-001 · Réserver les salles en ligne"),
        ("P-002", "P-002 · Louer le matériel sportif"),
        ("P-003", "P-003 · Inscriptions au club de sport"),
    ]
    assert body["max_selections"] == 3  # a collectivité may support several
    assert sport.decrypted and citizenship.decrypted

    # By text: P-004, and P-002, which the sport poll offers too.
    said = plain(await chat.say("soutenir P-002 P-004", then="P-004"))
    assert "Soutien enregistré : votre collectivité soutient P-002." in said
    assert "Soutien enregistré : votre collectivité soutient P-004." in said
    # The poll answered, then changed: the supports it gave follow; those by text stay.
    await agent.send(chat.room_id, POLL_RESPONSE, response(sport, ["P-001"]))
    answered = (await chat.expect("P-001"))[-1]
    assert "votre collectivité soutient P-001" in answered and "P-002" not in answered
    assert standing_supports(bot.store) == ["P-001", "P-002", "P-004"]
    await agent.send(chat.room_id, POLL_RESPONSE, response(sport, ["P-003"]))
    changed = plain((await chat.expect("Soutien retiré pour P-001"))[-1:])
    assert "Soutien enregistré : votre collectivité soutient P-003." in changed
    assert "P-002" not in changed
    assert standing_supports(bot.store) == ["P-002", "P-003", "P-004"]
    mine = (await chat.say("mes soutiens", then="Votre collectivité soutient 3"))[-1]
    assert "P-002 — Louer le matériel sportif (par vous" in mine
    assert "P-003 — Inscriptions au club de sport (par vous" in mine
    assert "P-004 — Budget participatif en ligne (par vous" in mine

    # The vote closes: the tick ends the polls (results from each voter's latest answer)
    # and sends the results to those who took part.
    clock.now = VOTE_CLOSED
    assert "vote-cloture" in await announcer.tick(bot.engine)
    await agent.sync_until(lambda: len(polls_of(chat, POLL_END)) == 2, "two poll ends")
    ends = {e.source["content"]["m.relates_to"]["event_id"]: e for e in polls_of(chat, POLL_END)}
    sport_end = ends[sport.event_id].source["content"]
    assert sport_end["m.poll.results"] == {"P-001": 0, "P-002": 0, "P-003": 1}
    assert "Le vote est clos" in sport_end[TEXT]
    assert "P-003 · Inscriptions au club de sport\u00a0: 1" in sport_end[TEXT]
    assert ends[citizenship.event_id].source["content"]["m.poll.results"] == {"P-004": 0}
    results = (await chat.expect("Le vote est clos. Merci"))[-1]
    assert all(reference in results for reference in ("P-002", "P-003", "P-004"))
    assert await bot.engine.close_polls("vote-") == 0  # ended once

    # A response after the end changes nothing; the text after it shows it was read.
    late = await agent.send(chat.room_id, POLL_RESPONSE, response(sport, ["P-001"]))
    after = await chat.say("mes soutiens", then="Votre collectivité soutient 3")
    assert not any("P-001" in text for text in after)
    assert not any(i.event_id == late.event_id for i in bot.incoming)
    assert standing_supports(bot.store) == ["P-002", "P-003", "P-004"]
