"""Reading what users type: commands and answers to choices."""

from __future__ import annotations

import pytest

from bot.commands import build_commands
from bot.dialogue.parsing import (
    Option,
    match_choice,
    match_choices,
    read_several,
    unsure,
    yes_or_no,
)
from storage.ops.base import normalize_reference

parse_command = build_commands().parse

OPTIONS = (
    Option("besoin", "Décrire un besoin"),
    Option("service", "Présenter un service existant"),
    Option("mes_contributions", "Voir mes contributions"),
    Option("oui", "Oui", ("ok", "d accord")),
)


@pytest.mark.parametrize(
    ("typed", "command"),
    [
        ("aide", "aide"),
        ("/aide", "aide"),
        ("!aide", "aide"),
        ("  Aide  ", "aide"),
        ("/aide@RecueilBot", "aide"),
        ("mes contributions", "mes contributions"),
        ("/mes_contributions", "mes contributions"),
        ("!Retour", "retour"),
        ("annuler", "annuler"),
        ("Profil", "profil"),
        ("/start campagne-2027", "start"),
        ("!stats", "stats"),
    ],
)
def test_commands_typeable_on_every_platform(typed: str, command: str) -> None:
    parsed = parse_command(typed)
    assert parsed is not None and parsed.command is not None and parsed.command.name == command


def test_start_carries_its_deep_link_parameter() -> None:
    parsed = parse_command("/start invitation-ABC")
    assert parsed is not None and parsed.argument == "invitation-ABC"


@pytest.mark.parametrize(
    "typed", ["stats", "export", "aide-moi à remplir", "Les aides", "", ".", "??", "?", "!!"]
)
def test_ordinary_answers_are_not_commands(typed: str) -> None:
    assert parse_command(typed) is None


def test_an_unknown_prefixed_word_is_an_unknown_command() -> None:
    parsed = parse_command("/supprimer")
    assert parsed is not None and parsed.command is None and parsed.word == "/supprimer"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1", "besoin"),
        (" 2 ", "service"),
        ("décrire un besoin", "besoin"),
        ("DECRIRE UN BESOIN", "besoin"),
        ("présenter", "service"),
        ("voir", "mes_contributions"),
        ("ok", "oui"),
        ("d'accord", "oui"),
        ("5", None),
        ("0", None),
        ("de", None),
        ("quelque chose", None),
    ],
)
def test_choice_by_number_label_prefix_or_alias(typed: str, expected: str | None) -> None:
    assert match_choice(typed, OPTIONS) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("ouais", True),
        ("Oui merci", True),
        ("ok", True),
        ("d’accord", True),
        ("oui, c'est ça", True),
        ("Ouais !", True),
        ("non pas vraiment", False),
        ("non merci", False),
        ("Non, pas du tout.", False),
        ("merci", None),
        ("oui non", None),
        ("je sais pas", None),
        ("nouvelle école", None),
    ],
)
def test_a_yes_or_a_no_as_people_type_it(typed: str, expected: bool | None) -> None:
    """Found in trial 2: only « oui » and « non » answered some yes/no questions."""
    assert yes_or_no(typed) is expected
    options = (Option("a", "Oui, c’est le même", polarity=True), Option("b", "Non", polarity=False))
    assert match_choice(typed, options) == {True: "a", False: "b", None: None}[expected]


def test_je_ne_sais_pas_is_unsure() -> None:
    assert unsure("Je ne sais pas") and unsure("je sais pas") and not unsure("non")


def test_a_punctuation_alias_is_read_as_typed() -> None:
    """« ? » is declared as « je ne sais pas » (the open-source question): folded, it was
    empty and never matched."""
    options = (Option("oui", "Oui"), Option("nsp", "Je ne sais pas", ("?",)))
    assert match_choice("?", options) == "nsp"
    assert match_choice(" ? ", options) == "nsp"
    assert match_choice("??", options) is None


def test_several_choices_at_once() -> None:
    options = (
        Option("habitants", "Les habitants"),
        Option("agents", "Les agents"),
        Option("associations", "Les associations"),
    )
    assert match_choices("1, 3", options) == ["habitants", "associations"]
    assert match_choices("1 et 2", options) == ["habitants", "agents"]
    assert match_choices("les habitants", options) == ["habitants"]
    assert match_choices("1, 9", options) is None
    # the labels typed as the buttons show them, as the hint says (it failed on « les »)
    assert match_choices("Les habitants, Les associations", options) == [
        "habitants",
        "associations",
    ]
    assert match_choices("les habitants et les agents", options) == ["habitants", "agents"]
    assert read_several("les habitants et les élus", options) == (["habitants"], ["les élus"])


@pytest.mark.parametrize(
    ("typed", "kind", "stored"),
    [
        ("p1", None, "P-001"),
        (" P 12 ", None, "P-012"),
        ("p-0012", None, "P-012"),
        ("b42", None, "B-0042"),
        ("S-17", None, "S-0017"),
        ("12", "proposal", "P-012"),
        ("12", None, "12"),  # a bare number is a reference only where one kind is meant
        ("Q-12", None, "Q-12"),  # no such kind: matches nothing
        ("P-12bis", "proposal", "P-12BIS"),
    ],
)
def test_a_reference_is_read_as_typed_in_every_command(
    typed: str, kind: str | None, stored: str
) -> None:
    assert normalize_reference(typed, kind=kind) == stored
