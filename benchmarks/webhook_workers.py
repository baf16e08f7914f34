"""Telegram webhook workers on one PostgreSQL base: turns/s with one, two… processes.

Starts N ``recueil run`` processes in webhook mode on a fresh schema, the fake Bot API in
this process, then plays the load balancer: A agents do the whole intake at once, each
update posted to a worker drawn at random, a chat's updates one after the other (as
Telegram posts them). A webhook answers once the replies are delivered, so the latency of
a POST is the time from arrival to delivery. Prints turns/s, p50/p99 and the workers' CPU
per turn.

    python benchmarks/webhook_workers.py --workers 2 \\
        --database-url postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "telegram")]

import aiohttp  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from fake_bot_api import FakeBotApi  # noqa: E402
from recueil_process import recueil_run  # noqa: E402
from webhook_load import free_port, post, script, worker_variables  # noqa: E402

from config.settings import normalize_database_url  # noqa: E402
from storage.store import Store  # noqa: E402


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime, stime in clock ticks (100 Hz)


async def run(url: str, workers: int, agents: int) -> None:
    Store.open(url).close()  # migrated once, before the workers start
    data = Path(tempfile.mkdtemp())
    ports = [free_port() for _ in range(workers)]
    rng = random.Random(14)
    latencies: list[float] = []
    async with FakeBotApi() as api:
        contexts = [
            recueil_run(
                **worker_variables(api, url, port, data / f"worker{index}"),
                RECUEIL_FLOOD_BURST="1000",
            )
            for index, port in enumerate(ports)
        ]
        running = [await context.__aenter__() for context in contexts]
        try:
            await api.wait_until(
                lambda: len(api.calls_to("setWebhook")) == workers, timeout=300, what="workers"
            )
            async with aiohttp.ClientSession() as http:

                async def timed(update_id: int) -> None:
                    started = time.perf_counter()
                    await post(api, http, update_id, ports[rng.randrange(workers)])
                    latencies.append(time.perf_counter() - started)

                async def agent(number: int) -> None:
                    chat = 100_000 + number
                    await timed(await api.user_starts(chat))
                    for text in script(number):
                        await timed(await api.user_sends_text(chat, text))

                cpu_before = sum(cpu_seconds(bot.process.pid) for bot in running)
                started = time.perf_counter()
                await asyncio.gather(*(agent(n) for n in range(agents)))
                elapsed = time.perf_counter() - started
                cpu = sum(cpu_seconds(bot.process.pid) for bot in running) - cpu_before
        finally:
            for context in reversed(contexts):
                await context.__aexit__(None, None, None)
    latencies.sort()
    turns = len(latencies)
    print(f"workers={workers} agents={agents} turns={turns} elapsed={elapsed:.2f}s")
    print(f"turns/s={turns / elapsed:.0f}")
    print(
        f"arrival to delivery p50={statistics.median(latencies) * 1000:.0f}ms "
        f"p99={latencies[int(turns * 0.99)] * 1000:.0f}ms"
    )
    print(f"workers' CPU per turn={cpu / turns * 1000:.2f}ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--database-url", required=True, help="PostgreSQL URL")
    args = parser.parse_args()
    base = normalize_database_url(args.database_url)
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(base)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        asyncio.run(run(f"{base}?options=-csearch_path%3D{schema}", args.workers, args.agents))
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        engine.dispose()


if __name__ == "__main__":
    main()
