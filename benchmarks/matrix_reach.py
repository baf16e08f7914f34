"""How long a campaign push takes to reach N agents on Matrix (Tchap), limited and exempted.

Usage:
    python benchmarks/matrix_reach.py [--agents 1000] [--limited-agents N] [--pacing 0]
                                      [--sample 10] [--concurrency 200]

Starts the test harness's Synapse (Synapse's default rate limits; only ``bcrypt_rounds`` is
lowered, so that registering a thousand accounts takes seconds) and Recueil (engine on
SQLite plus ``MatrixTransport``, the production code path), then N agents, each with a real
device (Olm keys uploaded) and an encrypted direct room with the bot, opened as Tchap opens
one (the agent invites the bot, which joins and greets). The agents' accounts are exempted
from rate limits and so is the bot during this setup: only the bot's campaign sending is
measured.

Each measured campaign starts a fresh bot on the same data directory (as after a restart,
or a week after the last message: the bot shares a new Megolm room key with each agent's
device through its Olm session before its message), then ``Engine.push`` sends one text to
every recipient. Twice:

1. ``limited``: the bot's override is removed, Synapse's defaults apply (``rc_message``
   0.2/s after a burst of 10). ``--limited-agents`` takes the first N agents only, since a
   thousand take about 80 minutes at that rate.
2. ``exempted``: ``override_ratelimit`` 0/0 for the bot (what a Tchap operator can grant).

Reported per campaign: time to reach everyone (push start to the last send acknowledged),
messages/s, ``M_LIMIT_EXCEEDED`` answers waited out, the bot's CPU time, and the time a
reply took to reach an agent who wrote to the bot during the push. Checked afterwards: by
the admin API, every recipient's room holds exactly one more event from the bot; by syncing
``--sample`` agents, that event decrypts to the pushed text.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import aiohttp

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from matrix_roundtrip import client_for, recueil_settings, start_recueil  # noqa: E402

from bot.app.engine import Engine  # noqa: E402
from bot.core.values import ConversationKey, OutText  # noqa: E402
from bot.transports.matrix import MatrixTransport  # noqa: E402
from bot.transports.matrix.identity import matrix_dir  # noqa: E402
from bot.transports.matrix.state import StateFile  # noqa: E402
from config.settings import Settings  # noqa: E402
from storage.store import Store  # noqa: E402
from tests.matrix.synapse_server import RegisteredUser, SynapseServer  # noqa: E402
from tests.matrix.synced_client import (  # noqa: E402
    BotChat,
    SyncedClient,
    check,
    open_chat_with_bot,
)

SETUP_CONCURRENCY = 16
ENCRYPTED = "m.room.encrypted"


@dataclass
class Agent:
    user: RegisteredUser
    room_id: str
    chat: BotChat | None = None  # kept open (synced) for the sample only


@dataclass
class Reach:
    name: str
    recipients: int
    seconds: float
    rate_limited: int
    cpu_seconds: float
    reply_seconds: float | None
    exact: int  # rooms that received exactly one more bot event
    sample_ok: int
    sample: int


# -- setup ---------------------------------------------------------------------------


async def make_agent(
    synapse: SynapseServer, number: int, bot_id: str, work: Path, keep_open: bool
) -> Agent:
    """An exempted agent with a real device, and an encrypted direct room inviting the bot."""
    user = await synapse.register(f"agent-{number:05d}", exempt_from_rate_limits=True)
    synced = SyncedClient(client_for(user, synapse, work / "agents" / str(number)), user)
    await synced.sync_once(timeout_ms=0)  # uploads the device keys and one-time keys
    if keep_open:
        chat = await open_chat_with_bot(synced, bot_id)
        return Agent(user, chat.room_id, chat)
    from nio import EnableEncryptionBuilder, RoomCreateResponse, RoomPreset

    created = await synced.client.room_create(
        is_direct=True,
        preset=RoomPreset.trusted_private_chat,
        invite=[bot_id],
        initial_state=[EnableEncryptionBuilder().as_dict()],
    )
    await synced.client.close()
    return Agent(user, check(created, RoomCreateResponse).room_id)


async def make_agents(
    synapse: SynapseServer, count: int, sample: int, bot_id: str, work: Path
) -> list[Agent]:
    limit = asyncio.Semaphore(SETUP_CONCURRENCY)

    async def one(number: int) -> Agent:
        async with limit:
            return await make_agent(synapse, number, bot_id, work, keep_open=number < sample)

    return list(await asyncio.gather(*(one(n) for n in range(count))))


async def wait_greeted(settings: Settings, rooms: set[str], within: float) -> None:
    """Until the bot's state file says every room was greeted (polled once a second)."""
    state_file = StateFile(matrix_dir(settings.data_dir) / "state.json")
    deadline = time.monotonic() + within
    while True:
        state = state_file.load()
        missing = [r for r in rooms if r not in state.rooms or not state.rooms[r].greeted]
        if not missing:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(missing)} rooms not greeted within {within}s")
        await asyncio.sleep(1.0)


# -- the server's view ---------------------------------------------------------------


async def bot_events(
    session: aiohttp.ClientSession, synapse: SynapseServer, room_id: str, bot_id: str
) -> int:
    """How many encrypted events the bot sent into ``room_id``, read by the admin API."""
    token = await synapse.admin_token()
    url = f"{synapse.url}/_synapse/admin/v1/rooms/{quote(room_id)}/messages?dir=b&limit=1000"
    async with session.get(url, headers={"Authorization": f"Bearer {token}"}) as response:
        payload = await response.json()
        if response.status != 200:
            raise AssertionError(f"messages of {room_id}: {response.status} {payload}")
    return sum(1 for e in payload["chunk"] if e["sender"] == bot_id and e["type"] == ENCRYPTED)


async def count_bot_events(
    synapse: SynapseServer, agents: Sequence[Agent], bot_id: str
) -> dict[str, int]:
    limit = asyncio.Semaphore(SETUP_CONCURRENCY)
    async with aiohttp.ClientSession() as session:

        async def one(agent: Agent) -> tuple[str, int]:
            async with limit:
                return agent.room_id, await bot_events(session, synapse, agent.room_id, bot_id)

        return dict(await asyncio.gather(*(one(agent) for agent in agents)))


async def set_bot_limits(synapse: SynapseServer, bot_id: str, exempt: bool) -> None:
    """``override_ratelimit`` 0/0 for the bot, or no override (the server's defaults)."""
    token = await synapse.admin_token()
    url = f"{synapse.url}/_synapse/admin/v1/users/{quote(bot_id)}/override_ratelimit"
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        if exempt:
            body = {"messages_per_second": 0, "burst_count": 0}
            async with session.post(url, json=body) as response:
                assert response.status == 200, await response.text()
        else:
            async with session.delete(url) as response:
                assert response.status == 200, await response.text()


# -- one campaign --------------------------------------------------------------------


async def reply_time(agent: Agent, delay: float) -> float:
    """After ``delay``, the agent writes to the bot: seconds until the bot's reply arrives."""
    assert agent.chat is not None
    await asyncio.sleep(delay)
    started = time.perf_counter()
    content = {"msgtype": "m.text", "body": "Villeurbanne"}
    await agent.chat.agent.send(agent.room_id, "m.room.message", content)
    await agent.chat.expect("Vous êtes", within=3600)
    return time.perf_counter() - started


async def campaign(
    name: str,
    synapse: SynapseServer,
    settings: Settings,
    store: Store,
    recipients: Sequence[Agent],
    prober: Agent | None,
    sample: Sequence[Agent],
    concurrency: int,
) -> Reach:
    bot_id = settings.matrix_user_id
    assert bot_id is not None
    text = f"Campagne {name} : le vote est ouvert."
    before = await count_bot_events(synapse, recipients, bot_id)
    for agent in sample:
        assert agent.chat is not None
        agent.chat.seen = len(agent.chat.bot_messages())
    keys = []
    with store.transaction() as tx:
        for agent in recipients:
            record = tx.ensure_agent("matrix", agent.user.user_id)
            assert record.id is not None
            keys.append((ConversationKey("matrix", agent.room_id, agent.user.user_id), record.id))

    engine, transport, task = await start_recueil(settings, store)
    probe = asyncio.create_task(reply_time(prober, 2.0)) if prober else None
    cpu, started = time.process_time(), time.perf_counter()
    await engine.push(keys, [OutText(text)], campaign=f"bench-{name}", concurrency=concurrency)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    reply_seconds = await probe if probe else None
    rate_limited = transport.sender.stats.rate_limited
    await stop(engine, transport, task)

    after = await count_bot_events(synapse, recipients, bot_id)
    replied = {prober.room_id} if prober else set()
    exact = sum(
        1
        for room, count in after.items()
        if count - before[room] == 1 or (room in replied and count - before[room] >= 2)
    )
    sample_ok = 0
    for agent in sample:
        assert agent.chat is not None
        await agent.chat.expect(text, within=60)
        fresh = [b for b in agent.chat.bot_messages()[agent.chat.seen - 1 :] if b.body == text]
        sample_ok += len(fresh) == 1
    return Reach(
        name,
        len(recipients),
        seconds,
        rate_limited,
        cpu_seconds,
        reply_seconds,
        exact,
        sample_ok,
        len(sample),
    )


async def stop(engine: Engine, transport: MatrixTransport, task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await engine.close()


# -- invitations received by the bot -------------------------------------------------


async def invitations_probe(agents: int) -> None:
    """``agents`` agents at default limits each open a chat with the (exempted) bot.

    Synapse counts invitations *received* per invitee (``rc_invites.per_user``) and checks
    that bucket against the inviter: the bot's override does not lift it.
    """
    from nio import EnableEncryptionBuilder, RoomCreateError, RoomPreset

    work = Path(tempfile.mkdtemp(prefix="recueil-invites-"))
    async with SynapseServer(config_overrides={"bcrypt_rounds": 4}) as synapse:
        bot = await synapse.register("recueil", exempt_from_rate_limits=True)
        refused = []
        for number in range(agents):
            user = await synapse.register(f"agent-{number:05d}")
            client = client_for(user, synapse, work / str(number))
            created = await client.room_create(
                is_direct=True,
                preset=RoomPreset.trusted_private_chat,
                invite=[bot.user_id],
                initial_state=[EnableEncryptionBuilder().as_dict()],
            )
            if isinstance(created, RoomCreateError):
                refused.append(f"{number + 1}: {created.status_code} {created.retry_after_ms} ms")
            await client.close()
    shutil.rmtree(work, ignore_errors=True)
    print(f"{agents} agents at default limits invite the exempted bot; refused: {refused}")


# -- main ----------------------------------------------------------------------------


def show(reach: Reach) -> None:
    rate = reach.recipients / reach.seconds
    reply = f"{reach.reply_seconds:.1f} s" if reach.reply_seconds is not None else "-"
    print(
        f"{reach.name:<9} {reach.recipients:>5} agents  {reach.seconds:8.1f} s  "
        f"{rate:7.2f} msg/s  429s {reach.rate_limited:>6}  CPU {reach.cpu_seconds:6.1f} s  "
        f"reply during push {reply}  exact {reach.exact}/{reach.recipients}  "
        f"sample decrypted {reach.sample_ok}/{reach.sample}"
    )


async def main(
    agents: int, limited_agents: int, pacing: float, sample: int, concurrency: int
) -> None:
    work = Path(tempfile.mkdtemp(prefix="recueil-reach-"))
    # Sample agents are the first ones, so that the limited run (first N) includes them;
    # one more keeps a chat open to write to the bot during each push.
    sample = min(sample, agents - 1)
    async with SynapseServer(config_overrides={"bcrypt_rounds": 4}) as synapse:
        bot_user = await synapse.register("recueil", exempt_from_rate_limits=True)
        settings = recueil_settings(synapse, bot_user, work / "recueil", pacing)
        store = Store.open(f"sqlite:///{settings.data_dir / 'recueil.sqlite3'}")

        started = time.perf_counter()
        engine, transport, task = await start_recueil(settings, store)
        everyone = await make_agents(synapse, agents, sample + 2, bot_user.user_id, work)
        created = time.perf_counter() - started
        await wait_greeted(settings, {a.room_id for a in everyone}, within=60 + agents)
        setup = time.perf_counter() - started
        await stop(engine, transport, task)
        print(
            f"setup: {agents} agents, devices and encrypted DMs in {created:.1f} s, "
            f"greeted by the bot after {setup:.1f} s"
        )

        probers = everyone[sample : sample + 2]
        others = everyone[:sample] + everyone[sample + 2 :]
        results = []
        await set_bot_limits(synapse, bot_user.user_id, exempt=False)
        results.append(
            await campaign(
                "limited",
                synapse,
                settings,
                store,
                others[: max(limited_agents - 1, sample)] + probers[:1],
                probers[0],
                everyone[:sample],
                concurrency,
            )
        )
        show(results[-1])
        await set_bot_limits(synapse, bot_user.user_id, exempt=True)
        results.append(
            await campaign(
                "exempted",
                synapse,
                settings,
                store,
                others + probers[1:],
                probers[1],
                everyone[:sample],
                concurrency,
            )
        )
        show(results[-1])
        store.close()
        for agent in everyone:
            if agent.chat is not None:
                await agent.chat.agent.client.close()
    shutil.rmtree(work, ignore_errors=True)
    print(f"Synapse default limits; bot pacing {pacing} s; engine concurrency {concurrency}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument(
        "--limited-agents", type=int, default=100, help="recipients of the rate-limited run"
    )
    parser.add_argument("--pacing", type=float, default=0.0, help="seconds between requests")
    parser.add_argument("--sample", type=int, default=10, help="agents that sync and decrypt")
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument(
        "--invitations-probe",
        type=int,
        metavar="N",
        help="only count refusals when N agents at default limits invite the bot",
    )
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if arguments.invitations_probe:
        asyncio.run(invitations_probe(arguments.invitations_probe))
        sys.exit()
    asyncio.run(
        main(
            arguments.agents,
            arguments.limited_agents,
            arguments.pacing,
            arguments.sample,
            arguments.concurrency,
        )
    )
