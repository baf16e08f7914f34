"""A whole need pasted where a title is asked, or at the menu: nothing typed is thrown away
(trial A, items 1, 2 and 13)."""

from __future__ import annotations

from test_intake import register

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
