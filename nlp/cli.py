"""``recueil nlp``: train, classify, evaluate, and compare contributions.

``add_commands`` adds the ``nlp`` command to the ``recueil`` parser; handlers take
``(settings, args)`` like the other commands. ``python -m nlp.cli`` runs them alone.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from config.catalogue import plural
from config.taxonomy import Taxonomy
from config.typography import french
from nlp.corpus import BadLineError, LineProblem, json_object, line_text, read_labelled
from nlp.evaluation import report, split_at
from nlp.feedback import Feedback, measure_pairs, measure_thematiques, render_measure
from nlp.loading import load_similarity
from nlp.paths import HELDOUT_FILE, MODEL_DIR, TRAIN_FILE
from nlp.similarity import combined, comparable_usage
from nlp.spacy_classifier import SpacyClassifier

MODEL_HELP = "le modèle lu (par défaut RECUEIL_MODEL_DIR, sinon le modèle livré)"


def add_commands(subparsers: Any) -> Any:
    """Add ``nlp`` and its subcommands to an ``argparse`` subparsers object.

    Returns the ``nlp`` subparsers, for commands that need more than ``nlp`` (the database).
    """
    nlp = subparsers.add_parser(
        "nlp", help="modèles de langue : classement par thématique et même besoin"
    )
    commands = nlp.add_subparsers(dest="nlp_command", required=True, metavar="SOUS-COMMANDE")

    train = commands.add_parser("train", help="réentraîner le modèle depuis nlp/data")
    train.add_argument(
        "--data",
        type=Path,
        default=TRAIN_FILE,
        metavar="FICHIER",
        help='les exemples étiquetés, une ligne JSON {"text", "label"} chacun (par défaut '
        "nlp/data/train.jsonl)",
    )
    train.add_argument(
        "--output",
        type=Path,
        default=None,
        metavar="DOSSIER",
        help="dossier du modèle écrit, remplacé (par défaut RECUEIL_MODEL_DIR, sinon le "
        "modèle livré)",
    )
    train.add_argument(
        "--folds",
        type=int,
        default=5,
        metavar="N",
        help="plis de la validation croisée qui calibre le modèle (par défaut 5)",
    )
    _feedback_arguments(
        train,
        "--with-feedback",
        "ajouter aux exemples les décisions des agents et des administrateurs (base de données)",
    )
    train.set_defaults(handler=cmd_train)

    classify = commands.add_parser(
        "classify",
        help='classer des textes lus sur l’entrée standard : lignes JSON {"id", "text"} ou '
        "texte brut",
    )
    classify.add_argument("--model", type=Path, default=None, metavar="DOSSIER", help=MODEL_HELP)
    classify.set_defaults(handler=cmd_classify)

    evaluate = commands.add_parser(
        "eval", help="mesurer le classement sur des textes étiquetés mis de côté"
    )
    evaluate.add_argument(
        "file",
        nargs="?",
        type=Path,
        default=HELDOUT_FILE,
        metavar="FICHIER",
        help='une ligne JSON {"text", "label"} par texte (par défaut nlp/data/heldout.jsonl)',
    )
    evaluate.add_argument("--model", type=Path, default=None, metavar="DOSSIER", help=MODEL_HELP)
    evaluate.add_argument("--json", action="store_true", help="résultat en JSON")
    _feedback_arguments(
        evaluate,
        "--feedback",
        "mesurer les modèles sur les décisions des utilisateurs, par semaine (base de données)",
    )
    evaluate.set_defaults(handler=cmd_eval)

    same = commands.add_parser(
        "same",
        help='dire si deux textes décrivent le même besoin : lignes JSON {"a", "b"[, "usage_a", '
        '"usage_b"]} sur l’entrée standard',
    )
    same.add_argument("--model", type=Path, default=None, metavar="DOSSIER", help=MODEL_HELP)
    same.set_defaults(handler=cmd_same)
    return commands


FeedbackSource = Callable[[Any], Feedback]
"""Reads the users' decisions with the settings' database (``recueil`` sets it)."""


def _feedback_arguments(parser: argparse.ArgumentParser, flag: str, help_text: str) -> None:
    parser.add_argument(flag, dest="with_feedback", action="store_true", help=help_text)
    parser.add_argument(
        "--feedback-file",
        type=Path,
        default=None,
        metavar="FICHIER",
        help="les décisions lues dans ce fichier (recueil nlp feedback --output), "
        "plutôt que dans la base",
    )
    parser.set_defaults(feedback_source=None)


def _feedback(settings: object, args: argparse.Namespace) -> Feedback | None:
    """The users' decisions the command was asked to use, or None."""
    if args.feedback_file is not None:
        with _bad_lines_refused():
            return Feedback.read(args.feedback_file)
    if not args.with_feedback:
        return None
    if args.feedback_source is None:
        raise SystemExit(
            "Les décisions des utilisateurs sont dans la base : lancez la commande avec "
            "« recueil nlp », ou donnez --feedback-file."
        )
    source: FeedbackSource = args.feedback_source
    return source(settings)


@contextmanager
def _bad_lines_refused() -> Iterator[None]:
    """A bad line of a file the administrator gave ends the command with its French message
    (file, line, what is wrong) and exit code 1, no traceback."""
    try:
        yield
    except BadLineError as error:
        raise SystemExit(french(str(error))) from error


def _model(settings: object, given: Path | None) -> Path:
    """The model a command reads or writes: the one given, else the configured one
    (``RECUEIL_MODEL_DIR``), else the shipped one."""
    configured: Path | None = getattr(settings, "model_dir", None)
    return given or configured or MODEL_DIR


def _taxonomy(settings: object) -> Taxonomy:
    return Taxonomy.load(getattr(settings, "taxonomy_file", None))


def cmd_train(settings: object, args: argparse.Namespace) -> int:
    # Imported here: the bot's own commands (``recueil run``) never load the training code.
    from nlp.training.build import build_model

    taxonomy = _taxonomy(settings)
    with _bad_lines_refused():
        read_labelled(args.data, taxonomy)  # a bad file is refused before any training
    build_model(
        _model(settings, args.output),
        taxonomy,
        args.data,
        calibration_folds=args.folds,
        feedback=_feedback(settings, args),
        current=_model(settings, None),
        log=lambda line: print(line, file=sys.stderr),
    )
    return 0


def _emit(out: TextIO, value: object) -> None:
    out.write(json.dumps(value, ensure_ascii=False) + "\n")
    out.flush()


CLASSIFY_EXPECTED = 'attendu : un objet {"id": …, "text": "…"} ou une ligne de texte'
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
"""Control characters (a tab excepted): what a binary file's lines are made of."""


def classify_text(raw: bytes, number: int) -> tuple[object, str]:
    """One input line of ``recueil nlp classify`` as (id, text to classify).

    Raises:
        LineProblem: why the line is not a text to classify.
    """
    line = line_text(raw, number).rstrip("\r\n")
    if not line.strip():
        raise LineProblem("elle est vide")
    if not line.lstrip().startswith("{"):
        if _CONTROL.search(line):
            raise LineProblem("caractères de contrôle : ce n’est pas du texte (fichier binaire ?)")
        return number, line
    data = json_object(line.strip())
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise LineProblem("le champ « text » manque ou est vide")
    return data.get("id", number), text


@dataclass(frozen=True, slots=True)
class Classified:
    """What ``recueil nlp classify`` did with its input lines."""

    classified: int
    refused: int


def classify_lines(
    classifier: SpacyClassifier,
    stream: BinaryIO,
    out: TextIO,
    errors: TextIO,
    batch: int = 64,
) -> Classified:
    """JSON lines ``{"id", "text"}`` (or plain text lines) in, one JSON line out each.

    A line that cannot be classified (empty, broken JSON, no text, not text at all) gets a
    French message on ``errors`` with its number, and the following lines are classified.
    """
    pending: list[tuple[object, str]] = []
    count = refused = 0

    def flush() -> None:
        predictions = classifier.predict_many([text for _, text in pending])
        for (item_id, _), prediction in zip(pending, predictions, strict=True):
            best, score = prediction.best
            _emit(
                out,
                {
                    "id": item_id,
                    "thematique": best,
                    "score": round(score, 4),
                    "top": [[tid, round(s, 4)] for tid, s in prediction.top(3)],
                },
            )
        pending.clear()

    for number, raw in enumerate(stream, 1):
        try:
            pending.append(classify_text(raw, number))
        except LineProblem as problem:
            refused += 1
            errors.write(french(f"ligne {number} laissée : {problem} ({CLASSIFY_EXPECTED})\n"))
            errors.flush()
            continue
        count += 1
        # Interactive use (a terminal) answers line by line; a pipe is batched.
        if len(pending) >= batch or stream.isatty():
            flush()
    if pending:
        flush()
    if refused:
        done = plural(count, "# ligne classée|# lignes classées")
        errors.write(french(f"{done}, {plural(refused, '# laissée|# laissées')}.\n"))
    return Classified(count, refused)


def cmd_classify(settings: object, args: argparse.Namespace) -> int:
    """Exit code 1 if a line was left (the others are classified all the same)."""
    classifier = SpacyClassifier.load(_model(settings, args.model))
    result = classify_lines(classifier, sys.stdin.buffer, sys.stdout, sys.stderr)
    return 1 if result.refused else 0


def evaluate_file(classifier: SpacyClassifier, path: Path, taxonomy: Taxonomy) -> dict[str, Any]:
    rows = read_labelled(path, taxonomy)
    texts = [row.text for row in rows]
    start_cpu, start_wall = time.process_time(), time.perf_counter()
    predictions = classifier.predict_many(texts)
    cpu, wall = time.process_time() - start_cpu, time.perf_counter() - start_wall
    ranked = [p.ranked for p in predictions]
    gold = [row.label for row in rows]
    scores = report(gold, ranked, list(taxonomy.ids))
    split = split_at(gold, ranked, classifier.threshold)
    return {
        "file": str(path),
        "count": scores.count,
        "accuracy": round(scores.accuracy, 4),
        "macro_f1": round(scores.macro_f1, 4),
        "top3": round(scores.top3, 4),
        "log_loss": round(scores.log_loss, 4),
        "threshold": classifier.threshold,
        # no text on one side of the threshold: no accuracy (null, never NaN: not JSON)
        "confident": {"count": split.above, "accuracy": _rounded(split.above_accuracy)},
        "uncertain": {"count": split.below, "accuracy": _rounded(split.below_accuracy)},
        "per_thematique": {
            label: {
                "precision": round(c.precision, 4),
                "recall": round(c.recall, 4),
                "f1": round(c.f1, 4),
                "support": c.support,
            }
            for label, c in scores.per_class.items()
        },
        "confusions": [[g, p, n] for g, p, n in scores.confusions],
        "throughput": {
            "texts_per_cpu_second": round(len(texts) / cpu) if cpu else None,
            "texts_per_second": round(len(texts) / wall) if wall else None,
        },
    }


def _rounded(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 4)


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def format_evaluation(result: dict[str, Any]) -> str:
    lines = [
        f"{result['file']} : {result['count']} textes",
        f"exactitude {result['accuracy']:.3f}   macro-F1 {result['macro_f1']:.3f}   "
        f"top-3 {result['top3']:.3f}",
        f"seuil de confiance {result['threshold']:.2f} : "
        f"{result['confident']['count']} confiants (exactitude "
        f"{_share(result['confident']['accuracy'])}), {result['uncertain']['count']} incertains "
        f"(exactitude {_share(result['uncertain']['accuracy'])})",
        "",
        f"{'thématique':<28} {'précision':>9} {'rappel':>7} {'F1':>6} {'n':>4}",
    ]
    for label, c in result["per_thematique"].items():
        lines.append(
            f"{label:<28} {c['precision']:>9.3f} {c['recall']:>7.3f} {c['f1']:>6.3f} "
            f"{c['support']:>4}"
        )
    lines += ["", "confusions (vraie -> prédite : nombre)"]
    lines += [f"  {g} -> {p} : {n}" for g, p, n in result["confusions"][:15]]
    rate = result["throughput"]
    lines += [
        "",
        f"débit : {rate['texts_per_cpu_second']} textes par seconde CPU "
        f"({rate['texts_per_second']} par seconde réelle)",
    ]
    return "\n".join(lines)


def cmd_eval(settings: object, args: argparse.Namespace) -> int:
    feedback = _feedback(settings, args)
    path = _model(settings, args.model)
    if feedback is not None:
        return _eval_feedback(feedback, path, _taxonomy(settings), args.json)
    taxonomy = _taxonomy(settings)
    with _bad_lines_refused():
        rows = read_labelled(args.file, taxonomy)  # refused before the model loads
    if not rows:
        raise SystemExit(
            french(
                f"{args.file} ne contient aucun texte étiqueté : rien à mesurer. Attendu : "
                'une ligne JSON {"text": "…", "label": "thématique"} par texte.'
            )
        )
    result = evaluate_file(SpacyClassifier.load(path), args.file, taxonomy)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
    else:
        print(format_evaluation(result))
    return 0


def _eval_feedback(feedback: Feedback, model: Path, taxonomy: Taxonomy, as_json: bool) -> int:
    thematiques = measure_thematiques(feedback, SpacyClassifier.load(model), taxonomy.ids)
    pairs = measure_pairs(feedback, load_similarity(model))
    if as_json:
        data = {"thematique": [asdict(w) for w in thematiques], "pairs": [asdict(w) for w in pairs]}
        print(json.dumps(data, ensure_ascii=False, indent=1))
    else:
        print(french(render_measure(thematiques, pairs)))
    return 0


SAME_EXPECTED = 'attendu : un objet {"a": "…", "b": "…"}'


def same_pair(raw: bytes, number: int) -> tuple[dict[str, Any], str, str] | None:
    """One input line of ``recueil nlp same`` as (its object, text a, text b); None for a
    blank line.

    Raises:
        LineProblem: why the line is not a pair of texts (not UTF-8, not a JSON object, a
            text missing or empty).
    """
    line = line_text(raw, number).strip()
    if not line:
        return None
    data = json_object(line)
    texts = []
    for field in ("a", "b"):
        text = data.get(field)
        if not isinstance(text, str) or not text.strip():
            raise LineProblem(f"le champ « {field} » manque ou est vide")
        texts.append(text)
    return data, texts[0], texts[1]


def same_lines(model: Path, stream: BinaryIO, out: TextIO) -> int:
    """JSON lines ``{"a", "b"}`` in, ``{"score", "same", "words", "need"}`` out.

    ``words`` and ``need`` are the two pieces of evidence the score combines: the cosine of
    the words and the agreement of the need types.

    Optional ``usage_a`` and ``usage_b``: what each author said the service is mainly for,
    as the conversation asks it (``"autre"`` or absent: unknown).
    """
    similarity = load_similarity(model)
    count = 0
    for number, raw in enumerate(stream, 1):
        try:
            pair = same_pair(raw, number)
        except LineProblem as problem:
            _emit(out, {"error": french(f"ligne {number} : {problem} ({SAME_EXPECTED})")})
            continue
        if pair is None:  # a blank line
            continue
        data, a, b = pair
        words, need = similarity.evidence(a, b)
        score = round(combined(words, need), 4)
        usages = comparable_usage(data.get("usage_a")), comparable_usage(data.get("usage_b"))
        same = similarity.decide(score, *usages)
        _emit(out, {"score": score, "same": same, "words": words, "need": need})
        count += 1
    return count


def cmd_same(settings: object, args: argparse.Namespace) -> int:
    same_lines(_model(settings, args.model), sys.stdin.buffer, sys.stdout)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nlp.cli")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["nlp", *(argv if argv is not None else sys.argv[1:])])
    return int(args.handler(None, args) or 0)


if __name__ == "__main__":
    sys.exit(main())
