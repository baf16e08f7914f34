"""A restart with 50,000 stored contributions: how long until every model and the
same-need index are ready, as ``recueil run`` starts.

Seeds a base (SQLite by default, or a fresh PostgreSQL schema) with N contributions of N/2
communes, each with its same-need entry stored as a running bot stores it (entries computed
on ``--distinct`` texts built from nlp/data, then repeated, as benchmarks/nlp_index.py
does), then starts a new Python process that does what a start does, timed from the
process's own start: the imports, opening the store (migrations checked), loading the
thématique classifier, reading the stored rows, building the index from them.

    python benchmarks/restart.py                       # SQLite, 50,000 contributions
    python benchmarks/restart.py --database-url postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# the repository first: benchmarks/nlp.py would shadow the nlp package
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "benchmarks"))

from triage import seed as triage_seed  # noqa: E402

# isort: split
# nlp_index takes benchmarks/ off sys.path (its nlp.py would shadow nlp): after triage.
from nlp_index import source_texts, synthetic  # noqa: E402

from bot.consultation.recurrence import indexed_text  # noqa: E402
from config.settings import normalize_database_url  # noqa: E402
from nlp.loading import load_similarity  # noqa: E402
from storage.store import Store  # noqa: E402

# What a start does, run in a new process; each step timed from the start of its code (the
# whole, interpreter included, is timed by the parent).
CHILD = """
import time, sys
started = time.perf_counter()
def mark(label):
    print(f"{label:<44} {time.perf_counter() - started:6.2f} s", flush=True)
from bot.app.services import build_services, similarity_index
from config.settings import Settings
from storage.store import Store
mark("imports")
store = Store.open(sys.argv[1])
mark("store opened, migrations checked")
services = build_services(Settings())
services.classifier.predict("Un guichet pour réserver les salles communales")
mark("thématique classifier loaded")
index = similarity_index(store)
mark(f"same-need index: {len(index)} contributions read, built")
store.close()
"""


def seed(store: Store, count: int, distinct: int) -> None:
    """benchmarks/triage.py's contributions, with texts from nlp/data and their same-need
    entries stored as the bot stores them (computed on ``distinct`` texts, repeated)."""
    pool = synthetic(source_texts(), distinct, random.Random(7))
    titles = [text.split(".")[0][:80] for text in pool]
    # the entry is computed from the indexed text: title, a line break, the description
    indexed = [indexed_text(title, text) for title, text in zip(titles, pool, strict=True)]
    entries = [dict(entry.stored()) for entry in load_similarity().entries(indexed)]
    seeded = triage_seed(store, count, list(zip(titles, pool, strict=True)))
    for start in range(0, len(seeded), 5000):
        with store.transaction() as tx:
            for n, (contribution_id, _) in enumerate(seeded[start : start + 5000], start=start):
                tx.set_index_entry(contribution_id, entries[n % distinct])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contributions", type=int, default=50_000)
    parser.add_argument("--distinct", type=int, default=2_000)
    parser.add_argument("--database-url", help="PostgreSQL URL (a fresh schema); SQLite else")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.database_url:
            from intake import drop_schema, fresh_schema

            url = fresh_schema(normalize_database_url(args.database_url))
        else:
            url = f"sqlite:///{tmp}/recueil.db"
        try:
            store = Store.open(url)
            began = time.perf_counter()
            seed(store, args.contributions, args.distinct)
            store.close()
            print(
                f"seeded {args.contributions} contributions in {time.perf_counter() - began:.1f} s"
            )
            before = time.perf_counter()
            child = subprocess.run(
                [sys.executable, "-c", CHILD, url],
                cwd=ROOT,
                check=True,
                capture_output=True,
                text=True,
            )
            print(child.stdout, end="")
            print(f"{'whole start, process included':<44} {time.perf_counter() - before:6.2f} s")
        finally:
            if args.database_url:
                drop_schema(url)


if __name__ == "__main__":
    main()
