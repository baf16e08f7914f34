"""Build the same-need index from stored entries, as a restart would; print the figures.

Usage:
    python benchmarks/nlp_index.py [--contributions 50000] [--distinct 10000] [--queries 300]

Contributions are synthetic: halves of two texts of nlp/data (train.jsonl and the need-type
examples) stitched together. Computing an entry runs the need-type model (the cost a restart
paid for every contribution before entries were stored): it is measured on ``--distinct``
texts, whose stored entries are then repeated to reach ``--contributions`` (the build reads
as many entries and postings either way). Before that, a first check: an index built from
stored entries answers exactly as one built from the texts.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

# A script in benchmarks/ would import benchmarks/nlp.py as the nlp package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]

from nlp.index_entry import IndexEntry  # noqa: E402
from nlp.loading import load_similarity  # noqa: E402
from nlp.paths import EXAMPLES_FILE, TRAIN_FILE  # noqa: E402
from nlp.similarity import Similarity, SimilarityIndex  # noqa: E402

KINDS = ("besoin", "service")
T = TypeVar("T")


def source_texts() -> list[str]:
    texts = []
    for path in (TRAIN_FILE, EXAMPLES_FILE):
        with path.open(encoding="utf-8") as handle:
            texts.extend(json.loads(line)["text"] for line in handle if line.strip())
    return texts


def synthetic(texts: list[str], count: int, rng: random.Random) -> list[str]:
    out = []
    for _ in range(count):
        a, b = rng.sample(texts, 2)
        wa, wb = a.split(), b.split()
        out.append(" ".join(wa[: max(1, len(wa) // 2)] + wb[len(wb) // 2 :]))
    return out


def timed(action: Callable[[], T]) -> tuple[T, float, float]:
    """The result of ``action``, its wall and CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = action()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def check_same_answers(similarity: Similarity, texts: list[str], queries: list[str]) -> int:
    """Searches compared between an index from texts and one from stored entries."""
    rows = [(number, KINDS[number % 2], text) for number, text in enumerate(texts)]
    from_texts = SimilarityIndex[int](similarity)
    from_texts.add_many(rows)
    stored = [json.dumps(entry.stored()) for entry in similarity.entries(texts)]
    from_stored = SimilarityIndex[int](similarity)
    from_stored.add_stored((*row, value) for row, value in zip(rows, stored, strict=True))
    found = 0
    for query in queries:
        for kind in KINDS:
            expected = from_texts.search(query, kind, limit=10, min_score=0.2)
            if from_stored.search(query, kind, limit=10, min_score=0.2) != expected:
                raise SystemExit(f"different answers for {query!r} ({kind})")
            found += len(expected)
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contributions", type=int, default=50_000)
    parser.add_argument("--distinct", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    similarity, wall, cpu = timed(load_similarity)
    model_id = similarity.model_id  # computed once per process, included below
    print(f"load the same-need model: {wall:.2f} s wall, {cpu:.2f} s CPU (model {model_id})")

    texts = source_texts()
    queries = synthetic(texts, args.queries, rng)
    found = check_same_answers(similarity, synthetic(texts, 2000, rng), queries[:100])
    print(f"index from 2000 stored entries answers as from texts: 200 searches, {found} hits")

    distinct = synthetic(texts, min(args.distinct, args.contributions), rng)
    entries, wall, cpu = timed(lambda: similarity.entries(distinct))
    rate = len(distinct) / cpu
    print(
        f"compute entries ({len(distinct)} texts, need-type model): {rate:.0f} texts/s CPU, "
        f"{wall:.1f} s wall; for {args.contributions}, as every start did before: "
        f"{args.contributions / rate:.0f} s CPU"
    )
    # JSON text, as the database keeps it: reading it back is part of the build measured below.
    dumped = [json.dumps(entry.stored()) for entry in entries]
    stored = [
        (number, KINDS[number % 2], distinct[number % len(distinct)], dumped[number % len(dumped)])
        for number in range(args.contributions)
    ]
    size = sum(len(value.encode()) for *_, value in stored)
    print(
        f"stored entries: {size / len(stored):.0f} bytes each, "
        f"{size / 1024 / 1024:.1f} MiB for {len(stored)}"
    )

    _, wall, cpu = timed(lambda: [IndexEntry.from_stored(value) for *_, value in stored])
    print(f"parse {len(stored)} entries only: {wall:.2f} s wall, {cpu:.2f} s CPU")
    walls, cpus = [], []
    index = SimilarityIndex[int](similarity)
    for _ in range(args.runs):
        index = SimilarityIndex[int](similarity)
        rewritten, wall, cpu = timed(lambda index=index: index.add_stored(stored))
        assert rewritten == [] and len(index) == args.contributions
        walls.append(wall)
        cpus.append(cpu)
    print(
        f"build the index from {len(stored)} stored entries (median of {args.runs}): "
        f"{statistics.median(walls):.2f} s wall, {statistics.median(cpus):.2f} s CPU"
    )

    search_walls = []
    for query in queries:
        start = time.perf_counter()
        index.search(query, KINDS[0], min_score=index.lowest_threshold)
        search_walls.append(time.perf_counter() - start)
    print(
        f"search over {len(index)} contributions ({len(queries)} queries): "
        f"p50 {percentile(search_walls, 0.5) * 1000:.1f} ms, "
        f"p99 {percentile(search_walls, 0.99) * 1000:.1f} ms wall"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
