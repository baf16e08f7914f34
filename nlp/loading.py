"""Loading the shipped models for the bot, with a logged fallback when none is shipped."""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from config.taxonomy import Taxonomy
from nlp.classifier import Classifier, KeywordClassifier
from nlp.paths import MODEL_DIR
from nlp.similarity import SIMILARITY_FILE, Similarity
from nlp.spacy_classifier import SETTINGS_FILE, SpacyClassifier

log = logging.getLogger(__name__)


def model_available(path: Path = MODEL_DIR) -> bool:
    return (path / SETTINGS_FILE).is_file() and (path / "config.cfg").is_file()


def load_classifier(taxonomy: Taxonomy, path: Path = MODEL_DIR) -> Classifier:
    """The trained spaCy classifier, or the keyword one if no model fits the taxonomy."""
    if not model_available(path):
        log.warning("no trained thématique model in %s: keyword classifier used", path)
        return KeywordClassifier(taxonomy)
    try:
        classifier = _load(path)
    except (ImportError, OSError) as exc:
        # A broken install (the vectors package missing) must not stop the bot.
        log.error("the thématique model in %s cannot load (%s): keyword classifier used", path, exc)
        return KeywordClassifier(taxonomy)
    if set(classifier.labels) != set(taxonomy.ids):
        log.warning(
            "the model in %s was trained for other thématiques (run `recueil nlp train`): "
            "keyword classifier used",
            path,
        )
        return KeywordClassifier(taxonomy)
    return classifier


@cache
def _load(path: Path) -> SpacyClassifier:
    """One loaded model per process: the bot and its tests build services many times."""
    return SpacyClassifier.load(path)


def load_similarity(path: Path = MODEL_DIR) -> Similarity:
    """Same-need detection with the IDF saved by training (or fitted on the taxonomy alone)."""
    if (path / SIMILARITY_FILE).is_file():
        return Similarity.load(path)
    raise FileNotFoundError(f"no {SIMILARITY_FILE} in {path}: run `recueil nlp train`")
