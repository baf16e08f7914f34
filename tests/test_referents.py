"""Territoires référents: volunteering in the phase, by collectivités; calls per laureate."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from fake_transport import FakeTransport, SimulatedAgent
from test_intake import describe_need, register
from test_vote import DURING_VOTE, published_proposal

from bot.app import announcer
from bot.app.cli import main
from bot.app.engine import Engine
from bot.core.values import OutText
from config.typography import french as fr
from storage.store import Store

PARIS = ZoneInfo("Europe/Paris")
DURING_COLLECTE = datetime(2026, 12, 1, 10, 0, tzinfo=PARIS)
AFTER_VOTE = datetime(2027, 3, 20, 10, 0, tzinfo=PARIS)
REFERENTS_OPEN = datetime(2027, 4, 1, 10, 0, tzinfo=PARIS)  # a Thursday
A_WEEK_LATER = datetime(2027, 4, 8, 10, 0, tzinfo=PARIS)
AFTER_REFERENTS = datetime(2027, 5, 3, 10, 0, tzinfo=PARIS)


@dataclass
class Consultation:
    """After the vote: P-001 (alice, bob; supported by dan) and P-002 (chloe) are laureates."""

    alice: SimulatedAgent  # Villeurbanne, contributed to P-001
    bob: SimulatedAgent  # Lyon, contributed to P-001
    chloe: SimulatedAgent  # Grenoble, contributed to P-002
    dan: SimulatedAgent  # Marseille, supported P-001
    eve: SimulatedAgent  # Nantes, nothing

    @property
    def everyone(self) -> list[SimulatedAgent]:
        return [self.alice, self.bob, self.chloe, self.dan, self.eve]


async def send_need(agent: SimulatedAgent, title: str) -> None:
    await describe_need(agent, title)
    if agent.question is not None and "Envoyer" not in agent.text:
        await agent.press(agent.option("Non"))
    await agent.say("Envoyer")


async def laureates(agent_factory, store: Store, clock) -> Consultation:  # type: ignore[no-untyped-def]
    people = await published_proposal(agent_factory, store, clock)
    clock.now = DURING_COLLECTE
    chloe, dan, eve = agent_factory("chloe"), agent_factory("dan"), agent_factory("eve")
    await register(chloe, "Grenoble")
    await send_need(chloe, "Suivre les demandes d’intervention de la voirie")
    await register(dan, "Marseille")
    await register(eve, "Nantes")
    with store.transaction() as tx:
        second = tx.create_proposal(
            "test:admin", title="Suivre les interventions", contributions=["B-0003"]
        )
        tx.publish_proposals("test:admin", [second.reference])
    clock.now = DURING_VOTE
    await dan.say("soutenir P-001")
    assert "soutient P-001" in dan.text
    with store.transaction() as tx:
        tx.set_proposal_status("test:admin", "P-001", "retenue")
        tx.set_proposal_status("test:admin", "P-002", "retenue")
    return Consultation(people["alice"], people["bob"], chloe, dan, eve)


async def register_with_email(agent: SimulatedAgent, collectivite: str, email: str) -> None:
    await agent.start()
    await agent.say(collectivite)
    await agent.press(agent.option("Agent"))
    await agent.say("Chargée de mission numérique")
    await agent.say(email)
    assert "profil est enregistré" in agent.text


async def volunteer(agent: SimulatedAgent, choices: str, contact: str | None) -> None:
    await agent.say("volontaire")
    assert "Pour quel(s) service(s) retenu(s)" in agent.text, agent.text
    # regression (trial 1): unlike the beneficiaries, it did not say so
    assert fr("volontaire ? Plusieurs réponses possibles.") in agent.text
    await agent.say(choices)
    assert "Qu’apporterait votre collectivité" in agent.text
    await agent.say("Deux agents pour tester, et nos données de réservation des salles")
    if contact is not None:
        assert "Qui l’équipe peut-elle contacter" in agent.text
        await agent.say(contact)
    # regression: the question read « l’accord d’un ou d’une élue »
    assert fr("a-t-il l’accord d’un élu ou d’une élue ?") in agent.text
    await agent.press(agent.option("C’est en cours"))
    assert "avant envoi" in agent.text
    await agent.say("Envoyer")


async def pushes_sent(engine: Engine) -> None:
    """Wait for the deliveries a turn started after its reply (an administrator's push)."""
    await asyncio.gather(*list(engine._background))


def offers(store: Store) -> list[tuple[str, str, int, bool]]:
    """(offer reference, laureate, collectivité id, standing) in id order."""
    with store.transaction() as tx:
        rows = tx.connection.execute(
            sa.text(
                "SELECT o.reference, p.reference, o.collectivite_id, o.withdrawn_at IS NULL"
                " FROM referent_offer o JOIN proposal p ON p.id = o.proposal_id ORDER BY o.id"
            )
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def referent_audit(store: Store) -> list[str]:
    with store.transaction() as tx:
        return [e.action for e in tx.audit_entries(action_prefix="referent.")]


async def test_volunteering_is_refused_outside_the_phase_and_to_partners(
    agent_factory, store: Store, clock
) -> None:
    people = await laureates(agent_factory, store, clock)
    await people.alice.say("volontaire")  # still the vote
    assert "il ouvrira le 1er avril 2027" in people.alice.text
    assert "Pour quel(s) service(s)" not in people.alice.text
    clock.now = DURING_COLLECTE
    partner = agent_factory("paul")
    await partner.start()
    await partner.say("Grenoble")
    await partner.press(partner.option("Partenaire"))
    await partner.say("Prestataire")
    await partner.say("passer")
    clock.now = REFERENTS_OPEN
    await partner.say("me porter volontaire")
    assert fr("Seules les collectivités se portent volontaires") in partner.text
    assert partner.question is not None  # the menu offers no volunteering to a partner
    assert "Me porter volontaire" not in [c.label for c in partner.question.choices]
    assert "votre collectivité peut se porter volontaire" not in partner.question.text
    await partner.say("retirer V-0001")
    assert fr("Seules les collectivités") in partner.text
    clock.now = AFTER_REFERENTS
    await people.alice.say("volontaire")
    assert "clos depuis le 30 avril 2027" in people.alice.text
    await people.alice.say("retirer V-0001")
    assert "clos depuis le 30 avril 2027" in people.alice.text
    assert offers(store) == [] and referent_audit(store) == []


async def test_a_collectivite_volunteers_for_two_laureates_then_withdraws_one(
    agent_factory, store: Store, clock
) -> None:
    people = await laureates(agent_factory, store, clock)
    clock.now = REFERENTS_OPEN
    alice = people.alice
    await alice.say("menu")
    assert alice.question is not None
    assert "Me porter volontaire" in [c.label for c in alice.question.choices]
    await volunteer(alice, "1, 2", contact="alice@villeurbanne.fr")
    assert "V-0001 pour P-001" in alice.text and "V-0002 pour P-002" in alice.text
    assert [(o[0], o[1], o[3]) for o in offers(store)] == [
        ("V-0001", "P-001", True),
        ("V-0002", "P-002", True),
    ]
    colleague = agent_factory("alice2")
    clock.now = DURING_COLLECTE
    await register(colleague, "Villeurbanne")
    clock.now = REFERENTS_OPEN
    await colleague.say("volontaire")
    assert "déjà volontaire pour chacun" in colleague.text
    await colleague.say("retirer V-0001")
    assert "seul son auteur peut le retirer" in colleague.text
    stranger = agent_factory("gaston")  # another collectivité: the offer is not theirs to see
    clock.now = DURING_COLLECTE
    await register(stranger, "Lyon")
    clock.now = REFERENTS_OPEN
    await stranger.say("retirer V-0001")
    assert "Je ne trouve pas d’engagement V-0001" in stranger.text
    assert "collègue" not in stranger.text
    await colleague.say("mes engagements")
    assert fr("V-0001 : P-001") in colleague.text and "par votre collègue" in colleague.text
    assert fr("(accord d’un élu : c’est en cours ;") in colleague.text
    await alice.say("retirer V-0001")
    await alice.say("oui")  # confirmed
    assert "Engagement V-0001 retiré (P-001)" in alice.text
    await alice.say("retirer V-0001")
    assert "déjà retiré" in alice.text
    await alice.say("mes engagements")
    assert "V-0002" in alice.text and "V-0001" not in alice.text
    # volunteering again reuses the collectivité's row and its reference
    await volunteer(colleague, "1", contact="dsi@villeurbanne.fr")
    assert "V-0001 pour P-001" in colleague.text
    assert [o[3] for o in offers(store)] == [True, True]
    assert referent_audit(store) == [
        "referent.volunteered",
        "referent.volunteered",
        "referent.withdrawn",
        "referent.volunteered",
    ]


async def test_mes_engagements_after_withdrawing_the_only_one_and_aide_afterwards(
    agent_factory, store: Store, clock
) -> None:
    """Found in trial 1: after withdrawing its only engagement, « mes engagements » said the
    collectivité had « encore » volunteered for nothing; and in the déploiement « aide »
    listed « nouvelle », which works during the collecte only."""
    people = await laureates(agent_factory, store, clock)
    clock.now = REFERENTS_OPEN
    await volunteer(people.alice, "1", contact="alice@villeurbanne.fr")
    await people.alice.say("retirer V-0001")
    await people.alice.say("oui")  # confirmed
    await people.alice.say("mes engagements")
    assert fr("Votre collectivité n’est volontaire pour aucun service retenu.") in people.alice.text
    assert "encore" not in people.alice.text.split("\n\n")[0]
    clock.now = AFTER_REFERENTS.replace(month=6, day=2)  # the déploiement
    await people.alice.say("aide")
    assert "mes engagements" in people.alice.text
    assert "• nouvelle" not in people.alice.text  # it works during the collecte only


async def test_the_contact_is_prefilled_from_the_profile_and_editable(
    agent_factory, store: Store, clock
) -> None:
    await laureates(agent_factory, store, clock)
    clock.now = DURING_COLLECTE
    gaston = agent_factory("gaston")
    await register_with_email(gaston, "Lyon", "gaston@mairie-lyon.fr")
    clock.now = REFERENTS_OPEN
    await gaston.say("volontaire")
    await gaston.say("P-002")
    assert "Le contact sera votre adresse de profil (gaston@mairie-lyon.fr)" in gaston.text
    await gaston.say("Un terrain d’expérimentation dans deux mairies d’arrondissement")
    await gaston.press(gaston.option("Oui"))
    assert "Contact (privé)\u00a0: gaston@mairie-lyon.fr" in gaston.text
    await gaston.press(gaston.option("Modifier"))
    await gaston.press(gaston.option("Contact"))
    await gaston.say("Service numérique, 04 72 00 00 00")
    await gaston.say("Envoyer")
    assert "V-0001 pour P-002" in gaston.text
    with store.transaction() as tx:
        (offer,) = tx.volunteers()
    assert offer.contact == "Service numérique, 04 72 00 00 00" and offer.elu_agreement == "oui"


async def test_administrators_list_export_and_write_to_a_laureates_volunteers(
    agent_factory, store: Store, clock, database_url: str, tmp_path, monkeypatch
) -> None:
    people = await laureates(agent_factory, store, clock)
    clock.now = DURING_COLLECTE
    admin = agent_factory("admin")
    await register(admin, "Rennes")
    clock.now = REFERENTS_OPEN
    await volunteer(people.alice, "1", contact="alice@villeurbanne.fr")
    assert fr("pour le retirer : « retirer V-0001 », jusqu’au") in people.alice.text
    await volunteer(people.dan, "1, 2", contact="dan@marseille.fr")
    # regression: dan was told « retirer V-0001 », Villeurbanne's engagement
    assert "V-0002 pour P-001" in people.dan.text and "V-0003 pour P-002" in people.dan.text
    assert (
        fr("changer un engagement (l’accord d’un élu, le contact…) : « modifier V-0002 » (avec")
        in people.dan.text
    )
    assert "V-0001" not in people.dan.text
    await people.eve.say("!volontaires")
    assert "réservée aux administrateurs" in people.eve.text
    await admin.say("!volontaires")
    assert fr("P-001 — Réserver une salle en ligne : 2 collectivités volontaires") in admin.text
    assert "V-0001 Villeurbanne" in admin.text and "dan@marseille.fr" in admin.text
    assert fr("accord d’un élu : c’est en cours") in admin.text
    await admin.say("!volontaires P-002")
    assert "V-0003 Marseille" in admin.text and "Villeurbanne" not in admin.text
    await admin.say("!volontaires P-999")
    assert "Je ne trouve pas de proposition P-999" in admin.text

    await admin.say("!ecrire-volontaires P-001 « Atelier le 12 mai à Lyon, inscrivez-vous »")
    # regression: « Message pour « volontaires:P-001 » », the audience's internal name
    assert fr("Message pour les volontaires de P-001, 2 destinataires :") in admin.text
    assert "Atelier le 12 mai" in admin.text
    for agent in people.everyone:
        agent.transport.pop(agent.key)
    await admin.say("oui")
    assert "mis en file pour 2 destinataires" in admin.text
    await admin.say("oui")  # nothing asked any more: never queued twice
    await pushes_sent(admin.engine)
    for agent in people.everyone:
        received = [m.text for m in agent.transport.pop(agent.key) if isinstance(m, OutText)]
        expected = 1 if agent in (people.alice, people.dan) else 0
        assert len(received) == expected, agent.key
    await admin.say("!ecrire-volontaires P-001")
    assert fr("« !ecrire-volontaires P-012 texte du message »") in admin.text

    monkeypatch.setenv("RECUEIL_DATABASE_URL", database_url)
    monkeypatch.setenv("RECUEIL_DATA_DIR", str(tmp_path))
    output = tmp_path / "volontaires.json"
    assert main(["export", "--what", "volontaires", "--format", "json", "-o", str(output)]) == 0
    rows = json.loads(output.read_text(encoding="utf-8"))
    assert [(r["laureat"], r["reference"], r["collectivite"]) for r in rows] == [
        ("P-001", "V-0001", "Villeurbanne"),
        ("P-001", "V-0002", "Marseille"),
        ("P-002", "V-0003", "Marseille"),
    ]
    assert rows[0]["contact"] == "alice@villeurbanne.fr"
    # regression (trial 1): the codes « en_cours » and « agent », where the bot says words
    assert (rows[0]["accord_elu"], rows[0]["agent_profil"]) == (
        "C’est en cours",
        "Agent de la collectivité",
    )


async def test_an_erased_volunteers_contact_is_neither_listed_nor_exported(
    agent_factory, store: Store, clock, database_url: str, tmp_path, monkeypatch
) -> None:
    """Found in a trial: after « supprimer mes données », ``!volontaires`` and the export
    still showed the e-mail pre-filled as the engagement's contact. The engagements stay,
    the collectivité's; the team is told to find the contact another way."""
    people = await laureates(agent_factory, store, clock)
    clock.now = DURING_COLLECTE
    admin = agent_factory("admin")
    await register(admin, "Rennes")
    gaston = agent_factory("gaston")
    await register_with_email(gaston, "Lyon", "gaston@mairie-lyon.fr")
    clock.now = REFERENTS_OPEN
    await gaston.say("volontaire")
    await gaston.say("1, 2")
    await gaston.say("Un terrain d’expérimentation dans deux mairies d’arrondissement")
    await gaston.press(gaston.option("C’est en cours"))
    assert "Contact (privé)\u00a0: gaston@mairie-lyon.fr" in gaston.text
    await gaston.say("Envoyer")
    await volunteer(people.dan, "1", contact="dan@marseille.fr")
    await admin.say("!volontaires")
    assert "gaston@mairie-lyon.fr" in admin.text

    await gaston.say("supprimer mes données")
    assert (
        fr(
            "Vos engagements de territoire référent (V-0001, V-0002) restent aussi, au nom de"
            " votre collectivité, mais le contact que vous y avez donné sera effacé."
        )
        in gaston.text
    )
    await gaston.press("oui")
    await admin.say("!volontaires")
    listing = admin.text
    assert "gaston@mairie-lyon.fr" not in listing
    erased = fr(
        "contact : effacé avec les données de la personne, à trouver auprès de la collectivité"
    )
    assert fr("V-0001 Lyon — apporte : Un terrain") in listing
    assert listing.count(erased) == 2, listing
    assert "dan@marseille.fr" in listing, "another collectivité's contact stays"

    monkeypatch.setenv("RECUEIL_DATABASE_URL", database_url)
    monkeypatch.setenv("RECUEIL_DATA_DIR", str(tmp_path))
    output = tmp_path / "volontaires.json"
    assert main(["export", "--what", "volontaires", "--format", "json", "-o", str(output)]) == 0
    rows = json.loads(output.read_text(encoding="utf-8"))
    assert [(r["reference"], r["collectivite"], r["contact"]) for r in rows] == [
        ("V-0001", "Lyon", "(effacé avec les données de la personne)"),
        ("V-0003", "Marseille", "dan@marseille.fr"),
        ("V-0002", "Lyon", "(effacé avec les données de la personne)"),
    ]
    assert "gaston" not in output.read_text(encoding="utf-8")


async def test_an_offer_made_on_a_trial_clock_is_exported_with_the_trial_date(
    agent_factory, store: Store, clock, database_url: str, tmp_path, monkeypatch
) -> None:
    """Found in a terminal trial (RECUEIL_NOW in the référent phase): the volunteers'
    export dated the offer by the real clock, months before the phase it was made in."""
    people = await laureates(agent_factory, store, clock)
    clock.now = REFERENTS_OPEN
    await volunteer(people.alice, "1", contact="alice@villeurbanne.fr")
    monkeypatch.setenv("RECUEIL_DATABASE_URL", database_url)
    monkeypatch.setenv("RECUEIL_DATA_DIR", str(tmp_path))
    output = tmp_path / "volontaires.json"
    assert main(["export", "--what", "volontaires", "--format", "json", "-o", str(output)]) == 0
    [row] = json.loads(output.read_text(encoding="utf-8"))
    assert (row["reference"], row["date"]) == ("V-0001", "2027-04-01")


def calls(transport: FakeTransport, agent: SimulatedAgent) -> list[str]:
    return [m.text for m in transport.pop(agent.key) if isinstance(m, OutText)]


async def test_each_laureates_call_reaches_its_people_first_then_everyone_once(
    agent_factory, services, store: Store, clock, engine: Engine, transport: FakeTransport
) -> None:
    people = await laureates(agent_factory, store, clock)
    for agent in people.everyone:
        transport.pop(agent.key)
    admin = agent_factory("admin")
    clock.now = AFTER_VOTE
    await admin.say("!envois")  # the laureates are chosen: their calls are planned
    for call, day in [("P-001", "1er avril"), ("P-002", "1er avril"), ("tous", "8 avril")]:
        assert fr(f"• referents-appel-{call} : prévu le {day} 2027") in admin.text
    clock.now = REFERENTS_OPEN
    await admin.say("!envois")
    assert fr("• referents-appel-P-001 : dû maintenant, pour les contributeurs") in admin.text
    assert fr("• referents-appel-tous : prévu le 8 avril 2027, pour tous les inscrits") in (
        admin.text
    )
    assert await announcer.tick(engine) == ["referents-appel-P-001", "referents-appel-P-002"]
    assert await announcer.tick(engine) == []
    restarted = Engine(services, store, clock=clock)
    restarted.register(transport)
    assert await announcer.tick(restarted) == []
    first = {name: calls(transport, getattr(people, name)) for name in ("alice", "bob", "dan")}
    for received in first.values():  # contributors and supporters of P-001
        assert len(received) == 1 and fr("P-001 « Réserver une salle en ligne »") in received[0]
    (chloe_call,) = calls(transport, people.chloe)
    assert "P-002" in chloe_call and fr("Tapez « volontaire »") in chloe_call
    # « la proposition … Il sera construit » (trial A, item 15)
    assert "Ce service sera construit" in chloe_call and "Il sera" not in chloe_call
    assert calls(transport, people.eve) == []

    await admin.say("!envois")
    assert fr("• referents-appel-P-002, pour les contributeurs et les soutiens de P-002") in (
        admin.text
    )
    clock.now = A_WEEK_LATER
    assert await announcer.tick(restarted) == ["referents-appel-tous"]
    assert await announcer.tick(restarted) == []
    for agent in people.everyone:
        (received,) = calls(transport, agent)
        assert "• P-001 — Réserver une salle en ligne" in received and "• P-002" in received
    clock.now = AFTER_REFERENTS  # the phase is over: its closing only, no call
    assert await announcer.tick(restarted) == ["referents-cloture"]
    await restarted.close()


async def test_an_offer_half_filled_is_still_there_when_the_agent_comes_back(
    agent_factory, store: Store, clock
) -> None:
    """Found in a terminal trial: the « volontaire » form was dropped at the next session
    (the menu instead), and what had been answered was lost."""
    people = await laureates(agent_factory, store, clock)
    clock.now = REFERENTS_OPEN
    alice = people.alice
    await alice.say("volontaire")
    await alice.say("1")
    assert "Qu’apporterait votre collectivité" in alice.text
    await alice.start()  # a new session (the terminal, Telegram's /start)
    assert fr("Bonjour ! Vous revoilà.") in alice.text
    assert "Qu’apporterait votre collectivité" in alice.text  # where it stopped
    await alice.say("Deux agents pour tester")
    assert "Qui l’équipe peut-elle contacter" in alice.text


async def test_a_colleague_withdraws_an_offer_whose_author_left_the_collectivite(
    agent_factory, store: Store, clock
) -> None:
    """As for supports: an offer made for Villeurbanne by an agent who then moved to another
    collectivité (her profile edited) can be withdrawn by Villeurbanne's other agents."""
    people = await laureates(agent_factory, store, clock)
    clock.now = REFERENTS_OPEN
    alice = people.alice
    await volunteer(alice, "1", contact="alice@villeurbanne.fr")
    colleague = agent_factory("alice2")
    clock.now = DURING_COLLECTE
    await register(colleague, "Villeurbanne")
    clock.now = REFERENTS_OPEN
    with store.transaction() as tx:  # alice's profile now says Lyon (bob's collectivité)
        tx.connection.execute(
            sa.text(
                "UPDATE agent SET collectivite_id ="
                " (SELECT collectivite_id FROM agent WHERE user_id = :bob) WHERE user_id = :alice"
            ),
            {"bob": people.bob.key.user, "alice": alice.key.user},
        )
    await colleague.say("retirer V-0001")
    await colleague.say("oui")  # confirmed
    assert "Engagement V-0001 retiré (P-001)" in colleague.text


async def test_the_contact_must_be_someone_the_team_can_reach(
    agent_factory, store: Store, clock
) -> None:
    """Found in a terminal trial: « oui » was accepted as the contact and stored."""
    people = await laureates(agent_factory, store, clock)
    clock.now = REFERENTS_OPEN
    eve = people.eve  # her profile has no e-mail: the contact is asked
    await eve.say("volontaire")
    await eve.say("1")
    await eve.say("Deux agents pour tester, et nos données")
    assert "Qui l’équipe peut-elle contacter" in eve.text
    for vague in ("oui", "je ne sais pas", "Marie"):
        await eve.say(vague)
        assert "Il me faut de quoi joindre quelqu’un" in eve.text, vague
    for reachable in ("Marie Dupont", "04 70 30 12 00", "marie@nantes.fr"):
        assert await accepted_contact(agent_factory, store, clock, reachable), reachable


async def accepted_contact(agent_factory, store: Store, clock, contact: str) -> bool:  # type: ignore[no-untyped-def]
    agent = agent_factory(f"contact-{len(contact)}")
    clock.now = DURING_COLLECTE
    await register(agent, "Lyon")
    clock.now = REFERENTS_OPEN
    await agent.say("volontaire")
    await agent.say("1")
    await agent.say("Deux agents pour tester, et nos données")
    await agent.say(contact)
    return "Il me faut de quoi joindre" not in agent.text and "l’accord d" in agent.text


async def test_retenir_refuses_to_drop_a_laureate_whose_call_volunteers_or_followers_stand(
    agent_factory, store: Store, clock, engine: Engine
) -> None:
    """Found in a trial: during the déploiement, « !retenir P-001 » silently marked P-002 not
    selected while its call had gone, Lyon volunteered for it and agents followed it."""
    people = await laureates(agent_factory, store, clock)
    admin = agent_factory("admin")
    clock.now = REFERENTS_OPEN
    assert await announcer.tick(engine) == ["referents-appel-P-001", "referents-appel-P-002"]
    await volunteer(people.chloe, "2", contact="chloe@grenoble.fr")
    assert "V-0001 pour P-002" in people.chloe.text
    await people.eve.say("suivre P-002")
    assert "Vous suivez P-002" in people.eve.text
    await admin.say("!retenir P-001")
    assert fr("Rien n’a changé : l’appel aux territoires référents est lancé") in admin.text
    assert (
        fr(
            "• P-002 : son appel aux territoires référents est parti ou en file, "
            "1 collectivité volontaire (V-0001) et 1 personne suit ses nouvelles"
        )
        in admin.text
    )
    assert "P-001 :" not in admin.text  # kept: nothing to say about it
    with store.transaction() as tx:
        assert tx.proposal("P-002").proposal.status == "retenue"  # type: ignore[union-attr]
    await admin.say("!retenir P-001 P-002")  # the same laureates: allowed
    assert fr("Retenues : P-001, P-002") in admin.text


async def test_annoncer_reaches_a_laureates_audiences_as_documented(
    agent_factory, store: Store, clock
) -> None:
    """Found in a trial: « !annoncer laureat:P-001 … » and « !annoncer suiveurs:P-002 … »
    answered with the usage, though docs/campagnes.md lists these audiences."""
    people = await laureates(agent_factory, store, clock)
    admin = agent_factory("admin")
    clock.now = REFERENTS_OPEN
    await admin.say("!annoncer laureat:P-001 Merci pour vos contributions")
    assert fr("Message pour les contributeurs et les soutiens de P-001, 3 destinataires") in (
        admin.text
    )
    await admin.say("non")
    assert "rien n’a été envoyé" in admin.text
    await admin.say("!annoncer suiveurs:p2 Premier atelier le 12 mai")
    assert fr("Message pour les personnes qui suivent P-002, 1 destinataire") in admin.text
    people.chloe.transport.pop(people.chloe.key)
    await admin.say("oui")
    assert "mis en file pour 1 destinataire" in admin.text
    await admin.say("!annoncer suiveurs:P-009 Bonjour")
    assert "P-009 ne fait pas partie des services retenus" in admin.text
    await admin.say("!annoncer inconnus:P-001 Bonjour")
    assert "laureat:P-012, volontaires:P-012, suiveurs:P-012" in admin.text


async def test_annuler_or_another_command_abandons_a_push_waiting_for_confirmation(
    agent_factory, store: Store, clock
) -> None:
    """Found in a trial: « annuler » at the preview of « !nouvelles » answered « Il n’y a rien
    à annuler » and the preview came back, after every later command too; only « non »
    dropped it."""
    people = await laureates(agent_factory, store, clock)
    admin = agent_factory("admin")
    clock.now = REFERENTS_OPEN
    await people.chloe.say("suivre P-001")
    await admin.say("!nouvelles P-001 Le prototype arrive en juin.")
    assert "Le prototype arrive en juin" in admin.text and "L’envoyer" in admin.text
    await admin.say("annuler")
    assert fr("Message abandonné : rien n’a été envoyé.") in admin.text
    assert "rien à annuler" not in admin.text and "L’envoyer" not in admin.text

    await admin.say("!annoncer laureat:P-001 Merci pour vos contributions")
    assert "L’envoyer" in admin.text
    await admin.say("!volontaires")  # another command instead of the answer
    assert fr("Message abandonné : rien n’a été envoyé.") in admin.text
    assert "Aucune collectivité volontaire" in admin.text and "L’envoyer" not in admin.text
    await admin.say("oui")  # nothing asked any more: not sent
    assert "mis en file" not in admin.text
    await admin.say("!envois")
    assert "L’envoyer" not in admin.text
    await pushes_sent(admin.engine)
    with store.transaction() as tx:
        queued = tx.connection.execute(
            sa.text("SELECT count(*) FROM delivery WHERE campaign IS NOT NULL")
        )
        assert queued.scalar() == 0


async def test_volontaire_typed_again_goes_on_with_the_same_form(
    agent_factory, store: Store, clock
) -> None:
    """Found in a trial: « volontaire » typed twice opened a second form above the first;
    once the offer was sent, the agent was back in the first form's question."""
    people = await laureates(agent_factory, store, clock)
    clock.now = REFERENTS_OPEN
    alice = people.alice
    await alice.say("volontaire")
    await alice.say("volontaire")
    assert "déjà en train de vous porter volontaire" in alice.text
    assert "Pour quel(s) service(s) retenu(s)" in alice.text
    await alice.say("2")
    await alice.say("volontaire")  # halfway: the same form, where it was
    assert "Qu’apporterait votre collectivité" in alice.text
    assert "Pour quel(s) service(s)" not in alice.text
    await alice.say("Des agents pour tester le prototype")
    await alice.say("alice@villeurbanne.fr")
    await alice.press(alice.option("C’est en cours"))
    await alice.say("Envoyer")
    assert "V-0001 pour P-002" in alice.text
    assert "Pour quel(s) service(s)" not in alice.text  # not back in a form: the menu
    assert fr("Que souhaitez-vous faire ?") in alice.text


async def test_only_its_author_withdraws_and_the_colleague_is_told_whose_fonction(
    agent_factory, store: Store, clock
) -> None:
    """Found in trial A: « …a été donné par un ou une collègue : seul son auteur peut le
    retirer », and « mes soutiens » said only « par un ou une collègue »: the DGS could not
    find out whom to ask. The fonction (public with contributions) is named, never the
    colleague's address."""
    alice = (await published_proposal(agent_factory, store, clock))["alice"]
    colleague = agent_factory("alice2")
    await register_with_email(colleague, "Villeurbanne", "a.durand@villeurbanne.fr")
    await colleague.say("soutenir P-001")
    named = "votre collègue « Chargée de mission numérique »"
    await alice.say("retirer P-001")
    assert fr(f"à P-001 a été donné par {named} : seul son auteur") in alice.text
    await alice.say("mes soutiens")
    assert fr(f"par {named}") in alice.text
    with store.transaction() as tx:
        tx.set_proposal_status("test:admin", "P-001", "retenue")
    clock.now = REFERENTS_OPEN
    await volunteer(colleague, "1", contact=None)  # the profile's address, pre-filled
    assert "V-0001 pour P-001" in colleague.text
    await alice.say("retirer V-0001")
    assert fr(f"L’engagement V-0001 a été pris par {named}") in alice.text
    await alice.say("mes engagements")
    assert fr(f"; par {named})") in alice.text
    assert "a.durand" not in alice.text
    assert [o[3] for o in offers(store)] == [True]


async def test_an_engagement_is_updated_not_retyped_and_withdrawn_only_once_confirmed(
    agent_factory, store: Store, clock
) -> None:
    """Found in trial A: once the élu agreed, an engagement could not be changed: « modifier
    V-0001 » was not understood, « volontaire » said the collectivité had volunteered for
    everything, « retirer V-0001 » withdrew it at once, and volunteering again reset the
    contact to the profile's address and asked for the rest again."""
    await laureates(agent_factory, store, clock)
    clock.now = DURING_COLLECTE
    gaston = agent_factory("gaston")
    await register_with_email(gaston, "Lyon", "gaston@mairie-lyon.fr")
    clock.now = REFERENTS_OPEN
    await gaston.say("volontaire")
    await gaston.say("P-002")
    await gaston.say("Un terrain d’expérimentation dans deux mairies d’arrondissement")
    await gaston.press(gaston.option("C’est en cours"))
    await gaston.press(gaston.option("Modifier"))
    await gaston.press(gaston.option("Contact"))
    await gaston.say("Mme Martin 04 76 88 60 18")
    await gaston.say("Envoyer")
    assert "V-0001 pour P-002" in gaston.text
    assert fr("« modifier V-0001 »") in gaston.text  # said how to change it

    def stored() -> list[tuple[str, str | None, str | None, str | None]]:
        with store.transaction() as tx:
            offers = tx.volunteers()
        return [(o.reference, o.commitment, o.contact, o.elu_agreement) for o in offers]

    before = stored()
    # the élu agreed: « modifier V-0001 » opens the summary with every answer kept
    await gaston.say("modifier V-0001")
    assert "Je reprends les réponses de votre engagement V-0001" in gaston.text
    assert "Mme Martin 04 76 88 60 18" in gaston.text and "deux mairies" in gaston.text
    await gaston.press(gaston.option("Modifier"))
    await gaston.press(gaston.option("Accord d’un élu"))
    await gaston.press(gaston.option("Oui"))
    await gaston.say("Envoyer")
    assert "Engagement V-0001 mis à jour pour P-002" in gaston.text
    assert stored() == [("V-0001", before[0][1], "Mme Martin 04 76 88 60 18", "oui")]
    # « volontaire » offers the same laureate again, to update: the contact is not reset
    await gaston.say("volontaire")
    assert "votre engagement V-0001, à mettre à jour" in gaston.text
    await gaston.say("P-002")
    assert fr("Contact (privé) : Mme Martin 04 76 88 60 18") in gaston.text
    assert "gaston@mairie-lyon.fr" not in gaston.text
    await gaston.say("Envoyer")
    assert fr("Engagement V-0001 pour P-002 : rien n’a changé.") in gaston.text
    # withdrawing asks first; « non » keeps it
    await gaston.say("retirer V-0001")
    assert fr("Retirer cet engagement ?") in gaston.text and fr("V-0001 : P-002") in gaston.text
    assert len(stored()) == 1
    await gaston.say("non")
    assert "Rien n’a été retiré" in gaston.text and len(stored()) == 1
    await gaston.say("retirer V-0001")
    await gaston.say("oui")
    assert "Engagement V-0001 retiré (P-002)" in gaston.text and stored() == []
    # volunteering again after withdrawing starts from the withdrawn answers
    await gaston.say("volontaire")
    await gaston.say("P-002")
    assert "retiré depuis" in gaston.text
    assert fr("Contact (privé) : Mme Martin 04 76 88 60 18") in gaston.text
    await gaston.say("Envoyer")
    assert "V-0001 pour P-002" in gaston.text
    assert stored() == [("V-0001", before[0][1], "Mme Martin 04 76 88 60 18", "oui")]
