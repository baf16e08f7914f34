"""Contributions from elsewhere (e-mail, a web form, an earlier platform), checked row by row.

The file has the columns of ``recueil export --what contributions``
(``bot.consultation.export``), as CSV, ODS, a JSON array or JSON lines. Needed: ``type``
(besoin or service), ``titre`` and ``description`` (held to the conversation's rules: the
limits of the intake form's fields, no control characters, not only markup or punctuation),
and the collectivité, by ``collectivite_code`` (INSEE code, or SIREN for an
EPCI or a commune) or by ``collectivite`` (its name; ``departement`` tells homonyms apart,
``collectivite_type`` the kind). ``thematique`` (id or label) and ``usage`` are optional; the
other answers of the form (``url``, ``users``…) are kept.

What a round trip through our export must keep is read too: ``date``, when the contribution
was sent (an imported one is dated so; without it, at the import); ``meme_besoin_que``, the
``reference`` of the row it joined as the same need (a row of the file, of the same kind);
and the ``reference`` itself, which the store keeps when every one of the file is ours
(``B-0042`` for a besoin) and free (:func:`bot.consultation.triage_store.store_imported`).
The source's triage is not ours (``statut``, and the
:data:`~bot.consultation.export.TRIAGE_COLUMNS` of our export: a proposal ``P-001`` there is
another proposal here): an imported contribution is ``soumise``, to triage here, and the
result names the rows whose triage was left (:attr:`ImportResult.triage_left`).

Every row gets a dedup key from what it says (kind, title, description, collectivité), not
from where it sits in the file: importing the same file twice, or a file that repeats a row,
adds nothing. Pure: rows in, validated contributions or French errors by line out; storing
them (with an "import" author and our own references) is the store's.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from functools import cache, lru_cache
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
from bot.dialogue.parsing import TextProblem, text_problem
from bot.forms.base import TextField
from bot.forms.intake import USAGES, build_forms
from config.catalogue import plural
from config.taxonomy import Taxonomy
from config.typography import integer
from storage.ops.base import REFERENCE_PREFIX, normalize_reference
from storage.referential import KINDS, CollectiviteKind, CollectiviteRef, Referential, normalize

KINDS_OF_CONTRIBUTION = ("besoin", "service")
KEY_PREFIX = "import-"

Classify = Callable[[Sequence[str]], Sequence[tuple[str, float]]]
"""Each text's thématique and its confidence (the classifier's best guess), for many texts
at once: the model's pipe over a batch costs about a fifth less than text by text
(benchmarks/import_contributions.py), and a file with errors is not classified at all."""
CLASSIFIED_AT_ONCE = 1000
"""Texts given to the classifier at once: its documents for a batch stay in memory."""


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
    created_at: datetime | None = None
    """When it was sent, as the file dates it; None (no date): the import's time."""
    same_as: str | None = None
    """The key of the row it joined as the same need (``meme_besoin_que``), None if none."""
    reference: str | None = None
    """Its reference in the file when it is one of ours for its kind (``B-0042``)."""


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


PLACE_COLUMNS = ("collectivite_code", "collectivite", "collectivite_type", "departement")
"""What names a row's collectivité, in the order of :func:`resolve_collectivite`'s arguments."""
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
    *,
    now: datetime | None = None,
    zone: tzinfo = UTC,
) -> ImportResult:
    """Check every row; :class:`ImportFileError` lists all errors when there is one.

    ``now``: a ``date`` after it is refused; ``zone``: the time zone of a date without
    one (the consultation's).
    """
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
    by_reference: dict[str, list[tuple[int, str, str | None]]] = {}
    """The file's references: (line, kind, key) of each row that has it (no key: errors)."""
    joined: dict[int, str] = {}
    """Line → the reference in its ``meme_besoin_que``."""
    places: dict[tuple[str, ...], CollectiviteRef | str] = {}
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
        fields = _text_fields()[kind if kind in KINDS_OF_CONTRIBUTION else "besoin"]
        for name, text in (("title", title), ("description", description)):
            if (problem := text_error(name, text, fields[name])) is not None:
                problems.append(problem)
        cells = tuple(row.get(column) for column in PLACE_COLUMNS)
        place = places.get(cells)
        if place is None:  # a collectivité contributes many times: found once
            place = places[cells] = resolve_collectivite(referential, *cells)
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
        created_at = read_date(row.get("date"), zone)
        if isinstance(created_at, str):
            problems.append(created_at)
        elif created_at is not None and now is not None and created_at > now:
            problems.append(f"la date « {row.get('date').strip()} » est à venir")
        source_reference = row.get("reference").strip() or None
        if problems:
            errors.extend(LineError(line, problem, table.unit) for problem in problems)
            if source_reference is not None:
                by_reference.setdefault(source_reference.upper(), []).append((line, kind, None))
            continue
        assert not isinstance(place, str) and not isinstance(created_at, str)
        key = dedup_key(kind, title, description, place)
        if source_reference is not None:
            by_reference.setdefault(source_reference.upper(), []).append((line, kind, key))
        if same_as := row.get("meme_besoin_que").strip():
            joined[line] = same_as
        if key in first_of:
            duplicates.append((line, first_of[key]))
            continue
        first_of[key] = line
        if key in known_keys:
            already.append(line)
            continue
        source: str | None = "import" if thematique else None
        if thematique is None and classify is not None:
            source = "classifier"  # once every row is checked, all at once
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
                thematique_confidence=None,
                answers=answers,
                source_reference=source_reference,
                created_at=created_at,
                reference=own_reference(kind, source_reference),
            )
        )
    links = _links(accepted, joined, by_reference, table.unit)
    errors.extend(error for error in links.values() if isinstance(error, LineError))
    if errors:
        raise ImportFileError(errors)
    accepted = [
        replace(item, same_as=link) if isinstance(link := links.get(item.line), str) else item
        for item in accepted
    ]
    if classify is not None:
        accepted = _classified(accepted, classify)
    ignored = tuple(c for c in table.columns if c and c not in KNOWN_COLUMNS)
    return ImportResult(
        tuple(accepted), tuple(duplicates), tuple(already), ignored, tuple(triage_left)
    )


@cache
def _text_fields() -> dict[str, dict[str, TextField]]:
    """The title and description fields of the conversation's forms, by kind: an imported
    contribution is held to the same rules as a typed one."""
    forms = build_forms()
    return {
        kind: {name: cast(TextField, forms[kind].by_name[name]) for name in _TEXTS}
        for kind in KINDS_OF_CONTRIBUTION
    }


_TEXTS = {"title": ("le titre", ""), "description": ("la description", "e")}
"""A text field's name in an error, and the ending of an adjective that agrees with it."""


def text_error(name: str, text: str, rules: TextField) -> str | None:
    """Why the conversation would refuse ``text`` as the answer to ``rules`` (the same
    :func:`~bot.dialogue.parsing.text_problem`), said of a line of a file; None if it would
    take it."""
    problem = text_problem(text, min_length=rules.min_length, max_length=rules.max_length)
    what, ending = _TEXTS[name]
    if problem is None:
        return None
    if problem is TextProblem.EMPTY:
        return f"{what} est vide" if not text.strip() else f"{what} n’a ni lettre ni chiffre"
    if problem is TextProblem.BINARY:
        return f"{what} contient des caractères de contrôle, illisibles"
    if problem is TextProblem.MARKUP_ONLY:
        return f"{what} ne contient que des balises, sans texte"
    if problem is TextProblem.TOO_LONG:
        return f"{what} dépasse {integer(rules.max_length)} caractères ({integer(len(text))})"
    return (
        f"{what} est trop court{ending} ({plural(len(text), '# caractère|# caractères')} ; "
        f"{rules.min_length} au moins, comme dans la conversation)"
    )


def _classified(
    accepted: list[ImportedContribution], classify: Classify
) -> list[ImportedContribution]:
    """The rows without a thématique with the classifier's guess, classified in batches."""
    missing = [n for n, item in enumerate(accepted) if item.thematique_source == "classifier"]
    for start in range(0, len(missing), CLASSIFIED_AT_ONCE):
        batch = missing[start : start + CLASSIFIED_AT_ONCE]
        texts = [f"{accepted[n].title}\n{accepted[n].description}" for n in batch]
        for n, (thematique, confidence) in zip(batch, classify(texts), strict=True):
            accepted[n] = replace(
                accepted[n], thematique=thematique, thematique_confidence=confidence
            )
    return accepted


def _links(
    accepted: list[ImportedContribution],
    joined: Mapping[int, str],
    by_reference: Mapping[str, list[tuple[int, str, str | None]]],
    unit: str,
) -> dict[int, str | LineError]:
    """The key each row to import joined (``meme_besoin_que``), or why it cannot be found:
    a reference no row of the file has, or several have, a row of the other kind, itself,
    or a loop (which the conversation and ``!regrouper`` never make). A row that joined a
    row with errors gets no error of its own: that row's are said."""
    links: dict[int, str | LineError] = {}
    for item in accepted:
        wanted = joined.get(item.line)
        if wanted is None:
            continue
        rows = by_reference.get(wanted.upper(), [])
        keys = {key for _, _, key in rows}
        target_line, target_kind, target = rows[0] if rows else (0, "", None)
        problem = None
        if not rows:
            problem = f"aucune ligne du fichier n’a la référence « {wanted} »"
        elif len(keys) > 1:
            lines = ", ".join(str(line) for line, _, _ in rows)
            problem = f"plusieurs lignes ont la référence « {wanted} » ({lines})"
        elif target is None:
            continue
        elif target == item.key:
            problem = f"la ligne désigne sa propre référence « {wanted} »"
        elif target_kind != item.kind:
            problem = (
                f"« {wanted} » est un {target_kind} (ligne {target_line}), "
                f"cette ligne un {item.kind}"
            )
        if problem is not None:
            links[item.line] = LineError(item.line, f"meme_besoin_que : {problem}", unit)
        elif target is not None:
            links[item.line] = target
    parent = {item.key: link for item in accepted if isinstance(link := links.get(item.line), str)}
    for item in accepted:
        seen, current = {item.key}, parent.get(item.key)
        while current is not None and current not in seen:
            seen.add(current)
            current = parent.get(current)
        if current == item.key:
            problem = f"« {joined[item.line]} » mène à une boucle qui revient à cette ligne"
            links[item.line] = LineError(item.line, f"meme_besoin_que : {problem}", unit)
    return links


_DAY_FIRST = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")


def read_date(cell: str, zone: tzinfo = UTC) -> datetime | str | None:
    """A ``date`` cell: ISO 8601 as our export writes it (``2026-03-02T10:00:00+00:00``, or
    a day alone) or as a French spreadsheet shows it (``02/03/2026 10:00``); without a time
    zone, in ``zone``. None when empty; why it cannot be read, in French, otherwise."""
    text = cell.strip()
    if not text:
        return None
    try:
        found = _DAY_FIRST.fullmatch(text)
        if found is not None:
            day, month, year, hour, minute, second = (int(g or 0) for g in found.groups())
            value = datetime(year, month, day, hour, minute, second)
        else:
            value = datetime.fromisoformat(text)
    except ValueError:
        return (
            f"date « {text} » illisible (attendue : 2026-03-02T10:00:00+01:00, 2026-03-02 "
            "ou 02/03/2026)"
        )
    return value.replace(tzinfo=zone) if value.tzinfo is None else value


def own_reference(kind: str, reference: str | None) -> str | None:
    """``reference`` when it is written as ours for ``kind`` (``B-0042`` for a besoin)."""
    if reference is None:
        return None
    ours = normalize_reference(reference)
    prefix = REFERENCE_PREFIX[kind]
    return ours if ours == reference.upper() and ours.startswith(f"{prefix}-") else None


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


@lru_cache(maxsize=4096)
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
