"""Need types: the catalogue of proposals a contribution may belong to, and a model over it.

Two collectivités rarely describe the same need with the same words (« les gens appellent
l'accueil pour un lampadaire » / « une appli pour signaler les pannes »). The catalogue in
``nlp/data/needs/`` names the needs that one duplicated service would answer (the grain of
the 2021 proposals), and every training text carries its need type. A spaCy ``textcat``
trained on them gives a text a probability over the types; two texts *agree* by the
probability that they are of the same type, which the same-need score combines with the
words (``nlp.similarity``). Texts that fit no type of the catalogue are trained as ``aucun``,
which never counts as agreement.

As for the thématique classifier, a text whose words the model has mostly never seen
(another language, random characters) is trusted in proportion to its known share: the rest
of its probability goes to ``aucun``, so two unfamiliar texts cannot agree by chance.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import spacy
from spacy.language import Language

from nlp.features import clean_text, words
from nlp.paths import CATALOGUE_FILE
from nlp.vectors import attach_vectors, save_pipeline
from nlp.vocabulary import familiarity

NO_TYPE = "aucun"
MODEL_SUBDIR = "needs"
SETTINGS_FILE = "needs.json"
KEPT = 5
"""The most probable types kept per text: agreement below them is negligible."""
MIN_PROBABILITY = 0.01
FAMILIAR_SHARE = 0.5
"""A text with at least this share of known content words is trusted fully."""

Distribution = dict[str, float]
"""The probable need types of a text (``aucun`` left out), their probabilities summing to ≤ 1."""


@dataclass(frozen=True, slots=True)
class NeedType:
    id: str
    thematique: str
    label: str
    usage: str
    definition: str


def read_catalogue(path: Path = CATALOGUE_FILE) -> list[NeedType]:
    with path.open(encoding="utf-8") as handle:
        return [NeedType(**json.loads(line)) for line in handle if line.strip()]


class NeedModel:
    """Probable need types of texts, from the trained ``textcat``."""

    def __init__(self, nlp: Language, known: Iterable[str]) -> None:
        self.nlp = nlp
        self.known_stems = frozenset(known)

    @classmethod
    def load(cls, path: Path) -> NeedModel:
        """The model saved under ``path`` (a model folder's ``needs`` subfolder)."""
        settings = json.loads((path / SETTINGS_FILE).read_text(encoding="utf-8"))
        nlp = spacy.load(path)
        if settings.get("vectors"):
            attach_vectors(nlp, settings["vectors"])
        return cls(nlp, settings["known_stems"])

    def save(self, path: Path, extra: dict[str, object]) -> None:
        path.mkdir(parents=True, exist_ok=True)
        save_pipeline(self.nlp, path)
        settings = {**extra, "known_stems": sorted(self.known_stems)}
        (path / SETTINGS_FILE).write_text(
            json.dumps(settings, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )

    @property
    def types(self) -> tuple[str, ...]:
        return tuple(self.nlp.get_pipe("textcat").labels)  # type: ignore[attr-defined]

    def distribution(self, text: str) -> Distribution:
        return self.distributions([text])[0]

    def distributions(self, texts: Sequence[str], batch_size: int = 256) -> list[Distribution]:
        docs = self.nlp.pipe([clean_text(text) for text in texts], batch_size=batch_size)
        return [self._distribution(doc) for doc in docs]

    def _distribution(self, doc: spacy.tokens.Doc) -> Distribution:
        trust = min(1.0, familiarity(words(doc), self.known_stems) / FAMILIAR_SHARE)
        ranked = sorted(
            ((need, p * trust) for need, p in doc.cats.items() if need != NO_TYPE),
            key=lambda item: (-item[1], item[0]),
        )
        return {need: round(p, 4) for need, p in ranked[:KEPT] if p >= MIN_PROBABILITY}


def agreement(a: Distribution, b: Distribution) -> float:
    """The probability that two texts are of the same need type."""
    if len(a) > len(b):
        a, b = b, a
    return sum(p * b.get(need, 0.0) for need, p in a.items())
