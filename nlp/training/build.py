"""``recueil nlp train``: train, calibrate and save the whole shipped model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from config.taxonomy import Taxonomy
from nlp.corpus import read_labelled
from nlp.feedback import Feedback, need_type_rows, thematique_rows
from nlp.needs import MODEL_SUBDIR, NeedModel
from nlp.paths import MODEL_DIR, SEED, TRAIN_FILE
from nlp.similarity import Similarity, SimilaritySettings
from nlp.spacy_classifier import Calibration, SpacyClassifier
from nlp.training.calibration import CONFIDENT_ACCURACY, calibrate_plan
from nlp.training.needs import train_need_model, training_rows
from nlp.training.textcat import TrainingPlan, taxonomy_examples, train, training_environment
from nlp.vectors import save_pipeline
from nlp.vocabulary import known_stems


def build_model(
    output: Path,
    taxonomy: Taxonomy,
    data_file: Path = TRAIN_FILE,
    *,
    plan: TrainingPlan | None = None,
    calibration_folds: int = 5,
    calibration: dict[str, float] | None = None,
    needs: bool = True,
    feedback: Feedback | None = None,
    current: Path = MODEL_DIR,
    log: Callable[[str], None] = print,
) -> None:
    """Train, calibrate and save the classifier and the same-need model to ``output``.

    Args:
        calibration_folds: folds of the cross-validation that fits the temperature, the
            familiarity guard and the confidence threshold.
        calibration: skip the cross-validation and use these values (tests, quick rebuilds).
        needs: also train the need-type model from ``nlp/data/needs`` (about three minutes);
            without it, the same-need score reads the words alone.
        feedback: what users decided (``nlp.feedback``): their thématiques are added to the
            classifier's lines, the pairs they called the same need to the need types'
            (labelled by the need-type model in place before retraining: ``current``'s, else
            the shipped one).
    """
    plan = plan or TrainingPlan()
    rows = read_labelled(data_file, taxonomy)
    need_rows = None
    learned_counts: dict[str, int] = {}
    if feedback is not None:
        learned = thematique_rows(feedback, taxonomy.ids)
        rows += learned
        learned_counts["thematique_lines"] = len(learned)
        log(f"feedback: {len(learned)} thématique lines")
        in_place = next(
            (d / MODEL_SUBDIR for d in (current, MODEL_DIR) if (d / MODEL_SUBDIR).is_dir()), None
        )
        if needs and in_place is not None:
            paired = need_type_rows(feedback, NeedModel.load(in_place))
            need_rows = training_rows() + paired
            learned_counts["need_type_lines"] = len(paired)
            log(f"feedback: {len(paired)} need-type lines")
    extra: dict[str, object] = {
        "taxonomy": list(taxonomy.ids),
        "training_lines": len(rows),
        "seed": SEED,
        "vectors": plan.vectors,
        "environment": training_environment(),
    }
    if feedback is not None:
        extra["feedback"] = learned_counts
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
    need_model = train_need_model(output / MODEL_SUBDIR, rows=need_rows, log=log) if needs else None
    similarity = Similarity.fit(nlp, (row.text for row in fit), SimilaritySettings(), need_model)
    similarity.save(output)
    log(f"model saved to {output}")
