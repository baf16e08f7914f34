"""The vote's dialogue turns: CPU per vote turn against an intake turn, and the open loop.

In one run, on one database: N agents do the whole collecte (the intake turns of
``benchmarks/intake.py``, closed loop: the reference CPU per turn); their needs become
proposals spread over eight thématiques, published; N other agents with profiles (élus and
agents of communes, some communes with two) arrive when the vote is open (a settable clock)
and vote by text (``propositions``, ``soutenir P-…``, ``mes soutiens``, ``voir P-…``,
``retirer P-…``) and by poll answers (``IncomingPollAnswer`` with the options chosen, as the
Telegram and Matrix adapters produce them; an answer changed, then retracted). The vote
turns run in a closed loop (CPU per vote turn, saturation), then a second round arrives at
a steady ``--rate`` (open loop, latency from scheduled arrival to the last reply).

    python benchmarks/vote.py                         # SQLite, 1,000 voters
    python benchmarks/vote.py --database-url postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa
from intake import (
    Bench,
    Measure,
    StatementCounter,
    bench_url,
    close_bench,
    closed_loop,
    common_arguments,
    drop_schema,
    intake_turns,
    open_bench,
    open_loop,
    profiled,
    steady_schedule,
)
from vote_opening import insert_communes

from bot.consultation.vote import POLL_PREFIX
from bot.core.transport import Capability
from bot.core.values import ConversationKey, Incoming, IncomingPollAnswer, IncomingText
from storage.models import Agent, utcnow
from storage.referential import default_referential

DURING_COLLECTE = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
DURING_VOTE = datetime(2027, 2, 16, 10, 0, tzinfo=UTC)
THEMES = 8
PER_PROPOSAL = 25  # contributions grouped in each proposal


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def publish(bench: Bench, contributions: int) -> dict[str, str]:
    """Group the stored needs into proposals over ``THEMES`` thématiques and publish them;
    returns reference → thématique."""
    themes = bench.services.taxonomy.ids[:THEMES]
    found: dict[str, str] = {}
    with bench.store.transaction() as tx:
        for index, start in enumerate(range(1, contributions + 1, PER_PROPOSAL)):
            end = min(start + PER_PROPOSAL, contributions + 1)
            refs = [f"B-{n:04d}" for n in range(start, end)]
            proposal = tx.create_proposal(
                "bench:admin",
                title=f"Proposition {index + 1} : un service en ligne pour tous",
                contributions=refs,
                description="Ce que les collectivités ont décrit, regroupé.",
                thematique=themes[index % len(themes)],
            )
            found[proposal.reference] = proposal.thematique
        tx.publish_proposals("bench:admin", list(found))
    return found


def voter_key(number: int) -> ConversationKey:
    return ConversationKey("bench", f"vchat{number}", f"voter{number}")


def register_voters(bench: Bench, count: int) -> None:
    """``count`` élus and agents of communes, with their profiles; one commune in ten has
    two (the second is told the commune already supports)."""
    now = utcnow()
    communes = default_referential().all("commune")[: count - count // 10]
    with bench.store.transaction() as tx:
        connection = tx.connection
        ids = insert_communes(connection, communes, now)
        connection.execute(
            sa.insert(Agent.__table__),  # type: ignore[attr-defined]
            [
                {
                    "transport": "bench",
                    "user_id": voter_key(n).user,
                    "collectivite_id": ids[communes[n % len(communes)].code],
                    "profile": "elu" if n % 2 else "agent",
                    "fonction": "maire" if n % 2 else "secrétaire de mairie",
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(count)
            ],
        )


def vote_turns(number: int, themes: dict[str, str], round_: int) -> list[Incoming]:
    """One voter's turns: listing, a poll answer then changed, text supports, their list,
    a proposal read, a withdrawal, the poll answer retracted."""
    key = voter_key(number)
    refs = sorted(themes)
    by_theme: dict[str, list[str]] = {}
    for reference in refs:
        by_theme.setdefault(themes[reference], []).append(reference)
    own = refs[(number + round_ * 7) % len(refs)]
    poll_refs = by_theme[themes[own]]
    first, second = poll_refs[number % len(poll_refs)], poll_refs[(number + 1) % len(poll_refs)]
    other = refs[(number * 7 + 3 + round_) % len(refs)]
    poll_id = f"{POLL_PREFIX}{themes[own]}"
    event = iter(range(100))

    def text(words: str) -> IncomingText:
        return IncomingText(key=key, event_id=f"v{round_}-{number}-{next(event)}", text=words)

    def poll(*options: str) -> IncomingPollAnswer:
        return IncomingPollAnswer(
            key=key,
            event_id=f"v{round_}-{number}-{next(event)}",
            poll_id=poll_id,
            option_ids=options,
        )

    turns: list[Incoming] = [
        poll(first),
        text(f"soutenir {other}"),
        poll(first, second),
        text("mes soutiens"),
        text(f"voir {second}"),
        text(f"retirer {other}"),
        poll(),
        text(f"soutenir {own}"),
    ]
    if round_ == 0:
        turns.insert(0, text("propositions"))
    return turns


async def run(args: argparse.Namespace, url: str) -> None:
    clock = Clock(DURING_COLLECTE)
    bench = open_bench(url, clock=clock, capabilities=frozenset({Capability.POLLS}))
    counter = StatementCounter(bench.store.engine) if args.statements else None
    intake = await closed_loop(
        bench.engine, [intake_turns(n) for n in range(args.agents)], args.concurrency
    )
    themes = publish(bench, args.agents)
    register_voters(bench, args.voters)
    clock.now = DURING_VOTE
    if counter is not None:
        counter.counts = dict.fromkeys(counter.counts, 0)
        counter.by_statement.clear()
    scripts = [vote_turns(n, themes, 0) for n in range(args.voters)]
    with profiled(args.profile):
        votes = await closed_loop(bench.engine, scripts, args.concurrency)
    print(
        f"backend={url.split(':', 1)[0]} intake agents={args.agents} voters={args.voters} "
        f"proposals={len(themes)} concurrency={args.concurrency}"
    )
    intake.report("intake turns (closed loop)")
    votes.report("vote turns (closed loop)")
    if counter is not None:
        counter.report(votes.turns)
    ratio = (votes.cpu / votes.turns) / (intake.cpu / intake.turns)
    print(f"CPU per vote turn / CPU per intake turn = {ratio:.2f} (target ≤ 1.5)")
    if args.rate:
        second = [vote_turns(n, themes, 1) for n in range(args.voters)]
        paced: Measure = await open_loop(bench, steady_schedule(second, args.rate, gap=args.gap))
        paced.report("vote turns (open loop)")
    await bench.engine.drain()
    with bench.store.transaction() as tx:
        standing, withdrawn = tx.connection.execute(
            sa.text(
                "SELECT count(*) FILTER (WHERE withdrawn_at IS NULL),"
                " count(*) FILTER (WHERE withdrawn_at IS NOT NULL) FROM support"
            )
        ).one()
    print(f"supports standing={standing} withdrawn={withdrawn} sent={bench.transport.sent}")
    print(f"peak RSS={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    await close_bench(bench)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000, help="intake agents (the needs)")
    parser.add_argument("--voters", type=int, default=1000)
    common_arguments(parser)
    parser.set_defaults(rate=200.0)
    args = parser.parse_args()
    url = bench_url(args.database_url)
    try:
        asyncio.run(run(args, url))
    finally:
        if args.database_url:
            drop_schema(url)


if __name__ == "__main__":
    main()
