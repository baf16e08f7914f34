"""The vote opening for every commune: how long queuing one announcement to N agents takes.

Usage:
    python benchmarks/vote_opening.py [--agents 36000] [--database-url postgresql://…]

Fills a fresh database with N agents (one per commune of the referential, each with a
profile and a conversation), then times ``queue_campaign`` for the vote opening (audience
``votants``) in one transaction, as the scheduler's tick does: choosing the recipients and
writing one delivery per agent. Then queues it again (nothing must be added) and prints the
counts, so that a lost or duplicated delivery shows.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa

from bot.consultation.campaigns import Campaign, queue_campaign
from bot.core.values import OutText
from config.settings import normalize_database_url
from storage.models import Agent, Collectivite, Conversation, utcnow
from storage.referential import CollectiviteRef, default_referential
from storage.store import Store


def insert_communes(
    connection: sa.Connection, communes: list[CollectiviteRef], now: datetime
) -> dict[str, int]:
    """The communes as collectivités, in one statement; their ids by INSEE code."""
    connection.execute(
        sa.insert(Collectivite.__table__),  # type: ignore[attr-defined]
        [
            {"kind": "commune", "code": ref.code, "name": ref.name, "created_at": now}
            for ref in communes
        ],
    )
    query = sa.text("SELECT code, id FROM collectivite WHERE kind = 'commune'")
    return dict(connection.execute(query).all())  # type: ignore[arg-type]


def fill(store: Store, count: int) -> None:
    now = utcnow()
    communes = default_referential().all("commune")[:count]
    with store.transaction() as tx:
        connection = tx.connection
        ids = insert_communes(connection, communes, now)
        connection.execute(
            sa.insert(Agent.__table__),  # type: ignore[attr-defined]
            [
                {
                    "transport": "telegram",
                    "user_id": str(100_000 + n),
                    "collectivite_id": ids[ref.code],
                    "profile": "elu" if n % 2 else "agent",
                    "fonction": "maire",
                    "created_at": now,
                    "updated_at": now,
                }
                for n, ref in enumerate(communes)
            ],
        )
        connection.execute(
            sa.insert(Conversation.__table__),  # type: ignore[attr-defined]
            [
                {
                    "transport": "telegram",
                    "chat_id": str(100_000 + n),
                    "user_id": str(100_000 + n),
                    "state": {},
                    "turns": 1,
                    "updated_at": now,
                }
                for n in range(len(communes))
            ],
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=36_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/bench.sqlite3"
        schema = None
        if url.startswith("postgresql"):
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            engine = sa.create_engine(normalize_database_url(url))
            with engine.begin() as connection:
                connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
            engine.dispose()
            url = f"{normalize_database_url(url)}?options=-csearch_path%3D{schema}"
        store = Store.open(url)
        try:
            started = time.perf_counter()
            fill(store, args.agents)
            filled = time.perf_counter() - started
            message = [OutText("Le vote est ouvert.")]
            cpu, wall = time.process_time(), time.perf_counter()
            with store.transaction() as tx:
                recipients = queue_campaign(
                    tx, Campaign("vote-ouverture", "ouverture", "votants"), message
                )
            queued_wall, queued_cpu = time.perf_counter() - wall, time.process_time() - cpu
            with store.transaction() as tx:
                again = queue_campaign(
                    tx, Campaign("vote-ouverture", "ouverture", "votants"), message
                )
                rows = tx.connection.execute(
                    sa.text("SELECT count(*), count(DISTINCT agent_id) FROM delivery")
                ).one()
            print(
                f"backend={store.engine.dialect.name} agents={args.agents}"
                f" (filled in {filled:.1f}s)"
            )
            print(
                f"queued={len(recipients or [])} in {queued_wall:.2f}s wall, {queued_cpu:.2f}s CPU"
            )
            print(f"queued again={again} deliveries={rows[0]} distinct agents={rows[1]}")
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"peak RSS={peak:.0f} MiB")
        finally:
            store.close()
            if schema is not None:
                engine = sa.create_engine(normalize_database_url(args.database_url))
                with engine.begin() as connection:
                    connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
                engine.dispose()


if __name__ == "__main__":
    main()
