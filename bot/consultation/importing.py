"""Contributions from elsewhere (e-mail, a web form, an earlier platform), checked row by row.

The file has the columns of ``recueil export --what contributions``
(``bot.consultation.export``), as CSV, ODS, a JSON array or JSON lines. Needed: ``type``
(besoin or service), ``titre``,
``description`` and the collectivité, by ``collectivite_code`` (INSEE code, or SIREN for an
EPCI or a commune) or by ``collectivite`` (its name; ``departement`` tells homonyms apart,
``collectivite_type`` the kind). ``thematique`` (id or label) and ``usage`` are optional; the
other answers of the form (``url``, ``users``…) are kept. The source's own ``reference``,
``statut`` and ``date`` are not ours and are only kept for the record. Nor is its triage
(``statut``, and the :data:`~bot.consultation.export.TRIAGE_COLUMNS` of our export: a
proposal ``P-001`` there is another proposal here): an imported contribution is ``soumise``,
to triage here, and the result names the rows whose triage was left
(:attr:`ImportResult.triage_left`).

Every row gets a dedup key from what it says (kind, title, description, collectivité), not
from where it sits in the file: importing the same file twice, or a file that repeats a row,
adds nothing. Pure: rows in, validated contributions or French errors by line out; storing
them (with an "import" author and our own references) is the store's.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from bot.consultation.export import ANSWER_COLUMNS, CONTRIBUTION_COLUMNS, TRIAGE_COLUMNS
from bot.consultation.spreadsheet import (
    Row,
    SpreadsheetError,
    Table,
    read_table,
    refuse_other_kinds,
)
from bot.consultation.triage_file import LineError
from bot.forms.intake import USAGES
from config.taxonomy import Taxonomy
from storage.referential import KINDS, CollectiviteKind, CollectiviteRef, Referential, normalize

TITLE_MAX = 120
DESCRIPTION_MAX = 4000
KINDS_OF_CONTRIBUTION = ("besoin", "service")
KEY_PREFIX = "import-"

Classify = Callable[[str], tuple[str, float]]
"""A text's thématique and its confidence (the classifier's best guess)."""


@dataclass(frozen=True, slots=True)
class ImportedContribution:
    """A row ready to store as if an agent had typed it."""

    line: int
    key: str
    """Stable dedup key: the same content gives the same key."""
    kind: str
    title: str
    description: str
    collectivite: CollectiviteRef
    thematique: str | None
    thematique_source: str | None
    """``import`` when the file gave it, ``classifier`` when guessed, None when absent."""
    thematique_confidence: float | None
    answers: dict[str, Any]
    source_reference: str | None


@dataclass(frozen=True, slots=True)
class ImportResult:
    contributions: tuple[ImportedContribution, ...]
    duplicates: tuple[tuple[int, int], ...] = ()
    """``(line, first line)``: a row that repeats an earlier one of the file."""
    already_imported: tuple[int, ...] = ()
    """Lines whose key is already stored."""
    ignored_columns: tuple[str, ...] = field(default=())
    triage_left: tuple[int, ...] = ()
    """Lines of contributions to import whose file says they were triaged (a status other
    than soumise, a proposal, a message): not carried over, they are to triage here."""


class ImportFileError(ValueError):
    """Every error of the file; nothing may be stored."""

    def __init__(self, errors: list[LineError]) -> None:
        self.errors = sorted(errors, key=lambda e: e.line)
        super().__init__("\n".join(str(e) for e in self.errors))


KNOWN_COLUMNS = frozenset(CONTRIBUTION_COLUMNS) | frozenset(ANSWER_COLUMNS)
"""The columns of ``recueil export --what contributions``: what an import reads."""


def read_rows(data: bytes, name: str) -> Table:
    """A file as a table: CSV or ODS by its name, JSON (an array or one object a line)."""
    if name.lower().endswith((".json", ".jsonl")):
        refuse_other_kinds(data)
        return _json_table(data)
    return read_table(data)


def import_contributions(
    table: Table,
    referential: Referential,
    taxonomy: Taxonomy,
    known_keys: Collection[str] = (),
    classify: Classify | None = None,
) -> ImportResult:
    """Check every row; :class:`ImportFileError` lists all errors when there is one."""
    missing = [c for c in ("type", "titre", "description") if c not in table.columns]
    if "collectivite_code" not in table.columns and "collectivite" not in table.columns:
        missing.append("collectivite_code ou collectivite")
    if missing:
        names = ", ".join(f"« {c} »" for c in missing)
        raise ImportFileError([LineError(1, f"colonne(s) manquante(s) : {names}")])
    labels = _labels(taxonomy)
    errors: list[LineError] = []
    accepted: list[ImportedContribution] = []
    first_of: dict[str, int] = {}
    duplicates: list[tuple[int, int]] = []
    already: list[int] = []
    triage_left: list[int] = []
    for row in table.rows:
        line = row.line
        problems: list[str] = []
        kind = _fold(row.get("type"))
        if not kind:
            problems.append("le type est vide (besoin ou service)")
        elif kind not in KINDS_OF_CONTRIBUTION:
            problems.append(f"type « {row.get('type').strip()} » inconnu (besoin ou service)")
        title = " ".join(row.get("titre").split())
        description = row.get("description").strip()
        if not title:
            problems.append("le titre est vide")
        elif len(title) > TITLE_MAX:
            problems.append(f"le titre dépasse {TITLE_MAX} caractères ({len(title)})")
        if not description:
            problems.append("la description est vide")
        elif len(description) > DESCRIPTION_MAX:
            problems.append(f"la description dépasse {DESCRIPTION_MAX} caractères")
        place = resolve_collectivite(
            referential,
            code=row.get("collectivite_code"),
            name=row.get("collectivite"),
            kind=row.get("collectivite_type"),
            departement=row.get("departement"),
        )
        if isinstance(place, str):
            problems.append(place)
        thematique_cell = row.get("thematique").strip() or row.get("thematique_libelle").strip()
        thematique = None
        if thematique_cell:
            thematique = (
                thematique_cell
                if thematique_cell in taxonomy
                else labels.get(_fold(thematique_cell))
            )
            if thematique is None:
                problems.append(f"thématique « {thematique_cell} » inconnue")
        usage = _fold(row.get("usage")) or None
        if usage is not None and usage not in USAGES:
            problems.append(f"usage « {row.get('usage').strip()} » inconnu ({', '.join(USAGES)})")
        if problems:
            errors.extend(LineError(line, problem, table.unit) for problem in problems)
            continue
        assert not isinstance(place, str)
        key = dedup_key(kind, title, description, place)
        if key in first_of:
            duplicates.append((line, first_of[key]))
            continue
        first_of[key] = line
        if key in known_keys:
            already.append(line)
            continue
        source: str | None = "import" if thematique else None
        confidence: float | None = None
        if thematique is None and classify is not None:
            thematique, confidence = classify(f"{title}\n{description}")
            source = "classifier"
        answers = {
            key: value
            for key, column in ANSWER_COLUMNS.items()
            if (value := (row.get(column) or row.get(key)).strip())  # older files: English
        }
        if usage:
            answers["usage"] = usage
        if _fold(row.get("statut")) not in ("", "soumise") or any(
            row.get(column).strip() for column in TRIAGE_COLUMNS
        ):
            triage_left.append(line)
        accepted.append(
            ImportedContribution(
                line=line,
                key=key,
                kind=kind,
                title=title,
                description=description,
                collectivite=place,
                thematique=thematique,
                thematique_source=source,
                thematique_confidence=confidence,
                answers=answers,
                source_reference=row.get("reference").strip() or None,
            )
        )
    if errors:
        raise ImportFileError(errors)
    ignored = tuple(c for c in table.columns if c and c not in KNOWN_COLUMNS)
    return ImportResult(
        tuple(accepted), tuple(duplicates), tuple(already), ignored, tuple(triage_left)
    )


def resolve_collectivite(
    referential: Referential,
    code: str = "",
    name: str = "",
    kind: str = "",
    departement: str = "",
) -> CollectiviteRef | str:
    """The collectivité a row names, or why it cannot be found (in French).

    A code is read as a commune's INSEE code (5 characters, ``2A004`` too), a SIREN or SIRET
    (9 or 14 digits), or a département's or région's code (with ``collectivite_type``).
    A name must match an official name exactly (without case, accents, hyphens), as a
    file cannot be asked "did you mean…?"; homonyms need the département or the code.
    """
    code = "".join(code.split()).upper()
    wanted = _fold(kind) or None
    if wanted is not None and wanted not in KINDS:
        return f"type de collectivité « {kind.strip()} » inconnu ({', '.join(KINDS)})"
    kinds = cast(tuple[CollectiviteKind, ...], (wanted,) if wanted else KINDS)
    if code:
        found: CollectiviteRef | None = None
        if code.isdigit() and len(code) in (9, 14):
            found = next((r for r in referential.search(code[:9]) if r.kind in kinds), None)
        elif wanted is not None:
            found = referential.get(cast(CollectiviteKind, wanted), code)
        elif len(code) == 5:
            found = referential.get("commune", code)
        elif len(code) in (2, 3):
            found = referential.get("departement", code)
        if found is None:
            return f"aucune collectivité n’a le code « {code} »"
        return found
    if not name.strip():
        return "la collectivité manque (colonne « collectivite_code » ou « collectivite »)"
    key = normalize(name)
    query = f"{name} {departement}".strip() if departement.strip() else name
    matches = [
        r
        for r in referential.search(query, limit=50)
        if r.kind in kinds and normalize(r.name) == key
    ]
    if departement.strip():
        place = departement.strip().upper()
        matches = [
            r
            for r in matches
            if r.departement == place or normalize(r.departement_name or "") == normalize(place)
        ]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        return f"collectivité « {name.strip()} » introuvable (donnez son code INSEE ou SIREN)"
    shown = ", ".join(r.label for r in matches[:4])
    more = "…" if len(matches) > 4 else ""
    return (
        f"« {name.strip()} » désigne {len(matches)} collectivités ({shown}{more}) : "
        "donnez le code INSEE ou le département"
    )


def _labels(taxonomy: Taxonomy) -> dict[str, str]:
    """A thématique by its label, or by one part of it when no other label has that part
    (« Citoyenneté » for « Citoyenneté / Démocratie participative »)."""
    parts: dict[str, set[str]] = {}
    for item in taxonomy:
        for part in item.label.split("/"):
            parts.setdefault(_fold(part), set()).add(item.id)
    labels = {part: next(iter(ids)) for part, ids in parts.items() if len(ids) == 1}
    labels.update({_fold(item.label): item.id for item in taxonomy})
    return labels


def dedup_key(kind: str, title: str, description: str, place: CollectiviteRef) -> str:
    """The same contribution of the same collectivité gives the same key, whatever the
    spaces or capitals."""
    parts = [kind, _squash(title), _squash(description), place.kind, place.code]
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return KEY_PREFIX + digest[:20]


def _squash(text: str) -> str:
    return " ".join(text.split()).casefold()


def _fold(text: str) -> str:
    """Without capitals, accents, nor the difference between ’ (our labels) and ' (typed)."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold().replace("’", "'"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _json_table(data: bytes) -> Table:
    """A JSON array (errors name the element: « élément 3 ») or JSON lines (the line)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SpreadsheetError("le fichier JSON n’est pas en UTF-8") from error
    items: list[tuple[int, Any]] = []
    stripped = text.lstrip()
    try:
        if stripped.startswith("["):
            array = json.loads(text)
            if not isinstance(array, list):
                raise SpreadsheetError("un tableau JSON d’objets est attendu")
            items = list(enumerate(array, start=1))
        else:
            items = [
                (number, json.loads(line))
                for number, line in enumerate(text.splitlines(), start=1)
                if line.strip()
            ]
    except json.JSONDecodeError as error:
        raise SpreadsheetError(f"JSON illisible, ligne {error.lineno} : {error.msg}") from error
    columns: dict[str, None] = {}
    rows = []
    for number, item in items:
        if not isinstance(item, Mapping):
            raise SpreadsheetError(f"élément {number} : un objet JSON est attendu")
        cells = {str(k): _json_cell(v) for k, v in item.items()}
        columns.update(dict.fromkeys(cells))
        rows.append(Row(number, cells))
    unit = "élément" if stripped.startswith("[") else "ligne"
    return Table(tuple(columns), tuple(rows), unit)


def _json_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
