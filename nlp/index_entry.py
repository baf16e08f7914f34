"""What the same-need index keeps of one contribution, as a value the database can store.

Reading a contribution's need types runs the need-type model (about 660 texts per second):
50,000 stored contributions would take 76 s at every start. The index therefore keeps, per
contribution, an :class:`IndexEntry` (its unit TF-IDF vector and its need-type distribution),
which ``Similarity.entries`` computes once, when the contribution arrives, and which the
database stores in a JSON column (``stored()``: a dict of a few hundred bytes). At start,
``SimilarityIndex.add_stored`` rebuilds the index from those values without running any model.

An entry names the model that computed it (``Similarity.model_id``): after a retraining, or a
change of ``ENTRY_FORMAT``, stored entries no longer match and are computed again from the
text (and written back by the caller).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

ENTRY_FORMAT = 1
"""Bump when what an entry holds, or how a text becomes one, changes in code (the tokenizer,
the content words, the rounding): entries of another format are computed again."""

WEIGHT_DIGITS = 6
"""Word weights are rounded so that a stored entry and a freshly computed one are equal."""


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """One contribution as the index reads it.

    Attributes:
        model: ``Similarity.model_id`` of the model that computed it.
        words: unit TF-IDF vector, word prefix → weight.
        types: probable need types, type id → probability (``nlp.needs.Distribution``).
    """

    model: str
    words: dict[str, float]
    types: dict[str, float]

    @classmethod
    def made(cls, model: str, words: dict[str, float], types: dict[str, float]) -> IndexEntry:
        """An entry of freshly computed values, its word weights rounded as stored."""
        return cls(model, {term: round(w, WEIGHT_DIGITS) for term, w in words.items()}, types)

    def stored(self) -> dict[str, Any]:
        """The JSON value to store (a JSON column; ``json.dumps`` it for a text column)."""
        return {"f": ENTRY_FORMAT, "m": self.model, "w": self.words, "n": self.types}

    @classmethod
    def from_stored(cls, value: object) -> IndexEntry | None:
        """The entry in a stored value (a dict, or its JSON text).

        None, never an exception, if the value is missing, unreadable or of another format.
        """
        try:
            if isinstance(value, str | bytes):
                value = json.loads(value)
            if not isinstance(value, dict) or value.get("f") != ENTRY_FORMAT:
                return None
            words = {str(key): float(weight) for key, weight in value["w"].items()}
            types = {str(key): float(p) for key, p in value["n"].items()}
            return cls(str(value["m"]), words, types)
        except (ValueError, TypeError, KeyError, AttributeError):
            return None
