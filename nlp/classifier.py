"""The thématique classifier interface, and a first lexical implementation.

The dialogue only needs :class:`Classifier`: ranked thématique ids with scores in [0, 1]
summing to 1, and the confidence threshold above which a single suggestion is offered.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Protocol

from config.taxonomy import Taxonomy


@dataclass(frozen=True, slots=True)
class Prediction:
    """Thématique ids with scores, best first."""

    ranked: tuple[tuple[str, float], ...]

    @property
    def best(self) -> tuple[str, float]:
        return self.ranked[0]

    def top(self, n: int) -> list[tuple[str, float]]:
        return list(self.ranked[:n])


class Classifier(Protocol):
    @property
    def threshold(self) -> float: ...

    def predict(self, text: str) -> Prediction: ...


_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    [
        "le",
        "la",
        "les",
        "un",
        "une",
        "des",
        "de",
        "du",
        "d",
        "l",
        "et",
        "ou",
        "a",
        "au",
        "aux",
        "en",
        "dans",
        "pour",
        "par",
        "sur",
        "avec",
        "sans",
        "ce",
        "ces",
        "cet",
        "cette",
        "qui",
        "que",
        "quoi",
        "dont",
        "nos",
        "notre",
        "nous",
        "vous",
        "votre",
        "vos",
        "leur",
        "leurs",
        "son",
        "sa",
        "ses",
        "est",
        "sont",
        "pas",
        "ne",
        "plus",
        "tres",
        "tout",
        "tous",
        "toute",
        "toutes",
        "on",
        "il",
        "elle",
        "ils",
        "elles",
        "je",
        "j",
        "y",
        "se",
        "s",
        "c",
        "n",
        "m",
        "qu",
    ]
)


def tokens(text: str) -> list[str]:
    """Folded words, crudely stemmed to their first six letters."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return [w[:6] for w in _WORD.findall(folded) if w not in _STOP and len(w) > 1]


class KeywordClassifier:
    """Naive Bayes over the taxonomy's own labels, descriptions and examples.

    A dependable first implementation with no training step; the spaCy classifier replaces it
    when a trained model ships. Uncertain on text unrelated to any thématique.
    """

    def __init__(self, taxonomy: Taxonomy, threshold: float = 0.6) -> None:
        self.threshold = threshold
        self._ids = taxonomy.ids
        self._counts: dict[str, Counter[str]] = {}
        vocabulary: set[str] = set()
        for item in taxonomy:
            words = Counter(tokens(" ".join((item.label, item.description, *item.examples))))
            self._counts[item.id] = words
            vocabulary.update(words)
        self._vocabulary_size = max(len(vocabulary), 1)
        self._totals = {key: sum(c.values()) for key, c in self._counts.items()}

    def predict(self, text: str) -> Prediction:
        words = [w for w in tokens(text) if any(w in c for c in self._counts.values())]
        logs = {
            key: sum(
                math.log(
                    (self._counts[key][w] + 0.5) / (self._totals[key] + 0.5 * self._vocabulary_size)
                )
                for w in words
            )
            for key in self._ids
        }
        peak = max(logs.values())
        weights = {key: math.exp(value - peak) for key, value in logs.items()}
        total = sum(weights.values())
        ranked = sorted(((k, w / total) for k, w in weights.items()), key=lambda kv: -kv[1])
        return Prediction(tuple(ranked))
