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
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as error:
                raise _bad(path, number, expected, "ce n’est pas du texte UTF-8") from error
            line = line.strip()
            if not line:
                continue
            if line.startswith("["):
                raise _bad(path, number, expected, _NOT_AN_ARRAY)
            try:
                data = json.loads(line)
            except json.JSONDecodeError as error:
                raise _bad(
                    path,
                    number,
                    expected,
                    f"JSON illisible à la colonne {error.colno} ; chaque ligne doit contenir "
                    "un objet JSON complet {…}",
                ) from error
            if not isinstance(data, dict):
                raise _bad(path, number, expected, _NOT_AN_ARRAY)
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
