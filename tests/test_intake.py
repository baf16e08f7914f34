"""The whole intake, as an agent lives it, through the engine and the real store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from fake_transport import FakeTransport, SimulatedAgent
from sqlmodel import select

from bot.app.engine import Engine
from bot.core.values import OutChoices, OutFile
from config.typography import french as fr
from storage import campaigns
from storage.models import Agent, Collectivite, Contribution
from storage.store import Store

DESCRIPTION = (
    "Les habitants appellent la mairie pour réserver la salle des fêtes ; "
    "la secrétaire tient un agenda papier et les doublons sont fréquents."
)


async def register(agent: SimulatedAgent, collectivite: str = "Villeurbanne") -> None:
    """Welcome and the four profile questions."""
    await agent.start()
    assert "bienvenue" in agent.text
    if "Quelle est votre collectivité" not in agent.text:  # an administrator: none asked
        await agent.say("profil")
    assert "Quelle est votre collectivité" in agent.text
    await agent.say(collectivite)
    await agent.press(agent.option("Agent"))
    await agent.say("Secrétaire de mairie")
    assert "adresse électronique" in agent.text
    await agent.say("passer")
    assert "profil est enregistré" in agent.text
    assert "Que souhaitez-vous faire" in agent.text


async def describe_need(agent: SimulatedAgent, title: str = "Réserver les salles en ligne") -> None:
    """From the menu to the summary of a besoin."""
    await agent.say("Décrire un besoin")
    assert "quel est votre besoin" in agent.text
    await agent.say(title)
    assert "Décrivez le problème" in agent.text
    await agent.say(DESCRIPTION)
    assert "Qui en bénéficierait" in agent.text
    await agent.say("1, 3")
    assert "Comment faites-vous aujourd’hui" in agent.text
    await agent.say("Un agenda papier à l’accueil")
    question = agent.question
    assert question is not None and "thème" in question.text
    await agent.say("1")
    assert "Que doit surtout permettre ce service" in agent.text
    await agent.say("Réserver ou prendre rendez-vous")
    assert "Voici votre besoin, avant envoi" in agent.text


def contributions(store: Store) -> list[Contribution]:
    with store.transaction() as tx:
        return list(tx.session.exec(select(Contribution).order_by(Contribution.id)))


async def test_besoin_from_welcome_to_reference(agent_factory, store: Store) -> None:
    alice = agent_factory("alice")
    await register(alice)
    await describe_need(alice)
    assert "• Titre\u00a0: Réserver les salles en ligne" in alice.text
    assert "Bénéficiaires\u00a0: les habitants, les associations" in alice.text
    await alice.say("Envoyer")
    assert "B-0001" in alice.text
    assert "15 février 2027" in alice.text  # what happens next, from the calendar

    [stored] = contributions(store)
    assert stored.reference == "B-0001"
    assert stored.kind == "besoin"
    assert stored.title == "Réserver les salles en ligne"
    assert stored.description == DESCRIPTION
    assert stored.answers["beneficiaries"] == ["habitants", "associations"]
    assert stored.answers["current_handling"] == "Un agenda papier à l’accueil"
    assert stored.thematique in {t for t in alice.engine.services.taxonomy.ids}
    with store.transaction() as tx:
        collectivite = tx.session.get(Collectivite, stored.collectivite_id)
        author = tx.session.get(Agent, stored.author_id)
    assert collectivite is not None and collectivite.name == "Villeurbanne"
    assert collectivite.code == "69266"
    assert author is not None and author.fonction == "Secrétaire de mairie"


async def test_a_service_without_address_says_it_is_not_filled_in_the_feminine(
    agent_factory,
) -> None:
    """Regression: the recap read « Adresse web : (non renseigné) »."""
    bob = agent_factory("bob")
    await register(bob)
    await bob.say("Présenter un service existant")
    await bob.say("Portail des associations")
    await bob.say("Un annuaire en ligne où chaque association met à jour sa fiche et ses dates.")
    assert "adresse web" in bob.text
    await bob.say("passer")
    await bob.say("je ne sais pas")
    await bob.say("La nôtre et deux communes voisines")
    await bob.say("Le déployer dans toute l’intercommunalité")
    await bob.say("1")
    await bob.say("7")
    assert "Voici votre service, avant envoi" in bob.text
    assert fr("• Adresse web : (non renseignée)") in bob.text


async def test_choice_labels_lose_their_capital_after_the_colon_of_the_recap(
    agent_factory,
) -> None:
    """Regression: the recap read « Bénéficiaires : Les habitants, Les associations »."""
    alice = agent_factory("alice")
    await register(alice)
    await alice.say("Décrire un besoin")
    await alice.say("Réserver les salles en ligne")
    await alice.say(DESCRIPTION)
    question = alice.question
    assert question is not None
    assert [c.label for c in question.choices][:2] == ["Les habitants", "Les agents"]  # buttons
    await alice.say("1, 3")
    await alice.say("Un agenda papier à l’accueil")
    await alice.say("1")
    await alice.say("Réserver ou prendre rendez-vous")
    assert "Voici votre besoin, avant envoi" in alice.text
    assert fr("• Bénéficiaires : les habitants, les associations") in alice.text
    assert fr("• Ce qu’il doit permettre : réserver ou prendre rendez-vous") in alice.text
    # what the agent typed is left as typed
    assert fr("• Titre : Réserver les salles en ligne") in alice.text
    assert fr("• Aujourd’hui : Un agenda papier à l’accueil") in alice.text
    await alice.say("Envoyer")
    await alice.say("Mon profil")
    assert fr("• Collectivité : Villeurbanne (Rhône)") in alice.text  # a name keeps its capital
    assert fr("• Profil : agent de la collectivité") in alice.text
    assert fr("• Fonction : Secrétaire de mairie") in alice.text


async def test_service_with_address_and_open_source(agent_factory, store: Store) -> None:
    bob = agent_factory("bob")
    await bob.start()
    await bob.say("69560")  # three communes share this postal code
    assert fr("Plusieurs collectivités répondent au code « 69560 ». Laquelle") in bob.text
    assert "pas trouvé exactement" not in bob.text
    await bob.press(bob.option("Saint-Romain-en-Gal"))
    assert "Vous êtes" in bob.text
    await bob.say("élu")
    await bob.say("Adjoint au numérique")
    await bob.say("bob@saint-romain-en-gal.fr")
    assert "profil est enregistré (Saint-Romain-en-Gal (Rhône))" in bob.text

    await bob.say("2")  # Présenter un service existant
    assert "nom de votre service" in bob.text
    await bob.say("Portail des associations")
    await bob.say("Un annuaire en ligne où chaque association met à jour sa fiche et ses dates.")
    assert "adresse web" in bob.text
    await bob.say("pas une adresse")
    assert "ne semble pas valide" in bob.text
    assert "adresse web" in bob.text  # asked again
    await bob.say("www.saint-romain-en-gal.fr/associations")
    assert "code source est-il ouvert" in bob.text
    await bob.say("je ne sais pas")
    await bob.say("La nôtre et deux communes voisines")
    await bob.say("Le déployer dans toute l’intercommunalité")
    await bob.say("1")  # the first thématique offered, or « Oui » to the suggestion
    assert "Que permet surtout votre service" in bob.text
    await bob.say("7")  # Trouver une information, un lieu ou un contact
    assert "Voici votre service, avant envoi" in bob.text
    assert "Ce qu’il permet\u00a0: trouver une information, un lieu ou un contact" in bob.text
    assert "Adresse web\u00a0: https://www.saint-romain-en-gal.fr/associations" in bob.text
    await bob.say("envoyer")
    assert "S-0001" in bob.text

    [stored] = contributions(store)
    assert stored.kind == "service"
    assert stored.answers["url"] == "https://www.saint-romain-en-gal.fr/associations"
    assert stored.answers["open_source"] == "nsp"
    with store.transaction() as tx:
        author = tx.session.get(Agent, stored.author_id)
    assert author is not None and author.email == "bob@saint-romain-en-gal.fr"
    assert author.profile == "elu"


async def test_homonyms_are_told_apart_by_departement(agent_factory, store: Store) -> None:
    claire = agent_factory("claire")
    await claire.start()
    await claire.say("Sainte Colombe")
    assert fr("Il existe 12 collectivités nommées « Sainte-Colombe »") in claire.text
    await claire.say("Landes")  # the département's name designates the homonym
    await claire.say("3")
    await claire.say("Chargée de mission")
    await claire.say("passer")
    assert "Sainte-Colombe (Landes)" in claire.text


async def test_wrong_answer_to_a_choice_asks_again(agent_factory) -> None:
    alice = agent_factory("alice")
    await register(alice)
    await alice.say("7")
    assert "Répondez par un numéro de 1 à 5" in alice.text
    assert isinstance(alice.question, OutChoices)
    await alice.say("peut-être")
    assert "Je n’ai pas compris votre choix" in alice.text
    await alice.say("besoin")  # an alias of « Décrire un besoin »
    assert "quel est votre besoin" in alice.text


async def test_a_wrong_answer_to_a_question_taking_several_says_how_to_give_several(
    agent_factory, store: Store
) -> None:
    """Regression: at « Qui en bénéficierait ? », an answer not understood got the hint of
    a single choice (« un numéro de 1 à 4 »), which never said how to give several; and
    the labels typed as shown (« Les habitants, Les associations ») were not understood."""
    alice = agent_factory("alice")
    await register(alice)
    await alice.say("Décrire un besoin")
    await alice.say("Réserver les salles en ligne")
    await alice.say(DESCRIPTION)
    await alice.say("tout le monde")
    several = fr(
        "Plusieurs réponses sont possibles : tapez leurs numéros (de 1 à 4) ou leurs textes, "
        "séparés par des virgules, par exemple « 1, 3 » pour « Les habitants » et "
        "« Les associations »."
    )
    assert several in alice.text
    assert "Qui en bénéficierait" in alice.text  # asked again
    await alice.say("les habitants et les élus")
    assert fr("« les élus » ne fait pas partie des choix proposés.") in alice.text
    assert several in alice.text
    await alice.say("Les habitants, Les associations")  # as the hint says
    assert "Comment faites-vous aujourd’hui" in alice.text
    await alice.say("passer")
    await alice.say("1")
    await alice.say("Réserver ou prendre rendez-vous")
    await alice.say("Envoyer")
    [stored] = contributions(store)
    assert stored.answers["beneficiaries"] == ["habitants", "associations"]


async def test_passer_is_no_answer_to_a_needed_question(agent_factory, store: Store) -> None:
    alice = agent_factory("alice")
    await register(alice)
    await alice.say("Décrire un besoin")
    await alice.say("passer")  # the title is needed
    assert "Cette question ne peut pas être passée" in alice.text
    assert "quel est votre besoin" in alice.text  # asked again
    await alice.say("Réserver les salles en ligne")
    await alice.say("Passer")  # nor is the description
    assert "ne peut pas être passée" in alice.text
    with store.transaction() as tx:
        [(state,)] = tx.session.exec(sa.text("SELECT state FROM conversation")).all()
    answers = (json.loads(state) if isinstance(state, str) else state)["stack"][-1]["form"]
    assert answers["answers"] == {"title": "Réserver les salles en ligne"}


async def test_the_profile_questions_speak_of_the_profile_not_of_a_draft(agent_factory) -> None:
    """Regression: « passer » at a question of the profile answered « (« annuler » abandonne
    le brouillon.) », and « aide » there gave « annuler » as « abandonner le brouillon en
    cours »: the agent was writing no contribution."""
    alice = agent_factory("alice")
    await alice.start()
    await alice.say("passer")
    assert "Cette question ne peut pas être passée" in alice.text
    assert "Quelle est votre collectivité" in alice.text
    assert "brouillon" not in alice.text  # annuler would only start the profile again
    await alice.say("aide")
    assert "annuler" in alice.text and "brouillon" not in alice.text
    await alice.say("Villeurbanne")
    await alice.press(alice.option("Agent"))
    await alice.say("Secrétaire de mairie")
    await alice.say("passer")
    await alice.say("profil")
    await alice.press(alice.option("Modifier mon profil"))
    await alice.say("modifier")
    await alice.press(alice.option("Fonction"))
    await alice.say("passer")
    assert (
        fr(
            "Cette question ne peut pas être passée : j’ai besoin de votre réponse pour continuer. "
            "(« annuler » abandonne la saisie de votre profil.)"
        )
        in alice.text
    )
    await alice.say("annuler")
    assert fr("Abandonner la saisie de votre profil ?") in alice.text
    await alice.say("non")
    await alice.say("garder")
    await alice.say("Enregistrer")
    await alice.say("Décrire un besoin")
    await alice.say("passer")  # a contribution is a draft
    assert fr("(« annuler » abandonne le brouillon.)") in alice.text


async def test_modifier_before_any_summary_offers_to_go_back_to_the_question(
    agent_factory,
) -> None:
    """Regression: « modifier » during the first profile (which has no summary) offered
    « Aucune, revenir au récapitulatif »."""
    alice = agent_factory("alice")
    await alice.start()
    await alice.say("Villeurbanne")
    await alice.say("modifier")
    assert alice.question is not None
    labels = [c.label for c in alice.question.choices]
    assert labels == ["Collectivité", "Aucune, revenir à la question en cours"]
    await alice.say("2")
    assert "Vous êtes" in alice.text  # the question being asked
    await alice.press(alice.option("Agent"))
    await alice.say("Secrétaire de mairie")
    await alice.say("passer")
    await describe_need(alice)
    await alice.say("modifier")  # at the summary, it goes back to the summary
    assert "Aucune, revenir au récapitulatif" in alice.text


async def test_retour_goes_back_and_keeps_the_answer(agent_factory, store: Store) -> None:
    alice = agent_factory("alice")
    await register(alice)
    await alice.say("1")
    await alice.say("Titre provisoire")
    await alice.say(DESCRIPTION)
    assert "Qui en bénéficierait" in alice.text
    await alice.say("retour")
    assert "Décrivez le problème" in alice.text
    assert "Réponse actuelle" in alice.text
    await alice.say("!retour")
    assert "quel est votre besoin" in alice.text
    await alice.say("/retour")
    assert "C’est la première question" in alice.text
    await alice.say("Titre définitif")
    assert "Décrivez le problème" in alice.text  # the description is asked again, kept
    await alice.say(DESCRIPTION)
    await alice.say("2")
    await alice.say("passer")
    await alice.say("1")
    await alice.say("autre")
    assert "• Titre\u00a0: Titre définitif" in alice.text
    assert "Aujourd’hui\u00a0: (non renseigné)" in alice.text


LONG_TITLE = (
    "Ramassage des poubelles : informer les habitants des jours de collecte. Aujourd’hui "
    "les horaires changent souvent et personne ne le sait, la mairie reçoit des appels."
)


async def test_a_title_too_long_is_shortened_and_the_text_kept_as_description(
    agent_factory, store: Store
) -> None:
    """Found in trial 2: a 154-character title was refused with « rien n’a été enregistré »
    and the text was lost. A shorter title is proposed, and the text kept as description."""
    assert len(LONG_TITLE) > 120
    alice = agent_factory("alice")
    await register(alice)
    await alice.say("1")
    await alice.say(LONG_TITLE)
    assert "rien n’a été enregistré" not in alice.text
    proposed = "Ramassage des poubelles : informer les habitants des jours de collecte"
    assert f"Je vous propose ce titre\u00a0: «\u00a0{proposed}\u00a0»" in alice.text
    await alice.say("oui")
    assert "Votre texte complet est repris comme description" in alice.text
    assert "Décrivez le problème" in alice.text and LONG_TITLE in alice.text
    await alice.say("garder")
    assert "Qui en bénéficierait" in alice.text
    await alice.say("retour")
    await alice.say("retour")
    await alice.say("Une phrase trop longue, " * 6)  # and a title of one's own instead
    assert "Je vous propose ce titre" in alice.text
    await alice.say("Poubelles : les jours de collecte")
    await alice.say("garder")  # the description, kept
    await alice.say("1")
    await alice.say("passer")
    await alice.say("1")
    await alice.say("autre")
    assert "• Titre\u00a0: Poubelles : les jours de collecte" in alice.text
    assert LONG_TITLE in alice.text


async def test_garder_keeps_the_current_answer_after_retour(agent_factory) -> None:
    """Found in trial 2: after « retour », the current answer had to be retyped: « garder »
    was taken as a new, too short answer."""
    alice = agent_factory("alice")
    await register(alice)
    await alice.say("1")
    await alice.say("Titre provisoire")
    await alice.say(DESCRIPTION)
    await alice.say("retour")
    assert fr("Pour la garder, répondez « garder »") in alice.text
    assert alice.option("Garder la réponse actuelle")
    await alice.say("garder")
    assert "Qui en bénéficierait" in alice.text
    await alice.say("retour")
    await alice.press(alice.option("Garder la réponse actuelle"))
    assert "Qui en bénéficierait" in alice.text
    await alice.say("1, 3")
    await alice.say("retour")  # a choice question: « garder » too
    await alice.say("garder")
    assert "Comment faites-vous aujourd’hui" in alice.text
    await alice.say("passer")
    await alice.say("1")
    await alice.say("autre")
    assert DESCRIPTION in alice.text and "les habitants, les associations" in alice.text.lower()


async def test_modifier_from_the_summary_changes_one_field(agent_factory, store: Store) -> None:
    alice = agent_factory("alice")
    await register(alice)
    await describe_need(alice, "Premier titre")
    await alice.press(alice.option("Modifier"))
    assert "Quelle réponse voulez-vous modifier" in alice.text
    await alice.say("Titre")
    assert fr("Réponse actuelle : « Premier titre »") in alice.text
    await alice.say("Second titre")
    assert "Voici votre besoin, avant envoi" in alice.text  # straight back to the summary
    assert "• Titre\u00a0: Second titre" in alice.text
    await alice.say("modifier")
    await alice.say("Bénéficiaires")
    await alice.say("4")
    assert "Bénéficiaires\u00a0: les entreprises" in alice.text
    await alice.say("Envoyer")
    [stored] = contributions(store)
    assert stored.title == "Second titre"
    assert stored.answers["beneficiaries"] == ["entreprises"]


async def test_annuler_asks_before_dropping_the_draft(agent_factory, store: Store) -> None:
    alice = agent_factory("alice")
    await register(alice)
    await alice.say("1")
    await alice.say("Un besoin")
    await alice.say("annuler")
    assert "Abandonner ce brouillon" in alice.text
    await alice.say("non")
    assert "on continue" in alice.text
    assert "Décrivez le problème" in alice.text
    await alice.say("annuler")
    await alice.say("oui")
    assert "Brouillon abandonné" in alice.text
    assert "Que souhaitez-vous faire" in alice.text
    await alice.say("annuler")
    assert "rien à annuler" in alice.text
    assert contributions(store) == []


async def test_second_contribution_and_mes_contributions(agent_factory, store: Store) -> None:
    alice = agent_factory("alice")
    await register(alice)
    await describe_need(alice, "Premier besoin")
    await alice.say("Envoyer")
    await describe_need(alice, "Deuxième besoin")
    await alice.say("Envoyer")
    assert "B-0002" in alice.text
    await alice.say("mes contributions")
    assert "Vos contributions (2)" in alice.text
    assert "B-0001 — Premier besoin" in alice.text
    assert "B-0002 — Deuxième besoin" in alice.text
    assert [c.reference for c in contributions(store)] == ["B-0001", "B-0002"]


async def test_sending_a_copy_of_ones_own_contribution_asks_first_and_loses_nothing(
    agent_factory, store: Store
) -> None:
    """Regression: the same agent sent the same need twice (a copy typed again, then
    Envoyer) and got B-0002 without a word about B-0001."""
    alice = agent_factory("alice")
    await register(alice)
    await describe_need(alice)
    await alice.say("Envoyer")
    assert "B-0001" in alice.text
    await describe_need(alice, title="réserver les salles en ligne !")  # typed again
    await alice.say("Envoyer")
    assert (
        fr(
            "Vous avez déjà envoyé ce besoin le 1er décembre 2026 : B-0001 « Réserver les salles "
            "en ligne », avec le même texte ou presque. L’envoyer une seconde fois ?"
        )
        in alice.text
    )
    question = alice.question
    assert question is not None  # not sending comes first
    assert [c.label for c in question.choices] == [
        "Non, ne pas l’envoyer",
        "Oui, l’envoyer quand même",
    ]
    await alice.say("peut-être")  # not understood: nothing is sent
    assert "Je n’ai pas compris votre choix" in alice.text
    assert len(contributions(store)) == 1
    await alice.say("non")
    assert "rien n’est envoyé" in alice.text
    assert "Voici votre besoin, avant envoi" in alice.text  # the draft is kept, whole
    assert "• Titre\u00a0: réserver les salles en ligne !" in alice.text  # as typed
    assert len(contributions(store)) == 1
    await alice.say("Envoyer")
    assert "B-0001" in alice.text  # asked again
    await alice.say("Oui, l’envoyer quand même")
    assert "B-0002" in alice.text
    assert [c.title for c in contributions(store)] == [
        "Réserver les salles en ligne",
        "réserver les salles en ligne !",
    ]
    await describe_need(alice, title="Suivre le ménage des salles")  # another need
    await alice.say("Envoyer")
    assert "B-0003" in alice.text


async def test_a_returning_agent_skips_the_profile(agent_factory, store: Store) -> None:
    alice = agent_factory("alice")
    await register(alice)
    await alice.start()
    assert fr("Bonjour ! Vous revoilà.") in alice.text  # « Ravi » said one gender
    assert "bienvenue" not in alice.text


async def test_resume_after_the_engine_is_recreated(
    agent_factory, services, store: Store, clock, transport
) -> None:
    alice = agent_factory("alice")
    await register(alice)
    await alice.say("1")
    await alice.say("Titre avant redémarrage")
    await alice.engine.close()

    restarted = Engine(
        services, Store.open(str(store.engine.url.render_as_string(False))), clock=clock
    )
    restarted.register(transport)
    again = SimulatedAgent(restarted, transport, "alice")
    await again.say(DESCRIPTION)
    assert "Qui en bénéficierait" in again.text  # the draft continued where it was
    await again.say("1")
    await again.say("passer")
    await again.say("1")
    await again.say("Autre chose")
    assert "• Titre\u00a0: Titre avant redémarrage" in again.text
    await restarted.close()
    restarted.store.close()


async def back_days_after_a_draft(agent_factory, clock) -> SimulatedAgent:  # type: ignore[no-untyped-def]
    """Alice starts a need, leaves it at its first answer, and says « bonjour » 3 days later."""
    alice = agent_factory("alice")
    await register(alice)
    await alice.say("1")
    await alice.say("Un besoin commencé lundi")
    clock.now += timedelta(days=3)
    await alice.say("bonjour")
    return alice


async def test_coming_back_days_later_offers_to_resume(agent_factory, clock) -> None:
    alice = await back_days_after_a_draft(agent_factory, clock)
    assert "Vous aviez commencé une contribution le 1er décembre 2026" in alice.text
    assert "Un besoin commencé lundi" in alice.text
    await alice.say("Reprendre")
    assert "Décrivez le problème" in alice.text
    clock.now += timedelta(days=3)
    await alice.say("re")
    await alice.say("Abandonner ce brouillon")
    assert fr("Abandonner ce brouillon ? Ce que vous avez saisi sera perdu") in alice.text
    await alice.say("oui")
    assert "Brouillon abandonné" in alice.text
    assert "Que souhaitez-vous faire" in alice.text


async def test_a_no_at_the_offer_to_resume_loses_nothing_without_a_confirmation(
    agent_factory, store: Store, clock
) -> None:
    """Found in a terminal trial: an agent back days later typed « non », meant for the
    question they had left, and the draft was dropped at once, without the confirmation
    that « annuler » asks."""
    alice = await back_days_after_a_draft(agent_factory, clock)
    await alice.say("non")
    assert "Brouillon abandonné" not in alice.text
    assert "Ce que vous avez saisi sera perdu" in alice.text
    await alice.say("non")
    assert "on continue" in alice.text and "Décrivez le problème" in alice.text
    await alice.say("Le problème décrit à mon retour, assez long pour être accepté.")
    assert "Qui en bénéficierait" in alice.text  # the same draft goes on where it stopped


async def test_an_answer_typed_at_the_offer_to_resume_answers_the_pending_question(
    agent_factory, services, store: Store, clock, transport
) -> None:
    """Found in trial 2: back after the process ended, the agent typed the answer to the
    question they had left; « Je n’ai pas compris votre choix » and the text was lost."""
    alice = agent_factory("alice")
    await register(alice)
    await alice.say("1")
    await alice.say("Ramassage des poubelles")
    await alice.engine.close()
    restarted = Engine(
        services, Store.open(str(store.engine.url.render_as_string(False))), clock=clock
    )
    restarted.register(transport)
    again = SimulatedAgent(restarted, transport, "alice")
    await again.start()
    assert "Voulez-vous la reprendre" in again.text
    await again.say(DESCRIPTION)
    assert "pas compris" not in again.text
    assert "Je reprends votre contribution" in again.text
    assert "Qui en bénéficierait" in again.text  # the description was taken
    await again.say("1")
    await again.say("passer")
    await again.say("1")
    await again.say("Autre chose")
    assert DESCRIPTION in again.text
    await restarted.close()
    restarted.store.close()


async def test_an_answer_typed_after_a_long_silence_is_taken_not_replaced_by_the_offer(
    agent_factory, clock
) -> None:
    """Found in a trial: back days later, the agent typed the answer to the question they had
    left; the offer to resume came instead, and the text had to be typed again."""
    alice = agent_factory("alice")
    await register(alice)
    await alice.say("1")
    await alice.say("Un besoin commencé lundi")
    clock.now += timedelta(days=3)
    await alice.say(DESCRIPTION)
    assert "Voulez-vous la reprendre" not in alice.text
    assert (
        fr(
            "Vous aviez commencé une contribution le 1er décembre 2026 : « Un besoin commencé "
            "lundi ». Je la reprends, avec votre message comme réponse à la question en cours."
        )
        in alice.text
    )
    assert "Qui en bénéficierait" in alice.text  # the description was taken
    clock.now += timedelta(days=3)
    await alice.say("1, 3")  # a choice typed days later answers its question too
    assert "Comment faites-vous aujourd’hui" in alice.text
    await alice.say("passer")
    await alice.say("1")
    await alice.say("Autre chose")
    assert DESCRIPTION in alice.text
    assert "Bénéficiaires\u00a0: les habitants, les associations" in alice.text


async def test_a_message_after_a_long_silence_that_answers_nothing_is_kept_by_the_offer(
    agent_factory, store: Store, clock
) -> None:
    """What the agent types on coming back that does not answer the question left pending
    is kept by the offer to resume, and used once they resume: shown back with the question
    it does not answer, or taken by the question it answers (the summary's « Envoyer »)."""
    alice = agent_factory("alice")
    await register(alice)
    await alice.say("1")
    await alice.say("Un besoin commencé lundi")
    await alice.say(DESCRIPTION)
    clock.now += timedelta(days=3)
    await alice.say("Surtout les familles du quartier")  # not one of the beneficiaries
    assert "Voulez-vous la reprendre" in alice.text
    assert fr("Votre message (« Surtout les familles du quartier ») est gardé") in alice.text
    await alice.say("Reprendre")
    assert (
        fr(
            "Votre message (« Surtout les familles du quartier ») ne répond pas à la question en "
            "cours : la voici."
        )
        in alice.text
    )
    assert "Qui en bénéficierait" in alice.text
    await alice.say("1, 3")
    await alice.say("passer")
    await alice.say("1")
    await alice.say("Autre chose")
    assert "Voici votre besoin, avant envoi" in alice.text
    clock.now += timedelta(days=3)
    await alice.say("Envoyer")
    assert "Voulez-vous la reprendre" in alice.text and not contributions(store)
    await alice.say("non")  # « Abandonner ce brouillon ? »
    await alice.say("non")  # no: the agent resumes, with what they had typed
    assert "B-0001" in alice.text
    assert [c.reference for c in contributions(store)] == ["B-0001"]


async def test_annuler_at_the_offer_to_resume_cancels_the_draft(agent_factory, clock) -> None:
    """Regression: « annuler » there answered « rien à annuler » and asked again."""
    alice = await back_days_after_a_draft(agent_factory, clock)
    assert "Vous aviez commencé une contribution" in alice.text
    await alice.say("annuler")
    assert "rien à annuler" not in alice.text.lower()
    await alice.say("oui")
    assert "Que souhaitez-vous faire" in alice.text
    await alice.say("1")  # a new draft starts from its first question
    assert "En une ligne, quel est votre besoin" in alice.text


async def test_annuler_at_abandonner_ce_brouillon_abandons_it(agent_factory, clock) -> None:
    """Found in trial 1: at « Abandonner ce brouillon ? », « annuler » (which the help gives
    as « abandonner le brouillon en cours ») answered « Il n’y a rien à annuler » and the
    draft was kept."""
    alice = await back_days_after_a_draft(agent_factory, clock)
    await alice.press("abandonner")
    assert fr("Abandonner ce brouillon ?") in alice.text
    await alice.say("annuler")
    assert "rien à annuler" not in alice.text
    assert "Brouillon abandonné" in alice.text and "Que souhaitez-vous faire" in alice.text
    await alice.say("1")
    await alice.say("Un autre besoin")
    await alice.say("menu")  # the menu over a draft: « annuler » means that draft
    await alice.say("annuler")
    assert fr("Abandonner ce brouillon ?") in alice.text
    await alice.say("annuler")
    assert "Brouillon abandonné" in alice.text
    await alice.say("menu")
    assert "Reprendre mon brouillon" not in alice.text


async def test_nouvelle_with_a_draft_asks_first(agent_factory) -> None:
    alice = agent_factory("alice")
    await register(alice)
    await alice.say("1")
    await alice.say("Brouillon en cours")
    await alice.say("nouvelle")
    assert "Vous avez un brouillon en cours" in alice.text
    await alice.say("non")
    assert "Décrivez le problème" in alice.text
    await alice.say("nouvelle")
    await alice.say("oui")
    assert "Un besoin, ou un service existant" in alice.text


async def test_profile_edited_in_the_middle_of_a_draft(agent_factory, store: Store) -> None:
    alice = agent_factory("alice")
    await register(alice)
    await alice.say("1")
    await alice.say("Besoin en cours")
    await alice.say("profil")
    assert "Fonction\u00a0: Secrétaire de mairie" in alice.text
    # regression: « Adresse électronique (privé) : (non renseigné) »
    assert fr("Adresse électronique (privée) : (non renseignée)") in alice.text
    await alice.say("Modifier mon profil")
    assert "Voici votre profil" in alice.text
    await alice.say("modifier")
    await alice.say("Fonction")
    await alice.say("Directrice générale des services")
    await alice.say("Enregistrer")
    assert "profil est enregistré" in alice.text
    assert "Décrivez le problème" in alice.text  # the draft goes on
    with store.transaction() as tx:
        agent = tx.get_agent("test", "alice")
    assert agent is not None and agent.fonction == "Directrice générale des services"


async def test_a_stale_button_gets_the_current_question(agent_factory) -> None:
    alice = agent_factory("alice")
    await register(alice)
    menu = alice.question
    assert menu is not None
    await alice.press("besoin", token=menu.token)
    await alice.press("service", token=menu.token)  # the same keyboard, pressed again
    assert "question précédente" in alice.text
    assert "quel est votre besoin" in alice.text


async def test_help_explains_the_question_and_the_commands(agent_factory) -> None:
    alice = agent_factory("alice")
    await alice.start()
    await alice.say("aide")
    assert "en cas d’homonymes" in alice.text
    assert "mes contributions" in alice.text
    assert "Quelle est votre collectivité" in alice.text  # asked again


async def test_a_draft_left_from_the_collecte_does_not_follow_the_agent_into_the_vote(
    agent_factory, clock, store: Store
) -> None:
    """Found in trial 1: a draft left unfinished was offered again after every reply of the
    vote (« Voulez-vous la reprendre »), took the lines that were not commands as answers,
    and once finished could never be sent (« Votre brouillon est conservé »)."""
    alice = agent_factory("alice")
    await register(alice)
    await describe_need(alice)
    clock.now = datetime(2027, 2, 16, 9, tzinfo=UTC)  # the vote; the collecte closed on 31 Jan.
    await alice.say("propositions")
    closed = fr(
        "La collecte des contributions est close depuis le 31 janvier 2027 : la contribution "
        "« Réserver les salles en ligne », commencée le 1er décembre 2026, ne peut plus être "
        "envoyée. Je l’ai abandonnée."
    )
    assert closed in alice.text
    assert DESCRIPTION in alice.text  # what was typed, shown back once
    assert "Aucune proposition n’est encore publiée" in alice.text  # the command ran
    assert "reprendre" not in alice.text.lower()
    for line in ("bonjour", "menu", "mes contributions"):
        await alice.say(line)
        assert "reprendre" not in alice.text.lower() and "brouillon" not in alice.text
        assert "Abandonner" not in alice.text
    assert "est close depuis le 31 janvier 2027 : la contribution" not in alice.text  # once
    assert contributions(store) == []


async def test_text_typed_as_the_collecte_closes_is_shown_back(agent_factory, clock) -> None:
    """A field answered just after the collecte closed is not taken for a menu answer, and
    the agent gets it back with the rest of the draft."""
    alice = agent_factory("alice")
    await register(alice)
    await alice.say("Décrire un besoin")
    await alice.say("Réserver les salles en ligne")
    clock.now = datetime(2027, 1, 31, 23, 30, tzinfo=UTC)  # 1 February, 0:30 in Paris
    await alice.say(DESCRIPTION)
    assert "ne peut plus être envoyée" in alice.text
    assert fr("• Titre : Réserver les salles en ligne") in alice.text
    assert fr("Votre dernier message, qui n’a pas pu y être ajouté :") in alice.text
    assert DESCRIPTION in alice.text
    assert "Je n’ai pas compris" not in alice.text
    assert "Prochaine étape" in alice.text and "Voir mes contributions" in alice.text  # menu


async def test_admin_commands_are_refused_to_agents(agent_factory) -> None:
    alice = agent_factory("alice")
    await register(alice)
    await alice.say("!stats")
    assert "réservée aux administrateurs" in alice.text
    await alice.say("!inconnue")
    assert fr("Je ne connais pas la commande « !inconnue »") in alice.text


async def test_admin_gets_stats_and_a_csv_export(agent_factory) -> None:
    alice = agent_factory("alice")
    await register(alice)
    await describe_need(alice)
    await alice.say("Envoyer")
    admin = agent_factory("admin")
    await register(admin, "Lyon")
    await admin.say("!stats")
    assert "1 besoin et 0 service, de 1 collectivité" in admin.text
    await admin.say("/export")
    files = [m for m in admin.last if type(m).__name__ == "OutFile"]
    assert len(files) == 1
    content = files[0].content.decode("utf-8-sig")  # type: ignore[attr-defined]
    assert content.splitlines()[0].startswith("reference;type;titre")
    assert "B-0001;besoin;Réserver les salles en ligne" in content


async def test_files_are_named_at_the_consultations_time(agent_factory, clock) -> None:
    """Found in a terminal trial: at 10:06 in Paris, !stats sent
    ``statistiques-20261210-0906.png``, stamped in UTC."""
    clock.now = datetime(2026, 12, 10, 9, 6, tzinfo=UTC)  # 10:06 in Paris
    alice = agent_factory("alice")
    await register(alice)
    await describe_need(alice)
    await alice.say("Envoyer")
    admin = agent_factory("admin")
    await register(admin, "Lyon")
    names = [
        m.name
        for command in ("!stats", "!export", "mes données")
        for m in await admin.say(command)
        if isinstance(m, OutFile)
    ]
    assert names == [
        "statistiques-20261210-1006.png",
        "contributions-20261210-1006.csv",
        "mes-donnees-20261210-1006.json",
    ]


class TchapLikeTransport(FakeTransport):
    """A platform whose user ids reveal a professional email, as Tchap's do."""

    def emails_of(self, user_id: str) -> tuple[str, ...]:
        return (f"{user_id}@villeurbanne.fr",)


async def test_the_platform_email_suggests_the_collectivite(services, store, clock) -> None:
    engine = Engine(services, store, clock=clock)
    transport = TchapLikeTransport()
    engine.register(transport)
    jean = SimulatedAgent(engine, transport, "jean.dupont")
    await jean.start()
    assert fr("Votre adresse professionnelle (jean.dupont@villeurbanne.fr) indique") in jean.text
    assert "Villeurbanne (Rhône)" in jean.text
    await jean.say("oui")
    assert "Vous êtes" in jean.text
    await jean.say("1")
    await jean.say("Maire adjoint")
    await jean.say("passer")
    assert "profil est enregistré (Villeurbanne (Rhône))" in jean.text
    with store.transaction() as tx:
        agent = tx.session.exec(select(Agent).where(Agent.user_id == "jean.dupont")).one()
    assert agent.platform_email == "jean.dupont@villeurbanne.fr"  # kept, privately
    assert agent.email is None

    marie = SimulatedAgent(engine, transport, "marie")
    await marie.start()
    await marie.say("Non, une autre")
    assert "Quelle est votre collectivité" in marie.text
    await marie.say("Lyon")
    assert "Vous êtes" in marie.text
    await engine.close()


async def test_menu_during_a_contribution_shows_the_menu_and_keeps_the_draft(
    agent_factory, store: Store
) -> None:
    """Found in a terminal trial: the announcements say « Tapez « menu » », and « menu »
    typed during a contribution asked to abandon the draft (it was an alias of
    « nouvelle »)."""
    alice = agent_factory("alice")
    await register(alice)
    await alice.say("1")
    await alice.say("Un besoin en cours")
    await alice.say("menu")
    assert "Que souhaitez-vous faire" in alice.text
    assert "L’abandonner" not in alice.text
    labels = [c.label for c in alice.question.choices]  # type: ignore[union-attr]
    assert labels[0] == fr("Reprendre mon brouillon « Un besoin en cours »")
    await alice.say("Voir mes contributions")
    assert "Reprendre mon brouillon" in alice.text  # the menu again, the draft still there
    await alice.say("reprendre")  # the option, not the command of the announcements
    assert "Décrivez le problème" in alice.text
    await alice.say("menu")
    await alice.say("Décrire un besoin")  # another contribution: this one first?
    assert "L’abandonner pour commencer une nouvelle contribution" in alice.text
    await alice.say("non")
    assert "Décrivez le problème" in alice.text
    await alice.say("nouvelle")  # unchanged: a new contribution asks first
    assert "L’abandonner pour commencer une nouvelle contribution" in alice.text


async def test_reprendre_typed_anywhere_resumes_the_draft_not_the_announcements(
    agent_factory, clock
) -> None:
    """Found in a trial: « reprendre » where no option offered it (the profile shown during a
    draft, the draft's question after a silence) ran the announcements' command (« Vous
    recevez déjà les annonces de la consultation. »): it means the draft."""
    alice = agent_factory("alice")
    await register(alice)
    await alice.say("1")
    await alice.say("Un besoin en cours")
    await alice.say("profil")
    assert "Votre profil" in alice.text
    await alice.say("reprendre")
    assert "annonces" not in alice.text
    assert "Décrivez le problème" in alice.text
    await alice.say("profil")
    await alice.say("Modifier mon profil")
    await alice.say("reprendre")  # the profile being edited is finished (or dropped) first
    assert "annonces" not in alice.text
    assert fr("Vous modifiez votre profil") in alice.text and "Voici votre profil" in alice.text
    await alice.say("annuler")
    await alice.say("oui")
    assert "Décrivez le problème" in alice.text
    clock.now += timedelta(days=3)
    await alice.say("Reprendre")
    assert "annonces" not in alice.text and "Voulez-vous la reprendre" not in alice.text
    assert "Décrivez le problème" in alice.text
    await alice.say(DESCRIPTION)
    assert "Qui en bénéficierait" in alice.text


async def test_arreter_at_the_offer_to_resume_is_about_the_draft_not_the_announcements(
    agent_factory, store: Store, clock
) -> None:
    """« arrêter », an alias of the announcements' « stop », typed at « Voulez-vous la
    reprendre ? » turned the announcements off: it answers the question (drop the draft,
    after the confirmation a « non » gets too)."""
    alice = agent_factory("alice")
    await register(alice)
    await alice.say("1")
    await alice.say("Un besoin en cours")
    clock.now += timedelta(days=3)
    await alice.say("bonjour")
    assert "Voulez-vous la reprendre" in alice.text
    await alice.say("Arrêter")
    assert "annonces" not in alice.text
    assert "Abandonner ce brouillon" in alice.text
    await alice.say("oui")
    assert "Brouillon abandonné" in alice.text
    with store.transaction() as tx:
        agent = tx.get_agent("test", "alice")
        assert agent is not None and not campaigns.is_opted_out(tx, agent.id)


@pytest.mark.parametrize("word", ["menu", "nouvelle", "Accueil"])
async def test_menu_during_the_first_profile_keeps_what_was_answered(
    agent_factory, store: Store, word: str
) -> None:
    """Found in a trial: « menu » or « nouvelle » typed at « Vous êtes : » by an agent without
    a profile started the profile over, and the collectivité given was lost."""
    alice = agent_factory("alice")
    await alice.start()
    await alice.say("Villeurbanne")
    await alice.say(word)
    assert fr("Votre profil n’est pas encore terminé") in alice.text
    assert "Quelle est votre collectivité" not in alice.text
    assert alice.question is not None and alice.question.text.endswith(fr("Vous êtes :"))
    await alice.press(alice.option("Agent"))
    await alice.say(word)  # at a question asked in words too
    assert fr("Votre profil n’est pas encore terminé") in alice.text
    assert "Quelle est votre fonction" in alice.text
    await alice.say("Secrétaire de mairie")
    await alice.say("passer")
    assert "profil est enregistré (Villeurbanne" in alice.text
    await alice.say(word)  # with the profile done: the menu, or « nouvelle »'s first question
    expected = "Un besoin, ou un service existant" if word == "nouvelle" else "Que souhaitez-vous"
    assert expected in alice.text
    with store.transaction() as tx:
        agent = tx.get_agent("test", "alice")
    assert agent is not None and agent.fonction == "Secrétaire de mairie"


async def test_an_answer_typed_ahead_at_the_candidates_asks_the_collectivite_afresh(
    agent_factory,
) -> None:
    """Found in a terminal trial: « elue » typed ahead offered « Elne », and every later
    answer that found nothing showed « Elne » again, until « aucune »."""
    alice = agent_factory("alice")
    await alice.start()
    await alice.say("elue")
    assert "Elne" in alice.text
    await alice.say("adjointe au numerique")
    assert fr("aucune collectivité correspondant à « adjointe au numerique »") in alice.text
    assert "Elne" not in alice.text
    assert "Quelle est votre collectivité" in alice.text  # the question, as it stands
    await alice.say("Villeurbanne")
    assert "Vous êtes" in alice.text


async def test_a_collectivite_taken_without_asking_is_said_back(agent_factory) -> None:
    """Found in trial 2: « 75 », « Ardèche », « Paris 15e » and « CC du Pays de Gex » (the
    prompt's example): the collectivité taken is said at once, with how to correct it."""
    for typed, label in (
        ("75", "Paris (département)"),
        ("Ardèche", "Ardèche (département)"),
        ("Paris 15e", "Paris (Paris)"),
        ("CC du Pays de Gex", "CA du Pays de Gex (EPCI, Ain)"),
    ):
        alice = agent_factory(f"alice-{typed}")
        await alice.start()
        await alice.say(typed)
        assert fr(f"Collectivité : {label}. Si ce n’est pas la vôtre, tapez « retour »") in (
            alice.text
        ), typed
        assert "Vous êtes" in alice.text


async def test_a_yes_or_no_is_refused_as_the_fonction(agent_factory, store: Store) -> None:
    """Found in a trial: « ouais » at « Quelle est votre fonction ? » was stored as the
    agent's fonction, public with their profile."""
    bob = agent_factory("bob")
    await bob.start()
    await bob.say("Villeurbanne")
    await bob.press(bob.option("Agent"))
    for vague in ("ouais", "non merci", "je ne sais pas"):
        await bob.say(vague)
        assert fr(f"« {vague} » ne dit pas quelle est votre fonction.") in bob.text, vague
        assert "adresse électronique" not in bob.text, vague
        assert fr("Quelle est votre fonction ? (par exemple « secrétaire de mairie »") in bob.text
    await bob.say("Secrétaire de mairie")
    assert "adresse électronique" in bob.text
    await bob.say("passer")
    assert "profil est enregistré" in bob.text
    with store.transaction() as tx:
        agent = tx.session.exec(select(Agent).where(Agent.user_id == "bob")).one()
    assert agent.fonction == "Secrétaire de mairie"


async def test_a_yes_or_no_as_agents_type_it_answers_a_yes_no_question(agent_factory) -> None:
    """Found in a terminal trial: « ouais » to « Abandonner ce brouillon ? » was not
    understood."""
    alice = agent_factory("alice")
    await register(alice)
    for yes, no in (("Ouais !", "non merci"), ("bien sûr", "pas vraiment")):
        await alice.say("1")
        await alice.say("Un besoin")
        await alice.say("annuler")
        await alice.say(no)
        assert "on continue" in alice.text, no
        await alice.say("annuler")
        await alice.say(yes)
        assert "Brouillon abandonné" in alice.text, yes


async def test_everyday_yes_and_no_at_the_thematique_confirmation(agent_factory) -> None:
    """Found in trial 2: « ouais », « ok », « non pas vraiment » at « C’est bien cela ? »
    got « Je n’ai pas compris votre choix »."""
    alice = agent_factory("alice")
    await register(alice)
    for answer, expected in (
        ("non pas vraiment", "Quel thème lui correspond"),
        ("oui merci", "Que doit"),
    ):
        await alice.say("1")
        await alice.say("Réserver les salles en ligne")
        await alice.say(DESCRIPTION)
        await alice.say("1, 3")
        await alice.say("Un agenda papier à l’accueil")
        assert fr("C’est bien cela ?") in alice.text
        await alice.say(answer)
        assert "pas compris" not in alice.text and expected in alice.text, answer
        await alice.say("annuler")
        await alice.say("oui")


@pytest.mark.parametrize("typed", ["ok c bon", "👍", "c’est bon", "👍🏼"])
async def test_everyday_yes_at_the_summary_sends(agent_factory, store: Store, typed: str) -> None:
    """Trial A, item 15: « ok c bon » and « 👍 » at the summary, whose « oui » sends, got
    « Je n’ai pas compris votre choix »."""
    alice = agent_factory("alice")
    await register(alice)
    await describe_need(alice)
    await alice.say(typed)
    assert "B-0001" in alice.text and "pas compris" not in alice.text
    assert [c.reference for c in contributions(store)] == ["B-0001"]


async def test_a_field_to_change_is_found_without_its_apostrophe(agent_factory) -> None:
    """Trial A, item 15: « aujourdhui », as typed on a phone, did not pick « Aujourd’hui »."""
    alice = agent_factory("alice")
    await register(alice)
    await describe_need(alice)
    await alice.say("modifier")
    await alice.say("aujourdhui")
    assert "Comment faites-vous aujourd’hui" in alice.text
