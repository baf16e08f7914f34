"""Metrics: accuracy, macro-F1, top-k, per-class precision and recall, confusions; and the
precision and recall of the same-need rule on labelled pairs."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nlp.similarity import Similarity

Ranked = Sequence[tuple[str, float]]


@dataclass(frozen=True, slots=True)
class ClassScores:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True, slots=True)
class Report:
    count: int
    accuracy: float
    macro_f1: float
    top3: float
    log_loss: float
    per_class: dict[str, ClassScores]
    confusions: list[tuple[str, str, int]]
    """(true, predicted, count), most frequent first."""


def report(gold: Sequence[str], ranked: Sequence[Ranked], labels: Sequence[str]) -> Report:
    if len(gold) != len(ranked):
        raise ValueError("gold and predictions differ in length")
    predicted = [r[0][0] for r in ranked]
    n = len(gold)
    correct = sum(g == p for g, p in zip(gold, predicted, strict=True))
    top3 = sum(g in {label for label, _ in r[:3]} for g, r in zip(gold, ranked, strict=True))
    loss = 0.0
    for g, r in zip(gold, ranked, strict=True):
        loss -= math.log(max(dict(r).get(g, 0.0), 1e-9))
    per_class = {}
    for label in labels:
        tp = sum(g == label and p == label for g, p in zip(gold, predicted, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, predicted, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted, strict=True))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = ClassScores(precision, recall, f1, tp + fn)
    present = [label for label in labels if per_class[label].support > 0]
    macro = sum(per_class[label].f1 for label in present) / max(len(present), 1)
    confusions = Counter((g, p) for g, p in zip(gold, predicted, strict=True) if g != p)
    return Report(
        count=n,
        accuracy=correct / n if n else 0.0,
        macro_f1=macro,
        top3=top3 / n if n else 0.0,
        log_loss=loss / n if n else 0.0,
        per_class=per_class,
        confusions=[(g, p, c) for (g, p), c in confusions.most_common()],
    )


@dataclass(frozen=True, slots=True)
class SplitAccuracy:
    threshold: float
    above: int
    above_accuracy: float
    below: int
    below_accuracy: float


def split_at(gold: Sequence[str], ranked: Sequence[Ranked], threshold: float) -> SplitAccuracy:
    """Accuracy of the best guess above (confident) and below the threshold."""
    above = [(g, r[0][0]) for g, r in zip(gold, ranked, strict=True) if r[0][1] >= threshold]
    below = [(g, r[0][0]) for g, r in zip(gold, ranked, strict=True) if r[0][1] < threshold]

    def accuracy(pairs: list[tuple[str, str]]) -> float:
        return sum(g == p for g, p in pairs) / len(pairs) if pairs else float("nan")

    return SplitAccuracy(threshold, len(above), accuracy(above), len(below), accuracy(below))


def choose_threshold(
    gold: Sequence[str], ranked: Sequence[Ranked], target: float, step: float = 0.01
) -> float:
    """The lowest threshold above which accuracy reaches ``target`` (from out-of-fold scores).

    Scanning from low to high, the first threshold whose confident share is at least as
    accurate as ``target`` is kept, so the single suggestion is offered as often as the
    target allows.
    """
    t = 0.0
    while t <= 1.0:
        split = split_at(gold, ranked, t)
        if split.above and split.above_accuracy >= target:
            return round(t, 2)
        t += step
    return 1.0


def decision_figures(decided: Iterable[tuple[bool, bool]]) -> dict[str, float]:
    """``(shown, really the same)`` per pair: pairs shown, precision and recall (nan if none)."""
    tp = fp = fn = 0
    for shown, same in decided:
        tp += shown and same
        fp += shown and not same
        fn += (not shown) and same
    return {
        "shown": tp + fp,
        "precision": tp / (tp + fp) if tp + fp else float("nan"),
        "recall": tp / (tp + fn) if tp + fn else float("nan"),
    }


def same_need_figures(
    similarity: Similarity, pairs: Sequence[Mapping[str, Any]], usages: bool = True
) -> dict[str, float]:
    """The conversation's rule on labelled pairs; with ``usages``, as the authors answered."""
    from nlp.similarity import comparable_usage

    def decision(pair: Mapping[str, Any]) -> bool:
        known = [
            comparable_usage(pair.get(key)) if usages else None for key in ("usage_a", "usage_b")
        ]
        return similarity.same(str(pair["a"]), str(pair["b"]), *known)[1]

    return {
        "pairs": len(pairs),
        **decision_figures((decision(pair), bool(pair["same"])) for pair in pairs),
    }
