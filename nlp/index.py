"""The same-need index: stored contributions, searched by the score of ``nlp.similarity``.

Search goes through inverted indexes (one posting array per word prefix and per need type),
so its cost grows with the number of stored texts that share a word or a probable type with
the query, not with all stored texts.

The index is filled from texts (``add``, ``add_many``: the need-type model reads each one) or
from the entries stored with the contributions (``add_stored``: no model runs; see
``nlp.index_entry``).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import numpy
from numpy.typing import NDArray

from nlp.index_entry import IndexEntry

if TYPE_CHECKING:
    from nlp.similarity import Similarity

Id = TypeVar("Id", bound=Hashable)
"""A contribution id: the database's integer, or any hashable key."""

Weights = dict[str, float]


class SimilarityIndex(Generic[Id]):
    """Stored contributions, searched for the same need within one kind (besoin, service)."""

    def __init__(self, similarity: Similarity) -> None:
        self.similarity = similarity
        self._kinds: dict[str, _KindIndex[Id]] = {}
        self._kind_of: dict[Id, str] = {}
        self._last_query: tuple[str, Weights, Weights] | None = None

    def __len__(self) -> int:
        return len(self._kind_of)

    def add(self, contribution_id: Id, kind: str, text: str) -> None:
        """Store a contribution (a second call with the same id replaces it)."""
        self.add_many([(contribution_id, kind, text)])

    def add_many(self, items: Iterable[tuple[Id, str, str]], batch: int = 1024) -> None:
        """Store many contributions; their need types are read in batches (much faster)."""
        pending: list[tuple[Id, str, str]] = []
        for item in items:
            pending.append(item)
            if len(pending) >= batch:
                self._store(pending)
                pending = []
        self._store(pending)

    def _store(self, items: Sequence[tuple[Id, str, str]]) -> None:
        # Entries as Similarity.entries makes them, without the model id (never stored here):
        # the similarity may be a stand-in that only reads vectors and distributions.
        similarity = self.similarity
        distributions = similarity.distributions([text for _, _, text in items])
        self.add_entries(
            (contribution_id, kind, IndexEntry.made("", similarity.analyzer.vector(text), types))
            for (contribution_id, kind, text), types in zip(items, distributions, strict=True)
        )

    def add_entries(self, items: Iterable[tuple[Id, str, IndexEntry]]) -> None:
        """Store contributions from their entries (``Similarity.entries``), without a model.

        A contribution stored again replaces the first (the last one given wins).
        """
        latest: dict[Id, tuple[str, IndexEntry]] = {}
        for contribution_id, kind, entry in items:
            latest.pop(contribution_id, None)  # a repeated id goes last, as if added again
            latest[contribution_id] = (kind, entry)
        by_kind: dict[str, list[tuple[Id, IndexEntry]]] = {}
        for contribution_id, (kind, entry) in latest.items():
            self.remove(contribution_id)
            by_kind.setdefault(kind, []).append((contribution_id, entry))
            self._kind_of[contribution_id] = kind
        for kind, entries in by_kind.items():
            self._kinds.setdefault(kind, _KindIndex[Id]()).extend(entries)

    def add_stored(
        self, items: Iterable[tuple[Id, str, str, object]]
    ) -> list[tuple[Id, dict[str, Any]]]:
        """Fill the index at start from ``(id, kind, text, stored entry)`` rows.

        A stored entry (``IndexEntry.stored()``, or its JSON text) of this model is used as
        is; a missing one, or one of another model or format, is computed from the text.

        Returns:
            ``(id, value to store)`` for every contribution whose entry was computed, for the
            caller to write back, so that the next start needs no model.
        """
        model = self.similarity.model_id
        rows: list[tuple[Id, str, IndexEntry | None]] = []
        missing: list[tuple[int, str]] = []
        for contribution_id, kind, text, stored in items:
            entry = IndexEntry.from_stored(stored)
            if entry is None or entry.model != model:
                entry = None
                missing.append((len(rows), text))
            rows.append((contribution_id, kind, entry))
        computed = self.similarity.entries([text for _, text in missing])
        fresh = []
        for (position, _), entry in zip(missing, computed, strict=True):
            contribution_id, kind, _ = rows[position]
            rows[position] = (contribution_id, kind, entry)
            fresh.append((contribution_id, entry.stored()))
        # In the order given: ties in a search stay in the order of storage.
        self.add_entries((cid, kind, entry) for cid, kind, entry in rows if entry is not None)
        return fresh

    def decide(self, score: float, usage_a: str | None, usage_b: str | None) -> bool:
        return self.similarity.decide(score, usage_a, usage_b)

    @property
    def lowest_threshold(self) -> float:
        return self.similarity.lowest_threshold

    def _read(self, text: str) -> tuple[Weights, Weights]:
        """The words and need types of a query; the last one is kept, as the conversation
        searches the same text twice (the services that may answer a need, then the needs)."""
        if self._last_query is None or self._last_query[0] != text:
            [types] = self.similarity.distributions([text])
            self._last_query = (text, self.similarity.analyzer.vector(text), types)
        return self._last_query[1], self._last_query[2]

    def remove(self, contribution_id: Id) -> None:
        kind = self._kind_of.pop(contribution_id, None)
        if kind is not None:
            self._kinds[kind].remove(contribution_id)

    def search(
        self,
        text: str,
        kind: str,
        limit: int = 3,
        *,
        exclude: Iterable[Id] = (),
        min_score: float | None = None,
    ) -> list[tuple[Id, float]]:
        """Stored contributions of ``kind`` describing the same need, best first.

        For a need, ``search(text, "service")`` gives the declared services that may answer
        it (same threshold; see docs/nlp.md for what was and was not measured). A lower
        ``min_score`` than the threshold finds candidates for a person to review.
        """
        index = self._kinds.get(kind)
        if index is None or limit <= 0:
            return []
        query, types = self._read(text)
        if not query and not types:
            return []
        scores = index.scores(query, types)
        threshold = self.similarity.threshold if min_score is None else min_score
        rows = numpy.flatnonzero(scores >= threshold)
        excluded = set(exclude)
        found = [
            (contribution_id, round(float(scores[row]), 4))
            for row in rows.tolist()
            if (contribution_id := index.ids[row]) is not None and contribution_id not in excluded
        ]
        found.sort(key=lambda item: -item[1])  # stable: ties stay in the order of storage
        return found[:limit]


class _Postings:
    """Rows and weights of one term, in arrays that grow by doubling."""

    __slots__ = ("rows", "size", "weights")

    def __init__(self) -> None:
        self.rows = numpy.zeros(4, dtype="int64")
        self.weights = numpy.zeros(4, dtype="float32")
        self.size = 0

    def extend(self, rows: Sequence[int], weights: Sequence[float]) -> None:
        end = self.size + len(rows)
        if end > len(self.rows):
            capacity = max(end, 2 * len(self.rows))
            self.rows = numpy.resize(self.rows, capacity)
            self.weights = numpy.resize(self.weights, capacity)
        self.rows[self.size : end] = rows
        self.weights[self.size : end] = weights
        self.size = end


class _KindIndex(Generic[Id]):
    def __init__(self) -> None:
        self.ids: list[Id | None] = []
        self.rows: dict[Id, int] = {}
        self.postings: dict[str, _Postings] = {}
        self.types: dict[str, _Postings] = {}

    def extend(self, entries: Sequence[tuple[Id, IndexEntry]]) -> None:
        """Append rows; their postings are gathered first, then copied once per key."""
        words: dict[str, tuple[list[int], list[float]]] = {}
        types: dict[str, tuple[list[int], list[float]]] = {}
        for contribution_id, entry in entries:
            row = len(self.ids)
            self.ids.append(contribution_id)
            self.rows[contribution_id] = row
            _gather(words, row, entry.words)
            _gather(types, row, entry.types)
        for postings, gathered in ((self.postings, words), (self.types, types)):
            for key, (rows, weights) in gathered.items():
                found = postings.get(key)
                if found is None:
                    postings[key] = found = _Postings()
                found.extend(rows, weights)

    def remove(self, contribution_id: Id) -> None:
        row = self.rows.pop(contribution_id, None)
        if row is not None:
            # The row's postings stay; its id is gone, so it is never returned.
            self.ids[row] = None

    def scores(self, query: Weights, types: Weights) -> NDArray[numpy.float32]:
        words = self._accumulate(self.postings, query)
        need = self._accumulate(self.types, types)
        # combined(), row by row
        return numpy.float32(1.0) - (numpy.float32(1.0) - words) * (numpy.float32(1.0) - need)

    def _accumulate(self, postings: dict[str, _Postings], query: Weights) -> NDArray[numpy.float32]:
        scores = numpy.zeros(len(self.ids), dtype="float32")
        for key, weight in query.items():
            found = postings.get(key)
            if found is not None:
                size = found.size
                # Rows are unique within one key's postings, so fancy-index addition is exact.
                scores[found.rows[:size]] += weight * found.weights[:size]
        return scores


def _gather(into: dict[str, tuple[list[int], list[float]]], row: int, weights: Weights) -> None:
    for key, weight in weights.items():
        found = into.get(key)
        if found is None:
            into[key] = found = ([], [])
        found[0].append(row)
        found[1].append(weight)
