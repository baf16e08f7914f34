"""What the agents answered when Recueil showed them the same need: the detection's real precision.

Each contribution keeps, in its answers, the similar contributions it was shown with their
scores and whether the agent joined one (``bot.recurrence.SHOWN_KEY``). A joined match is one
that an agent recognised as their own need; a match shown and not joined was, for that agent,
a different need. Over many contributions this measures the precision of the detection at the
scores it really produces, which the pair sets of ``nlp/data`` can only estimate. Recall stays
unknown: a same need that was never shown leaves no trace.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.consultation.recurrence import SHOWN_KEY
from config.typography import decimal
from storage.records import ContributionView

MATCH_COLUMNS: tuple[str, ...] = (
    "contribution",
    "type",
    "rang",
    "proche_de",
    "score",
    "associee",
    "date",
)


def match_records(views: Sequence[ContributionView]) -> list[dict[str, Any]]:
    """One row per similar contribution shown to an agent, in the order shown."""
    references = {v.contribution.id: v.contribution.reference for v in views}
    records = []
    for view in views:
        c = view.contribution
        for rank, shown in enumerate((c.answers or {}).get(SHOWN_KEY) or [], start=1):
            records.append(
                {
                    "contribution": c.reference,
                    "type": c.kind,
                    "rang": rank,
                    "proche_de": references.get(shown.get("id")),
                    "score": shown.get("score"),
                    "associee": bool(shown.get("joined")),
                    "date": c.created_at,
                }
            )
    return records


@dataclass(frozen=True)
class Band:
    low: float
    high: float
    shown: int
    joined: int


@dataclass(frozen=True)
class Feedback:
    questions: int
    """Contributions whose author was shown at least one similar contribution."""
    joined: int
    """Of those, how many joined one."""
    shown: int
    """Similar contributions shown, all ranks."""
    first_joined: int
    """Questions where the agent joined the first one shown (the best score)."""
    bands: tuple[Band, ...]
    """Shown and joined by score band, for the best match of each question."""


def feedback(records: Sequence[dict[str, Any]], threshold: float, step: float = 0.05) -> Feedback:
    """Sums the answers; bands cover the best match of each question, from ``threshold`` up."""
    by_contribution: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_contribution.setdefault(record["contribution"], []).append(record)
    questions = list(by_contribution.values())
    best = [min(rows, key=lambda r: r["rang"]) for rows in questions]
    edges = [threshold]
    while edges[-1] + step < 1.0:
        edges.append(round(edges[-1] + step, 4))
    edges.append(1.0001)
    bands = []
    for low, high in itertools.pairwise(edges):
        inside = [r for r in best if low <= float(r["score"] or 0.0) < high]
        bands.append(
            Band(low, min(high, 1.0), len(inside), sum(1 for r in inside if r["associee"]))
        )
    return Feedback(
        questions=len(questions),
        joined=sum(1 for rows in questions if any(r["associee"] for r in rows)),
        shown=len(records),
        first_joined=sum(1 for r in best if r["associee"]),
        bands=tuple(b for b in bands if b.shown),
    )


def render(result: Feedback, threshold: float, usage_threshold: float | None = None) -> str:
    """The report of ``recueil nlp feedback``, in French."""
    if not result.questions:
        return (
            "Aucun rapprochement n’a encore été proposé aux agents : rien à mesurer pour l’instant."
        )
    lines = [
        f"Seuil de détection du même besoin : {_thresholds(threshold, usage_threshold)}",
        f"Contributions pour lesquelles un rapprochement a été proposé : {result.questions}",
        f"Rapprochements montrés (tous rangs) : {result.shown}",
        f"Agents qui se sont associés à un besoin proposé : {result.joined} "
        f"({_ratio(result.joined, result.questions)})",
        f"… au premier proposé : {result.first_joined} "
        f"({_ratio(result.first_joined, result.questions)})",
        "",
        "Premier proposé, par tranche de score : montrés, associés, part associée",
    ]
    for band in result.bands:
        lines.append(
            f"  [{decimal(band.low)} ; {decimal(band.high)}[ : {band.shown:>5} {band.joined:>5}  "
            f"{_ratio(band.joined, band.shown)}"
        )
    lines.append("")
    lines.append(
        "La part associée est la précision vue par les agents ; le rappel (les mêmes besoins "
        "jamais proposés) ne se mesure pas ainsi."
    )
    return "\n".join(lines)


def _thresholds(threshold: float, usage_threshold: float | None) -> str:
    if usage_threshold is None:
        return decimal(threshold)
    return (
        f"{decimal(usage_threshold)} pour un même usage, "
        f"{decimal(threshold)} si l’usage est inconnu"
    )


def _ratio(part: int, whole: int) -> str:
    return decimal(part / whole) if whole else "—"
