"""The triage verbs at the scale of a national consultation: 5,000 contributions.

Seeds N contributions from N/2 communes over the thématiques, then times what the triage
does through the store: grouping every contribution into proposals of about seven in one
transaction (as a spreadsheet import would), moving and redirecting a tenth of them, the
chat's listing of one thématique and the view of one proposal (p50/p99 over 200 reads),
and publishing everything.

    python benchmarks/proposals_store.py                  # SQLite, 5,000 contributions
    python benchmarks/proposals_store.py --database-url postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import tomllib
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa

from config.settings import normalize_database_url
from storage.referential import default_referential
from storage.store import Store

ROOT = Path(__file__).resolve().parents[1]
ADMIN = "bench:admin"


def timed(label: str, action: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    result = action()
    print(f"{label}: {time.perf_counter() - start:.2f}s")
    return result


def reads(label: str, action: Callable[[], Any], times: int = 200) -> None:
    durations = []
    for _ in range(times):
        start = time.perf_counter()
        action()
        durations.append((time.perf_counter() - start) * 1000)
    p99 = statistics.quantiles(durations, n=100)[98]
    print(f"{label}: p50={statistics.median(durations):.1f}ms p99={p99:.1f}ms")


def run(url: str, contributions: int) -> None:
    rng = random.Random(2026)
    taxonomy = tomllib.loads((ROOT / "config" / "taxonomy.toml").read_text(encoding="utf-8"))
    thematiques = [t["id"] for t in taxonomy["thematique"]]
    communes = default_referential().all("commune")[: max(1, contributions // 2)]
    store = Store.open(url)
    try:

        def seed() -> list[tuple[str, str]]:
            seeded = []
            with store.transaction() as tx:
                for number, commune in enumerate(communes):
                    agent = tx.save_profile(
                        tx.ensure_agent("bench", f"agent{number}"),
                        collectivite=commune,
                        profile="agent",
                        fonction="DGS",
                        email=None,
                    )
                    for _ in range(2):
                        if len(seeded) == contributions:
                            break
                        thematique = rng.choice(thematiques)
                        _, reference = tx.add_contribution(
                            agent,
                            kind="besoin",
                            title=f"Besoin {len(seeded)}",
                            description="Un besoin décrit par un agent. " * 5,
                            answers={"usage": "reserver"},
                            thematique=thematique,
                            confidence=0.7,
                            thematique_source="classifier",
                        )
                        seeded.append((reference, thematique))
            return seeded

        seeded = timed(f"seed {contributions} contributions", seed)
        by_thematique: dict[str, list[str]] = {}
        for reference, thematique in seeded:
            by_thematique.setdefault(thematique, []).append(reference)

        def group() -> list[str]:
            proposals = []
            with store.transaction() as tx:
                for thematique, references in sorted(by_thematique.items()):
                    for start in range(0, len(references), 7):
                        proposals.append(
                            tx.create_proposal(
                                ADMIN,
                                title=f"Proposition {thematique} {start // 7}",
                                description="Ce que la proposition permettra.",
                                contributions=references[start : start + 7],
                                thematique=thematique,
                            ).reference
                        )
            return proposals

        proposals = timed("group into proposals (one transaction)", group)
        print(f"proposals={len(proposals)}")

        def edit() -> None:
            with store.transaction() as tx:
                for index in range(len(proposals) // 10):
                    target, source = proposals[index], proposals[-1 - index]
                    detail = tx.proposal(source)
                    assert detail is not None
                    if len(detail.members) < 3:  # the last of a thématique may be short
                        continue
                    moved = [m.reference for m in detail.members[:2]]
                    tx.add_to_proposal(ADMIN, target, moved, move=True)
                    tx.remove_from_proposal(ADMIN, source, [detail.members[2].reference])
                    tx.redirect_contribution(
                        ADMIN, detail.members[2].reference, "Un service existe déjà."
                    )
                    tx.rename_proposal(ADMIN, target, f"Proposition revue {index}")

        timed(f"move, redirect and rename in {len(proposals) // 10} proposals", edit)
        largest = max(by_thematique, key=lambda t: len(by_thematique[t]))

        def listing() -> None:
            with store.transaction() as tx:
                tx.proposals(largest)

        def showing() -> None:
            with store.transaction() as tx:
                tx.proposal(proposals[len(proposals) // 2])

        reads(f"list one thématique ({len(by_thematique[largest])} contributions)", listing)
        reads("show one proposal", showing)

        def publish() -> list[str]:
            with store.transaction() as tx:
                return tx.publish_proposals(ADMIN)

        published = timed("publish every draft", publish)
        with store.transaction() as tx:
            audited = len(tx.audit_entries())
        print(f"published={len(published)} audit lines={audited}")
    finally:
        store.close()


def fresh_schema(url: str) -> str:
    url = normalize_database_url(url)
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    engine.dispose()
    return f"{url}?options=-csearch_path%3D{schema}"


def drop_schema(url: str) -> None:
    base, _, schema = url.partition("?options=-csearch_path%3D")
    engine = sa.create_engine(base)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contributions", type=int, default=5000)
    parser.add_argument(
        "--database-url",
        default=None,
        help="PostgreSQL URL (a fresh schema is created); SQLite by default",
    )
    args = parser.parse_args()
    if args.database_url:
        url = fresh_schema(args.database_url)
    else:
        url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    print(f"backend={url.split(':', 1)[0]} contributions={args.contributions}")
    try:
        run(url, args.contributions)
    finally:
        if args.database_url:
            drop_schema(url)


if __name__ == "__main__":
    main()
