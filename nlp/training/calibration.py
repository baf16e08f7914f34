"""The classifier's calibration, fitted on out-of-fold scores of ``train.jsonl``.

Cross-validation gives every training line a score from a model that never saw it; the
temperature, the familiarity guard and the confidence threshold are fitted on those scores
(``nlp.spacy_classifier.Calibration``, docs/nlp.md).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from config.taxonomy import Taxonomy
from nlp.corpus import Labelled
from nlp.evaluation import choose_threshold, report, split_at
from nlp.paths import SEED
from nlp.spacy_classifier import Calibration, SpacyClassifier, calibrate
from nlp.training.textcat import TrainingPlan, folds, taxonomy_examples, train
from nlp.vocabulary import known_stems

CONFIDENT_ACCURACY = 0.9
"""Above the threshold, the cross-validated accuracy of the single suggestion reaches this."""


@dataclass
class FoldResult:
    gold: list[str]
    raw: list[tuple[dict[str, float], float]]
    train_cpu: float
    predict_cpu: float


def cross_validate(
    rows: Sequence[Labelled], taxonomy: Taxonomy, plan: TrainingPlan, k: int
) -> FoldResult:
    """Out-of-fold raw probabilities of every training row."""
    labels = list(taxonomy.ids)
    extra = taxonomy_examples(taxonomy)
    gold: list[str] = [""] * len(rows)
    raw: list[tuple[dict[str, float], float]] = [({}, 0.0)] * len(rows)
    train_cpu = predict_cpu = 0.0
    for number, held in enumerate(folds(rows, k)):
        held_set = set(held)
        fit = [row for i, row in enumerate(rows) if i not in held_set] + extra
        start = time.process_time()
        nlp = train(fit, labels, plan, seed=SEED + number)
        train_cpu += time.process_time() - start
        classifier = SpacyClassifier(nlp, known_stems(r.text for r in fit), Calibration())
        start = time.process_time()
        predicted = classifier.raw([rows[i].text for i in held])
        predict_cpu += time.process_time() - start
        for i, value in zip(held, predicted, strict=True):
            gold[i] = rows[i].label
            raw[i] = value
    return FoldResult(gold, raw, train_cpu, predict_cpu)


def ranked_with(
    result: FoldResult, calibration: Calibration
) -> list[tuple[tuple[str, float], ...]]:
    return [calibrate(cats, familiar, calibration) for cats, familiar in result.raw]


def fit_temperature(result: FoldResult) -> float:
    """The temperature minimising the out-of-fold log-loss (golden-section search)."""

    def loss(temperature: float) -> float:
        calibration = Calibration(temperature=temperature, familiar_share=1e-9)
        total = 0.0
        for gold, ranked in zip(result.gold, ranked_with(result, calibration), strict=True):
            total -= math.log(max(dict(ranked)[gold], 1e-12))
        return total / len(result.gold)

    low, high = 0.05, 5.0
    ratio = (math.sqrt(5) - 1) / 2
    for _ in range(40):
        a = high - ratio * (high - low)
        b = low + ratio * (high - low)
        if loss(a) < loss(b):
            high = b
        else:
            low = a
    return round((low + high) / 2, 3)


def calibrate_plan(
    rows: list[Labelled], taxonomy: Taxonomy, plan: TrainingPlan, k: int, target: float
) -> dict[str, object]:
    """Temperature, familiarity guard and confidence threshold, all from out-of-fold scores."""
    result = cross_validate(rows, taxonomy, plan, k)
    temperature = fit_temperature(result)
    familiar = sorted(f for _, f in result.raw)
    # The guard must leave French contributions alone: the 5th percentile of their familiarity.
    familiar_share = round(max(familiar[len(familiar) // 20], 0.2), 2)
    base = Calibration(temperature=temperature, familiar_share=familiar_share)
    ranked = ranked_with(result, base)
    threshold = choose_threshold(result.gold, ranked, target)
    split = split_at(result.gold, ranked, threshold)
    scores = report(result.gold, ranked, list(taxonomy.ids))
    return {
        "calibration": {
            "temperature": temperature,
            "threshold": threshold,
            "familiar_share": familiar_share,
        },
        "cross_validation": {
            "folds": k,
            "accuracy": round(scores.accuracy, 4),
            "macro_f1": round(scores.macro_f1, 4),
            "top3": round(scores.top3, 4),
            "log_loss": round(scores.log_loss, 3),
            "target_accuracy_above_threshold": target,
            "above": split.above,
            "above_accuracy": round(split.above_accuracy, 4),
            "below": split.below,
            "below_accuracy": round(split.below_accuracy, 4),
        },
    }
