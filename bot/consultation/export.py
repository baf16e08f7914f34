"""Exports for administrators: contributions, and clusters of the same need.

CSV for French spreadsheets (UTF-8 with BOM, ``;`` separators) and JSON. The CSV is for
people: decimal commas, dates in the consultation's time zone (``RECUEIL_TIMEZONE``) and
statuses as they read (« non retenue », « réorientée »). The JSON is for programs: decimal
points, dates in ISO 8601 UTC, statuses as stored (``non_retenue``, ``reorientee``).

A contribution row carries the collectivité's name and code, the author's public fields
(profile and fonction; the email is private and never exported), the thématique id and
label, and what triage made of it (:data:`TRIAGE_COLUMNS`).

Every CSV goes through :func:`bot.consultation.spreadsheet.write_csv`, so a cell a
spreadsheet would read as a formula (``=HYPERLINK(...)`` typed as a title) is written as
text, and the triage import reads it back unchanged.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.consultation.spreadsheet import Cell, write_csv
from config.catalogue import default_catalogue
from config.taxonomy import Taxonomy
from storage.store import ContributionView

ANSWER_COLUMNS: dict[str, str] = {
    "usage": "usage",
    "beneficiaries": "beneficiaires",
    "current_handling": "situation_actuelle",
    "url": "adresse_web",
    "open_source": "code_ouvert",
    "users": "utilisateurs",
    "funding": "financement",
}
"""Each answer of the forms (its key in ``Contribution.answers``) and its export column:
French, as every other column (the import also reads the English keys of older files)."""
TRIAGE_COLUMNS: tuple[str, ...] = (
    "reference_proposition",
    "titre_proposition",
    "statut_proposition",
    "message_administrateur",
    "lien_reorientation",
)
"""What became of a contribution after the triage, beside its ``statut`` (soumise, regroupee,
reorientee, rejetee): the proposal it was grouped into (its reference, title and status,
named as the triage file names a proposal's title), or the administrator's message (the
redirection or the reason of the rejection) and the redirection's link. Empty while it is
``soumise``. Last, so that the columns of files exported before them keep their places.

Not ``proposition``: with it, ``reference`` and ``statut``, the export would pass for a
triage file, and ``recueil proposals import`` given it by mistake would clear the
descriptions of its proposals (it has no ``description_proposition``); without it, that
import refuses the file, as before."""
CONTRIBUTION_COLUMNS: tuple[str, ...] = (
    "reference",
    "type",
    "titre",
    "description",
    "thematique",
    "thematique_libelle",
    "thematique_confiance",
    "thematique_source",
    "statut",
    "date",
    "collectivite",
    "collectivite_type",
    "collectivite_code",
    "departement",
    "auteur_profil",
    "auteur_fonction",
    "meme_besoin_que",
    *ANSWER_COLUMNS.values(),
    *TRIAGE_COLUMNS,
)
CLUSTER_COLUMNS: tuple[str, ...] = (
    "reference",
    "type",
    "titre",
    "thematique",
    "usage",
    "nombre_collectivites",
    "collectivites",
    "contributions",
)


def contribution_records(views: list[ContributionView], taxonomy: Taxonomy) -> list[dict[str, Any]]:
    references = {v.contribution.id: v.contribution.reference for v in views}
    records = []
    for view in views:
        c, coll, author = view.contribution, view.collectivite, view.author
        record: dict[str, Any] = {
            "reference": c.reference,
            "type": c.kind,
            "titre": c.title,
            "description": c.description,
            "thematique": c.thematique,
            "thematique_libelle": taxonomy.label(c.thematique),
            "thematique_confiance": c.thematique_confidence,
            "thematique_source": c.thematique_source,
            "statut": c.status,
            "date": c.created_at,
            "collectivite": coll.name,
            "collectivite_type": coll.kind,
            "collectivite_code": coll.code,
            "departement": coll.departement,
            "auteur_profil": author.profile,
            "auteur_fonction": author.fonction,
            "meme_besoin_que": references.get(c.same_as_id) if c.same_as_id else None,
        }
        for key, column in ANSWER_COLUMNS.items():
            record[column] = c.answers.get(key)
        proposal = view.proposal
        record |= {
            "reference_proposition": proposal.reference if proposal else None,
            "titre_proposition": proposal.title if proposal else None,
            "statut_proposition": proposal.status if proposal else None,
            "message_administrateur": c.triage_message,
            "lien_reorientation": c.triage_url,
        }
        records.append(record)
    return records


def cluster_records(views: list[ContributionView], taxonomy: Taxonomy) -> list[dict[str, Any]]:
    """One row per need (or service) with every collectivité that described or joined it."""
    by_id = {v.contribution.id: v for v in views}

    def root(view: ContributionView) -> ContributionView:
        seen = set()
        while view.contribution.same_as_id in by_id and view.contribution.id not in seen:
            seen.add(view.contribution.id)
            view = by_id[view.contribution.same_as_id]
        return view

    groups: dict[int | None, list[ContributionView]] = {}
    for view in views:
        groups.setdefault(root(view).contribution.id, []).append(view)
    records: list[dict[str, Any]] = []
    for members in groups.values():
        head = members[0].contribution
        names = list(dict.fromkeys(m.collectivite.name for m in members))
        records.append(
            {
                "reference": head.reference,
                "type": head.kind,
                "titre": head.title,
                "thematique": taxonomy.label(head.thematique),
                "usage": (head.answers or {}).get("usage"),
                "nombre_collectivites": len(names),
                "collectivites": names,
                "contributions": [m.contribution.reference for m in members],
            }
        )
    records.sort(key=lambda r: (-len(r["collectivites"]), str(r["reference"])))
    return records


STATUS_COLUMNS = ("statut", "statut_proposition", "decision")
"""Columns holding a stored status: its label in a spreadsheet, its code in JSON."""


def status_label(status: str) -> str:
    """A status as people read it (``non_retenue`` → « non retenue », ``reorientee`` →
    « réorientée »), from the catalogue's ``triage.status``; an unknown one as it is."""
    catalogue = default_catalogue()
    key = f"triage.status.{status}"
    return catalogue.t(key) if catalogue.has(key) else status


def for_spreadsheet(
    records: list[dict[str, Any]], zone: ZoneInfo, lists: str = ", "
) -> list[dict[str, Cell]]:
    """The records as a CSV or ODS shows them: dates in ``zone`` (« 2026-11-10 11:00:06 »,
    which a spreadsheet reads as a date), statuses in words, lists in one cell (numbers
    with a decimal comma, so separated by `` | ``)."""
    return [
        {column: _cell(column, value, zone, lists) for column, value in record.items()}
        for record in records
    ]


def to_csv(records: list[dict[str, Any]], columns: tuple[str, ...], zone: ZoneInfo) -> bytes:
    """UTF-8 with BOM and ``;`` separators, formulas neutralised (see the module's doc).

    Lists become one cell of comma-separated values; ``True``/``False`` become ``oui``/``non``
    (as the contributions import reads them); see :func:`for_spreadsheet`.
    """
    return write_csv(columns, for_spreadsheet(records, zone))


def to_json(records: list[dict[str, Any]]) -> bytes:
    return json.dumps(records, ensure_ascii=False, indent=2, default=_json_value).encode("utf-8")


def contributions_csv(views: list[ContributionView], taxonomy: Taxonomy, zone: ZoneInfo) -> bytes:
    return to_csv(contribution_records(views, taxonomy), CONTRIBUTION_COLUMNS, zone)


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds")
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _cell(column: str, value: Any, zone: ZoneInfo, lists: str) -> Cell:
    if isinstance(value, datetime):
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, list):
        if any(isinstance(v, float) for v in value):
            return " | ".join(decimal_comma(v) if isinstance(v, float) else str(v) for v in value)
        return lists.join(str(v) for v in value)
    if column in STATUS_COLUMNS and isinstance(value, str):
        return status_label(value)
    return value


def decimal_comma(value: float) -> str:
    """``0.9824`` → « 0,9824 », as a French spreadsheet reads a number."""
    return repr(value).replace(".", ",")
