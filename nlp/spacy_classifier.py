"""The shipped thématique classifier: a spaCy ``textcat`` with calibrated, guarded scores.

Scores go through two adjustments after the softmax, both fitted by cross-validation on the
training set (see ``nlp/training/calibration.py`` and ``docs/nlp.md``):

- a temperature, so that a score of 0.9 is right about nine times in ten;
- a familiarity guard: text whose words the classifier has mostly never seen (English,
  another language, random characters, emoji) is mixed with the uniform distribution in
  proportion to the unknown share, so it can never pass the confidence threshold.

Both keep the order of the ranking, so top-3 is the textcat's own.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import spacy
from spacy.language import Language

import nlp.features  # noqa: F401  (registers recueil.TextCatHashed.v1)
from nlp.classifier import Prediction
from nlp.features import clean_text, words
from nlp.paths import MODEL_DIR
from nlp.vectors import attach_vectors
from nlp.vocabulary import familiarity

SETTINGS_FILE = "recueil.json"


@dataclass(frozen=True)
class Calibration:
    """What turns raw textcat probabilities into the scores the dialogue sees."""

    temperature: float = 1.0
    threshold: float = 0.6
    familiar_share: float = 0.5
    """A text with at least this share of known content words is trusted fully."""


class SpacyClassifier:
    """:class:`nlp.classifier.Classifier` backed by a trained spaCy pipeline."""

    def __init__(self, nlp: Language, known_stems: Iterable[str], calibration: Calibration) -> None:
        self.nlp = nlp
        self.labels: tuple[str, ...] = tuple(nlp.get_pipe("textcat").labels)  # type: ignore[attr-defined]
        self.known_stems = frozenset(known_stems)
        self.calibration = calibration
        self.threshold = calibration.threshold

    @classmethod
    def load(cls, path: Path = MODEL_DIR) -> SpacyClassifier:
        """The pipeline saved in ``path``, with the static vectors of its vectors package."""
        settings = json.loads((path / SETTINGS_FILE).read_text(encoding="utf-8"))
        nlp = spacy.load(path)
        if settings.get("vectors"):
            attach_vectors(nlp, settings["vectors"])
        return cls(nlp, settings["known_stems"], Calibration(**settings["calibration"]))

    def save_settings(self, path: Path, extra: dict[str, object] | None = None) -> None:
        """Write the calibration and the known stems next to the saved pipeline."""
        settings = {
            "calibration": asdict(self.calibration),
            **(extra or {}),
            "known_stems": sorted(self.known_stems),
        }
        (path / SETTINGS_FILE).write_text(
            json.dumps(settings, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )

    def with_calibration(self, calibration: Calibration) -> SpacyClassifier:
        return SpacyClassifier(self.nlp, self.known_stems, calibration)

    def predict(self, text: str) -> Prediction:
        return self.predict_many([text])[0]

    def predict_many(self, texts: Sequence[str], batch_size: int = 256) -> list[Prediction]:
        """Predictions for many texts at once (several times faster than one by one)."""
        cleaned = [clean_text(text) for text in texts]
        docs = list(self.nlp.pipe(cleaned, batch_size=batch_size))
        return [self._scores(doc) for doc in docs]

    def raw(self, texts: Sequence[str]) -> list[tuple[dict[str, float], float]]:
        """Uncalibrated probabilities and the familiarity of each text (for calibration)."""
        docs = self.nlp.pipe([clean_text(text) for text in texts], batch_size=256)
        return [(dict(doc.cats), self.familiarity(words(doc))) for doc in docs]

    def familiarity(self, tokens: Sequence[str]) -> float:
        return familiarity(tokens, self.known_stems)

    def _scores(self, doc: spacy.tokens.Doc) -> Prediction:
        return Prediction(calibrate(doc.cats, self.familiarity(words(doc)), self.calibration))


def calibrate(
    cats: dict[str, float], familiarity: float, calibration: Calibration
) -> tuple[tuple[str, float], ...]:
    """Temperature-scaled probabilities mixed with uniform by unfamiliarity, best first."""
    labels = sorted(cats)
    logs = [math.log(max(cats[label], 1e-12)) / calibration.temperature for label in labels]
    peak = max(logs)
    weights = [math.exp(value - peak) for value in logs]
    total = sum(weights)
    trust = min(1.0, familiarity / calibration.familiar_share)
    uniform = 1.0 / len(labels)
    scores = [trust * w / total + (1.0 - trust) * uniform for w in weights]
    ranked = sorted(zip(labels, scores, strict=True), key=lambda kv: (-kv[1], kv[0]))
    return tuple(ranked)
