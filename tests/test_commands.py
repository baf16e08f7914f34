"""The command registry: one declaration per command, help and menus generated from it."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
import sqlalchemy as sa
from test_follow import DEPLOIEMENT
from test_intake import register
from test_referents import laureates

from bot.commands import build_commands
from bot.dialogue.commands import CommandRegistry, CommandSpec
from config.catalogue import default_catalogue
from config.typography import french as fr
from storage.store import Store

REGISTRY = build_commands()
ADMIN = [spec for spec in REGISTRY if spec.admin]


def test_every_command_has_a_help_line_and_menu_entries_a_description() -> None:
    catalogue = default_catalogue()
    for spec in REGISTRY:
        assert catalogue.has(f"commands.{spec.key}.help"), spec.name
        if spec.menu:
            assert catalogue.has(f"commands.{spec.key}.menu"), spec.name
        if spec.argument is not None:  # typed without its reference, its usage is shown
            assert catalogue.has(f"commands.{spec.key}.usage"), spec.name
    assert ADMIN, "no administrator command registered"


def test_two_commands_cannot_share_a_word() -> None:
    def noop(turn, argument: str) -> None:  # type: ignore[no-untyped-def]
        return None

    with pytest.raises(ValueError, match="names two commands"):
        CommandRegistry([CommandSpec("aide", noop, aliases=("help",)), CommandSpec("help", noop)])


def test_a_word_names_one_command_alone_and_one_with_its_argument() -> None:
    """« voter » lists the proposals, « voter P-012 » supports one (trial A)."""
    assert REGISTRY.parse("voter").command.name == "propositions"  # type: ignore[union-attr]
    assert REGISTRY.without_argument("voter") is None  # no « il manque la référence »
    for text, argument in (("voter P-3", "P-3"), ("je soutiens la 3", "la 3")):
        parsed = REGISTRY.parse(text)
        assert parsed is not None and parsed.command is not None, text
        assert (parsed.command.name, parsed.argument) == ("soutenir", argument)
    for text in ("soutenir 12345", "soutenir P-12bis", "je soutiens la mairie"):
        assert REGISTRY.parse(text) is None, text
    alone = REGISTRY.alone("P-012")
    assert alone is not None and alone.command is not None and alone.command.name == "voir"


def test_a_long_answer_starting_with_a_command_word_stays_an_answer() -> None:
    """Only references may follow a plain command on a long line: a title or a description
    that starts with « voir » or « soutenir » is an answer, at any length."""
    assert REGISTRY.parse("soutenir " + " ".join(f"P-{n:03d}" for n in range(1, 71))) is not None
    for text in (
        "Voir les horaires de la piscine municipale et réserver un créneau en ligne",
        "soutenir P-001 : les habitants attendent ce service depuis longtemps, vraiment",
        "aide " * 20,
        "/" + "x" * 80,
    ):
        assert REGISTRY.parse(text) is None, text


async def test_a_command_typed_without_its_reference_says_how_to_use_it(agent_factory) -> None:
    alice = agent_factory("alice")
    await register(alice, "Villeurbanne")
    for word, usage in (("suivre", "suivre P-012"), ("Soutenir", "soutenir P-012 P-031")):
        await alice.say(word)
        assert f"Il manque la référence, par exemple\u00a0: «\u00a0{usage}\u00a0»" in alice.text
        assert "Je n’ai pas compris votre choix" not in alice.text
    await alice.say("1")  # the menu is still the question: « Décrire un besoin »
    assert "Décrivons votre besoin" in alice.text


async def test_aide_lists_exactly_what_the_user_may_run(agent_factory, clock) -> None:
    """Regression: during the collecte, « aide » listed « soutenir », « mes soutiens »,
    « volontaire »…, which only said that the vote was not open yet. Each phase lists the
    commands that work in it, and one line says when the others come."""
    catalogue = default_catalogue()
    alice = agent_factory("alice")
    calendar = alice.engine.services.calendar
    await register(alice)  # the clock is in the collecte
    await alice.say("aide")
    listed = {s.name for s in REGISTRY if catalogue.t(f"commands.{s.key}.help") in alice.text}
    assert {"nouvelle", "mes contributions", "profil", "annuler", "stop"} <= listed
    assert not listed & {"propositions", "soutenir", "mes soutiens", "volontaire", "suivre"}
    assert fr("Prochaine étape : vote, à partir du 15 février 2027.") in alice.text
    for phase_day, present, absent in (
        (date(2027, 2, 20), {"soutenir", "mes soutiens", "propositions"}, {"nouvelle"}),
        (date(2027, 4, 2), {"volontaire", "suivre", "mes soutiens"}, {"soutenir", "nouvelle"}),
    ):
        clock.now = datetime.combine(phase_day, time(10), tzinfo=calendar.zone)
        await alice.say("aide")
        for spec in REGISTRY:
            line = catalogue.t(f"commands.{spec.key}.help")
            if spec.name in present:
                assert line in alice.text, (phase_day, spec.name)
            if spec.name in absent or spec.admin:
                assert line not in alice.text, (phase_day, spec.name)
            if spec.listed and not spec.admin:  # the registry's dates, as aide reads them
                assert (line in alice.text) == spec.works_on(calendar, phase_day), spec.name
    assert "Prochaine étape" not in alice.text  # nothing more comes with the déploiement
    admin = agent_factory("admin")
    await register(admin, "Lyon")
    await admin.say("!aide")
    for spec in REGISTRY:
        if spec.admin:  # an administrator's commands, whatever the phase
            assert catalogue.t(f"commands.{spec.key}.help") in admin.text, spec.name


def _written(store: Store) -> dict[str, int]:
    tables = ("audit_log", "contribution", "proposal", "support", "referent_offer")
    with store.transaction() as tx:
        return {
            t: tx.connection.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in tables
        }


@pytest.mark.parametrize("spec", ADMIN, ids=[spec.name for spec in ADMIN])
async def test_every_admin_command_refuses_an_agent_and_writes_nothing(
    agent_factory, store: Store, spec: CommandSpec
) -> None:
    alice = agent_factory("alice")
    await register(alice)
    before = _written(store)
    refused = default_catalogue().t("admin.refused")
    for prefix in ("!", "/"):
        await alice.say(f"{prefix}{spec.name} B-0001 B-0002")
        assert alice.text.startswith(refused)
        assert "Que souhaitez-vous faire" in alice.text  # and the question again
    assert _written(store) == before


async def test_an_admin_works_without_a_profile_and_is_not_asked_for_one(
    agent_factory, store: Store, clock
) -> None:
    """Found in trial 1: an administrator without a profile was asked « Quelle est votre
    collectivité ? » at every session and after every answer not understood, and
    « resultats » typed without « ! » was looked up as a collectivité. Now the welcome says
    that their commands need no profile; something done in a collectivité's name (here
    « suivre ») asks for it; while it is asked, their commands leave it standing, unsaid."""
    await laureates(agent_factory, store, clock)
    clock.now = DEPLOIEMENT
    admin = agent_factory("admin")
    await admin.start()
    asked = "Quelle est votre collectivité"
    assert "Bonjour et bienvenue" in admin.text
    assert fr("vos commandes (« aide » les donne) n’ont pas besoin de profil") in admin.text
    assert asked not in admin.text
    for command, answer in (
        ("!volontaires P-001", "Aucune collectivité volontaire"),
        ("!stats", "Agents inscrits"),
        ("!nouvelles P-001 « Le prototype est en ligne »", "Des nouvelles de P-001"),
        ("oui", "mis en file pour"),
        ("resultats", fr("tapez-la avec un point d’exclamation, « !resultats »")),
        ("n’importe quoi", "Je n’ai pas compris votre choix"),
        ("bonjour", "Bonjour"),
    ):
        await admin.say(command)
        assert answer in admin.text, command
        assert asked not in admin.text and "Je ne trouve aucune collectivité" not in admin.text
    await admin.start()  # another session
    assert asked not in admin.text and "bienvenue" not in admin.text
    await admin.say("suivre P-001")  # in a collectivité's name: the profile first
    assert fr("Pour cela, il faut d’abord votre profil") in admin.text and asked in admin.text
    await admin.say("Rennes")
    assert "Vous êtes" in admin.text
    buttons = admin.question
    await admin.say("!stats")
    assert "Vous êtes" not in admin.text
    admin.last = [buttons]  # the buttons shown before the command still answer
    await admin.press("agent")
    assert "Quelle est votre fonction" in admin.text


async def test_an_admin_without_a_profile_may_create_one_or_leave_it(
    agent_factory, store: Store, clock
) -> None:
    admin = agent_factory("admin")
    await admin.say("!stats")  # the very first message: the welcome, and the command runs
    assert "Bonjour et bienvenue" in admin.text and "Agents inscrits" in admin.text
    assert "Quelle est votre collectivité" not in admin.text
    await admin.say("profil")
    assert "Quelle est votre collectivité" in admin.text
    await admin.say("Rennes")
    await admin.say("menu")  # the profile goes on, the collectivité kept; « annuler » leaves it
    assert fr("Ce que vous avez déjà répondu est gardé ; « annuler » le laisse de côté.") in (
        admin.text
    )
    assert admin.question is not None and admin.question.text.endswith(fr("Vous êtes :"))
    await admin.say("annuler")
    await admin.say("oui")
    assert "vos commandes d’administration restent disponibles sans profil" in admin.text
    assert "Que souhaitez-vous faire" in admin.text
    assert "Quelle est votre collectivité" not in admin.text

    alice = agent_factory("alice")  # not an administrator: the welcome, nothing run
    await alice.say("!stats")
    assert "Bonjour et bienvenue" in alice.text and "Agents inscrits" not in alice.text
