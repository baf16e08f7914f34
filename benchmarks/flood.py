"""Other agents' latency while one agent floods: quiet, flooding with and without control.

Open loop: the other agents' turns arrive at a steady pace (``--rate`` turns/s spread over
``--agents`` conversations), whatever the bot's speed; the flooder sends ``--flood-rate``
messages/s. A turn's latency runs from its scheduled arrival to the end of its delivery; the first
second of each run (new conversations) is not measured.
Prints p50 and p99 of the other agents for each run, and the ratio to the quiet run.

    python benchmarks/flood.py                          # SQLite, 5 s per run
    python benchmarks/flood.py --database-url postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from intake import CountingTransport, FixedClassifier, drop_schema, fresh_schema

from bot.app.engine import Engine
from bot.app.services import build_services
from bot.core.flood import FloodGate
from bot.core.values import ConversationKey, IncomingText
from config.settings import Settings
from config.taxonomy import Taxonomy
from storage.store import Store

_events = itertools.count()
WARMUP = 1.0


async def run_once(
    url: str, *, agents: int, rate: float, seconds: float, flood_rate: float, control: bool
) -> list[float]:
    settings = Settings(data_dir=Path(tempfile.mkdtemp()))
    services = build_services(settings, FixedClassifier(Taxonomy.load(settings.taxonomy_file).ids))
    store = Store.open(url)
    flood = FloodGate[ConversationKey](burst=settings.flood_burst, rate=settings.flood_rate)
    engine = Engine(services, store, flood=flood if control else None)
    engine.register(CountingTransport())
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    tasks: set[asyncio.Task[None]] = set()

    async def turn(key: ConversationKey, text: str, due: float, measured: bool) -> None:
        await engine.handle(IncomingText(key=key, event_id=f"e{next(_events)}", text=text))
        if measured:
            latencies.append(loop.time() - due)

    async def pace(rate: float, make: object, measured: bool) -> None:
        start = loop.time()
        for index in itertools.count():
            due = start + index / rate
            if due - start >= seconds:
                return
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            key, text = make(index)  # type: ignore[operator]
            warm = due - start >= WARMUP  # the first second creates the conversations
            task = asyncio.create_task(turn(key, text, due, measured and warm))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    def other(index: int) -> tuple[ConversationKey, str]:
        number = index % agents
        return ConversationKey("bench", f"chat{number}", f"user{number}"), "aide"

    flooder = ConversationKey("bench", "chat-flood", "flooder")
    runs = [pace(rate, other, True)]
    if flood_rate > 0:
        runs.append(pace(flood_rate, lambda i: (flooder, f"ligne {i}"), False))
    await asyncio.gather(*runs)
    while tasks:
        await asyncio.gather(*list(tasks))
    await engine.close()
    store.close()
    return sorted(latencies)


def quantile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(len(values) * q))] * 1000


async def main_async(args: argparse.Namespace, url: str) -> None:
    common = {"agents": args.agents, "rate": args.rate, "seconds": args.seconds}
    results = {}
    for name, flood_rate, control in (
        ("quiet", 0.0, True),
        ("flood, control on", args.flood_rate, True),
        ("flood, control off", args.flood_rate, False),
    ):
        latencies = await run_once(url, flood_rate=flood_rate, control=control, **common)
        results[name] = (quantile(latencies, 0.5), quantile(latencies, 0.99), len(latencies))
    quiet_p99 = results["quiet"][1]
    print(
        f"other agents: {args.agents} conversations, {args.rate:.0f} turns/s for "
        f"{args.seconds:.0f} s; flooder: {args.flood_rate:.0f} messages/s"
    )
    for name, (p50, p99, count) in results.items():
        print(
            f"{name:<20} turns={count} p50={p50:.1f}ms p99={p99:.1f}ms "
            f"(p99 {p99 / quiet_p99:.1f}x quiet)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--rate", type=float, default=100, help="other agents' turns per second")
    parser.add_argument("--flood-rate", type=float, default=300, help="flooder messages/s")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--database-url", default=None, help="PostgreSQL (a fresh schema)")
    args = parser.parse_args()
    if args.database_url:
        url = fresh_schema(args.database_url)
    else:
        url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    try:
        asyncio.run(main_async(args, url))
    finally:
        if args.database_url:
            drop_schema(url)


if __name__ == "__main__":
    main()
