"""Throughput and latency of the intake: N simulated agents through the whole conversation.

Drives the real engine and store (no transport: replies go to a collecting adapter).

Closed loop (the default): C agents talk at once, each sending its next message as soon as
the reply came; this is saturation. Prints turns/s, p50/p99 turn latency, CPU per turn.

Open loop (``--rate R``): messages arrive at a steady pace, R per second, on a schedule
fixed in advance (see ``steady_schedule``): each agent sends its next message ``--gap``
seconds after the previous one whether or not its reply came (a message that finds its
conversation busy waits for it, as on a platform), agents spread over every stage.
Latency runs from the scheduled arrival to the delivery of the turn's last reply, so time
spent queueing counts (no coordinated omission). Prints p50/p95/p99/max and the achieved
rate.

    python benchmarks/intake.py                       # SQLite, 1,000 agents, 200 at a time
    python benchmarks/intake.py --database-url postgresql://postgres@127.0.0.1:5432/test
    python benchmarks/intake.py --rate 200            # open loop, 200 turns/s
    python benchmarks/intake.py --statements          # statements, commits, checkouts a turn
    python benchmarks/intake.py --profile intake.prof # cProfile of every thread
    python benchmarks/intake.py --with-classifier     # include the thématique classifier
    python benchmarks/intake.py --metrics             # with the Prometheus counters on

``benchmarks/vote.py`` imports the drivers to measure vote turns the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import os
import pstats
import resource
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

# benchmarks/nlp.py shares its name with the nlp package: the repository comes first.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# the agent's script is the one the webhook tests play (tests/webhook_load.py)
sys.path.append(str(Path(__file__).resolve().parents[1] / "tests"))

import sqlalchemy as sa
from webhook_load import script

from bot.app.engine import Engine
from bot.app.metrics import Metrics
from bot.app.services import build_services
from bot.core.transport import Capability, Transport
from bot.core.values import (
    ConversationKey,
    Incoming,
    IncomingStart,
    IncomingText,
    Outgoing,
)
from bot.dialogue.context import Services
from config.settings import Settings, normalize_database_url
from config.taxonomy import Taxonomy
from nlp.classifier import Prediction
from storage.models import utcnow
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
    """Counts what it is given and remembers when each conversation last received."""

    name = "bench"

    def __init__(self, capabilities: frozenset[Capability] = frozenset()) -> None:
        super().__init__()
        self.capabilities = capabilities
        self.sent = 0
        self.last_sent: dict[ConversationKey, float] = {}

    async def send(
        self, key: ConversationKey, message: Outgoing, *, idempotency: str | None = None
    ) -> None:
        self.sent += 1
        self.last_sent[key] = time.perf_counter()

    async def send_text(self, key: ConversationKey, text: str) -> None:
        self.sent += 1
        self.last_sent[key] = time.perf_counter()


def key_of(number: int) -> ConversationKey:
    return ConversationKey("bench", f"chat{number}", f"user{number}")


def intake_turns(number: int, prefix: str = "e") -> list[Incoming]:
    """One agent's whole collecte: the start, the profile, one need, sent."""
    key = key_of(number)
    return [
        IncomingStart(key=key, event_id=f"{prefix}{number}-start"),
        *(
            IncomingText(key=key, event_id=f"{prefix}{number}-{index}", text=text)
            for index, text in enumerate(script(number))
        ),
    ]


@dataclass
class Bench:
    """The engine and store under measure, with the adapter that counts replies."""

    store: Store
    engine: Engine
    transport: CountingTransport
    services: Services


def open_bench(
    url: str,
    *,
    with_classifier: bool = False,
    clock: Callable[[], datetime] = utcnow,
    capabilities: frozenset[Capability] = frozenset(),
    metrics: bool = False,
) -> Bench:
    settings = Settings(data_dir=Path(tempfile.mkdtemp()))
    fixed = None if with_classifier else FixedClassifier(Taxonomy.load(settings.taxonomy_file).ids)
    services = build_services(settings, fixed)
    store = Store.open(url)
    engine = Engine(services, store, clock=clock, metrics=Metrics() if metrics else None)
    transport = CountingTransport(capabilities)
    engine.register(transport)
    return Bench(store, engine, transport, services)


async def close_bench(bench: Bench) -> None:
    await bench.engine.close()
    bench.store.close()


@dataclass
class Measure:
    """Latencies (seconds) of the turns of one run, its wall and CPU time."""

    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    cpu: float = 0.0
    offered: float | None = None  # open loop: turns/s scheduled
    server_cpu: float | None = None  # PostgreSQL on this machine: its processes' CPU

    @property
    def turns(self) -> int:
        return len(self.latencies)

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000

    def report(self, label: str) -> None:
        turns, rate = self.turns, self.turns / self.elapsed
        p50, p95, p99 = (self.percentile(share) for share in (0.5, 0.95, 0.99))
        print(f"{label}: turns={turns} elapsed={self.elapsed:.2f}s turns/s={rate:.0f}")
        if self.offered is not None:
            print(f"  offered={self.offered:.0f} turns/s achieved={rate:.1f} turns/s")
            print(
                f"  latency from arrival to last reply: p50={p50:.1f}ms p95={p95:.1f}ms"
                f" p99={p99:.1f}ms max={max(self.latencies) * 1000:.1f}ms"
            )
        else:
            print(f"  latency p50={p50:.1f}ms p99={p99:.1f}ms")
        print(
            f"  CPU per turn={self.cpu / turns * 1000:.2f}ms "
            f"(capacity on one free core: {turns / self.cpu:.0f} turns/s)"
        )
        if self.server_cpu is not None:
            print(f"  PostgreSQL server CPU per turn={self.server_cpu / turns * 1000:.2f}ms")


async def closed_loop(
    engine: Engine, scripts: Sequence[Sequence[Incoming]], concurrency: int
) -> Measure:
    """Each script in turn, ``concurrency`` at once; a message goes when its reply came."""
    measure = Measure()
    limit = asyncio.Semaphore(concurrency)

    async def play(turns: Sequence[Incoming]) -> None:
        async with limit:
            for incoming in turns:
                started = time.perf_counter()
                await engine.handle(incoming)
                measure.latencies.append(time.perf_counter() - started)

    started, cpu_started = time.perf_counter(), time.process_time()
    await asyncio.gather(*(play(turns) for turns in scripts))
    measure.elapsed = time.perf_counter() - started
    measure.cpu = time.process_time() - cpu_started
    return measure


@dataclass
class Schedule:
    """Arrivals at a steady pace: the k-th slot is at ``k / rate`` s; None leaves it empty.

    Only the turns scheduled in ``counted`` (seconds from the start) are measured: there,
    every slot carries a message and the agents are spread over every stage of their script.
    """

    arrivals: list[Incoming | None]
    rate: float
    counted: tuple[float, float]


def steady_schedule(
    scripts: Sequence[Sequence[Incoming]], rate: float, *, gap: float = 0.5
) -> Schedule:
    """Agents take turns in ``rate * gap`` slots, each agent's messages ``gap`` s apart,
    whatever its replies do; when it is done, the next agent of its slot begins.

    Slot ``s`` starts ``s`` slots into a script's length late, so that at any moment the
    agents are at every stage (a wave of the same costly turn would be an artefact): the
    first script-length of slots ramps up, the last ones run down; neither is counted.
    """
    slots = max(1, min(len(scripts), round(rate * gap)))
    length = max(len(turns) for turns in scripts)
    streams: list[list[Incoming | None]] = [[None] * (s % length) for s in range(slots)]
    for number, turns in enumerate(scripts):
        streams[number % slots].extend(turns)
    longest, shortest = max(map(len, streams)), min(map(len, streams))
    arrivals = [
        streams[k % slots][k // slots] if k // slots < len(streams[k % slots]) else None
        for k in range(longest * slots)
    ]
    return Schedule(arrivals, rate, (slots * length / rate, slots * shortest / rate))


async def open_loop(bench: Bench, schedule: Schedule) -> Measure:
    """Send each arrival at its time; latency runs from the scheduled arrival to the
    delivery of the turn's last reply. Turns outside ``schedule.counted`` are played but
    not counted."""
    rate, (first, last) = schedule.rate, schedule.counted
    measure = Measure(offered=rate)
    transport = bench.transport
    tasks: set[asyncio.Task[None]] = set()
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05
    perf_offset = time.perf_counter() - loop.time()
    played = 0
    finished: list[float] = []

    async def turn(incoming: Incoming, due: float, counted: bool) -> None:
        await bench.engine.handle(incoming)
        if counted:
            delivered = transport.last_sent.get(incoming.key, time.perf_counter())
            measure.latencies.append(max(0.0, delivered - (due + perf_offset)))
            finished.append(loop.time())

    cpu_started = time.process_time()
    for index, incoming in enumerate(schedule.arrivals):
        if incoming is None:
            continue
        due = start + index / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(turn(incoming, due, first <= index / rate < last))
        played += 1
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    while tasks:
        await asyncio.gather(*tasks)
    measure.cpu = time.process_time() - cpu_started
    # achieved: the counted turns over the time from the first's arrival to the last's reply
    measure.elapsed = max(finished) - (start + first)
    # CPU per turn over every turn played, ramps included
    measure.cpu *= measure.turns / played
    return measure


class StatementCounter:
    """Counts, on a SQLAlchemy engine, statements executed, commits and pool checkouts
    (with ``pool_pre_ping`` each checkout is one more round trip)."""

    def __init__(self, db: sa.Engine) -> None:
        self.counts = {"statements": 0, "commits": 0, "checkouts": 0}
        self.by_statement: dict[str, int] = {}
        self._lock = threading.Lock()
        sa.event.listen(db, "before_cursor_execute", self._statement)
        sa.event.listen(db, "commit", self._commit)
        sa.event.listen(db.pool, "checkout", self._checkout)

    def _statement(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        head = " ".join(statement.split())[:70]
        with self._lock:
            self.counts["statements"] += 1
            self.by_statement[head] = self.by_statement.get(head, 0) + 1

    def _commit(self, conn: Any) -> None:
        with self._lock:
            self.counts["commits"] += 1

    def _checkout(self, *args: Any) -> None:
        with self._lock:
            self.counts["checkouts"] += 1

    def report(self, turns: int) -> None:
        per = {name: count / turns for name, count in self.counts.items()}
        print(
            f"  per turn: statements={per['statements']:.2f} commits={per['commits']:.2f} "
            f"pool checkouts={per['checkouts']:.2f}"
        )
        for head, count in sorted(self.by_statement.items(), key=lambda item: -item[1])[:15]:
            print(f"    {count / turns:5.2f}  {head}")


@contextmanager
def profiled(path: str | None) -> Iterator[None]:
    """cProfile the event loop's thread and every thread started meanwhile (the database
    pool's), merged into ``path``."""
    if path is None:
        yield
        return
    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()

    def start_in_thread(*args: Any) -> None:
        profile = cProfile.Profile(time.thread_time)
        with lock:
            profiles.append(profile)
        profile.enable()

    main = cProfile.Profile(time.thread_time)
    threading.setprofile(start_in_thread)
    main.enable()
    try:
        yield
    finally:
        main.disable()
        threading.setprofile(None)  # type: ignore[arg-type]
        for profile in profiles:
            profile.disable()
        stats = pstats.Stats(main)
        for profile in profiles:
            with contextlib.suppress(TypeError):  # a thread whose profile saw nothing
                stats.add(profile)
        stats.dump_stats(path)
        stats.sort_stats("tottime").print_stats(25)


def server_cpu(store: Store) -> Callable[[], float] | None:
    """PostgreSQL on this machine: a reader of the CPU seconds its processes have used so
    far (each server process and the postmaster, with the ended ones it reaped); None
    elsewhere. On a machine of two cores the server's share is the other core's load."""
    if store.is_sqlite:
        return None
    with store.engine.connect() as connection:
        backend = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    try:
        postmaster = int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None  # a server on another machine, or /proc not readable

    def read() -> float:
        ticks = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == postmaster:  # ppid: a server process
                    ticks += int(fields[11]) + int(fields[12])  # utime, stime
        fields = Path(f"/proc/{postmaster}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += sum(int(value) for value in fields[11:15])  # its own and the reaped ones'
        return ticks / os.sysconf("SC_CLK_TCK")

    return read


async def run(args: argparse.Namespace, url: str) -> None:
    bench = open_bench(url, with_classifier=args.with_classifier, metrics=args.metrics)
    counter = StatementCounter(bench.store.engine) if args.statements else None
    scripts = [intake_turns(n) for n in range(args.agents)]
    server = server_cpu(bench.store)
    server_started = server() if server else 0.0
    with profiled(args.profile):
        if args.rate:
            measure = await open_loop(bench, steady_schedule(scripts, args.rate, gap=args.gap))
        else:
            measure = await closed_loop(bench.engine, scripts, args.concurrency)
    if server is not None:
        measure.server_cpu = server() - server_started
    await bench.engine.drain()
    with bench.store.transaction() as tx:
        stored = tx.counts()["besoins"]
    backend = url.split(":", 1)[0]
    mode = f"rate={args.rate:g}/s" if args.rate else f"concurrency={args.concurrency}"
    print(
        f"backend={backend} agents={args.agents} {mode} "
        f"classifier={'on' if args.with_classifier else 'off'} "
        f"metrics={'on' if args.metrics else 'off'}"
    )
    measure.report("intake")
    if counter is not None:
        counter.report(sum(len(turns) for turns in scripts))
    print(f"messages sent={bench.transport.sent} contributions stored={stored}")
    print(f"peak RSS={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    await close_bench(bench)


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


def bench_url(database_url: str | None) -> str:
    """A fresh schema on PostgreSQL, a fresh file on SQLite."""
    if database_url:
        return fresh_schema(database_url)
    return f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"


def common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        default=None,
        help="PostgreSQL URL (a fresh schema is created); SQLite by default",
    )
    parser.add_argument("--concurrency", type=int, default=200, help="closed loop: agents at once")
    parser.add_argument(
        "--rate", type=float, default=0.0, help="open loop: turns arriving per second"
    )
    parser.add_argument(
        "--gap", type=float, default=0.5, help="open loop: seconds between an agent's messages"
    )
    parser.add_argument("--statements", action="store_true", help="count statements a turn")
    parser.add_argument("--profile", metavar="FILE", help="cProfile every thread into FILE")
    parser.add_argument("--metrics", action="store_true", help="count turns as /metrics does")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--with-classifier", action="store_true")
    common_arguments(parser)
    args = parser.parse_args()
    url = bench_url(args.database_url)
    try:
        asyncio.run(run(args, url))
    finally:
        if args.database_url:
            drop_schema(url)


if __name__ == "__main__":
    main()
