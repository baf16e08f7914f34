"""The machine's first draft of the proposals: groups of contributions for the team to review.

Three kinds of evidence join two contributions, strongest first:

- ``rejointe par l’agent``: an agent said their contribution is the same need as another one
  (``same_as_id``); the only evidence that may join a besoin and a service;
- ``même besoin type``: both have the same most probable need type of the catalogue, with a
  probability of at least 0.5 (``bot.consultation.need_types``), and are of the same kind;
- ``texte proche``: the same-need score (``nlp.similarity``: words and need types) says so
  under the conversation's rule, with the usages the authors gave, within one kind.

Groups are the connected parts of these links (a union-find), so a contribution joined to
two others brings them together. Singletons stay singletons. Every group gets a draft key
made of its first reference (``G-B-0012``): the same data gives the same keys, and a group
keeps its key when other groups change. Its suggested title is that of its most central
contribution (the highest summed score to the others).

Pure: contributions in, rows out. The command line writes them with
``bot.consultation.spreadsheet``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from bot.consultation.need_types import MIN_PROBABILITY, need_type_records
from bot.consultation.recurrence import indexed_text
from config.taxonomy import Taxonomy
from nlp.needs import Distribution, NeedModel, NeedType, agreement
from nlp.similarity import (
    Analyzer,
    Similarity,
    SimilarityIndex,
    Sparse,
    combined,
    comparable_usage,
    cosine,
)
from storage.records import ContributionView

BY_AGENT = "rejointe par l’agent"
SAME_NEED_TYPE = "même besoin type"
SIMILAR_TEXT = "texte proche"
REASONS = (BY_AGENT, SAME_NEED_TYPE, SIMILAR_TEXT)
"""Strongest first: a row shows the strongest link that joined it to its group."""

KEY_PREFIX = "G-"
NEIGHBOURS = 1
"""Each contribution is joined by its text to its closest same-need contribution only: on
``pairs.jsonl`` (development), 1 gives P 0.920 / R 0.793, 2 gives 0.904 / 0.862 and 5 gives
0.826 / 0.874 with a group of 47 texts (links chain); docs/proposals.md."""
CENTRAL_MAX = 300
"""Above this size, a group's title is its need type's label (the centrality is quadratic)."""

DRAFT_COLUMNS: tuple[str, ...] = (
    "proposition",
    "titre_proposition",
    "description_proposition",
    "statut",
    "message",
    "lien",
    "reference",
    "type",
    "titre",
    "description",
    "collectivite",
    "thematique",
    "usage",
    "raison",
    "besoin_type",
)
"""The draft file. The team edits the first six columns; the others say what each row is."""


@dataclass(frozen=True, slots=True)
class DraftSettings:
    need_types: bool = True
    similar_text: bool = True
    neighbours: int = NEIGHBOURS
    min_probability: float = MIN_PROBABILITY
    min_text_score: float = 0.0
    """A floor above the conversation's rule, for drafts that must chain less."""


@dataclass(frozen=True, slots=True)
class DraftRow:
    """One contribution in the draft, with its suggested proposal."""

    key: str
    group_title: str
    reference: str
    kind: str
    title: str
    description: str
    collectivite: str
    thematique: str
    usage: str | None
    reason: str | None
    """The strongest link that joined it to its group; None when it stands alone."""
    need_type: str | None
    group_size: int


def draft(
    views: Sequence[ContributionView],
    similarity: Similarity | None,
    catalogue: Sequence[NeedType] = (),
    settings: DraftSettings = DraftSettings(),
) -> list[DraftRow]:
    """Suggested proposals, one row per contribution, biggest groups first.

    Args:
        views: the contributions to group (usually those still ``soumise``).
        similarity: the same-need score; None groups by the agents' links alone.
        catalogue: the need types (their labels and the need-type grouping).
        settings: which evidence to use, for the measures of docs/proposals.md.
    """
    views = sorted(views, key=lambda v: reference_order(v.contribution.reference))
    n = len(views)
    texts = [indexed_text(v.contribution.title, v.contribution.description) for v in views]
    usages = [comparable_usage((v.contribution.answers or {}).get("usage")) for v in views]
    kinds = [v.contribution.kind for v in views]
    links = _UnionFind(n)
    reasons: list[int | None] = [None] * n

    def join(i: int, j: int, reason: int) -> None:
        links.union(i, j)
        for k in (i, j):
            current = reasons[k]
            reasons[k] = reason if current is None else min(current, reason)

    position = {v.contribution.id: i for i, v in enumerate(views)}
    for i, view in enumerate(views):
        j = position.get(view.contribution.same_as_id)
        if j is not None and j != i:
            join(i, j, 0)

    needs = _Memo(similarity.needs) if similarity and similarity.needs else None
    top_type: list[str | None] = [None] * n
    labels = {item.id: item.label for item in catalogue}
    if needs is not None and settings.need_types:
        by_reference = {v.contribution.reference: i for i, v in enumerate(views)}
        for record in need_type_records(
            views, cast(NeedModel, needs), list(catalogue), settings.min_probability
        ):
            first_of_kind: dict[str, int] = {}
            for reference in record["contributions"]:
                i = by_reference[reference]
                top_type[i] = record["besoin_type"]
                first = first_of_kind.setdefault(kinds[i], i)
                if first != i:
                    join(first, i, 1)

    vectors: list[dict[str, float]] = []
    distributions: list[Distribution] = []
    if similarity is not None:
        analyzer = cast(Analyzer, _MemoAnalyzer(similarity.analyzer))
        scoring = Similarity(analyzer, similarity.settings, cast(NeedModel, needs))
        vectors = [scoring.analyzer.vector(text) for text in texts]
        distributions = scoring.distributions(texts)
        if settings.similar_text:
            index = SimilarityIndex[int](scoring)
            index.add_many((i, kinds[i], texts[i]) for i in range(n))
            for i in range(n):
                hits = index.search(
                    texts[i],
                    kinds[i],
                    settings.neighbours + 1,
                    min_score=scoring.lowest_threshold,
                )
                for j, score in hits:
                    if (
                        j != i
                        and score >= settings.min_text_score
                        and scoring.decide(score, usages[i], usages[j])
                    ):
                        join(i, j, 2)

    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(links.find(i), []).append(i)
    rows: list[DraftRow] = []
    for members in groups.values():
        key = KEY_PREFIX + views[members[0]].contribution.reference
        title = _group_title(members, views, vectors, distributions, top_type, labels)
        for i in members:
            c, reason = views[i].contribution, reasons[i]
            rows.append(
                DraftRow(
                    key=key,
                    group_title=title,
                    reference=c.reference,
                    kind=c.kind,
                    title=c.title,
                    description=c.description,
                    collectivite=views[i].collectivite.name,
                    thematique=c.thematique,
                    usage=(c.answers or {}).get("usage"),
                    reason=None if reason is None or len(members) == 1 else REASONS[reason],
                    need_type=top_type[i],
                    group_size=len(members),
                )
            )
    rows.sort(key=lambda r: (-r.group_size, reference_order(r.key[len(KEY_PREFIX) :])))
    return rows


def draft_records(rows: Iterable[DraftRow], taxonomy: Taxonomy) -> list[dict[str, Any]]:
    """The rows in :data:`DRAFT_COLUMNS`; a group's title only on its first row.

    A blank title means "the same as the group's", so the team renames a proposal with one
    edit and moves a row by changing its ``proposition`` only.
    """
    records = []
    seen: set[str] = set()
    for row in rows:
        first = row.key not in seen
        seen.add(row.key)
        records.append(
            {
                "proposition": row.key,
                "titre_proposition": row.group_title if first else "",
                "description_proposition": "",
                "statut": "",
                "message": "",
                "lien": "",
                "reference": row.reference,
                "type": row.kind,
                "titre": row.title,
                "description": row.description,
                "collectivite": row.collectivite,
                "thematique": taxonomy.label(row.thematique),
                "usage": row.usage or "",
                "raison": row.reason or "",
                "besoin_type": row.need_type or "",
            }
        )
    return records


def reference_order(reference: str) -> tuple[str, int, str]:
    """``B-0009`` before ``B-0010`` and ``B-10000`` after ``B-9999``."""
    match = re.fullmatch(r"([A-Za-z]+)-(\d+)", reference)
    if match is None:
        return (reference, -1, reference)
    return (match.group(1), int(match.group(2)), reference)


def pair_figures(
    group_of: Mapping[str, str], pairs: Iterable[tuple[str, str, bool]]
) -> dict[str, float]:
    """Pairwise precision and recall of "put in the same proposal" on labelled pairs.

    ``group_of`` maps a contribution reference to its draft key; ``pairs`` are
    ``(reference_a, reference_b, same)``.
    """
    tp = fp = fn = 0
    for a, b, same in pairs:
        together = group_of[a] == group_of[b]
        tp += together and same
        fp += together and not same
        fn += (not together) and same
    return {
        "grouped": tp + fp,
        "precision": tp / (tp + fp) if tp + fp else float("nan"),
        "recall": tp / (tp + fn) if tp + fn else float("nan"),
    }


def _group_title(
    members: list[int],
    views: Sequence[ContributionView],
    vectors: Sequence[dict[str, float]],
    distributions: Sequence[Distribution],
    top_type: Sequence[str | None],
    labels: Mapping[str, str],
) -> str:
    if len(members) == 1 or not vectors:
        return views[members[0]].contribution.title
    if len(members) > CENTRAL_MAX:
        common = Counter(t for i in members if (t := top_type[i]) is not None).most_common(1)
        if common and common[0][0] in labels:
            return labels[common[0][0]]
        return views[members[0]].contribution.title

    def centrality(i: int) -> float:
        return sum(
            combined(cosine(vectors[i], vectors[j]), agreement(distributions[i], distributions[j]))
            for j in members
            if j != i
        )

    best = max(members, key=lambda i: (centrality(i), -i))
    return views[best].contribution.title


class _UnionFind:
    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return root

    def union(self, i: int, j: int) -> None:
        a, b = self.find(i), self.find(j)
        if a != b:
            # the smaller index stays the root: the group's first contribution
            self.parent[max(a, b)] = min(a, b)


class _MemoAnalyzer:
    """The words' vectors, read once per text (the index and its queries read each twice)."""

    def __init__(self, analyzer: Analyzer) -> None:
        self.analyzer = analyzer
        self.cache: dict[str, Sparse] = {}

    def vector(self, text: str) -> Sparse:
        found = self.cache.get(text)
        if found is None:
            found = self.cache[text] = self.analyzer.vector(text)
        return found


class _Memo:
    """A need model that reads each text once: the need-type grouping, the index and the
    titles all ask for the same distributions."""

    def __init__(self, needs: NeedModel) -> None:
        self.needs = needs
        self.cache: dict[str, Distribution] = {}

    def distributions(self, texts: Sequence[str], batch_size: int = 256) -> list[Distribution]:
        missing = [text for text in dict.fromkeys(texts) if text not in self.cache]
        if missing:
            found = self.needs.distributions(missing, batch_size=batch_size)
            self.cache.update(zip(missing, found, strict=True))
        return [self.cache[text] for text in texts]

    def distribution(self, text: str) -> Distribution:
        return self.distributions([text])[0]
