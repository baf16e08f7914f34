"""Measure Telegram pushes: achieved send rate against Telegram's limits, losses, duplicates.

Usage:
    python benchmarks/telegram_push.py [--chats 2000] [--messages 1] [--clock virtual|scaled]
                                       [--scale 10] [--flood 0]

The real engine and SQLite store push ``--messages`` texts to each of ``--chats`` agents
through the real Telegram transport, over HTTP, to the fake Bot API server of the test suite,
which enforces Telegram's limits (30 messages/s overall, 1 per second per chat) by refusing
excess sends with 429, as Telegram does.

Time: ``virtual`` (default) runs the whole schedule on a clock that jumps when the limiter
waits, shared by server and client: exact, and latency counts as zero. ``scaled`` runs on
real time multiplied by ``--scale`` (the limiter waits ``1/scale`` of each real delay), so
the real HTTP latency, scaled too, shows what it costs.

``--flood N`` makes the server answer 429 (retry after 1 s) to N sends at the start.
Reported: the rate as a fraction of 30/s, between the first and the last send on the
server's clock; messages lost and duplicated; limit violations found in the server's log;
refusals the client earned by sending too fast.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "telegram")]

from fake_bot_api import FakeBotApi  # noqa: E402
from fake_bot_rate import RateLimits, ScaledClock, VirtualClock, find_violations  # noqa: E402

from bot.app.engine import Engine  # noqa: E402
from bot.app.services import build_services  # noqa: E402
from bot.core.values import ConversationKey, OutText  # noqa: E402
from bot.transports.telegram import TelegramTransport  # noqa: E402
from bot.transports.telegram.ratelimit import RateLimiter  # noqa: E402
from config.settings import Settings  # noqa: E402
from storage.store import Store  # noqa: E402

FIRST_CHAT = 10_000


def clocks(
    kind: str, scale: float
) -> tuple[Callable[[], float], Callable[[float], Awaitable[None]], bool]:
    if kind == "virtual":
        virtual = VirtualClock()
        return virtual, virtual.sleep, True
    scaled = ScaledClock(scale)

    async def sleep(seconds: float) -> None:
        await asyncio.sleep(seconds / scale)

    return scaled, sleep, False


async def run(chats: int, messages: int, kind: str, scale: float, flood: int) -> dict[str, float]:
    clock, sleep, virtual = clocks(kind, scale)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{tmp}/bench.sqlite3")
        async with FakeBotApi(clock=clock, enforce_rate_limits=RateLimits()) as api:
            settings = Settings(
                data_dir=Path(tmp), telegram_token="1:BENCH", telegram_base_url=api.base_url
            )
            engine = Engine(build_services(settings), store)
            transport = TelegramTransport(
                settings,
                catalogue=engine.services.catalogue,
                store=store,
                limiter=RateLimiter(clock=clock, sleep=sleep, virtual=virtual),
            )
            engine.register(transport)
            recipients = []
            with store.transaction() as tx:
                for chat in range(FIRST_CHAT, FIRST_CHAT + chats):
                    agent = tx.ensure_agent("telegram", str(chat))
                    assert agent.id is not None
                    recipients.append((ConversationKey("telegram", str(chat), str(chat)), agent.id))
            texts = [f"Annonce {i + 1}/{messages}" for i in range(messages)]
            if flood:
                api.inject_retry_after(flood, seconds=1, method="sendMessage")
            started = time.perf_counter()
            await engine.push(recipients, [OutText(t) for t in texts], campaign="bench")
            wall = time.perf_counter() - started
            await transport.aclose()
            await engine.close()

            lost = duplicated = disordered = 0
            for chat in range(FIRST_CHAT, FIRST_CHAT + chats):
                got = [m.text for m in api.sent_messages(chat)]
                lost += sum(1 for t in texts if t not in got)
                duplicated += len(got) - len(set(got))
                disordered += got != sorted(got, key=texts.index)
            stamps = sorted(record.at for record in api.send_log)
            span = stamps[-1] - stamps[0]
            rate = (len(stamps) - 1) / span if span > 0 else float("inf")
            tolerance = 0.0
            return {
                "messages": float(len(stamps)),
                "virtual_seconds": span,
                "wall_seconds": wall,
                "rate_per_s": rate,
                "fraction_of_limit": rate / RateLimits().global_per_window,
                "lost": float(lost),
                "duplicated": float(duplicated),
                "out_of_order_chats": float(disordered),
                "violations": float(len(find_violations(api.send_log, tolerance=tolerance))),
                "refused_for_speed": float(len(api.rate_limited)),
                "retry_after_honoured": float(flood),
            }
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chats", type=int, default=2000)
    parser.add_argument("--messages", type=int, default=1, help="messages per chat")
    parser.add_argument("--clock", choices=("virtual", "scaled"), default="virtual")
    parser.add_argument("--scale", type=float, default=10.0, help="for --clock scaled")
    parser.add_argument("--flood", type=int, default=0, help="429 answers injected at start")
    args = parser.parse_args()
    result = asyncio.run(run(args.chats, args.messages, args.clock, args.scale, args.flood))
    clock = args.clock if args.clock == "virtual" else f"scaled ×{args.scale:g}"
    print(f"Telegram push: {args.chats} chats × {args.messages} message(s), clock {clock}")
    print(f"  messages sent        {result['messages']:.0f}")
    span, wall = result["virtual_seconds"], result["wall_seconds"]
    print(f"  span (server clock)  {span:.2f} s   (wall {wall:.2f} s)")
    rate, fraction = result["rate_per_s"], result["fraction_of_limit"]
    print(f"  achieved rate        {rate:.2f} msg/s = {fraction:.3f} of 30/s")
    print(f"  lost                 {result['lost']:.0f}")
    print(f"  duplicated           {result['duplicated']:.0f}")
    print(f"  chats out of order   {result['out_of_order_chats']:.0f}")
    print(f"  limit violations     {result['violations']:.0f}   (server log, no tolerance)")
    print(
        f"  429 for speed        {result['refused_for_speed']:.0f}   (server enforcing the limits)"
    )
    if args.flood:
        print(f"  injected 429         {args.flood} (retry after 1 s), all retried")


if __name__ == "__main__":
    main()
