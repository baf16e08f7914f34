"""Measure the thématique classifier and the same-need index; print every figure of issue 3.

Usage:
    python benchmarks/nlp.py [--messages 1000] [--sizes 10000 50000] [--queries 300] [--seed 1]

Held-out figures come from nlp/data/heldout.jsonl and, for the same need, from
nlp/data/pairs_test.jsonl (evaluation only); dev_pairs.jsonl and pairs.jsonl served to choose.
Speed uses the training texts, and for the index synthetic contributions stitched from
halves of two training texts. CPU times (``time.process_time``) are printed next to wall
times: the machine is shared, CPU time is the steadier figure.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

# This file is named nlp.py: run as a script, its folder would shadow the nlp package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]

from config.taxonomy import default_taxonomy  # noqa: E402
from nlp.cli import evaluate_file  # noqa: E402
from nlp.corpus import read_labelled  # noqa: E402
from nlp.evaluation import same_need_figures  # noqa: E402
from nlp.loading import load_similarity  # noqa: E402
from nlp.paths import HELDOUT_FILE, PAIRS_FILE, PAIRS_TEST_FILE, TRAIN_FILE  # noqa: E402
from nlp.similarity import Similarity, SimilarityIndex, SimilaritySettings  # noqa: E402
from nlp.spacy_classifier import MODEL_DIR, SpacyClassifier  # noqa: E402

LOAD_SNIPPET = """
import json, time
start_wall, start_cpu = time.perf_counter(), time.process_time()
from nlp.spacy_classifier import SpacyClassifier
classifier = SpacyClassifier.load()
classifier.predict("premier message")
print(json.dumps([time.perf_counter() - start_wall, time.process_time() - start_cpu]))
"""

BOT_LOAD_SNIPPET = """
import json, time
start_wall, start_cpu = time.perf_counter(), time.process_time()
from nlp.loading import load_similarity
from nlp.spacy_classifier import SpacyClassifier
classifier = SpacyClassifier.load()
similarity = load_similarity()
classifier.predict("premier message")
similarity.score("premier message", "second message")
print(json.dumps([time.perf_counter() - start_wall, time.process_time() - start_cpu]))
"""

WORDS_ALONE = SimilaritySettings(threshold=0.29, usage_threshold=0.22, other_usage_threshold=None)
"""The rule shipped before the need types (session 2), for comparison."""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def size_mib(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1024 / 1024


def measure_load(snippet: str = LOAD_SNIPPET, runs: int = 3) -> tuple[float, float]:
    """Median (wall, CPU) seconds of a fresh process importing and loading the model."""
    walls, cpus = [], []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", snippet], capture_output=True, text=True, check=True
        ).stdout
        wall, cpu = json.loads(out.strip().splitlines()[-1])
        walls.append(wall)
        cpus.append(cpu)
    return statistics.median(walls), statistics.median(cpus)


def measure_single(
    classifier: SpacyClassifier, texts: list[str]
) -> tuple[list[float], list[float]]:
    walls, cpus = [], []
    for text in texts:
        w, c = time.perf_counter(), time.process_time()
        classifier.predict(text)
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return walls, cpus


def synthetic(texts: list[str], count: int, rng: random.Random) -> list[str]:
    out = []
    for _ in range(count):
        a, b = rng.sample(texts, 2)
        wa, wb = a.split(), b.split()
        out.append(" ".join(wa[: max(1, len(wa) // 2)] + wb[len(wb) // 2 :]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 50_000])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    taxonomy = default_taxonomy()
    train_texts = [row.text for row in read_labelled(TRAIN_FILE)]

    print(f"model: {MODEL_DIR} ({size_mib(MODEL_DIR):.1f} MiB on disk)")
    wall, cpu = measure_load()
    print(
        f"load (fresh process, import + load + first message): {wall:.2f} s wall, {cpu:.2f} s CPU"
    )
    wall, cpu = measure_load(BOT_LOAD_SNIPPET)
    print(
        f"load with the same-need model (need types), as the bot starts: {wall:.2f} s wall, "
        f"{cpu:.2f} s CPU"
    )

    classifier = SpacyClassifier.load()
    messages = [rng.choice(train_texts) for _ in range(args.messages)]
    classifier.predict_many(messages[:50])  # warm-up
    walls, cpus = measure_single(classifier, messages)
    print(
        f"classify one message ({len(messages)}): p50 {percentile(walls, 0.5) * 1000:.2f} ms, "
        f"p99 {percentile(walls, 0.99) * 1000:.2f} ms wall; "
        f"p99 {percentile(cpus, 0.99) * 1000:.2f} ms CPU"
    )
    batch = train_texts * 2
    w, c = time.perf_counter(), time.process_time()
    classifier.predict_many(batch)
    w, c = time.perf_counter() - w, time.process_time() - c
    print(
        f"batch ({len(batch)} texts, one process): {len(batch) / c:.0f} texts/s CPU, "
        f"{len(batch) / w:.0f} texts/s wall"
    )

    result = evaluate_file(classifier, HELDOUT_FILE, taxonomy)
    print(
        f"held-out ({result['count']}): accuracy {result['accuracy']:.3f}, macro-F1 "
        f"{result['macro_f1']:.3f}, top-3 {result['top3']:.3f}"
    )
    print(
        f"threshold {result['threshold']:.2f}: confident {result['confident']['count']} "
        f"(accuracy {result['confident']['accuracy']:.3f}), uncertain "
        f"{result['uncertain']['count']} (accuracy {result['uncertain']['accuracy']:.3f})"
    )

    similarity = load_similarity()
    words_alone = Similarity(similarity.analyzer, WORDS_ALONE)
    for name, path in (
        ("dev pairs (from train)", Path("nlp/data/dev_pairs.jsonl")),
        ("pairs.jsonl (dev since session 2)", PAIRS_FILE),
        ("pairs_test.jsonl (held out)", PAIRS_TEST_FILE),
    ):
        for method, rule in ((words_alone, "words alone (session 2)"), (similarity, "shipped")):
            for usages in (False, True):
                pairs = [json.loads(line) for line in path.open(encoding="utf-8")]
                figures = same_need_figures(method, pairs, usages)
                print(
                    f"same need, {name} ({figures['pairs']}), {rule}, "
                    f"{'with' if usages else 'without'} usages: "
                    f"precision {figures['precision']:.3f}, recall {figures['recall']:.3f} "
                    f"({figures['shown']} shown)"
                )

    pool = synthetic(train_texts, max(args.sizes), rng)
    queries = synthetic(train_texts, args.queries, rng) + rng.sample(train_texts, args.queries)
    for size in args.sizes:
        index = SimilarityIndex[str](similarity)
        w, c = time.perf_counter(), time.process_time()
        index.add_many((f"c{i}", "besoin", text) for i, text in enumerate(pool[:size]))
        w, c = time.perf_counter() - w, time.process_time() - c
        walls, cpus = [], []
        for query in queries:
            qw, qc = time.perf_counter(), time.process_time()
            index.search(query, "besoin", limit=3)
            walls.append(time.perf_counter() - qw)
            cpus.append(time.process_time() - qc)
        print(
            f"search over {size} contributions ({len(queries)} queries): p50 "
            f"{percentile(walls, 0.5) * 1000:.1f} ms, p99 {percentile(walls, 0.99) * 1000:.1f} ms "
            f"wall, p99 {percentile(cpus, 0.99) * 1000:.1f} ms CPU; indexing "
            f"{size / c:.0f} texts/s CPU ({w:.1f} s wall)"
        )


if __name__ == "__main__":
    main()
