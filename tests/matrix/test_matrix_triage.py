"""Triage on the real Synapse: an administrator groups, redirects, rejects and publishes in an
encrypted DM and is told how to undo each change; the contributor is told once; an agent who
is not an administrator is refused every command and nothing is written."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from bot.consultation.triage_store import stored_triage
from storage.records import AgentRecord
from storage.store import Store

from .conftest import BotFactory, RunningBot
from .synced_client import BotChat, ClientFactory, SyncedClient, open_chat_with_bot

NEEDS = (
    ("Réserver les salles municipales en ligne", "villeurbanne"),
    ("Réservation des salles communales", "lyon"),
    ("Prêt de matériel aux associations", "villeurbanne"),
    ("Demande d’acte d’état civil en ligne", "villeurbanne"),
    ("Un nouveau logo pour la mairie", "villeurbanne"),
)
REFUSED = "réservée aux administrateurs"
NOTICE = "Voici ce que sont devenues vos contributions"


def plain(texts: list[str]) -> str:
    return "\n".join(texts).replace("\u00a0", " ").replace("\u202f", " ")


def undo_commands(text: str) -> list[str]:
    """The commands an answer gives after « Pour annuler »."""
    return re.findall(r"« (![^»]*?) »", plain([text]).split("Pour annuler :", 1)[1])


def profiled(store: Store, services: Any, transport: str, user: str, town: str) -> AgentRecord:
    with store.transaction() as tx:
        place = services.referential.search(town, limit=1)[0]
        return tx.save_profile(
            tx.ensure_agent(transport, user),
            collectivite=place,
            profile="agent",
            fonction="Secrétaire de mairie",
            email=None,
        )


def contributions_of_two_towns(bot: RunningBot, contributor: SyncedClient) -> None:
    """B-0001…B-0005: four needs of the Matrix contributor (Villeurbanne), one of Lyon's."""
    store, services = bot.store, bot.engine.services
    authors = {
        "villeurbanne": profiled(store, services, "matrix", contributor.user_id, "Villeurbanne"),
        "lyon": profiled(store, services, "test", "lyon", "Lyon"),
    }
    with store.transaction() as tx:
        for title, town in NEEDS:
            tx.add_contribution(
                authors[town],
                kind="besoin",
                title=title,
                description=f"{title} : les habitants le demandent chaque semaine.",
                answers={"usage": "reserver"},
                thematique="citoyennete",
                confidence=0.9,
                thematique_source="agent",
            )


def snapshot(store: Store) -> dict[str, Any]:
    """What triage writes: contributions' fates, proposals, the audit log, campaigns."""
    with store.transaction() as tx:
        count = tx.connection.execute
        return {
            "contributions": dict(stored_triage(tx).state.contributions),
            "proposals": {r.reference: r for r in tx.proposals(merged=True)},
            "audit": count(sa.text("SELECT count(*) FROM audit_log")).scalar_one(),
            "campaigns": count(sa.text("SELECT count(*) FROM campaign")).scalar_one(),
            "pushes": count(
                sa.text("SELECT count(*) FROM delivery WHERE campaign IS NOT NULL")
            ).scalar_one(),
        }


async def say_all(chat: BotChat, texts: list[str], then: str) -> list[str]:
    """Send every text at once, then wait for as many replies containing ``then``."""
    for text in texts:
        await chat.agent.send(chat.room_id, "m.room.message", {"msgtype": "m.text", "body": text})
    replies: list[str] = []
    for _ in texts:
        replies += await chat.expect(then)
    return replies


async def test_an_administrator_triages_on_matrix_and_a_non_administrator_writes_nothing(
    matrix_client: ClientFactory, recueil_bot: BotFactory
) -> None:
    admin = await matrix_client("admin", exempt_from_rate_limits=True)
    contributor = await matrix_client("agent", exempt_from_rate_limits=True)
    bot = await recueil_bot(exempt_from_rate_limits=True, admins=(f"matrix:{admin.user_id}",))
    contributions_of_two_towns(bot, contributor)
    profiled(bot.store, bot.engine.services, "matrix", admin.user_id, "Lyon")
    admin_chat = await open_chat_with_bot(admin, bot.user_id)
    agent_chat = await open_chat_with_bot(contributor, bot.user_id)
    await admin_chat.expect("Que souhaitez-vous faire")
    await agent_chat.expect("Que souhaitez-vous faire")

    async def command(text: str, then: str) -> str:
        return plain((await admin_chat.say(text, then=then))[-1:])

    created = await command("!creer B-0001 B-0002 : Réserver une salle en ligne", "P-001")
    assert "Proposition P-001 créée : « Réserver une salle en ligne », 2 contributions" in created
    assert undo_commands(created) == ["!enlever P-001 B-0001 B-0002"]

    # Every administrator command, by an agent who is not one: refused, nothing written.
    before = snapshot(bot.store)
    triage = [
        "!creer B-0003 : Prêt de matériel",
        "!ajouter P-001 B-0003",
        "!enlever P-001 B-0002",
        "!renommer P-001 Autre titre",
        "!reorienter B-0004 Le guichet national le fait déjà.",
        "!rejeter B-0005 Hors du champ de la consultation.",
        "!publier",
    ]
    tried = {text.split()[0] for text in triage}
    others = [f"!{c.key} P-001" for c in bot.engine.services.commands if c.admin]
    attempts = triage + [text for text in others if text.split()[0] not in tried]
    assert len(attempts) > 20  # the whole registry, not a sample
    refusals = await say_all(agent_chat, attempts, then=REFUSED)
    assert sum(REFUSED in text for text in refusals) == len(attempts)  # then the menu again
    assert snapshot(bot.store) == before

    added = await command("!ajouter P-001 B-0003", "compte maintenant")
    assert "P-001 « Réserver une salle en ligne » compte maintenant 3 contributions" in added
    assert undo_commands(added) == ["!enlever P-001 B-0003"]
    removed = await command("!enlever P-001 B-0003", "retirée de P-001")
    assert undo_commands(removed) == ["!ajouter P-001 B-0003"]
    renamed = await command("!renommer P-001 Réserver les salles municipales en ligne", "devient")
    assert undo_commands(renamed) == ["!renommer P-001 Réserver une salle en ligne"]
    redirected = await command(
        "!reorienter B-0004 Le service existe déjà. https://www.service-public.fr", "réorientée"
    )
    assert "(https://www.service-public.fr)" in redirected
    assert undo_commands(redirected) == ["!rouvrir B-0004"]
    rejected = await command("!rejeter B-0005 Hors du champ de la consultation.", "rejetée")
    assert undo_commands(rejected) == ["!rouvrir B-0005"]
    published = await command("!publier", "publiée")
    assert "1 proposition publiée : P-001. Avis mis en file pour 1 contributeur." in (published)
    assert undo_commands(published) == ["!statut P-001 brouillon"]

    # The contributor is told once what became of each contribution.
    notice = plain(await agent_chat.expect(NOTICE))
    assert (
        "B-0001 « Réserver les salles municipales en ligne » a rejoint la proposition P-001"
        " « Réserver les salles municipales en ligne »" in notice
    )
    assert "Autres collectivités : Lyon." in notice
    assert "B-0004 « Demande d’acte d’état civil en ligne » est réorientée : Le service" in notice
    assert "B-0005 « Un nouveau logo pour la mairie » n’est pas soumise au vote : Hors" in notice
    assert "B-0003" not in notice  # back to soumise: nothing to tell yet
    assert "Aucun brouillon à publier" in await command("!publier", "Aucun brouillon")
    # A reply to the contributor after the second publication: nothing came before it.
    await agent_chat.say("mes soutiens", then="ne soutient encore aucune proposition")
    assert sum(NOTICE in event.body for event in agent_chat.bot_messages()) == 1
