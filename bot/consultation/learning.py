"""What users decided, read from the database as ``nlp.feedback`` decisions.

- An agent's thématique: the one stored with their contribution, when the agent chose it
  (confirmed the suggestion or picked another: ``thematique_source`` ``classifier`` or
  ``agent``); a thématique the classifier guessed at an import is nobody's decision.
- An administrator's thématique: that of the proposal a contribution was put in.
- An agent's pair: each similar contribution shown before the summary, joined or not
  (``recurrence.SHOWN_KEY``).
- An administrator's pair: ``!regrouper`` (same need) and ``!separer`` (not), from the audit
  log; and every two contributions of one kind put in the same proposal (same need). A pair
  an agent judged whose two contributions both went into proposals is decided by them.

Contributions in two different proposals that nobody compared are not counted as different:
an administrator sorting hundreds of contributions did not judge each such pair.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlmodel import select

from bot.consultation import contributions
from bot.consultation.recurrence import SHOWN_KEY, indexed_text
from nlp.feedback import ADMINISTRATOR, AGENT, Feedback, PairDecision, ThematiqueDecision
from nlp.similarity import comparable_usage
from storage.models import Contribution, Proposal
from storage.store import Tx

AGENT_CHOSEN = ("classifier", "agent")
"""``thematique_source`` values where an agent answered the thématique question."""


def collect(tx: Tx) -> Feedback:
    """Every decision users made, unresolved (``Feedback.resolved`` picks one per subject)."""
    by_id = {c.id: c for c in tx.session.exec(select(Contribution))}
    proposals = {p.id: p for p in tx.session.exec(select(Proposal)) if p.status != "fusionnee"}
    by_reference = {c.reference: c for c in by_id.values()}
    thematiques: list[ThematiqueDecision] = []
    pairs: list[PairDecision] = []

    def pair(a: Contribution, b: Contribution, same: bool, source: str, at: datetime) -> None:
        if a.id == b.id or a.kind != b.kind:
            return
        first, second = sorted((a, b), key=lambda c: c.reference)
        pairs.append(
            PairDecision(
                (first.reference, second.reference),
                indexed_text(first.title, first.description),
                indexed_text(second.title, second.description),
                same,
                source,
                at,
                comparable_usage((first.answers or {}).get("usage")),
                comparable_usage((second.answers or {}).get("usage")),
            )
        )

    for c in by_id.values():
        if c.thematique_source in AGENT_CHOSEN:
            thematiques.append(
                ThematiqueDecision(
                    c.reference,
                    classified_text(c),
                    c.thematique,
                    AGENT,
                    c.created_at,
                    corrected=c.thematique_source == "agent",
                )
            )
        for shown in (c.answers or {}).get(SHOWN_KEY) or []:
            other = by_id.get(shown.get("id"))
            if other is not None:
                pair(c, other, bool(shown.get("joined")), AGENT, c.created_at)

    for entry in tx.audit_entries(action_prefix="contribution."):
        member = by_reference.get(entry.subject or "")
        if member is None:
            continue
        if entry.action == "contribution.regrouped":
            head = by_id.get(entry.details.get("head"))
            if head is not None:
                pair(member, head, True, ADMINISTRATOR, entry.at)
        elif entry.action == "contribution.separated":
            previous = by_reference.get(entry.details.get("was") or "")
            if previous is not None:
                pair(member, previous, False, ADMINISTRATOR, entry.at)

    members: dict[int, list[Contribution]] = {}
    for c in by_id.values():
        if c.proposal_id is not None and c.proposal_id in proposals:
            members.setdefault(c.proposal_id, []).append(c)
    for proposal_id, grouped in members.items():
        proposal = proposals[proposal_id]
        decided = _decided(proposal)
        for c in grouped:
            thematiques.append(
                ThematiqueDecision(
                    c.reference,
                    classified_text(c),
                    proposal.thematique,
                    ADMINISTRATOR,
                    decided,
                    corrected=proposal.thematique != c.thematique,
                )
            )
        for a, b in itertools.combinations(grouped, 2):
            pair(a, b, True, ADMINISTRATOR, decided)
    judged = {p.key for p in pairs}
    for key in judged:
        a, b = by_reference[key[0]], by_reference[key[1]]
        if a.proposal_id == b.proposal_id:
            continue  # the same proposal (added above), or not both triaged
        if a.proposal_id in proposals and b.proposal_id in proposals:
            decided = max(_decided(proposals[a.proposal_id]), _decided(proposals[b.proposal_id]))
            pair(a, b, False, ADMINISTRATOR, decided)
    return Feedback(thematiques, pairs)


def _decided(proposal: Proposal) -> datetime:
    return proposal.published_at or proposal.created_at


def classified_text(c: Contribution) -> str:
    """The text the classifier read when the agent answered the thématique question."""
    values = {"title": c.title, "description": c.description, **(c.answers or {})}
    return contributions.classified_text(values, contributions.CLASSIFIED_FIELDS[c.kind])


def grouping_figures(drafted: Mapping[str, str], decided: Mapping[str, str]) -> dict[str, float]:
    """Pairwise precision and recall of "put in the same proposal", a draft against decisions.

    ``drafted`` and ``decided`` map contribution references to a group (draft key, proposal);
    every pair of the contributions in ``decided`` counts, from the contingency counts (linear
    in the number of contributions, not quadratic).
    """

    def pairs(sizes: Iterable[int]) -> int:
        return sum(n * (n - 1) // 2 for n in sizes)

    shared = Counter((drafted[reference], group) for reference, group in decided.items())
    both = pairs(shared.values())
    in_draft = pairs(Counter(drafted[reference] for reference in decided).values())
    in_proposals = pairs(Counter(decided.values()).values())
    return {
        "contributions": len(decided),
        "proposals": len(set(decided.values())),
        "draft_groups": len({drafted[reference] for reference in decided}),
        "pairs_together": in_proposals,
        "pairs_drafted": in_draft,
        "precision": both / in_draft if in_draft else float("nan"),
        "recall": both / in_proposals if in_proposals else float("nan"),
    }
