"""Labelled texts (``{"text", "label", ...}`` lines), read for training and for evaluation.

``json_lines`` is the one reader of the JSON lines files an administrator hands to
``recueil nlp`` (labelled texts, users' decisions): a bad line raises ``BadLineError``, whose
French message names the file, the line and what is wrong with it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config.taxonomy import Taxonomy


@dataclass(frozen=True, slots=True)
class Labelled:
    text: str
    label: str


class BadLineError(ValueError):
    """A line of a JSON lines file that cannot be read; the message is French."""

    def __init__(self, path: Path, number: int, problem: str) -> None:
        super().__init__(f"{path}, ligne {number} : {problem}")
        self.path, self.number, self.problem = path, number, problem


class LineProblem(ValueError):
    """What is wrong with one line, in French, without the file nor the line's number."""


NOT_UTF8 = "ce n’est pas du texte UTF-8"


def line_text(raw: bytes, number: int) -> str:
    """A line read as bytes, as text (a byte order mark is allowed on the first line).

    Raises:
        LineProblem: the line is not UTF-8.
    """
    try:
        return raw.decode("utf-8-sig" if number == 1 else "utf-8")
    except UnicodeDecodeError as error:
        raise LineProblem(NOT_UTF8) from error


def json_object(line: str) -> dict[str, Any]:
    """One line of JSON lines as its object.

    Raises:
        LineProblem: the line is not JSON, or a JSON array or lone value.
    """
    if line.startswith("["):
        raise LineProblem(_NOT_AN_ARRAY)
    try:
        data = json.loads(line)
    except json.JSONDecodeError as error:
        raise LineProblem(
            f"JSON illisible à la colonne {error.colno} ; chaque ligne doit contenir "
            "un objet JSON complet {…}"
        ) from error
    if not isinstance(data, dict):
        raise LineProblem(_NOT_AN_ARRAY)
    return data


_NOT_AN_ARRAY = (
    "un objet JSON {…} par ligne est attendu (JSON lines), pas un tableau ni une valeur seule "
    "(un export « --format json » ne convient pas)"
)


def json_lines(path: Path, expected: str | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """Each non-blank line of ``path`` as ``(line number, JSON object)``.

    Args:
        expected: what a line should be, in French (« une décision écrite par … »): a bad
            line then reads « ce n’est pas <expected> (<why>) ».

    Raises:
        BadLineError: a line that is not UTF-8 text, not JSON, or not a JSON object.
        OSError: the file cannot be opened (left to the command's own message).
    """
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, 1):
            try:
                line = line_text(raw, number).strip()
                if not line:
                    continue
                data = json_object(line)
            except LineProblem as problem:
                raise _bad(path, number, expected, str(problem)) from problem
            yield number, data


def _bad(path: Path, number: int, expected: str | None, why: str) -> BadLineError:
    return BadLineError(path, number, f"ce n’est pas {expected} ({why})" if expected else why)


def read_labelled(path: Path, taxonomy: Taxonomy | None = None) -> list[Labelled]:
    """Labelled lines ``{"text", "label", ...}``; labels must exist in the taxonomy if given.

    Raises:
        BadLineError: the first line that is not a labelled text.
    """
    rows = []
    for number, data in json_lines(path):
        for key in ("text", "label"):
            if not isinstance(data.get(key), str) or not data[key].strip():
                raise BadLineError(path, number, f"le champ « {key} » manque ou est vide")
        if taxonomy is not None and data["label"] not in taxonomy:
            raise BadLineError(path, number, f"thématique inconnue « {data['label']} »")
        rows.append(Labelled(data["text"], data["label"]))
    return rows
