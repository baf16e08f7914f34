"""Bad input gets a clear French message, the question again, and loses nothing entered."""

from __future__ import annotations

import pytest
from test_intake import DESCRIPTION, register

from config.typography import french as fr


async def at_description(agent_factory):  # type: ignore[no-untyped-def]
    alice = agent_factory("alice")
    await register(alice)
    await alice.say("1")
    await alice.say("Mon titre")
    assert "Décrivez le problème" in alice.text
    return alice


async def assert_nothing_lost(alice) -> None:  # type: ignore[no-untyped-def]
    await alice.say(DESCRIPTION)
    await alice.say("1")
    await alice.say("passer")
    await alice.say("1")
    await alice.say("autre")
    assert "• Titre\u00a0: Mon titre" in alice.text
    assert f"• Problème\u00a0: {DESCRIPTION}" in alice.text


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("", "ne contient pas de texte"),
        ("   \n\t ", "ne contient pas de texte"),
        ("👍👍", "ne contient pas de texte"),
        ("<b></b><br/>", "ne contient que de la mise en forme"),
        ("<script>alert(1)</script>", "ne contient que de la mise en forme"),
        ("abc\x00\x01def", "caractères illisibles"),
        ("trop court", "un peu courte (10 caractères, 15 au moins)"),
        ("x" * 4001, "fait 4\u202f001 caractères ; la limite est de 4\u202f000"),
        ("é" * 1_000_000, "fait 1\u202f000\u202f000 caractères"),
    ],
    ids=["empty", "blank", "emoji", "markup", "script", "binary", "short", "long", "huge"],
)
async def test_refused_answers_keep_the_draft(agent_factory, message: str, expected: str) -> None:
    alice = await at_description(agent_factory)
    await alice.say(message)
    assert fr(expected) in alice.text
    assert "Décrivez le problème" in alice.text  # the same question, again
    await assert_nothing_lost(alice)


async def test_an_over_long_title_is_not_truncated_without_asking(agent_factory, store) -> None:
    """A shorter title is proposed (trial 2), never taken silently: another one may be typed."""
    alice = agent_factory("alice")
    await register(alice)
    await alice.say("1")
    await alice.say("T" * 121)
    assert fr("Votre réponse fait 121 caractères, plus que les 120 d’un titre") in alice.text
    assert "Je vous propose ce titre" in alice.text
    await alice.say("T" * 120)
    assert "Décrivez le problème" in alice.text


async def test_html_with_text_is_kept_as_typed(agent_factory) -> None:
    alice = await at_description(agent_factory)
    await alice.say("<b>Les habitants</b> ne trouvent pas les horaires de la déchèterie")
    assert "Qui en bénéficierait" in alice.text


async def test_attachments_are_refused_politely(agent_factory) -> None:
    alice = await at_description(agent_factory)
    await alice.send_file()
    assert "Je ne lis que les messages écrits" in alice.text
    assert "Décrivez le problème" in alice.text
    await assert_nothing_lost(alice)


@pytest.mark.parametrize("command", ["/foo", "!bar", "/supprimer_tout"])
async def test_unknown_commands_are_named(agent_factory, command: str) -> None:
    alice = await at_description(agent_factory)
    await alice.say(command)
    assert fr(f"Je ne connais pas la commande « {command} »") in alice.text
    assert "Décrivez le problème" in alice.text
    await assert_nothing_lost(alice)


async def test_a_redelivered_event_is_handled_once(agent_factory, store) -> None:
    alice = await at_description(agent_factory)
    await alice.say(DESCRIPTION, event_id="$same")
    assert "Qui en bénéficierait" in alice.text
    replies = await alice.say(DESCRIPTION, event_id="$same")
    assert replies == []  # nothing answered twice


async def test_invalid_email_then_skip(agent_factory) -> None:
    alice = agent_factory("alice")
    await alice.start()
    await alice.say("Lyon")
    await alice.say("2")
    await alice.say("DGS")
    await alice.say("pas-une-adresse@")
    assert "adresse électronique ne semble pas valide" in alice.text
    await alice.say("passer")
    assert "profil est enregistré" in alice.text


async def test_an_unknown_collectivite_is_explained(agent_factory) -> None:
    alice = agent_factory("alice")
    await alice.start()
    await alice.say("Xqzwvk")
    assert fr("Je ne trouve aucune collectivité correspondant à « Xqzwvk »") in alice.text
    await alice.say("   ")  # nothing typed: say what to type, not « correspondant à «  » »
    assert "Tapez le nom de votre collectivité" in alice.text
    assert "correspondant" not in alice.text
    await alice.say("Villeurbane")  # one typo: offered, not imposed
    assert "Villeurbanne (Rhône)" in alice.text
    await alice.say("1")
    assert "Vous êtes" in alice.text


async def test_a_lone_surrogate_is_refused_and_the_conversation_goes_on(agent_factory) -> None:
    """Regression: ``{"text": "\\ud800"}`` failed to encode and blocked the conversation."""
    alice = await at_description(agent_factory)
    await alice.say("\ud800")
    assert fr("caractères illisibles") in alice.text
    assert "Décrivez le problème" in alice.text
    await assert_nothing_lost(alice)


@pytest.mark.parametrize("forged", ["s2", "s999", "superadmin", "envoyer", ""])
async def test_forged_choice_ids_are_never_taken_as_answers(agent_factory, forged: str) -> None:
    """Regression: ids that the question did not offer were stored or raised KeyError."""
    alice = await at_description(agent_factory)
    await alice.press(forged)
    assert fr("Je n’ai pas compris votre choix") in alice.text
    assert "Décrivez le problème" in alice.text  # a free-text question: a choice is no answer
    await alice.say(DESCRIPTION)
    assert "Qui en bénéficierait" in alice.text
    await alice.press("superadmin")
    assert "Qui en bénéficierait" in alice.text
    await alice.say("1")
    await alice.say("passer")
    question = alice.question
    assert question is not None and "thème" in question.text
    await alice.press("zzz")
    assert fr("Je n’ai pas compris votre choix") in alice.text
    await alice.say("1")
    await alice.press("nope")
    assert "Que doit surtout permettre ce service" in alice.text
    await alice.say("autre")
    assert "• Titre\u00a0: Mon titre" in alice.text


GREETINGS = [
    "bonjour",
    "Bonjour !",
    "SALUT",
    "salut 👋",
    "Hello!!",
    "coucou",
    "bjr",
    "re",
    "Rebonjour",
    "re-bonjour",
    "Bônjour :)",
    "coucouuu",
]


@pytest.mark.parametrize("hello", GREETINGS)
async def test_a_greeting_at_the_first_profile_question_is_not_a_collectivite(
    agent_factory, hello: str
) -> None:
    alice = agent_factory("alice")
    await alice.start()
    await alice.say(hello)
    assert fr("Bonjour ! Voici la question en cours :") in alice.text
    assert "correspondant" not in alice.text  # not searched as a collectivité
    assert "Quelle est votre collectivité" in alice.text
    await alice.say("Villeurbanne")
    assert "Vous êtes" in alice.text


async def test_a_greeting_at_a_choice_question_is_not_an_unknown_choice(agent_factory) -> None:
    alice = agent_factory("alice")
    await alice.start()
    await alice.say("Villeurbanne")
    await alice.say("Salut !")
    assert "Je n’ai pas compris votre choix" not in alice.text
    assert alice.question is not None and alice.question.text.endswith(fr("Vous êtes :"))
    await alice.press(alice.option("Agent"))
    assert "Quelle est votre fonction" in alice.text


async def test_a_greeting_at_a_free_text_question_is_not_the_answer(agent_factory) -> None:
    alice = agent_factory("alice")
    await register(alice)
    await alice.say("1")
    await alice.say("Bonsoir")
    assert fr("Bonsoir ! Voici la question en cours :") in alice.text
    assert "quel est votre besoin" in alice.text  # the title, asked again
    await alice.say("Mon titre")
    await alice.say("hello")
    assert "ne contient pas" not in alice.text and "un peu courte" not in alice.text
    assert "Décrivez le problème" in alice.text
    await assert_nothing_lost(alice)  # « Mon titre » kept, the greetings stored nowhere


async def test_a_message_that_says_more_than_hello_is_an_answer(agent_factory) -> None:
    alice = agent_factory("alice")
    await register(alice)
    await alice.say("1")
    await alice.say("Coucou les parents : l’agenda des crèches")
    assert "Décrivez le problème" in alice.text


async def test_a_greeting_at_the_menu_is_greeted_back_with_the_menu(agent_factory) -> None:
    alice = agent_factory("alice")
    await register(alice)
    await alice.say("bonjour")
    assert alice.text.startswith(fr("Bonjour !"))
    assert "Je n’ai pas compris votre choix" not in alice.text
    assert "Que souhaitez-vous faire" in alice.text


@pytest.mark.parametrize("typed", [".", "??", "?", "…", "!!"])
async def test_punctuation_alone_asks_the_question_again_without_the_command_list(
    agent_factory, typed: str
) -> None:
    """Trial A, item 11: « . » or « ?? » typed at a profile question dumped the field's hint
    and all the commands (vote and référents ones included) in the middle of the profile."""
    alice = agent_factory("alice")
    await alice.start()
    await alice.say("Lyon")
    await alice.press(alice.option("Agent"))
    assert "Quelle est votre fonction" in alice.text
    await alice.say(typed)
    assert "soutenir" not in alice.text and "volontaire" not in alice.text  # no command list
    assert fr("« aide » donne la liste des commandes") in alice.text
    assert "Quelle est votre fonction" in alice.text  # the question again
    await alice.say("Secrétaire de mairie")  # nothing was taken for the fonction
    assert "adresse électronique" in alice.text
    await alice.say(typed)  # an optional question: no answer either, nothing skipped
    assert "soutenir" not in alice.text
    assert "adresse électronique" in alice.text
    await alice.say("passer")
    assert "profil est enregistré" in alice.text
    await alice.say(typed)  # at the menu: its choices again
    assert "soutenir" not in alice.text
    assert "Que souhaitez-vous faire" in alice.text
