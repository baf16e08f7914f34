"""The command line in French: ``recueil``'s usage, help and errors (argparse's are English).

argparse writes its own words (« usage: », « positional arguments », « show this help
message and exit », « invalid choice », …) outside any catalogue; this parser says them in
French. Every ``add_subparsers`` of it builds parsers of the same class.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable
from typing import Any, NoReturn

from config.typography import french

# argparse's error messages (Python 3.11 to 3.13), as patterns, with their French.
_ERRORS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), french)
    for pattern, french in (
        (r"argument (?P<a>.+?): (?P<rest>.*)", "argument {a} : {rest}"),
        (
            r"invalid choice: (?P<value>.+?) \(choose from (?P<choices>.+)\)",
            "choix invalide : {value} (choisir parmi {choices})",
        ),
        (r"the following arguments are required: (?P<a>.+)", "argument obligatoire : {a}"),
        (r"unrecognized arguments: (?P<a>.+)", "argument inconnu : {a}"),
        (r"invalid (?P<type>\w+) value: (?P<value>.+)", "valeur invalide : {value}"),
        (r"expected one argument", "une valeur est attendue"),
        (r"expected at least one argument", "au moins une valeur est attendue"),
        (r"expected (?P<n>\d+) arguments?", "{n} valeurs attendues"),
        (r"ignored explicit argument (?P<value>.+)", "valeur en trop : {value}"),
        (r"not allowed with argument (?P<a>.+)", "incompatible avec {a}"),
        (
            r"one of the arguments (?P<a>.+) is required",
            "l’un de ces arguments est obligatoire : {a}",
        ),
        (
            r"ambiguous option: (?P<o>\S+) could match (?P<m>.+)",
            "option ambiguë : {o} peut désigner {m}",
        ),
    )
)


def french_error(message: str) -> str:
    """argparse's English error in French (nested: « argument X: invalid choice: … »)."""
    for pattern, translation in _ERRORS:
        found = pattern.fullmatch(message)
        if found is not None:
            parts = {key: french_error(value) for key, value in found.groupdict().items()}
            return translation.format(**parts)
    return message


class FrenchHelpFormatter(argparse.HelpFormatter):
    """argparse's help with French words and French typography (« : », « ? » kept with the
    word before them, even where a line wraps)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = super()._get_help_string(action)
        return None if text is None else french(text)

    def _format_text(self, text: str) -> str:
        return super()._format_text(french(text))

    def add_usage(
        self,
        usage: str | None,
        actions: Iterable[argparse.Action],
        groups: Iterable[Any],
        prefix: str | None = None,
    ) -> None:
        usage_prefix = "utilisation\u00a0: " if prefix is None else prefix
        super().add_usage(usage, actions, groups, usage_prefix)


class _SubcommandsAction(argparse._SubParsersAction):
    """Subcommands whose own ``--help`` begins with what they do (their line in the list)."""

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        summary = kwargs.get("help")
        if summary and "description" not in kwargs:
            kwargs["description"] = summary[0].upper() + summary[1:].rstrip(".") + "."
        return super().add_parser(name, **kwargs)


class FrenchArgumentParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` whose own words are French."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        add_help = kwargs.pop("add_help", True)
        kwargs.setdefault("formatter_class", FrenchHelpFormatter)
        kwargs["add_help"] = False  # ours, in French, below
        super().__init__(*args, **kwargs)
        self.register("action", "parsers", _SubcommandsAction)
        # argparse writes « title: »; French typography puts a no-break space before « : »
        self._positionals.title = "arguments\u00a0"
        self._optionals.title = "options\u00a0"
        if add_help:
            self.add_argument(
                "-h",
                "--help",
                action="help",
                default=argparse.SUPPRESS,
                help="afficher cette aide et quitter",
            )

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, french(f"{self.prog} : erreur : {french_error(message)}\n"))
