"""The vote's results: proposals by verified supports, then by all supports."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from config.taxonomy import Taxonomy
from storage.ops.supports import SupportTally

SHOWN = 10
DECIDED = ("retenue", "non_retenue")
"""A decided proposal's status (``!retenir`` decides); the CSV shows it in words."""
RESULTS_COLUMNS: tuple[str, ...] = (
    "rang",
    "reference",
    "titre",
    "thematique",
    "soutiens_verifies",
    "soutiens",
    "decision",
)


def results_text(
    t: Callable[..., str], taxonomy: Taxonomy, tallies: Sequence[SupportTally], limit: int = SHOWN
) -> str:
    """The ranking, verified supports first (the stronger signal), then all supports."""
    if not tallies:
        return t("results.none")
    lines = [
        t(
            "results.item",
            rank=rank,
            reference=tally.reference,
            title=tally.title,
            thematique=taxonomy.label(tally.thematique),
            verified=tally.verified,
            total=tally.total,
        )
        + (t(f"results.decided.{tally.status}") if tally.status in DECIDED else "")
        for rank, tally in enumerate(tallies[:limit], start=1)
    ]
    if len(tallies) > limit:
        lines.append(t("results.more", count=len(tallies) - limit))
    return "\n".join(lines)


def results_records(tallies: Sequence[SupportTally], taxonomy: Taxonomy) -> list[dict[str, Any]]:
    """One row per proposal, for the export."""
    return [
        {
            "rang": rank,
            "reference": tally.reference,
            "titre": tally.title,
            "thematique": taxonomy.label(tally.thematique),
            "soutiens_verifies": tally.verified,
            "soutiens": tally.total,
            "decision": tally.status if tally.status in DECIDED else "",
        }
        for rank, tally in enumerate(tallies, start=1)
    ]
