"""Measure the collectivités referential: load time, memory after load, lookup latency.

Usage:
    python benchmarks/referential.py [--queries 3000] [--loads 5] [--seed 1]

Queries are drawn with a fixed seed from the referential itself: exact commune names, names
with one or two typos, postal codes, EPCI names spelled out ("communauté de communes du…") and
random letters, in equal shares. "right" is the share of queries whose intended name is among
the results (for random letters: whose result is empty).
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import statistics
import string
import sys
import time
from collections.abc import Callable
from pathlib import Path

# benchmarks/nlp.py shares its name with the nlp package: the repository comes first.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from storage.referential import DATA_FILE, Referential

KB = 1024


def rss_mib() -> tuple[float, float]:
    """(current, peak) resident set size of this process, in MiB."""
    with open("/proc/self/statm") as statm:
        current_pages = int(statm.read().split()[1])
    current = current_pages * resource.getpagesize() / KB / KB
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / KB  # KiB on Linux
    return current, peak


def with_typos(name: str, count: int, rng: random.Random) -> str:
    """``name`` with ``count`` random letter substitutions, deletions or transpositions."""
    chars = list(name)
    for _ in range(count):
        letters = [i for i, char in enumerate(chars) if char.isalpha()]
        if len(letters) < 2:
            break
        i = rng.choice(letters[:-1])
        edit = rng.choice(("substitute", "delete", "transpose"))
        if edit == "substitute":
            chars[i] = rng.choice(string.ascii_lowercase)
        elif edit == "delete":
            del chars[i]
        else:
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
    return "".join(chars)


Query = tuple[str, str | None]
"""What is typed, and the name that should be among the results (None: nothing expected)."""


def build_queries(referential: Referential, total: int, seed: int) -> dict[str, list[Query]]:
    rng = random.Random(seed)
    communes = [
        ref
        for ref in map(
            lambda code: referential.get("commune", code), _sample_codes(rng, referential)
        )
        if ref
    ]
    epci = referential.all("epci")
    long_names = [ref.name for ref in communes if len(ref.name) >= 8]
    longer_names = [ref.name for ref in communes if len(ref.name) >= 10]
    share = total // 6
    postal = [rng.choice(communes) for _ in range(share)]
    named = [rng.choice(communes).name for _ in range(share)]
    typo_1 = [rng.choice(long_names) for _ in range(share)]
    typo_2 = [rng.choice(longer_names) for _ in range(share)]
    epci_names = [rng.choice(epci).name for _ in range(share)]
    return {
        "exact": [(name, name) for name in named],
        "typo-1": [(with_typos(name, 1, rng), name) for name in typo_1],
        "typo-2": [(with_typos(name, 2, rng), name) for name in typo_2],
        "postal": [(rng.choice(ref.postal_codes), ref.name) for ref in postal],
        "epci": [(_spelled_out(name), name) for name in epci_names],
        "nonsense": [
            ("".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(4, 14))), None)
            for _ in range(share)
        ],
    }


def _spelled_out(name: str) -> str:
    """An EPCI name as agents write it: "CC du Pays de Gex" → "communauté de communes du…"."""
    for short, long in (
        ("CC ", "communauté de communes "),
        ("CA ", "communauté d'agglomération "),
        ("CU ", "communauté urbaine "),
    ):
        if name.startswith(short):
            return long + name[len(short) :]
    return name


def _sample_codes(rng: random.Random, referential: Referential) -> list[str]:
    """INSEE codes of about 3,000 communes, drawn from every département."""
    codes = []
    for departement in sorted({f"{n:02d}" for n in range(1, 96)} | {"2A", "2B"}):
        for number in rng.sample(range(1, 400), 40):
            code = f"{departement}{number:03d}"
            if referential.get("commune", code) is not None:
                codes.append(code)
    return codes


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def timed(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--queries", type=int, default=3000)
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    before, _ = rss_mib()
    first_start = time.perf_counter()
    referential = Referential.load()
    first_load = time.perf_counter() - first_start
    after, peak = rss_mib()
    print(f"data file: {DATA_FILE.name}, {DATA_FILE.stat().st_size / KB:.0f} KiB")
    print(
        "entries: "
        + ", ".join(
            f"{referential.count(kind)} {kind}"
            for kind in ("commune", "epci", "departement", "region")
        )
    )
    print(
        f"RSS: {before:.1f} MiB before load, {after:.1f} MiB after (+{after - before:.1f}); "
        f"peak {peak:.1f} MiB"
    )

    loads = [first_load]
    for _ in range(args.loads - 1):
        gc.collect()
        loads.append(timed(Referential.load))
    print(
        f"load: first {first_load * 1000:.0f} ms, median of {len(loads)} "
        f"{statistics.median(loads) * 1000:.0f} ms, min {min(loads) * 1000:.0f} ms"
    )

    queries = build_queries(referential, args.queries, args.seed)
    everything: list[float] = []
    print(f"{'queries':<10}{'n':>6}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'right':>8}")
    for category, cases in queries.items():
        latencies = []
        right = 0
        for text, expected in cases:
            start = time.perf_counter()
            result = referential.search(text)
            latencies.append((time.perf_counter() - start) * 1000)
            names = {ref.name for ref in result}
            right += expected in names if expected else not result
        everything.extend(latencies)
        print(
            f"{category:<10}{len(cases):>6}{percentile(latencies, 0.5):>9.3f}"
            f"{percentile(latencies, 0.99):>9.3f}{max(latencies):>9.3f}{right / len(cases):>8.0%}"
        )
    print(
        f"{'all':<10}{len(everything):>6}{percentile(everything, 0.5):>9.3f}"
        f"{percentile(everything, 0.99):>9.3f}{max(everything):>9.3f}"
    )
    print(f"python {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
