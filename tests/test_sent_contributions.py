"""A contribution once sent: ``voir B-0002`` to anyone, ``supprimer B-0002`` by its author
before triage, with what had joined it kept together."""

from __future__ import annotations

from test_intake import contributions, describe_need, register

from bot.consultation.export import contribution_records
from config.typography import french as fr
from storage.store import Store


async def send_need(agent, collectivite: str, title: str) -> None:  # type: ignore[no-untyped-def]
    await register(agent, collectivite)
    await describe_need(agent, title)
    if agent.question is not None and "Envoyer" not in agent.text:
        await agent.press(agent.option("Non"))  # not the same need as another's
    await agent.say("Envoyer")


def same_as(store: Store) -> dict[str, str | None]:
    found = contributions(store)
    references = {c.id: c.reference for c in found}
    return {c.reference: references.get(c.same_as_id) for c in found}


async def test_voir_shows_what_is_public_and_the_author_withdraws_after_confirming(
    agent_factory, store: Store, services
) -> None:
    alice, bob, carol = agent_factory("alice"), agent_factory("bob"), agent_factory("carol")
    await send_need(alice, "Villeurbanne", "on a besoin dun truc pr les salles")
    await send_need(bob, "Lyon", "Réserver les salles municipales")
    await send_need(carol, "Grenoble", "Réservation des salles en ligne")
    first, second, third = (c.id for c in contributions(store))
    assert first is not None and second is not None and third is not None
    with store.transaction() as tx:  # bob and carol said it was alice's need
        tx.set_same_as(second, first)
        tx.set_same_as(third, first)

    await bob.say("voir B-0001")
    assert "B-0001 — on a besoin dun truc pr les salles" in bob.text
    assert "Besoin de Villeurbanne" in bob.text
    assert "la secrétaire tient un agenda papier" in bob.text  # the description
    assert "en attente du tri" in bob.text
    assert "Secrétaire de mairie" not in bob.text  # who wrote it stays private

    await bob.say("supprimer B-0001")
    assert "Vous n’avez pas de contribution B-0001" in bob.text
    assert len(contributions(store)) == 3

    await alice.say("supprimer B-0001")
    assert "Retirer cette contribution" in alice.text
    await alice.say("non")
    assert "gardée telle quelle" in alice.text
    assert len(contributions(store)) == 3

    await alice.say("supprimer b1")
    await alice.say("oui")
    assert fr("B-0001 « on a besoin dun truc pr les salles » est retirée") in alice.text
    # bob's and carol's needs stay together, without it
    assert same_as(store) == {"B-0002": None, "B-0003": "B-0002"}
    with store.transaction() as tx:
        withdrawn = tx.audit_entries(action_prefix="contribution.withdrawn")
        views = tx.contribution_views()
    assert [e.subject for e in withdrawn] == ["B-0001"]
    exported = contribution_records(views, services.taxonomy)
    assert [r["reference"] for r in exported] == ["B-0002", "B-0003"]
    await bob.say("voir B-0001")
    assert "Je ne trouve pas de contribution B-0001" in bob.text


async def test_after_triage_or_by_a_colleague_the_contribution_stays(
    agent_factory, store: Store
) -> None:
    alice, dora = agent_factory("alice"), agent_factory("dora")
    await send_need(alice, "Villeurbanne", "Réserver les salles en ligne")
    await send_need(dora, "Villeurbanne", "Prêt de matériel")

    await dora.say("retirer B-0001")
    assert "seul son auteur peut la retirer" in dora.text

    with store.transaction() as tx:
        tx.create_proposal("test:admin", title="Réserver une salle", contributions=["B-0001"])
    await alice.say("supprimer B-0001")
    assert "déjà été triée" in alice.text
    assert "demandez-le à l’équipe de la consultation" in alice.text
    assert "Retirer cette contribution" not in alice.text
    await alice.say("voir B-0001")
    assert fr("regroupée dans la proposition P-001 « Réserver une salle »") in alice.text
    assert len(contributions(store)) == 2
