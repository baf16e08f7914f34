"""Reading the TOML files an administrator edits, with every failure said in French.

A file that cannot be read, is not UTF-8 or breaks the TOML syntax stops the command with one
``ConfigError`` naming the file (and the variable that names it) and, for a syntax error, the
line and column, the parser's English words translated.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from config.typography import french


class ConfigError(Exception):
    """A configuration value is invalid; the message is French and names the variable."""


_SYNTAX = (
    (r"Unclosed array", "crochet « [ » non fermé"),
    (r"Unclosed inline table", "accolade « { » non fermée"),
    (r"Unterminated string", "guillemet fermant manquant"),
    (r"Expected '=' after a key in a key/value pair", "« = » attendu après le nom de la clé"),
    (r"Expected '\]' at the end of a table declaration", "« ] » attendu à la fin du nom de table"),
    (r"Expected '\]\]' at the end of an array declaration", "« ]] » attendu à la fin du nom"),
    (
        r"Expected newline or end of document after a statement",
        "retour à la ligne attendu après la valeur",
    ),
    (r"Invalid value", "valeur illisible (un texte s’écrit entre guillemets)"),
    (r"Invalid statement", "ligne illisible"),
    (r"Invalid initial character for a key part", "nom de clé illisible"),
    (r"Invalid date or datetime", "date invalide (attendu : AAAA-MM-JJ)"),
    (r"Cannot declare (.+) twice", r"\1 est déclaré deux fois"),
    (r"Cannot overwrite a value", "clé déjà définie plus haut"),
    (r"Duplicate inline table key (.+)", r"clé \1 répétée"),
    (r"Illegal character '\\n'", "guillemet fermant manquant avant la fin de la ligne"),
    (r"Illegal character (.+)", r"caractère interdit \1"),
    (r"Found invalid character (.+)", r"caractère interdit \1"),
    (r"Unescaped '\\' in a string", "« \\\\ » seul dans un texte (écrivez « \\\\\\\\ »)"),
)
_POSITION = re.compile(r"\s*\((?:at line (\d+), column (\d+)|at end of document)\)$")


def syntax_error(exc: tomllib.TOMLDecodeError, lines: int) -> str:
    """``Unclosed array (at line 3, column 9)`` → ``crochet « [ » non fermé, ligne 3,
    colonne 9``; ``lines``: how many the file has, for an error at its end."""
    text = str(exc)
    found = _POSITION.search(text)
    reason = text[: found.start()] if found else text
    for english, words in _SYNTAX:
        translated = re.sub(f"^{english}$", words, reason)
        if translated != reason:
            reason = translated
            break
    if found is None:
        return reason
    if found.group(1) is None:
        return f"{reason}, à la fin du fichier (ligne {lines})"
    return f"{reason}, ligne {found.group(1)}, colonne {found.group(2)}"


def read_toml(path: Path, variable: str | None = None) -> dict[str, Any]:
    """The content of ``path``; ``variable`` names the setting that points to it."""
    where = f"{variable} : le fichier « {path} »" if variable else f"Le fichier « {path} »"
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(french(f"{where} est introuvable")) from None
    except IsADirectoryError:
        raise ConfigError(french(f"{where} est un dossier : un fichier est attendu")) from None
    except OSError as exc:
        raise ConfigError(french(f"{where} ne peut être lu ({exc.strerror or exc})")) from None
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")  # Notepad's byte order mark
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            french(
                f"{where} n’est pas en UTF-8 (ligne {line}) : enregistrez-le en UTF-8 "
                "(« Enregistrer sous », codage UTF-8)"
            )
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            french(
                f"{where} n’est pas du TOML valide : {syntax_error(exc, len(text.splitlines()))}"
            )
        ) from None
