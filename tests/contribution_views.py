"""Contributions as the store returns them (``ContributionView``), built without a database."""

from __future__ import annotations

from storage.models import Agent, Collectivite, Contribution
from storage.records import ContributionView


def view(
    number: int,
    kind: str,
    title: str,
    description: str = "",
    usage: str | None = None,
    collectivite: int | None = None,
    same_as: int | None = None,
    thematique: str = "citoyennete",
) -> ContributionView:
    prefix = "B" if kind == "besoin" else "S"
    place = collectivite if collectivite is not None else number
    contribution = Contribution(
        id=number,
        reference=f"{prefix}-{number:04d}",
        kind=kind,
        title=title,
        description=description,
        answers={"usage": usage} if usage else {},
        thematique=thematique,
        author_id=place,
        collectivite_id=place,
        same_as_id=same_as,
    )
    collectivite_row = Collectivite(
        id=place, kind="commune", code=f"{place:05d}", name=f"Commune {place}"
    )
    return ContributionView(
        contribution, collectivite_row, Agent(id=place, transport="t", user_id="u")
    )
