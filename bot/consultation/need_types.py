"""Contributions grouped by need type: a first draft of the proposals, for administrators.

In 2021 a team grouped 391 contributions into 67 proposals by hand. The need-type model
(``nlp.needs``) reads every stored contribution and puts it under its most probable type of
the catalogue when the model is confident enough; administrators start from these groups
instead of a blank page, and correct the same-need links with ``!regrouper``.
"""

from __future__ import annotations

from typing import Any

from bot.consultation.recurrence import indexed_text
from nlp.needs import NeedModel, NeedType
from storage.store import ContributionView

NEED_TYPE_COLUMNS: tuple[str, ...] = (
    "besoin_type",
    "libelle",
    "thematique",
    "usage",
    "nombre_collectivites",
    "collectivites",
    "contributions",
    "probabilites",
)
MIN_PROBABILITY = 0.5
"""A contribution is put under its most probable type from this probability on."""


def need_type_records(
    views: list[ContributionView],
    needs: NeedModel,
    catalogue: list[NeedType],
    min_probability: float = MIN_PROBABILITY,
) -> list[dict[str, Any]]:
    """One row per need type with the contributions put under it, most shared first.

    Contributions under no type (none probable enough) are left out: the export of the
    contributions lists them all.
    """
    known = {item.id: item for item in catalogue}
    texts = [indexed_text(v.contribution.title, v.contribution.description) for v in views]
    groups: dict[str, list[tuple[ContributionView, float]]] = {}
    for view, distribution in zip(views, needs.distributions(texts), strict=True):
        if not distribution:
            continue
        best = max(distribution, key=lambda need: (distribution[need], need))
        if distribution[best] >= min_probability:
            groups.setdefault(best, []).append((view, distribution[best]))
    records: list[dict[str, Any]] = []
    for need, members in groups.items():
        item = known.get(need)
        names = list(dict.fromkeys(view.collectivite.name for view, _ in members))
        records.append(
            {
                "besoin_type": need,
                "libelle": item.label if item else need,
                "thematique": item.thematique if item else None,
                "usage": item.usage if item else None,
                "nombre_collectivites": len(names),
                "collectivites": names,
                "contributions": [view.contribution.reference for view, _ in members],
                "probabilites": [round(p, 2) for _, p in members],
            }
        )
    records.sort(key=lambda r: (-r["nombre_collectivites"], -len(r["contributions"]), r["libelle"]))
    return records
