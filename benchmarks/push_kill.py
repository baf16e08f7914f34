"""``kill -9`` of ``recueil run`` at random moments of a push: lost and duplicated messages.

Usage:
    python benchmarks/push_kill.py [--agents 1000] [--kills 5] [--max-delay 5]
                                   [--rate 30] [--seed 1]

A SQLite database is filled with ``--agents`` voters (one per commune, each with a Telegram
conversation, as in ``vote_opening.py``); ``recueil run`` (a subprocess, the real code and
the engine as it is: send, then mark sent; a restart sends what is still pending) starts on
the first day of the vote and pushes the vote opening to all of them through the fake Bot
API of the test suite, served by this process. After each (re)start, once a new message
arrived, the benchmark waits a random delay (uniform in [0, ``--max-delay``] seconds) and
sends SIGKILL; after ``--kills`` kills it lets the last run finish. Then it counts, per
agent, the vote opening messages the server executed: 0 is a loss, 2 or more a duplicate. A
duplicate is charged to the run in which its first copy was executed.

``--rate`` is the bot's pace (Telegram's 30 messages/s by default; the server enforces no
limit here, so a higher pace only makes a push of thousands shorter).

Also measured, on every delivery sent once: how long after the server executed it the bot
recorded it sent (``delivery.sent_at``). A kill in that window is the only one that
duplicates a message; nothing can be lost, since a message is recorded sent only after
Telegram answered.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "telegram"), str(ROOT / "benchmarks")]

import sqlalchemy as sa  # noqa: E402
from fake_bot_api import FakeBotApi  # noqa: E402
from vote_opening import fill  # noqa: E402

from storage.store import Store  # noqa: E402

VOTE_DAY = "2027-02-15T10:00:00+01:00"
FIRST_CHAT = 100_000
CAMPAIGN = "vote-ouverture#0"
EARLY = 5.0
"""Seconds after a run's first send counted apart: the models still load then."""

LAUNCHER = """
import functools, sys
from bot.transports.telegram import ratelimit
ratelimit.Limits = functools.partial(ratelimit.Limits, global_per_window={rate})
from bot.app.cli import main
sys.exit(main(["run"]))
"""


@dataclass
class Run:
    started: float
    killed: float | None = None
    pending_at_kill: int = 0
    duplicated: int = 0
    sent: list[int] = field(default_factory=list)


async def start(env: dict[str, str], rate: int) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        LAUNCHER.format(rate=rate),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


def executed(api: FakeBotApi) -> int:
    return len(api.send_log)


def pending(store: Store) -> int:
    with store.engine.connect() as connection:
        return connection.execute(
            sa.text("SELECT count(*) FROM delivery WHERE status = 'pending'")
        ).scalar_one()


async def run(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/recueil.sqlite3"
        store = Store.open(url)
        fill(store, args.agents)
        async with FakeBotApi(clock=time.time) as api:
            env = {k: v for k, v in os.environ.items() if not k.startswith("RECUEIL_")}
            env.update(
                PYTHONPATH=str(ROOT),
                RECUEIL_DATA_DIR=folder,
                RECUEIL_DATABASE_URL=url,
                RECUEIL_TELEGRAM_TOKEN="1:KILL-BENCH",
                RECUEIL_TELEGRAM_BASE_URL=api.base_url,
                RECUEIL_NOW=VOTE_DAY,
                RECUEIL_SCHEDULE_SECONDS="1",
            )
            runs: list[Run] = []
            started = time.perf_counter()
            while True:
                process = await start(env, args.rate)
                runs.append(Run(time.time()))
                before = executed(api)
                await api.wait_until(lambda b=before: executed(api) > b, 300, "a send")  # type: ignore[misc]
                if len(runs) > args.kills:
                    deadline = time.monotonic() + 1800
                    while pending(store):
                        assert time.monotonic() < deadline, "the last run did not finish"
                        await asyncio.sleep(0.2)
                    process.terminate()
                    await process.wait()
                    break
                await asyncio.sleep(rng.uniform(0, args.max_delay))
                runs[-1].killed = time.time()
                process.kill()
                await process.wait()
                runs[-1].pending_at_kill = pending(store)
                if not runs[-1].pending_at_kill:
                    print("  the push ended before the kill: use more --agents")
            wall = time.perf_counter() - started
        report(api, store, args, runs, wall)
        store.close()


def stamp(value: datetime | str) -> float:
    """A UTC timestamp as SQLite returns it to a text query (a string) or as a datetime."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC).timestamp()


def report(
    api: FakeBotApi, store: Store, args: argparse.Namespace, runs: list[Run], wall: float
) -> None:
    executions: dict[int, list[float]] = {}
    for record in api.send_log:
        executions.setdefault(record.chat_id, []).append(record.at)
    chats = range(FIRST_CHAT, FIRST_CHAT + args.agents)
    lost = [chat for chat in chats if chat not in executions]
    for chat in chats:
        times = executions.get(chat, [])
        if len(times) > 1:
            index = max(i for i, r in enumerate(runs) if r.started <= times[0])
            runs[index].duplicated += len(times) - 1
    with store.engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT chat_id, sent_at FROM delivery WHERE campaign = :campaign"),
            {"campaign": CAMPAIGN},
        ).all()
    firsts = [
        min((t for t in (r.at for r in api.send_log) if t >= run.started), default=run.started)
        for run in runs
    ]
    early: list[float] = []  # executed in the first EARLY seconds of a run's sending
    later: list[float] = []
    for chat_id, sent_at in rows:
        times = executions.get(int(chat_id), [])
        if sent_at is not None and len(times) == 1:
            index = max(i for i, r in enumerate(runs) if r.started <= times[0])
            part = early if times[0] - firsts[index] < EARLY else later
            part.append(stamp(sent_at) - times[0])
    sent = sum(len(times) for times in executions.values())
    print(
        f"push_kill: {args.agents} agents, {len(runs) - 1} kills, pace {args.rate} msg/s,"
        f" {sent} messages executed, wall {wall:.1f} s"
    )
    for number, item in enumerate(runs[:-1], 1):
        assert item.killed is not None
        print(
            f"  kill {number}: {item.killed - item.started:6.1f} s after its start,"
            f" {item.pending_at_kill:5d} still queued, duplicated {item.duplicated}"
        )
    duplicated = sum(r.duplicated for r in runs)
    print(f"  lost {len(lost)}   duplicated {duplicated}   (rows: {len(rows)})")
    for name, values in (
        ("executed -> recorded sent", early + later),
        (f"  in a run's first {EARLY:.0f} s", early),
        ("  afterwards", later),
    ):
        if not values:
            continue
        values = sorted(values)
        p99 = values[min(len(values) - 1, int(0.99 * len(values)))]
        mean = statistics.fmean(values)
        print(
            f"  {name:27s} median {statistics.median(values) * 1000:6.2f} ms"
            f"   mean {mean * 1000:6.2f} ms   p99 {p99 * 1000:7.2f} ms"
            f"   max {values[-1] * 1000:7.2f} ms   (n={len(values)}):"
            f" {mean * args.rate:.3f} duplicates expected per kill (mean x pace)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--rate", type=int, default=30, help="the bot's pace, msg/s")
    parser.add_argument("--max-delay", type=float, default=5.0, help="seconds, after a send")
    parser.add_argument("--seed", type=int, default=1)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
