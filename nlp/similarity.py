"""Same-need detection between contributions: words and need types, in one indexed score.

Two pieces of evidence, each in [0, 1]:

- **the words**: the cosine of unit TF-IDF vectors over content words, folded (lower case,
  no accents) and cut to their first ``prefix`` letters, which joins inflections and
  derivations (``réserver``, ``réservent``, ``réservation``) without a lemmatizer's cost.
  Inverse document frequencies come from the training corpus and are saved with the model, so
  a score does not drift as contributions arrive;
- **the need types** (``nlp.needs``): the probability that both texts are of the same type of
  the catalogue, which catches the same need said with other words.

The score is their noisy-or, ``1 - (1 - words) x (1 - need)``: either one can carry it, and
both together count more. Thresholds depend on the usages the authors chose (what the
service is mainly for) and were chosen on the dev pair sets (docs/nlp.md).

Search goes through inverted indexes (one posting array per word prefix and per need type),
so its cost grows with the number of stored texts that share a word or a probable type with
the query, not with all stored texts.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Generic, TypeVar

import numpy
import spacy
from numpy.typing import NDArray
from spacy.language import Language

from nlp.features import clean_text, content_words, words
from nlp.needs import MODEL_SUBDIR, Distribution, NeedModel, agreement
from nlp.needs import SETTINGS_FILE as NEEDS_SETTINGS_FILE

SIMILARITY_FILE = "similarity.json"

Sparse = dict[str, float]
Id = TypeVar("Id", bound=Hashable)
"""A contribution id: the database's integer, or any hashable key."""


UNKNOWN_USAGE = "autre"
"""The usage answer that says nothing ("autre chose"): compared as unknown."""


def comparable_usage(value: object) -> str | None:
    """A usage two contributions can be compared on; None for "other" or missing."""
    return value if isinstance(value, str) and value and value != UNKNOWN_USAGE else None


@dataclass(frozen=True)
class SimilaritySettings:
    """Thresholds on the score, chosen on the dev pair sets (docs/nlp.md).

    ``threshold`` applies when the usage of one text is unknown; ``usage_threshold`` when
    both authors gave the same usage (what the service is mainly for); ``other_usage_threshold``
    when they gave different ones (None: never the same need).
    """

    threshold: float = 0.48
    prefix: int = 6
    usage_threshold: float = 0.17
    other_usage_threshold: float | None = None


def combined(words: float, need: float) -> float:
    """The score of two pieces of evidence: their noisy-or."""
    return 1.0 - (1.0 - words) * (1.0 - need)


class Analyzer:
    """Turns a text into its unit TF-IDF vector."""

    def __init__(self, nlp: Language, idf: dict[str, float], prefix: int) -> None:
        self.nlp = nlp
        self.idf = idf
        self.prefix = prefix
        self.default_idf = max(idf.values(), default=1.0)

    @classmethod
    def fit(cls, nlp: Language, corpus: Iterable[str], prefix: int) -> Analyzer:
        """Inverse document frequencies from a reference corpus (the training texts)."""
        analyzer = cls(nlp, {}, prefix)
        documents = [set(analyzer.terms(text)) for text in corpus]
        frequency = Counter(term for document in documents for term in document)
        n = len(documents)
        analyzer.idf = {
            term: round(math.log((1 + n) / (1 + df)) + 1.0, 4) for term, df in frequency.items()
        }
        analyzer.default_idf = max(analyzer.idf.values(), default=1.0)
        return analyzer

    def terms(self, text: str) -> list[str]:
        tokens = content_words(words(self.nlp.make_doc(clean_text(text))))
        return [w[: self.prefix] for w in tokens if len(w) > 2]

    def vector(self, text: str) -> Sparse:
        counts = Counter(self.terms(text))
        weights = {
            term: (1.0 + math.log(count)) * self.idf.get(term, self.default_idf)
            for term, count in counts.items()
        }
        norm = math.sqrt(sum(w * w for w in weights.values()))
        return {term: w / norm for term, w in weights.items()} if norm else {}


def cosine(a: Sparse, b: Sparse) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(w * b.get(term, 0.0) for term, w in a.items())


class Similarity:
    """Scores pairs of texts, and makes indexes that share its settings."""

    def __init__(
        self, analyzer: Analyzer, settings: SimilaritySettings, needs: NeedModel | None = None
    ) -> None:
        self.analyzer = analyzer
        self.settings = settings
        self.needs = needs
        """None: the words alone (a model folder without need types)."""

    @classmethod
    def fit(
        cls,
        nlp: Language,
        corpus: Iterable[str],
        settings: SimilaritySettings,
        needs: NeedModel | None = None,
    ) -> Similarity:
        return cls(Analyzer.fit(nlp, corpus, settings.prefix), settings, needs)

    @classmethod
    def load(cls, path: Path, nlp: Language | None = None) -> Similarity:
        data = json.loads((path / SIMILARITY_FILE).read_text(encoding="utf-8"))
        settings = SimilaritySettings(**data["settings"])
        needs_path = path / MODEL_SUBDIR
        needs = NeedModel.load(needs_path) if (needs_path / NEEDS_SETTINGS_FILE).is_file() else None
        return cls(
            Analyzer(nlp or spacy.blank("fr"), data["idf"], settings.prefix), settings, needs
        )

    def save(self, path: Path, extra: dict[str, object] | None = None) -> None:
        data = {"settings": asdict(self.settings), **(extra or {}), "idf": self.analyzer.idf}
        (path / SIMILARITY_FILE).write_text(
            json.dumps(data, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8"
        )

    def distributions(self, texts: Sequence[str]) -> list[Distribution]:
        """The probable need types of each text (none without a need model)."""
        return self.needs.distributions(texts) if self.needs else [{} for _ in texts]

    def evidence(self, a: str, b: str) -> tuple[float, float]:
        """The words' cosine and the need types' agreement of two texts."""
        first, second = self.distributions([a, b])
        words = cosine(self.analyzer.vector(a), self.analyzer.vector(b))
        return round(words, 4), round(agreement(first, second), 4)

    def score(self, a: str, b: str) -> float:
        return round(combined(*self.evidence(a, b)), 4)

    def same(
        self, a: str, b: str, usage_a: str | None = None, usage_b: str | None = None
    ) -> tuple[float, bool]:
        """The score of two texts, and whether they describe the same need.

        ``usage_a`` and ``usage_b`` are what each author said the service is mainly for
        (None when unknown or "other"): the words tell the subject, the usage tells the need.
        """
        score = self.score(a, b)
        return score, self.decide(score, usage_a, usage_b)

    @property
    def threshold(self) -> float:
        """The threshold when a usage is unknown (the words alone decide)."""
        return self.settings.threshold

    def decide(self, score: float, usage_a: str | None, usage_b: str | None) -> bool:
        settings = self.settings
        if usage_a is None or usage_b is None:
            return score >= settings.threshold
        if usage_a == usage_b:
            return score >= settings.usage_threshold
        limit = settings.other_usage_threshold
        return limit is not None and score >= limit

    @property
    def lowest_threshold(self) -> float:
        """The lowest score that may be the same need, whatever the usages."""
        settings = self.settings
        candidates = [settings.threshold, settings.usage_threshold]
        if settings.other_usage_threshold is not None:
            candidates.append(settings.other_usage_threshold)
        return min(candidates)


class SimilarityIndex(Generic[Id]):
    """Stored contributions, searched for the same need within one kind (besoin, service)."""

    def __init__(self, similarity: Similarity) -> None:
        self.similarity = similarity
        self._kinds: dict[str, _KindIndex[Id]] = {}
        self._kind_of: dict[Id, str] = {}
        self._last_query: tuple[str, Sparse, Distribution] | None = None

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
        distributions = self.similarity.distributions([text for _, _, text in items])
        for (contribution_id, kind, text), distribution in zip(items, distributions, strict=True):
            self.remove(contribution_id)
            index = self._kinds.setdefault(kind, _KindIndex[Id]())
            index.add(contribution_id, self.similarity.analyzer.vector(text), distribution)
            self._kind_of[contribution_id] = kind

    def decide(self, score: float, usage_a: str | None, usage_b: str | None) -> bool:
        return self.similarity.decide(score, usage_a, usage_b)

    @property
    def lowest_threshold(self) -> float:
        return self.similarity.lowest_threshold

    def _read(self, text: str) -> tuple[Sparse, Distribution]:
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

    def append(self, row: int, weight: float) -> None:
        if self.size == len(self.rows):
            self.rows = numpy.concatenate([self.rows, numpy.zeros_like(self.rows)])
            self.weights = numpy.concatenate([self.weights, numpy.zeros_like(self.weights)])
        self.rows[self.size] = row
        self.weights[self.size] = weight
        self.size += 1


class _KindIndex(Generic[Id]):
    def __init__(self) -> None:
        self.ids: list[Id | None] = []
        self.rows: dict[Id, int] = {}
        self.postings: dict[str, _Postings] = {}
        self.types: dict[str, _Postings] = {}

    def add(self, contribution_id: Id, vector: Sparse, types: Distribution) -> None:
        row = len(self.ids)
        self.ids.append(contribution_id)
        self.rows[contribution_id] = row
        for term, weight in vector.items():
            self.postings.setdefault(term, _Postings()).append(row, weight)
        for need, probability in types.items():
            self.types.setdefault(need, _Postings()).append(row, probability)

    def remove(self, contribution_id: Id) -> None:
        row = self.rows.pop(contribution_id, None)
        if row is not None:
            # The row's postings stay; its id is gone, so it is never returned.
            self.ids[row] = None

    def scores(self, query: Sparse, types: Distribution) -> NDArray[numpy.float32]:
        words = self._accumulate(self.postings, query)
        need = self._accumulate(self.types, types)
        # combined(), row by row
        return numpy.float32(1.0) - (numpy.float32(1.0) - words) * (numpy.float32(1.0) - need)

    def _accumulate(
        self, postings: dict[str, _Postings], query: dict[str, float]
    ) -> NDArray[numpy.float32]:
        scores = numpy.zeros(len(self.ids), dtype="float32")
        for key, weight in query.items():
            found = postings.get(key)
            if found is not None:
                size = found.size
                # Rows are unique within one key's postings, so fancy-index addition is exact.
                scores[found.rows[:size]] += weight * found.weights[:size]
        return scores
