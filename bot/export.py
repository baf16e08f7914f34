"""Exports of the contributions: CSV for French spreadsheets, and JSON.

One row per contribution with the collectivité's name and code, the author's public fields
(profile and fonction; the email is private and never exported) and the thématique.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from config.taxonomy import Taxonomy
from storage.store import ContributionView

ANSWER_COLUMNS = ("beneficiaries", "current_handling", "url", "open_source", "users", "funding")


def contribution_record(view: ContributionView, taxonomy: Taxonomy) -> dict[str, Any]:
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
        "date": c.created_at.isoformat(timespec="seconds"),
        "collectivite": coll.name,
        "collectivite_type": coll.kind,
        "collectivite_code": coll.code,
        "departement": coll.departement,
        "auteur_profil": author.profile,
        "auteur_fonction": author.fonction,
    }
    for name in ANSWER_COLUMNS:
        record[name] = c.answers.get(name)
    return record


def contributions_csv(views: list[ContributionView], taxonomy: Taxonomy) -> bytes:
    """UTF-8 with BOM and ``;`` separators, as French spreadsheets expect."""
    buffer = io.StringIO()
    records = [contribution_record(v, taxonomy) for v in views]
    columns = list(records[0]) if records else list(_empty_columns())
    writer = csv.DictWriter(buffer, fieldnames=columns, delimiter=";", lineterminator="\r\n")
    writer.writeheader()
    for record in records:
        writer.writerow({k: _cell(v) for k, v in record.items()})
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def contributions_json(views: list[ContributionView], taxonomy: Taxonomy) -> bytes:
    records = [contribution_record(v, taxonomy) for v in views]
    return json.dumps(records, ensure_ascii=False, indent=2).encode("utf-8")


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else value


def _empty_columns() -> list[str]:
    return [
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
        *ANSWER_COLUMNS,
    ]
