"""A whole need pasted where a title is asked, or at the menu: nothing typed is thrown away
(trial A, items 1, 2 and 13)."""

from __future__ import annotations

import pytest
from test_intake import register

from bot.forms.intake import TITLE_MAX
from bot.forms.titles import proposed_title
from config.typography import french as fr

PASTE = (
    "Bonjour, suite à la réunion du conseil municipal du 12/10, nous souhaiterions signaler que "
    "la gestion du cimetière de la commune reste entièrement manuelle : les concessions sont "
    "notées sur un cahier papier conservé en mairie, les échéances ne sont pas suivies et les "
    "familles nous appellent pour savoir où se trouve une tombe ou quand une concession expire. "
    "Un outil simple pour tenir le plan, les concessions et leurs échéances nous aiderait."
)


async def test_a_shorter_title_typed_instead_of_oui_keeps_the_pasted_text_as_description(
    agent_factory,
) -> None:
    """Trial A, item 1: the proposal promised to keep the pasted text as the description, but
    a title typed instead of « oui » dropped it."""
    alice = agent_factory("alice")
    await register(alice)
    await alice.say("1")
    await alice.say(PASTE)
    assert "garder votre texte complet comme description" in alice.text
    await alice.say("gestion du cimetiere")
    assert "Votre texte complet est repris comme description" in alice.text
    assert "Décrivez le problème" in alice.text and PASTE in alice.text  # the current answer
    await alice.say("garder")
    assert "Qui en bénéficierait" in alice.text
    await alice.say("1")
    await alice.say("passer")
    await alice.say("1")
    await alice.say("autre")
    assert fr("• Titre : gestion du cimetiere") in alice.text
    assert PASTE in alice.text


async def test_the_title_proposed_from_a_paste_skips_the_greeting_and_the_preamble(
    agent_factory,
) -> None:
    """Trial A, item 13: « Bonjour, suite à la réunion du conseil municipal du 12/10, nous
    souhaiterions signaler que… » was proposed as the public title."""
    alice = agent_factory("alice")
    await register(alice)
    await alice.say("1")
    await alice.say(PASTE)
    proposed = "La gestion du cimetière de la commune reste entièrement manuelle…"
    assert fr(f"Je vous propose ce titre : « {proposed} »") in alice.text
    await alice.say("oui")
    await alice.say("garder")
    await alice.say("1")
    await alice.say("passer")
    await alice.say("1")
    await alice.say("autre")
    assert fr(f"• Titre : {proposed}") in alice.text
    assert PASTE in alice.text  # the greeting is only left out of the title


@pytest.mark.parametrize(
    ("text", "title"),
    [
        (  # a clause rather than a dangling « c » (« c la galère »)
            "on a besoin dun truc pr que les gens reservent la salle des fetes en ligne, la on "
            "fait tout par tel et cahier papier c la galere 😩",
            "on a besoin dun truc pr que les gens reservent la salle des fetes en ligne…",
        ),
        (
            "Madame, Monsieur,\n\nJe me permets de vous écrire car les habitants ne trouvent "
            "jamais les horaires de la déchèterie. Ils appellent la mairie plusieurs fois par "
            "jour et l’accueil y passe un temps considérable chaque semaine.",
            "Les habitants ne trouvent jamais les horaires de la déchèterie",
        ),
        (
            "Bonjour à tous. Suite a notre echange de mardi dernier avec les élus, nous "
            "voudrions vous faire part de notre besoin d’un outil de réservation des salles "
            "communales et du matériel prêté aux associations de la commune et des environs",
            "Notre besoin d’un outil de réservation des salles communales et du matériel prêté "
            "aux associations de la commune…",
        ),
        (  # no word boundary in reach: cut anyway, never longer than a title
            "T" * 130,
            "T" * 119 + "…",
        ),
    ],
    ids=["sms", "letter", "greeting-sentence", "one-word"],
)
def test_a_title_proposed_from_a_long_text_reads_as_a_title(text: str, title: str) -> None:
    """Trial A, item 13: greetings and preambles are left out, and the cut falls between
    words, on a word that ends a phrase, with « … »."""
    assert proposed_title(text, TITLE_MAX) == title
    assert len(title) <= TITLE_MAX


async def test_a_wish_to_describe_a_need_typed_at_the_menu_starts_one(agent_factory) -> None:
    """Trial A, item 2: « je voudrais decrire un besoin » at the menu was « Je n’ai pas
    compris votre choix »."""
    bob = agent_factory("bob")
    await register(bob)
    await bob.say("je voudrais decrire un besoin")
    assert "Décrivons votre besoin" in bob.text and "quel est votre besoin" in bob.text
    await bob.say("Gestion du cimetière")
    await bob.say("menu")
    await bob.say("Nous voulons présenter un service")  # the menu over the draft: it asks first
    assert "L’abandonner pour commencer une nouvelle contribution" in bob.text
    await bob.say("oui")
    assert "Présentons votre service" in bob.text


async def test_a_need_typed_at_the_menu_becomes_its_title(agent_factory) -> None:
    """Trial A, item 2: a need typed at the menu was refused and thrown away."""
    bob = agent_factory("bob")
    await register(bob)
    await bob.say("Reservation en ligne des salles communales")
    assert "Je commence un besoin avec votre message" in bob.text
    assert "Décrivez le problème" in bob.text  # the title is taken
    await bob.say(
        "Les associations appellent la mairie pour réserver, le planning est tenu sur Excel."
    )
    await bob.say("1")
    await bob.say("passer")
    await bob.say("1")
    await bob.say("autre")
    assert fr("• Titre : Reservation en ligne des salles communales") in bob.text


async def test_a_whole_need_pasted_at_the_menu_is_kept_as_its_description(agent_factory) -> None:
    """Trial A, item 2: the whole need pasted at the menu was lost and had to be pasted
    again after « besoin »."""
    alice = agent_factory("alice")
    await register(alice)
    await alice.say(PASTE)
    assert "Je commence un besoin avec votre message" in alice.text
    assert "Je vous propose ce titre" in alice.text  # the long text's way (item 1)
    await alice.say("Gestion du cimetière")
    assert "Décrivez le problème" in alice.text and PASTE in alice.text
    await alice.say("garder")
    assert "Qui en bénéficierait" in alice.text


@pytest.mark.parametrize(
    "typed", ["merci", "ok merci beaucoup", "c’est quoi un service ?", "modifier B-0002"]
)
async def test_a_word_at_the_menu_that_is_no_need_starts_nothing(agent_factory, typed) -> None:
    bob = agent_factory("bob")
    await register(bob)
    await bob.say(typed)
    assert fr("Je n’ai pas compris votre choix") in bob.text
    assert "décrivez directement votre besoin" in bob.text
    assert "Que souhaitez-vous faire" in bob.text


async def test_nouvelle_starts_a_contribution(agent_factory) -> None:
    """Trial A, item 2: « nouvelle » (« commencer une nouvelle contribution ») only showed the
    menu again."""
    bob = agent_factory("bob")
    await register(bob)
    await bob.say("nouvelle")
    assert "Un besoin, ou un service existant" in bob.text
    assert bob.question is not None and len(bob.question.choices) == 2
    await bob.say("service")
    assert "Présentons votre service" in bob.text
    await bob.say("Notre portail de réservation des salles")
    await bob.say("nouvelle")
    assert "L’abandonner pour commencer une nouvelle contribution" in bob.text
    await bob.say("oui")
    assert "Brouillon abandonné" in bob.text and "Un besoin, ou un service existant" in bob.text
    await bob.say("Réserver les salles de sport en ligne")  # a need typed instead of a choice
    assert "Décrivez le problème" in bob.text
