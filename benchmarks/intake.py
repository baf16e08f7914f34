"""Throughput and latency of the intake: N simulated agents through the whole conversation.

Drives the real engine and store (no transport: replies go to a collecting adapter), with
C agents talking at once. Prints turns/s, p50/p99 turn latency and peak RSS.

    python benchmarks/intake.py                       # SQLite, 1,000 agents, 200 at a time
    python benchmarks/intake.py --database-url postgresql://postgres@127.0.0.1:5432/test
    python benchmarks/intake.py --with-classifier     # include the thématique classifier
    python benchmarks/intake.py --metrics             # with the Prometheus counters on
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

# benchmarks/nlp.py shares its name with the nlp package: the repository comes first.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa

from bot.app.engine import Engine
from bot.app.metrics import Metrics
from bot.app.services import build_services
from bot.core.transport import Transport
from bot.core.values import ConversationKey, IncomingStart, IncomingText, Outgoing
from config.settings import Settings, normalize_database_url
from config.taxonomy import Taxonomy
from nlp.classifier import Prediction
from storage.store import Store


class FixedClassifier:
    """Stands in for the classifier when its cost is excluded from the measure."""

    threshold = 0.5

    def __init__(self, ids: tuple[str, ...]) -> None:
        share = 1 / len(ids)
        self._prediction = Prediction(tuple((i, share) for i in ids))

    def predict(self, text: str) -> Prediction:
        return self._prediction


class CountingTransport(Transport):
    name = "bench"

    def __init__(self) -> None:
        super().__init__()
        self.sent = 0

    async def send(self, key: ConversationKey, message: Outgoing) -> None:
        self.sent += 1

    async def send_text(self, key: ConversationKey, text: str) -> None:
        self.sent += 1


def script(number: int) -> list[str]:
    return [
        "Villeurbanne",
        "2",
        f"Fonction {number}",
        "passer",
        "1",
        f"Besoin numéro {number}",
        f"Les habitants nous appellent chaque semaine pour le besoin {number}, "
        "et nous n'avons pas d'outil pour y répondre.",
        "1, 3",
        "passer",
        "1",
        "3",  # what the service should mainly allow
        "Envoyer",
    ]


async def agent(engine: Engine, number: int, latencies: list[float]) -> None:
    key = ConversationKey("bench", f"chat{number}", f"user{number}")
    started = time.perf_counter()
    await engine.handle(IncomingStart(key=key, event_id=f"s{number}"))
    latencies.append(time.perf_counter() - started)
    for index, text in enumerate(script(number)):
        started = time.perf_counter()
        await engine.handle(IncomingText(key=key, event_id=f"e{number}-{index}", text=text))
        latencies.append(time.perf_counter() - started)


async def run(
    url: str, agents: int, concurrency: int, with_classifier: bool, metrics: bool = False
) -> None:
    settings = Settings(data_dir=Path(tempfile.mkdtemp()))
    fixed = None if with_classifier else FixedClassifier(Taxonomy.load(settings.taxonomy_file).ids)
    services = build_services(settings, fixed)
    store = Store.open(url)
    engine = Engine(services, store, metrics=Metrics() if metrics else None)
    transport = CountingTransport()
    engine.register(transport)
    latencies: list[float] = []
    limit = asyncio.Semaphore(concurrency)

    async def bounded(number: int) -> None:
        async with limit:
            await agent(engine, number, latencies)

    started, cpu_started = time.perf_counter(), time.process_time()
    await asyncio.gather(*(bounded(n) for n in range(agents)))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    await engine.close()
    with store.transaction() as tx:
        stored = tx.counts()["besoins"]
    store.close()
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99)] * 1000
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    backend = url.split(":", 1)[0]
    print(
        f"backend={backend} agents={agents} concurrency={concurrency} "
        f"classifier={'on' if with_classifier else 'off'} metrics={'on' if metrics else 'off'}"
    )
    print(f"turns={len(latencies)} elapsed={elapsed:.2f}s turns/s={len(latencies) / elapsed:.0f}")
    print(f"latency p50={p50:.1f}ms p99={p99:.1f}ms")
    print(
        f"CPU per turn={cpu / len(latencies) * 1000:.2f}ms "
        f"(capacity on one free core: {len(latencies) / cpu:.0f} turns/s)"
    )
    print(f"messages sent={transport.sent} contributions stored={stored}")
    print(f"peak RSS={rss:.0f} MiB")


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
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument(
        "--database-url",
        default=None,
        help="PostgreSQL URL (a fresh schema is created); SQLite by default",
    )
    parser.add_argument("--with-classifier", action="store_true")
    parser.add_argument("--metrics", action="store_true", help="count turns as /metrics does")
    args = parser.parse_args()
    if args.database_url:
        url = fresh_schema(args.database_url)
    else:
        url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    try:
        asyncio.run(run(url, args.agents, args.concurrency, args.with_classifier, args.metrics))
    finally:
        if args.database_url:
            drop_schema(url)


if __name__ == "__main__":
    main()
