"""Retraining is reproducible.

By default, a reduced configuration is retrained (under a minute of CPU): the thématique
classifier on every line of ``train.jsonl`` and the taxonomy for two epochs instead of twelve,
and the need-type model on a fixed quarter of the catalogue's types (every fourth type, all
their lines, plus the lines of no type) with two seeds of two epochs instead of three of
twelve. Its predictions on held-out texts must equal those recorded in
``tests/data/retrain_reference.json``: a change of seed, of training code, of library version
or of a line of that data changes them.

After changing the data (and retraining the shipped model with ``recueil nlp train``), write
the reference again::

    RECUEIL_WRITE_REFERENCE=1 pytest tests/test_nlp_retrain.py -k reduced

The full retraining, compared with the shipped model's held-out figures, is marked ``slow``
(about 15 minutes): ``.ci/run`` runs it after ``./dev test``; by hand, ``pytest -m slow``.
Bit-for-bit equality holds on one machine only (numpy picks its SIMD kernels by CPU): models
record the environment they were trained in (``environment`` in their settings), which a
failure of the full comparison prints beside this machine's.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from spacy.language import Language

from config.taxonomy import default_taxonomy
from nlp.cli import evaluate_file
from nlp.corpus import read_labelled
from nlp.evaluation import same_need_figures
from nlp.loading import load_similarity
from nlp.needs import MODEL_SUBDIR, NO_TYPE, NeedModel, read_catalogue
from nlp.needs import SETTINGS_FILE as NEEDS_SETTINGS_FILE
from nlp.paths import DEV_PAIRS, HELDOUT_FILE, MODEL_DIR, PAIRS_FILE
from nlp.similarity import Similarity
from nlp.spacy_classifier import SETTINGS_FILE, SpacyClassifier
from nlp.training.build import build_model
from nlp.training.needs import NEEDS_PLAN, train_need_model, training_rows
from nlp.training.textcat import TrainingPlan, training_environment

TOLERANCE = 0.02
"""Full retraining: held-out figures within this of the shipped model's."""
PAIR_FLIPS = 4
"""Full retraining of the need types: on another machine, a few pairs of the few dozen
shown may cross the threshold, more than ``TOLERANCE`` on so few (blis, like numpy, picks
its kernels by CPU, which the recorded environment does not tell). Seen on AMD EPYC
machines with the same recorded environment: pairs.jsonl precision 32 of 35 shown (0.914)
for the shipped model, 31 of 33 (0.939) retrained (session 9); dev_pairs.jsonl precision
0.805 shipped, 0.771 retrained, three pairs' worth (session 10, the CI run of 164870e's
parent). A broken training moves dozens of pairs, not four; the reduced retraining above
checks reproducibility bit for bit."""

REFERENCE = Path(__file__).with_name("data") / "retrain_reference.json"
WRITE_REFERENCE = os.environ.get("RECUEIL_WRITE_REFERENCE") == "1"
PROBABILITY_TOLERANCE = 1e-6
"""Reduced retraining: two runs give identical weights, so identical probabilities (printed to
seven decimals). One word added to one of 2,578 training lines moves them by 1e-5 to 1e-4."""
TOP = 3
REDUCED_EPOCHS = 2
REDUCED_NEED_SEEDS = 2
NEED_TYPE_STEP = 4
"""Every fourth type of the catalogue (in file order) is in the reduced need-type model."""


def probes() -> list[str]:
    """Every third held-out text: never trained on, the same for both models."""
    return [row.text for row in read_labelled(HELDOUT_FILE)][::3]


def top_predictions(nlp: Language, texts: Sequence[str]) -> list[list[list[Any]]]:
    """The ``TOP`` best labels of each text, with their raw textcat probabilities."""
    out = []
    for doc in nlp.pipe(texts):
        ranked = sorted(doc.cats.items(), key=lambda item: (-item[1], item[0]))[:TOP]
        out.append([[label, round(p, 7)] for label, p in ranked])
    return out


def reduced_thematique(output: Path) -> None:
    """Built as ``recueil nlp train`` builds, with the shipped calibration and fewer epochs
    (the ``reduced_thematique_dir`` fixture, once per worker)."""
    taxonomy = default_taxonomy()
    shipped = json.loads((MODEL_DIR / SETTINGS_FILE).read_text(encoding="utf-8"))
    build_model(
        output,
        taxonomy,
        plan=replace(TrainingPlan(), epochs=REDUCED_EPOCHS),
        calibration=shipped["calibration"],
        needs=False,
        log=str,
    )


def reduced_thematique_read(output: Path) -> dict[str, Any]:
    """What the reference records of the reduced model: its training size and top labels."""
    classifier = SpacyClassifier.load(output)
    lines = json.loads((output / SETTINGS_FILE).read_text(encoding="utf-8"))["training_lines"]
    return {"lines": lines, "top": top_predictions(classifier.nlp, probes())}


def reduced_need_types(output: Path) -> dict[str, Any]:
    catalogue = read_catalogue()
    kept = catalogue[::NEED_TYPE_STEP]
    labels = {item.id for item in kept} | {NO_TYPE}
    rows = [row for row in training_rows(catalogue=catalogue) if row.label in labels]
    model = train_need_model(
        output,
        kept,
        rows,
        replace(NEEDS_PLAN, epochs=REDUCED_EPOCHS),
        log=str,
        members=REDUCED_NEED_SEEDS,
    )
    reloaded = NeedModel.load(output)
    assert reloaded.types == model.types
    settings = json.loads((output / NEEDS_SETTINGS_FILE).read_text(encoding="utf-8"))
    assert settings["environment"] == training_environment()
    return {"types": len(kept), "lines": len(rows), "top": top_predictions(reloaded.nlp, probes())}


def differences(expected: list[Any], got: list[Any]) -> list[str]:
    """Probes whose labels or probabilities differ, described for the failure message."""
    found = []
    for number, (want, have) in enumerate(zip(expected, got, strict=True)):
        same_labels = [label for label, _ in want] == [label for label, _ in have]
        close = all(
            abs(p - q) <= PROBABILITY_TOLERANCE for (_, p), (_, q) in zip(want, have, strict=True)
        )
        if not (same_labels and close):
            found.append(f"probe {number}: expected {want}, got {have}")
    return found


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    if WRITE_REFERENCE:
        return {}
    return json.loads(REFERENCE.read_text(encoding="utf-8"))


def reference_text(data: dict[str, dict[str, Any]]) -> str:
    """JSON with one probe per line, so that a rewritten reference reads well in a diff."""
    parts = []
    for part, values in data.items():
        head = {key: value for key, value in values.items() if key != "top"}
        rows = ",\n".join("  " + json.dumps(top, ensure_ascii=False) for top in values["top"])
        fields = json.dumps(head, ensure_ascii=False)[1:-1]
        parts.append(f'"{part}": {{{fields}, "top": [\n{rows}\n]}}')
    return "{\n" + ",\n".join(parts) + "\n}\n"


def check_or_write(part: str, got: dict[str, Any], reference: dict[str, Any]) -> None:
    if WRITE_REFERENCE:
        data = json.loads(REFERENCE.read_text(encoding="utf-8")) if REFERENCE.exists() else {}
        data[part] = got
        REFERENCE.parent.mkdir(exist_ok=True)
        REFERENCE.write_text(reference_text(data), encoding="utf-8")
        pytest.skip(f"{part}: reference written to {REFERENCE}")
    expected = reference[part]
    sizes = {key: value for key, value in got.items() if key != "top"}
    assert sizes == {key: value for key, value in expected.items() if key != "top"}, (
        "the training data changed: retrain the model and write the reference again"
    )
    found = differences(expected["top"], got["top"])
    assert not found, f"{len(found)} of {len(got['top'])} probes differ:\n" + "\n".join(found[:5])


def test_reduced_retraining_of_the_thematique_reproduces_the_reference(
    reference: dict[str, Any], reduced_thematique_dir: Path
) -> None:
    check_or_write("thematique", reduced_thematique_read(reduced_thematique_dir), reference)


def test_reduced_retraining_of_the_need_types_reproduces_the_reference(
    reference: dict[str, Any], tmp_path: Path
) -> None:
    check_or_write("need_types", reduced_need_types(tmp_path), reference)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_retraining_reproduces_the_shipped_scores(tmp_path: Path) -> None:
    shipped_settings = json.loads((MODEL_DIR / SETTINGS_FILE).read_text(encoding="utf-8"))
    # The calibration's cross-validation is skipped (its values are reused): the textcat
    # itself is retrained from scratch, with the shipped seed.
    build_model(
        tmp_path,
        default_taxonomy(),
        calibration=shipped_settings["calibration"],
        needs=False,  # retrained and compared below, on their own
        log=str,
    )
    taxonomy = default_taxonomy()
    shipped = evaluate_file(SpacyClassifier.load(MODEL_DIR), HELDOUT_FILE, taxonomy)
    retrained = evaluate_file(SpacyClassifier.load(tmp_path), HELDOUT_FILE, taxonomy)
    for key in ("accuracy", "macro_f1", "top3"):
        assert retrained[key] == pytest.approx(shipped[key], abs=TOLERANCE), key


@pytest.mark.slow
@pytest.mark.timeout(2400)  # three models of 485 classes: about 14 minutes on 2 cores
def test_retraining_the_need_types_reproduces_the_shipped_same_need_figures(
    tmp_path: Path,
) -> None:
    shipped = load_similarity()
    retrained = Similarity(shipped.analyzer, shipped.settings, train_need_model(tmp_path, log=str))
    for path in (DEV_PAIRS, PAIRS_FILE):
        pairs = [json.loads(line) for line in path.open(encoding="utf-8")]
        expected, got = (same_need_figures(each, pairs) for each in (shipped, retrained))
        counted = {"precision": expected["shown"], "recall": sum(bool(p["same"]) for p in pairs)}
        for key in ("precision", "recall"):
            tolerance = max(TOLERANCE, PAIR_FLIPS / counted[key])
            assert got[key] == pytest.approx(expected[key], abs=tolerance), (
                path.name,
                key,
                environments(MODEL_DIR / MODEL_SUBDIR / NEEDS_SETTINGS_FILE),
            )


def environments(shipped_settings: Path) -> str:
    """Where the shipped model was trained, and where it was retrained (failure messages)."""
    settings = json.loads(shipped_settings.read_text(encoding="utf-8"))
    built = settings.get("environment", "an environment it does not record")
    return f"shipped model trained with {built}; retrained with {training_environment()}"
