"""``recueil export --what proposals``: each proposal with its contributions, collectivités,
départements and populations (a collectivité behind several contributions counts once)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from config.taxonomy import Taxonomy
from storage.ops.triage_files import ProposalRow

PROPOSAL_COLUMNS = (
    "reference",
    "titre",
    "description",
    "thematique",
    "thematique_libelle",
    "statut",
    "nombre_contributions",
    "contributions",
    "titres_contributions",
    "nombre_collectivites",
    "collectivites",
    "codes_collectivites",
    "departements",
    "population",
)
LIST_COLUMNS = (
    "contributions",
    "titres_contributions",
    "collectivites",
    "codes_collectivites",
    "departements",
)


def proposal_records(rows: Iterable[ProposalRow], taxonomy: Taxonomy) -> list[dict[str, Any]]:
    """One record per proposal; the list columns hold lists (joined by the CSV and ODS)."""
    records: dict[str, dict[str, Any]] = {}
    places: dict[str, dict[tuple[str, str], int | None]] = {}
    for row in rows:
        record = records.get(row.proposal)
        if record is None:
            record = records[row.proposal] = {
                "reference": row.proposal,
                "titre": row.title,
                "description": row.description,
                "thematique": row.thematique,
                "thematique_libelle": taxonomy.label(row.thematique)
                if row.thematique in taxonomy
                else row.thematique,
                "statut": row.status,
                "nombre_contributions": row.contributions,
                **{column: [] for column in LIST_COLUMNS},
            }
            places[row.proposal] = {}
        if row.contribution is None:
            continue
        record["contributions"].append(row.contribution)
        record["titres_contributions"].append(row.contribution_title)
        place = (row.collectivite_kind or "", row.collectivite_code or "")
        if place not in places[row.proposal]:
            places[row.proposal][place] = row.population
            record["collectivites"].append(row.collectivite)
            record["codes_collectivites"].append(row.collectivite_code)
            if row.departement and row.departement not in record["departements"]:
                record["departements"].append(row.departement)
    for reference, record in records.items():
        record["nombre_collectivites"] = len(places[reference])
        record["population"] = sum(p or 0 for p in places[reference].values())
        record["departements"].sort()
    return list(records.values())


def flat(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records for a spreadsheet: lists joined (`` | `` for titles, ``, `` otherwise)."""
    return [
        {
            key: (" | " if key == "titres_contributions" else ", ").join(map(str, value))
            if isinstance(value, list)
            else value
            for key, value in record.items()
        }
        for record in records
    ]
