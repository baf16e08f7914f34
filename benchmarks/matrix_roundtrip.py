"""Round trip agent → bot → agent on Matrix: Recueil's intake turn against a bare echo bot.

Usage:
    python benchmarks/matrix_roundtrip.py [--samples 60] [--warmup 5] [--pacing 0]

Starts a Synapse (the test harness's, default rate limits; the three accounts are exempted,
since 0.2 message/s would measure the limiter), a bare matrix-nio echo bot (sync loop,
encryption chores, an encrypted reply per message) and Recueil (engine on SQLite plus
``MatrixTransport``), and one agent with an encrypted direct room with each. Samples
alternate: one echo, one Recueil intake turn (answering the besoin's title, which asks for
the description; an unmeasured ``retour`` goes back to the title between samples). A round
trip runs from just before the agent's send to the sync that delivers the reply.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from nio import (
    AsyncClient,
    AsyncClientConfig,
    InviteMemberEvent,
    MatrixRoom,
    RoomMessageText,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app.engine import Engine
from bot.app.services import build_services
from bot.transports.matrix import MatrixOptions, MatrixTransport
from config.settings import Settings
from storage.store import Store
from tests.matrix.synapse_server import RegisteredUser, SynapseServer
from tests.matrix.synced_client import BotChat, SyncedClient, open_chat_with_bot

CONFIG = AsyncClientConfig(encryption_enabled=True, max_limit_exceeded=0, max_timeouts=0)
CLOCK = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def client_for(user: RegisteredUser, synapse: SynapseServer, store: Path) -> AsyncClient:
    store.mkdir(parents=True)
    client = AsyncClient(synapse.url, user.user_id, user.device_id, str(store), CONFIG)
    client.restore_login(user.user_id, user.device_id, user.access_token)
    return client


def recueil_settings(
    synapse: SynapseServer, bot_user: RegisteredUser, data_dir: Path, pacing: float
) -> Settings:
    """Recueil's settings for the bot account ``bot_user``; creates ``data_dir``."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return Settings(
        data_dir=data_dir,
        matrix_homeserver=synapse.url,
        matrix_user_id=bot_user.user_id,
        matrix_access_token=bot_user.access_token,  # type: ignore[arg-type]
        matrix_seconds_between_requests=pacing,
    )


async def start_recueil(
    settings: Settings, store: Store
) -> tuple[Engine, MatrixTransport, asyncio.Task[None]]:
    """Recueil's engine and ``MatrixTransport``, synced once (its first sync processed)."""
    engine = Engine(build_services(settings), store, clock=lambda: CLOCK)
    transport = MatrixTransport(
        settings, catalogue=engine.services.catalogue, store=store, options=MatrixOptions()
    )
    engine.register(transport)
    task = asyncio.create_task(transport.run(engine.handle))
    await transport.wait_ready(120)
    return engine, transport, task


async def echo_bot(client: AsyncClient) -> None:
    """The bare minimum a nio bot does: join on invite, answer each text, encrypted."""

    async def on_text(room: MatrixRoom, event: RoomMessageText) -> None:
        if event.sender != client.user_id:
            await client.room_send(
                room.room_id,
                "m.room.message",
                {"msgtype": "m.text", "body": event.body},
                ignore_unverified_devices=True,
            )

    async def on_invite(room: MatrixRoom, event: InviteMemberEvent) -> None:
        if event.state_key == client.user_id:
            await client.join(room.room_id)

    client.add_event_callback(on_text, RoomMessageText)  # type: ignore[arg-type]
    client.add_event_callback(on_invite, InviteMemberEvent)  # type: ignore[arg-type]
    await client.sync_forever(timeout=30_000, full_state=True)


async def round_trip(chat: BotChat, text: str, expected: str) -> float:
    started = time.perf_counter()
    await chat.say(text, then=expected)
    return time.perf_counter() - started


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def main(samples: int, warmup: int, pacing: float) -> None:
    work = Path(tempfile.mkdtemp(prefix="recueil-bench-"))
    async with SynapseServer() as synapse:
        users = [
            await synapse.register(name, exempt_from_rate_limits=True)
            for name in ("echo", "recueil", "agent")
        ]
        echo_user, bot_user, agent_user = users
        echo = client_for(echo_user, synapse, work / "echo")
        echo_task = asyncio.create_task(echo_bot(echo))

        settings = recueil_settings(synapse, bot_user, work / "recueil", pacing)
        store = Store.open(f"sqlite:///{settings.data_dir / 'recueil.sqlite3'}")
        engine, _transport, bot_task = await start_recueil(settings, store)

        agent = SyncedClient(client_for(agent_user, synapse, work / "agent"), agent_user)
        await agent.sync_once(timeout_ms=0)
        echo_chat = await open_chat_with_bot(agent, echo_user.user_id)
        await echo_chat.agent.sync_until(
            lambda: echo_user.user_id in agent.client.rooms[echo_chat.room_id].users, "echo join"
        )
        chat = await open_chat_with_bot(agent, bot_user.user_id)
        await chat.expect("Quelle est votre collectivité")
        for text, then in [
            ("Villeurbanne", "Vous êtes"),
            ("2", "fonction"),
            ("DGS", "adresse électronique"),
            ("passer", "Que souhaitez-vous faire"),
            ("1", "En une ligne"),
        ]:
            await chat.say(text, then=then)

        echo_times: list[float] = []
        recueil_times: list[float] = []
        for number in range(warmup + samples):
            echo_rtt = await round_trip(echo_chat, f"ping {number}", f"ping {number}")
            recueil_rtt = await round_trip(chat, f"Besoin numéro {number}", "Décrivez le problème")
            await chat.say("retour", then="En une ligne")
            if number >= warmup:
                echo_times.append(echo_rtt)
                recueil_times.append(recueil_rtt)

        bot_task.cancel()
        echo_task.cancel()
        await asyncio.gather(bot_task, echo_task, return_exceptions=True)
        await engine.close()
        store.close()
        await echo.close()
        await agent.client.close()

    def line(name: str, times: list[float]) -> str:
        p50, p99 = statistics.median(times) * 1000, percentile(times, 0.99) * 1000
        return f"{name:<22} p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   (n={len(times)})"

    print(f"Synapse {synapse.url}, pacing {pacing}s, {samples} samples after {warmup} warm-up")
    print(line("echo bot (bare nio)", echo_times))
    print(line("Recueil intake turn", recueil_times))
    ratio = statistics.median(recueil_times) / statistics.median(echo_times)
    print(f"ratio p50 Recueil / echo: {ratio:.2f} (target ≤ 1.3)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--pacing", type=float, default=0.0)
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # nio's "Missing session" warnings are expected
    asyncio.run(main(arguments.samples, arguments.warmup, arguments.pacing))
