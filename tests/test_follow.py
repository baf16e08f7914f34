"""Following a laureate: automatic for its people, ``suivre`` and ``ne plus suivre`` for
anyone; ``!nouvelles`` reaches exactly its followers, once."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa
from test_intake import register
from test_referents import (
    AFTER_REFERENTS,
    AFTER_VOTE,
    DURING_COLLECTE,
    REFERENTS_OPEN,
    Consultation,
    laureates,
    pushes_sent,
    volunteer,
)
from test_vote import DURING_VOTE, published_proposal

from bot.commands import build_commands
from bot.core.values import OutText
from config.typography import french as fr
from storage import campaigns as stored
from storage.store import Store

DEPLOIEMENT = AFTER_REFERENTS.replace(month=6, day=2)


def test_multi_word_commands_take_an_argument_and_admin_commands_a_long_text() -> None:
    registry = build_commands()
    parsed = registry.parse("ne plus suivre P-012")
    assert parsed is not None and parsed.command is not None
    assert (parsed.command.name, parsed.argument) == ("ne plus suivre", "P-012")
    assert registry.parse("ne plus suivre les débats") is None  # an answer, not a command
    parsed = registry.parse("retirer V-0001 et P-3")
    assert parsed is not None and parsed.command is not None and parsed.command.name == "retirer"
    text = "!nouvelles P-012 « " + "Le prototype est en ligne. " * 10 + "»"
    parsed = registry.parse(text)
    assert parsed is not None and parsed.command is not None
    assert parsed.command.name == "nouvelles" and parsed.argument.startswith("P-012 «")
    assert registry.parse("!inconnue " + "x" * 80) is None  # a long line stays an answer


def followers(store: Store, reference: str) -> set[str]:
    with store.transaction() as tx:
        return {r.key.user for r in stored.recipients(tx, f"suiveurs:{reference}")}


async def news(people: Consultation, admin, text: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """``!nouvelles P-001``, confirmed; how many messages each agent received."""
    everyone = [*people.everyone, admin]
    for agent in everyone:
        agent.transport.pop(agent.key)
    await admin.say(f"!nouvelles P-001 « {text} »")
    assert fr("Des nouvelles de P-001") in admin.text
    await confirm_and_send(admin)
    return {
        agent.key.user: sum(
            isinstance(m, OutText) and text in m.text for m in agent.transport.pop(agent.key)
        )
        for agent in everyone
    }


async def admin_at_deploiement(agent_factory, store: Store, clock):  # type: ignore[no-untyped-def]
    """The laureates, and an administrator (Rennes) once the déploiement has begun."""
    people = await laureates(agent_factory, store, clock)
    clock.now = DURING_COLLECTE
    admin = agent_factory("admin")
    await register(admin, "Rennes")
    clock.now = DEPLOIEMENT
    return people, admin


def campaigns_queued(store: Store) -> int:
    with store.transaction() as tx:
        return int(
            tx.connection.execute(
                sa.text("SELECT count(DISTINCT campaign) FROM delivery WHERE campaign IS NOT NULL")
            ).scalar_one()
        )


async def test_follow_and_unfollow_change_who_gets_the_news(
    agent_factory, store: Store, clock
) -> None:
    people = await laureates(agent_factory, store, clock)
    clock.now = DURING_COLLECTE
    admin = agent_factory("admin")
    await register(admin, "Rennes")
    clock.now = REFERENTS_OPEN
    await volunteer(people.eve, "2", contact="eve@nantes.fr")  # volunteers for P-002 only
    # automatic: contributors (alice, bob) and supporters (dan) of P-001
    assert followers(store, "P-001") == {"alice", "bob", "dan"}
    assert followers(store, "P-002") == {"chloe", "eve"}

    clock.now = DEPLOIEMENT
    await people.chloe.say("suivre P-001")
    assert fr("Vous suivez P-001") in people.chloe.text
    await people.alice.say("ne plus suivre P-001")
    assert "Vous ne suivez plus P-001" in people.alice.text
    await people.eve.say("suivre P-9")
    assert "Je ne trouve pas de proposition P-009" in people.eve.text
    assert followers(store, "P-001") == {"bob", "dan", "chloe"}

    received = await news(people, admin, "Le prototype est en ligne")
    assert received == {"alice": 0, "bob": 1, "chloe": 1, "dan": 1, "eve": 0, "admin": 0}
    await admin.say("oui")  # the confirmation was answered: nothing is queued again
    await pushes_sent(admin.engine)
    assert all(not agent.transport.pop(agent.key) for agent in people.everyone)

    await people.alice.say("suivre P-001")
    await people.chloe.say("ne plus suivre P-001")
    received = await news(people, admin, "Un atelier le 3 juin")
    assert received == {"alice": 1, "bob": 1, "chloe": 0, "dan": 1, "eve": 0, "admin": 0}
    with store.transaction() as tx:
        actions = [e.action for e in tx.audit_entries(action_prefix="follow.")]
    assert actions == ["follow.added", "follow.removed", "follow.added", "follow.removed"]


async def test_news_previewed_left_and_previewed_again_are_queued_once(
    agent_factory, store: Store, clock
) -> None:
    """The administrator leaves a preview unanswered, types the command again and confirms:
    the older preview does not come back to be confirmed a second time."""
    people, admin = await admin_at_deploiement(agent_factory, store, clock)
    await admin.say("!nouvelles P-001 « Le prototype est en ligne »")
    assert fr("Des nouvelles de P-001") in admin.text
    assert fr("Message pour les personnes qui suivent P-001, 3 destinataires :") in admin.text
    received = await news(people, admin, "Le prototype est en ligne")
    assert received == {"alice": 1, "bob": 1, "chloe": 0, "dan": 1, "eve": 0, "admin": 0}
    assert "Des nouvelles de P-001" not in admin.text  # no older preview asked again
    assert campaigns_queued(store) == 1


async def test_a_preview_left_for_days_lapses_and_sends_nothing(
    agent_factory, store: Store, clock
) -> None:
    """A « 1 » typed days after a preview must not send the old text."""
    people, admin = await admin_at_deploiement(agent_factory, store, clock)
    await admin.say("!nouvelles P-001 « Le prototype est en ligne »")
    assert fr("Des nouvelles de P-001") in admin.text
    clock.now += timedelta(days=2)
    await admin.say("1")
    assert fr("a expiré : rien n’a été fait") in admin.text
    assert "mis en file" not in admin.text and "Des nouvelles de P-001" not in admin.text
    await admin.say("!nouvelles P-001 « Un atelier le 3 juin »")  # asked again: it goes
    await confirm_and_send(admin)
    bob = people.bob
    received = "\n".join(m.text for m in bob.transport.pop(bob.key) if isinstance(m, OutText))
    assert "Un atelier le 3 juin" in received and "Le prototype" not in received
    assert campaigns_queued(store) == 1


async def confirm_and_send(admin) -> None:  # type: ignore[no-untyped-def]
    """The administrator confirms the preview; the pushes go out."""
    await admin.say("oui")
    assert "mis en file pour" in admin.text
    await pushes_sent(admin.engine)


async def test_news_are_refused_to_others_and_for_a_proposal_not_selected(
    agent_factory, store: Store, clock
) -> None:
    people, admin = await admin_at_deploiement(agent_factory, store, clock)
    with store.transaction() as tx:
        tx.set_proposal_status("test:admin", "P-002", "non_retenue")
    await people.bob.say("!nouvelles P-001 « Bonjour »")
    assert "réservée aux administrateurs" in people.bob.text
    await admin.say("!nouvelles P-002 « Bonjour »")
    assert "ne fait pas partie des services retenus" in admin.text
    await people.chloe.say("suivre P-002")
    assert "ne fait pas partie des services retenus" in people.chloe.text
    await admin.say("!volontaires P-002")  # was « Aucune collectivité volontaire pour l’instant. »
    assert "P-002 ne fait pas partie des services retenus" in admin.text
    await admin.say("!nouvelles P-001 « Bonjour »")
    await admin.say("non")
    assert "rien n’a été envoyé" in admin.text
    with store.transaction() as tx:
        assert [p.id for p in stored.progress(tx) if p.kind == "annonce"] == []
        assert tx.audit_entries(action_prefix="follow.") == []


def menu_suggests(agent) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """The references the menu offers to « suivre » and to « ne plus suivre »."""
    assert agent.question is not None, agent.text
    menu = agent.question.text.rpartition("\n\n")[2]  # the menu, after what was said
    offered: dict[str, list[str]] = {"suivre": [], "ne plus suivre": []}
    for command, reference in re.findall(r"«\s(suivre|ne plus suivre) (P-\d+)\s»", menu):
        offered[command].append(reference)
    return offered


async def test_the_menu_never_offers_to_follow_what_the_agent_follows(
    agent_factory, store: Store, clock
) -> None:
    """After « suivre P-001 », the menu offered « suivre P-012 » still (a fixed example);
    it now offers to follow only the laureates not followed, and to stop the others."""
    people = await laureates(agent_factory, store, clock)
    clock.now = DEPLOIEMENT
    chloe = people.chloe  # contributed to P-002: follows it without asking
    await chloe.say("menu")
    assert menu_suggests(chloe) == {"suivre": ["P-001"], "ne plus suivre": ["P-002"]}
    await chloe.say("suivre P-001")
    assert fr("Vous suivez P-001") in chloe.text
    assert menu_suggests(chloe) == {"suivre": [], "ne plus suivre": ["P-001"]}
    assert fr("Vous suivez les nouvelles de P-001, P-002") in chloe.text
    await chloe.say("ne plus suivre P-002")
    assert menu_suggests(chloe) == {"suivre": ["P-002"], "ne plus suivre": ["P-001"]}
    await people.eve.say("menu")  # follows nothing: both laureates are offered
    assert menu_suggests(people.eve) == {"suivre": ["P-001"], "ne plus suivre": []}
    assert "P-001, P-002" in people.eve.text


async def test_voir_says_whether_a_proposal_was_retained_and_who_builds_it(
    agent_factory, store: Store, clock
) -> None:
    """In the déploiement, « voir P-001 » said nothing of the outcome: the agent could not
    tell whether the service was being built, nor with whom."""
    people = await laureates(agent_factory, store, clock)
    chloe = people.chloe
    clock.now = REFERENTS_OPEN
    await volunteer(people.eve, "1", contact="eve@nantes.fr")  # Nantes, for P-001
    await chloe.say("voir P-001")  # during the call: the volunteers so far
    assert fr("ce service sera construit avec des territoires référents") in chloe.text
    assert fr("1 collectivité volontaire à ce jour (Nantes)") in chloe.text
    with store.transaction() as tx:
        tx.set_proposal_status("test:admin", "P-002", "non_retenue")

    clock.now = DEPLOIEMENT
    await chloe.say("voir P-001")
    assert fr("Retenue à l’issue du vote : ce service est en construction") in chloe.text
    assert "avec 1 territoire référent (Nantes)" in chloe.text
    await chloe.say("voir P-002")
    assert fr("Non retenue : après le vote, l’équipe de la consultation a choisi") in chloe.text
    assert "Retenue à l’issue du vote" not in chloe.text
    with store.transaction() as tx:  # no territoire référent left for P-001
        tx.withdraw_offer("test:admin", None, "V-0001")
    await chloe.say("voir P-001")
    assert fr("en construction ; aucune collectivité ne s’est portée volontaire") in chloe.text


async def test_suivre_before_the_laureates_are_chosen_says_when_they_will_be(
    agent_factory, store: Store, clock
) -> None:
    """Found in a trial: « suivre P-001 » in the collecte said « P-001 ne fait pas partie des
    services retenus », as if it had lost a vote not yet open."""
    people = await published_proposal(agent_factory, store, clock)
    alice, bob = people["alice"], people["bob"]
    clock.now = DURING_COLLECTE
    await alice.say("suivre P-001")
    assert "ne fait pas partie" not in alice.text
    assert fr(
        "Les services retenus seront choisis après le vote, qui se termine le 15 mars 2027"
    ) in (alice.text)
    clock.now = DURING_VOTE
    await alice.say("soutenir P-001")
    await alice.say("suivre P-001")
    assert fr("seront choisis après le vote, qui se termine le 15 mars 2027") in alice.text
    clock.now = AFTER_VOTE  # the vote is over, no « !retenir » yet
    await alice.say("suivre P-001")
    assert "L’équipe choisit en ce moment les services retenus" in alice.text
    await bob.say("mes soutiens")  # Lyon supported nothing, and can no longer
    assert "encore" not in bob.text and "Tapez « propositions »" not in bob.text
    assert (
        fr(
            "Votre collectivité n’a soutenu aucune proposition : "
            "le vote est clos depuis le 15 mars 2027."
        )
        in bob.text
    )
    with store.transaction() as tx:
        tx.set_proposal_status("test:admin", "P-001", "non_retenue")
    await alice.say("suivre P-001")
    assert "P-001 ne fait pas partie des services retenus" in alice.text
