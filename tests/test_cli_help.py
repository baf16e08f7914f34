"""``recueil``'s help: every command in README's table, every argument explained, every
placeholder in French (« FICHIER », not « OUTPUT »)."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app.cli import build_parser

README = Path(__file__).resolve().parents[1] / "README.md"
ENGLISH_METAVARS = {
    "USER",
    "OUTPUT",
    "INPUT",
    "FILE",
    "PATH",
    "DIR",
    "DIRECTORY",
    "FOLDER",
    "REFERENCE",
    "WITH_REFERENCE",
    "DATA",
    "MODEL",
    "FOLDS",
    "FEEDBACK_FILE",
    "MIN_SCORE",
    "NAME",
    "WHAT",
    "COMMAND",
    "VALUE",
}
"""argparse's defaults for our arguments (the destination in capitals) and their kin."""


def parsers(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every parser under ``recueil`` with its command words: ``("nlp", "train")``."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from parsers(sub, (*path, name))


def commands() -> list[tuple[str, ...]]:
    """The commands one can run: the parsers without subcommands of their own."""
    return [
        path
        for path, parser in parsers(build_parser())
        if path and not any(isinstance(a, argparse._SubParsersAction) for a in parser._actions)
    ]


def readme_commands() -> list[str]:
    """The code spans that begin with ``recueil`` in the first column of README's table of
    commands (« ## Commandes »)."""
    section = README.read_text(encoding="utf-8").split("\n## Commandes\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    spans = []
    for line in section.splitlines():
        if line.startswith("| `recueil"):
            first_column = re.split(r"(?<!\\)\|", line)[1]
            spans += [s for s in re.findall(r"`([^`]+)`", first_column) if s.startswith("recueil")]
    return spans


@pytest.mark.parametrize("command", commands(), ids=" ".join)
def test_every_command_is_in_the_readme_table(command: tuple[str, ...]) -> None:
    """Found in a review: « recueil regroup » was missing from README's table."""
    words = "recueil " + " ".join(command)
    assert any(span == words or span.startswith(words + " ") for span in readme_commands()), (
        f"« {words} » n’est pas dans le tableau des commandes du README"
    )


def test_every_argument_is_explained_with_a_french_placeholder() -> None:
    """Found in a trial: « --as USER », « -o OUTPUT », « --with WITH_REFERENCE », a
    positional « file » and arguments without any help."""
    problems = []
    for path, parser in parsers(build_parser()):
        name = " ".join(("recueil", *path))
        if path and not parser.description:
            problems.append(f"{name} : pas de description")
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            label = "/".join(action.option_strings) or action.dest
            if isinstance(action, argparse._SubParsersAction):
                for choice in action._choices_actions:
                    if not choice.help:
                        problems.append(f"{name} {choice.dest} : pas d’aide")
            elif not action.help:
                problems.append(f"{name} {label} : pas d’aide")
            if action.nargs == 0 or (action.choices and action.metavar is None):
                continue  # a flag, or its values listed
            metavar = action.metavar or (
                action.dest.upper() if action.option_strings else action.dest
            )
            for word in metavar if isinstance(metavar, tuple) else (metavar,):
                if word in ENGLISH_METAVARS or not word.isupper():
                    problems.append(f"{name} {label} : « {word} »")
    assert problems == []


def test_the_help_of_a_command_says_what_it_does(capsys: pytest.CaptureFixture[str]) -> None:
    """Found in a trial: « recueil phases --help » showed its usage line and nothing else."""
    with pytest.raises(SystemExit):
        build_parser().parse_args(["phases", "--help"])
    helped = capsys.readouterr().out.replace("\u00a0", " ")
    assert "Le calendrier, les annonces dues et la progression des envois." in helped
