"""The property-based dialogue test at scale: ten thousand random conversations or more.

Same sequences and checks as ``tests/test_dialogue_properties.py`` (``tests/dialogue_fuzz.py``):
several agents at once typing texts (empty, huge, HTML, lone surrogates, emoji), pressing
offered, stale and unknown buttons, commands of the registry, poll answers. Unlike the test,
a failure does not stop the run: every failing sequence is counted and the first ones shown.

    python benchmarks/dialogue_fuzz.py                  # 10,000 sequences
    python benchmarks/dialogue_fuzz.py --sequences 500 --seed 7
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from dialogue_fuzz import Harness, sequences
from hypothesis import HealthCheck, Phase, given, seed, settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequences", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--show", type=int, default=5, help="failures shown in full")
    args = parser.parse_args()

    harness = Harness()
    failures: list[tuple[object, BaseException]] = []
    count = 0

    @settings(
        max_examples=args.sequences,
        deadline=None,
        database=None,
        phases=[Phase.generate],  # no shrinking: count every failure, keep going
        suppress_health_check=list(HealthCheck),
    )
    @given(sequence=sequences())
    def play(sequence: object) -> None:
        nonlocal count
        count += 1
        try:
            harness.run(sequence)  # type: ignore[arg-type]
        except Exception as exc:
            failures.append((sequence, exc))

    if args.seed is not None:
        play = seed(args.seed)(play)
    started = time.perf_counter()
    try:
        play()
    finally:
        elapsed = time.perf_counter() - started
        harness.close()
    print(
        f"sequences={count} turns={harness.turns} failures={len(failures)} "
        f"elapsed={elapsed:.0f}s ({count / elapsed:.1f} sequences/s)"
    )
    for sequence, exc in failures[: args.show]:
        print("\n--- failing sequence:", sequence)
        print("".join(traceback.format_exception_only(exc)).strip())
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
