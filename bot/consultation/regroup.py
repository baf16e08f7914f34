"""Administrators regroup what the same-need detection missed, or undo a wrong grouping.

A contribution joined to another (``same_as_id``) belongs to that one's group; groups are
chains that end at the first contribution of the need (the head). Regrouping ``B-0005`` with
``B-0001`` attaches B-0005, and whatever had joined B-0005, to the head of B-0001's group, so
no cycle can form. Separating detaches one contribution (and what had joined it) again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.consultation.recurrence import SHOWN_KEY, SimilarIndex, indexed_text
from nlp.similarity import Similarity, SimilarityIndex
from storage.models import Contribution
from storage.ops.triage import normalize_reference
from storage.records import ContributionView
from storage.store import Tx


@dataclass
class RegroupRefused(Exception):
    """A request that cannot be carried out; ``key`` names the message under ``regroup.``."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Regrouped:
    contribution: Contribution
    head: Contribution
    collectivites: int
    """Collectivités in the head's group after the change."""


def regroup(tx: Tx, reference: str, with_reference: str, actor: str) -> Regrouped:
    member, target = _get(tx, reference), _get(tx, with_reference)
    if member.kind != target.kind:
        raise RegroupRefused(
            "kinds",
            {
                "reference": member.reference,
                "kind": member.kind,
                "other": target.reference,
                "other_kind": target.kind,
            },
        )
    links = tx.same_as_links(member.kind)
    head_id = _head(links, target.id)
    if _head(links, member.id) == head_id:
        raise RegroupRefused("already", {"reference": member.reference, "other": target.reference})
    assert member.id is not None
    tx.set_same_as(member.id, head_id)
    links[member.id] = (head_id, links[member.id][1])
    tx.audit(actor, "contribution.regrouped", subject=member.reference, head=head_id)
    head = target if target.id == head_id else tx.session.get(Contribution, head_id)
    assert head is not None
    return Regrouped(member, head, _collectivites(links, head_id))


def separate(tx: Tx, reference: str, actor: str) -> tuple[Contribution, Contribution]:
    """Detach ``reference`` from its group; returns it and the contribution it was joined to."""
    member = _get(tx, reference)
    if member.same_as_id is None or member.id is None:
        raise RegroupRefused("alone", {"reference": member.reference, "kind": member.kind})
    previous = tx.session.get(Contribution, member.same_as_id)
    assert previous is not None
    tx.set_same_as(member.id, None)
    tx.audit(actor, "contribution.separated", subject=member.reference, was=previous.reference)
    return member, previous


def apply(
    tx: Tx, t: Callable[..., str], actor: str, reference: str, with_reference: str | None
) -> tuple[bool, str]:
    """Regroup (or, without ``with_reference``, separate); returns success and what to say.
    References are read as typed (``b-2`` is B-0002), as everywhere else."""
    reference = normalize_reference(reference)
    if with_reference is not None:
        with_reference = normalize_reference(with_reference)
    try:
        if with_reference is not None:
            done = regroup(tx, reference, with_reference, actor)
            return True, t(
                "regroup.done",
                reference=done.contribution.reference,
                title=done.contribution.title,
                head=done.head.reference,
                head_title=done.head.title,
                count=done.collectivites,
                kind=t(f"recurrence.kind.{done.head.kind}"),
            )
        member, previous = separate(tx, reference, actor)
        return True, t(
            "regroup.separated",
            reference=member.reference,
            title=member.title,
            previous=previous.reference,
        )
    except RegroupRefused as refused:
        params = dict(refused.params)
        for name in ("kind", "other_kind"):
            if name in params:
                params[name] = t(f"recurrence.kind.{params[name]}")
        return False, t(f"regroup.{refused.key}", **params)


def _get(tx: Tx, reference: str) -> Contribution:
    found = tx.contribution_by_reference(reference.strip())
    if found is None:
        raise RegroupRefused("unknown", {"reference": reference.strip()})
    return found


def _head(links: dict[int, tuple[int | None, int]], contribution_id: int | None) -> int | None:
    seen: set[int] = set()
    current = contribution_id
    while current is not None and current not in seen:
        seen.add(current)
        parent = links.get(current, (None, 0))[0]
        if parent is None:
            return current
        current = parent
    return current


def _collectivites(links: dict[int, tuple[int | None, int]], head_id: int | None) -> int:
    return len({coll for cid, (_, coll) in links.items() if _head(links, cid) == head_id})


CANDIDATES_EACH = 5
"""Closest contributions read for each one reviewed."""
CANDIDATE_MIN_SCORE = 0.15
"""Below the conversation's threshold: for a person to review, recall matters more."""

CANDIDATE_COLUMNS: tuple[str, ...] = (
    "score",
    "type",
    "reference_a",
    "titre_a",
    "collectivite_a",
    "usage_a",
    "reference_b",
    "titre_b",
    "collectivite_b",
    "usage_b",
    "refuse_par_agent",
)


def index_of(views: Sequence[ContributionView], similarity: Similarity) -> SimilarIndex:
    """A fresh index of ``views`` (the command line; the bot keeps its own index)."""
    index = SimilarityIndex[int](similarity)
    index.add_many(
        (v.contribution.id, v.contribution.kind, _text(v.contribution))
        for v in views
        if v.contribution.id is not None
    )
    return index


def candidate_records(
    views: Sequence[ContributionView],
    index: SimilarIndex,
    min_score: float,
    among: Sequence[ContributionView] | None = None,
) -> list[dict[str, Any]]:
    """Pairs that may describe the same need and are not grouped yet, for a person to review.

    Pairs within one collectivité are left out, as in the conversation; the usages are not
    compared (two agents may describe one need with different usages), only shown.
    ``refuse_par_agent`` says the pair was shown to the second author, who said it was a
    different need. ``among``: search from these contributions only (the latest ones, in
    chat), against all of ``views``.
    """
    by_id = {v.contribution.id: v for v in views}
    links = {
        v.contribution.id: (v.contribution.same_as_id, v.contribution.collectivite_id)
        for v in views
        if v.contribution.id is not None
    }
    heads = {cid: _head(links, cid) for cid in links}
    declined = {
        (v.contribution.id, shown.get("id"))
        for v in views
        for shown in (v.contribution.answers or {}).get(SHOWN_KEY) or []
        if not shown.get("joined")
    }
    pairs: dict[tuple[int, int], float] = {}
    for view in views if among is None else among:
        c = view.contribution
        if c.id is None:
            continue
        hits = index.search(_text(c), c.kind, CANDIDATES_EACH + 1, min_score=min_score)
        for other_id, score in hits:
            other = by_id.get(other_id)
            if other is None or other_id == c.id:
                continue
            if other.contribution.collectivite_id == c.collectivite_id:
                continue
            if heads[c.id] == heads.get(other_id):
                continue
            key = (min(c.id, other_id), max(c.id, other_id))
            pairs[key] = max(score, pairs.get(key, 0.0))
    records = []
    for (a_id, b_id), score in sorted(pairs.items(), key=lambda item: (-item[1], item[0])):
        a, b = by_id[a_id], by_id[b_id]
        records.append(
            {
                "score": score,
                "type": a.contribution.kind,
                "reference_a": a.contribution.reference,
                "titre_a": a.contribution.title,
                "collectivite_a": a.collectivite.name,
                "usage_a": (a.contribution.answers or {}).get("usage"),
                "reference_b": b.contribution.reference,
                "titre_b": b.contribution.title,
                "collectivite_b": b.collectivite.name,
                "usage_b": (b.contribution.answers or {}).get("usage"),
                "refuse_par_agent": (b_id, a_id) in declined or (a_id, b_id) in declined,
            }
        )
    return records


def _text(contribution: Contribution) -> str:
    return indexed_text(contribution.title, contribution.description)
