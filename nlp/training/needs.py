"""Training the need-type model on ``nlp/data/needs`` (``nlp.needs`` reads it)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from spacy.language import Language

from nlp.corpus import Labelled
from nlp.needs import NO_TYPE, NeedModel, NeedType, read_catalogue
from nlp.paths import ANNOTATIONS_FILE, EXAMPLES_FILE, SEED
from nlp.training.textcat import SHIPPED_MODEL, TrainingPlan, train, training_environment
from nlp.vocabulary import known_stems

NEEDS_PLAN = TrainingPlan(model={**SHIPPED_MODEL, "length": 2**12})
"""The thématique classifier's architecture, with fewer hash buckets: 380 types x buckets
floats is the model's size (docs/nlp.md)."""
MEMBERS = 3
"""Models trained with as many seeds, then averaged weight by weight (see train_need_model)."""


def training_rows(
    files: Sequence[Path] = (ANNOTATIONS_FILE, EXAMPLES_FILE),
    catalogue: Sequence[NeedType] | None = None,
) -> list[Labelled]:
    """Texts labelled with their need type (``{"text", "need", ...}`` lines)."""
    known = {item.id for item in catalogue or read_catalogue()} | {NO_TYPE}
    rows = []
    for path in files:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                data = json.loads(line)
                if data["need"] not in known:
                    raise ValueError(f"{path}:{number}: unknown need type {data['need']!r}")
                rows.append(Labelled(data["text"], data["need"]))
    return rows


def train_need_model(
    output: Path,
    catalogue: Sequence[NeedType] | None = None,
    rows: Sequence[Labelled] | None = None,
    plan: TrainingPlan = NEEDS_PLAN,
    log: Callable[[str], None] = print,
    *,
    members: int = MEMBERS,
    seed: int = SEED,
) -> NeedModel:
    """Train the need-type model on ``nlp/data/needs`` and save it to ``output``.

    Args:
        members: models trained with seeds ``seed``, ``seed + 1``…, then averaged.
    """
    catalogue = catalogue or read_catalogue()
    rows = rows or training_rows(catalogue=catalogue)
    labels = [item.id for item in catalogue] + [NO_TYPE]
    trained = []
    for member in range(members):
        log(f"need types: model {member + 1}/{members}, {len(rows)} lines, {len(labels)} labels…")
        trained.append(train(rows, labels, plan, seed=seed + member))
    model = NeedModel(average_weights(trained), known_stems(row.text for row in rows))
    extra = {"training_lines": len(rows), "types": len(catalogue), "seeds": members}
    model.save(
        output,
        {**extra, "seed": seed, "vectors": plan.vectors, "environment": training_environment()},
    )
    return model


def average_weights(pipelines: Sequence[Language]) -> Language:
    """The first pipeline, its ``textcat`` weights replaced by the mean of all pipelines'.

    One model trained on few examples per type depends much on its seed (docs/nlp.md). The
    textcat is linear up to its softmax, so averaging the weights averages the members'
    scores before the softmax: an ensemble at the cost of one model.
    """
    first, *others = [nlp.get_pipe("textcat").model for nlp in pipelines]  # type: ignore[attr-defined]
    for nodes in zip(first.walk(), *(other.walk() for other in others), strict=True):
        node = nodes[0]
        for name in node.param_names:
            if node.has_param(name):
                values = [each.get_param(name) for each in nodes]
                node.set_param(name, sum(values) / len(values))
    return pipelines[0]
