"""What the same-need index keeps of one contribution, as a value the database can store.

Reading a contribution's need types runs the need-type model (about 660 texts per second):
50,000 stored contributions would take 76 s at every start. The index therefore keeps, per
contribution, an :class:`IndexEntry` (its unit TF-IDF vector and its need-type distribution),
which ``Similarity.entries`` computes once, when the contribution arrives, and which the
database stores as a short JSON string (``dumps``). At start, ``SimilarityIndex.add_stored``
rebuilds the index from those strings without running any model.

An entry names the model that computed it (``Similarity.model_id``): after a retraining, or a
change of ``ENTRY_FORMAT``, stored entries no longer match and are computed again from the
text (and written back by the caller).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

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

    def dumps(self) -> str:
        """Compact JSON (a few hundred bytes), for a text column."""
        data = {"f": ENTRY_FORMAT, "m": self.model, "w": self.words, "n": self.types}
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def loads(cls, data: str | bytes | None) -> IndexEntry | None:
        """The entry stored in ``data``; None if missing, unreadable or of another format."""
        if not data:
            return None
        try:
            value = json.loads(data)
            if value["f"] != ENTRY_FORMAT:
                return None
            words = {str(key): float(weight) for key, weight in value["w"].items()}
            types = {str(key): float(p) for key, p in value["n"].items()}
            return cls(str(value["m"]), words, types)
        except (ValueError, TypeError, KeyError, AttributeError):
            return None
