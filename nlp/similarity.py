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

The index of stored contributions is ``nlp.index.SimilarityIndex`` (also importable from here).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path

import spacy
from spacy.language import Language

from nlp.features import clean_text, content_words, words
from nlp.index import SimilarityIndex as SimilarityIndex
from nlp.index_entry import ENTRY_FORMAT, IndexEntry
from nlp.needs import MODEL_SUBDIR, Distribution, NeedModel, agreement
from nlp.needs import SETTINGS_FILE as NEEDS_SETTINGS_FILE

SIMILARITY_FILE = "similarity.json"

Sparse = dict[str, float]


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


def _evidence(
    words_a: Sparse, words_b: Sparse, types_a: Distribution, types_b: Distribution
) -> tuple[float, float]:
    """The words' cosine and the need types' agreement, as the score combines them."""
    return round(cosine(words_a, words_b), 4), round(agreement(types_a, types_b), 4)


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

    def entries(self, texts: Sequence[str]) -> list[IndexEntry]:
        """What the index keeps of each text, to store with it (need types read in one batch)."""
        model = self.model_id
        return [
            IndexEntry.made(model, self.analyzer.vector(text), types)
            for text, types in zip(texts, self.distributions(texts), strict=True)
        ]

    @cached_property
    def model_id(self) -> str:
        """A digest of all an index entry depends on: the IDF, the prefix, the need types."""
        digest = hashlib.sha256()
        head = [ENTRY_FORMAT, self.settings.prefix, self.analyzer.idf]
        if self.needs is not None:
            head += [self.needs.types, sorted(self.needs.known_stems)]
        digest.update(json.dumps(head, sort_keys=True).encode())
        if self.needs is not None:
            digest.update(self.needs.nlp.get_pipe("textcat").model.to_bytes())  # type: ignore[attr-defined]
        return digest.hexdigest()[:16]

    def evidence(self, a: str, b: str) -> tuple[float, float]:
        """The words' cosine and the need types' agreement of two texts."""
        first, second = self.distributions([a, b])
        return _evidence(self.analyzer.vector(a), self.analyzer.vector(b), first, second)

    def score(self, a: str, b: str) -> float:
        return round(combined(*self.evidence(a, b)), 4)

    def scores(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        """``score`` of many pairs, each distinct text read once (need types in one batch):
        the texts of a proposal of twelve make 66 pairs."""
        texts = list(dict.fromkeys(text for pair in pairs for text in pair))
        vectors = {text: self.analyzer.vector(text) for text in texts}
        types = dict(zip(texts, self.distributions(texts), strict=True))
        return [
            round(combined(*_evidence(vectors[a], vectors[b], types[a], types[b])), 4)
            for a, b in pairs
        ]

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
