"""Two ``recueil run`` processes on one PostgreSQL base, behind a load balancer (issue 14).

The test process plays Telegram (the fake Bot API) and the load balancer: each update of
50 agents doing the intake is posted to one of the two webhook workers at random, so that
consecutive updates of one chat land in different processes; at the end each agent sends a
burst of updates at once, to both. Then a campaign becomes due, which both processes would
tick; then the scheduler's leader is killed (SIGKILL) and a later campaign must still go out,
once, from the other process.

The calendar makes both campaigns due on the trial day (``RECUEIL_NOW``); the test holds
them back until it wants them by recording them beforehand as skipped, and releases one by
deleting its record: the next tick of the leader sees it due.
"""

from __future__ import annotations

import asyncio
import random
import signal
import time
from pathlib import Path

import aiohttp
import pytest
from databases import PG_URL, drop_postgres_schema, fresh_postgres_url
from recueil_process import RunningBot, recueil_run
from webhook_load import (
    FakeBotApi,
    Reader,
    check_each_message_sent_once_in_order,
    check_intake_done_once,
    database_reader,
    free_port,
    post,
    script,
    until,
    worker_variables,
)

from storage.models import Campaign
from storage.store import Store

AGENTS = 25
BURST = 3
OPENING, REMINDER = "collecte-ouverture", "collecte-rappel-j10"
CALENDAR = """
[[phase]]
id = "collecte"
label = "collecte des besoins et des services"
start = 2026-11-02
end = 2026-11-12
[[phase.announcement]]
kind = "ouverture"
audience = "agents"
[[phase.announcement]]
kind = "rappel"
days_before_end = 10
audience = "agents"

[[phase]]
id = "vote"
label = "vote"
start = 2027-02-15
end = 2027-03-15

[[phase]]
id = "referents"
label = "appel aux territoires référents"
start = 2027-04-01
end = 2027-04-30

[[phase]]
id = "deploiement"
label = "déploiement"
start = 2027-06-01
end = 2027-12-31
"""


@pytest.fixture
def postgres_url():  # type: ignore[no-untyped-def]
    if not PG_URL:
        pytest.skip("RECUEIL_TEST_DATABASE_URL is not set")  # CI always sets it
    url = fresh_postgres_url()
    yield url
    drop_postgres_schema(url)


async def test_two_processes_on_one_postgresql_answer_once_in_order_and_push_once(
    postgres_url: str, tmp_path: Path
) -> None:
    store = Store.open(postgres_url)  # migrated once, before the workers start
    with store.transaction() as tx:  # both campaigns held back until the test releases them
        for campaign in (OPENING, REMINDER):
            kind = campaign.split("-")[1]
            tx.session.add(
                Campaign(
                    id=campaign, phase="collecte", kind=kind, audience="agents", status="skipped"
                )
            )
    calendar = tmp_path / "calendar.toml"
    calendar.write_text(CALENDAR, encoding="utf-8")
    ports = [free_port(), free_port()]
    health = [f"http://127.0.0.1:{free_port()}/health" for _ in ports]
    rng = random.Random(14)

    db = database_reader(store)

    begun = time.perf_counter()
    async with FakeBotApi() as api:

        def worker(index: int):  # type: ignore[no-untyped-def]
            return recueil_run(
                **worker_variables(api, postgres_url, ports[index], tmp_path / f"worker{index}"),
                RECUEIL_NOW="2026-11-02T10:00:00+01:00",
                RECUEIL_CALENDAR_FILE=str(calendar),
                RECUEIL_SCHEDULE_SECONDS="1",
                RECUEIL_METRICS_ADDRESS=health[index].removeprefix("http://").split("/")[0],
            )

        async with worker(0) as first, worker(1) as second, aiohttp.ClientSession() as http:
            workers: list[RunningBot] = [first, second]
            await api.wait_until(
                lambda: len(api.calls_to("setWebhook")) == 2, timeout=120, what="both webhooks"
            )
            print(f"workers ready in {time.perf_counter() - begun:.1f} s")

            async def agent(number: int) -> None:
                chat = 10_000 + number
                # One update after the other, as Telegram posts a chat's updates, each to
                # whichever worker the balancer picks.
                await post(api, http, await api.user_starts(chat), rng.choice(ports))
                for text in script(number):
                    await post(api, http, await api.user_sends_text(chat, text), rng.choice(ports))
                # Then a burst at once, to both workers: the database orders the turns.
                burst = [await api.user_sends_text(chat, "aide") for _ in range(BURST)]
                await asyncio.gather(
                    *(post(api, http, update, ports[i % 2]) for i, update in enumerate(burst))
                )

            started = time.perf_counter()
            await asyncio.gather(*(agent(n) for n in range(AGENTS)))
            elapsed = time.perf_counter() - started
            turns = AGENTS * (len(script(0)) + 1 + BURST)
            print(f"{turns} turns over two workers in {elapsed:.1f} s")

            async def all_sent() -> bool:
                [(unsent,)] = await db("SELECT count(*) FROM delivery WHERE status <> 'sent'")
                return unsent == 0

            # a burst's last POST may end first, and each worker paces its sends as Telegram
            # requires (30 a second, 1 a second to a chat): the backlog left when the load
            # ends took over 30 s on a loaded 2-core machine. A bound against a hang only.
            await until(all_sent, "every reply sent", bound=120)

            # A campaign due in both processes: only the leader ticks it, each agent hears it once.
            leaders = await leader_pids(db)
            assert len(leaders) == 1 and leaders[0] in {w.process.pid for w in workers}

            async def roles() -> list[str | None]:
                """Each worker's /health ``scheduler``, in the workers' order."""
                found = []
                for url in health:
                    try:
                        async with http.get(url) as response:
                            found.append((await response.json())["scheduler"])
                    except aiohttp.ClientConnectionError:
                        found.append(None)  # a dead worker answers nothing
                return found

            leading = [w.process.pid == leaders[0] for w in workers]
            expected = ["running" if lead else "standby" for lead in leading]

            async def health_names_the_leader() -> bool:
                return await roles() == expected

            await until(health_names_the_leader, "/health to name the leader, and only it")
            await release(db, OPENING)
            await api.wait_until(
                lambda: all(opening_text(api, 10_000 + n) for n in range(AGENTS)),
                timeout=30,
                what="the opening announcement in every chat",
            )

            await until(all_sent, "every push marked sent")  # a quiet moment to die at
            # The leader dies; the other worker takes over and sends the later campaign.
            [leader] = [w for w in workers if w.process.pid == leaders[0]]
            [survivor] = [w for w in workers if w is not leader]
            leader.process.send_signal(signal.SIGKILL)
            await leader.process.wait()

            async def survivor_leads() -> bool:
                return await leader_pids(db) == [survivor.process.pid]

            await until(survivor_leads, "the surviving worker to lead")

            async def survivor_says_running() -> bool:
                return (await roles())[workers.index(survivor)] == "running"

            await until(survivor_says_running, "the survivor's /health to say it runs the jobs")
            await release(db, REMINDER)
            await api.wait_until(
                lambda: all(reminder_text(api, 10_000 + n) for n in range(AGENTS)),
                timeout=30,
                what="the reminder in every chat",
            )
            await until(all_sent, "every push sent")
        assert survivor.process.returncode == 0, survivor.journal
        assert leader.process.returncode == -signal.SIGKILL

    try:
        check_each_message_sent_once_in_order(store, api)
        chats = [10_000 + n for n in range(AGENTS)]
        check_intake_done_once(store, api, chats, AGENTS * (len(script(0)) + 1 + BURST))
        for number in range(AGENTS):
            texts = [m.text or "" for m in api.sent_messages(10_000 + number)]
            assert sum(opening_text(api, 10_000 + number, t) for t in texts) == 1
            assert sum(reminder_text(api, 10_000 + number, t) for t in texts) == 1
    finally:
        store.close()


async def leader_pids(db: Reader) -> list[int]:
    """The pid of the process leading this schema's scheduler, as it names its session."""
    rows = await db(
        "SELECT application_name FROM pg_stat_activity"
        " WHERE application_name LIKE 'recueil scheduler ' || current_schema() || ' pid %%'"
    )
    return sorted(int(name.rsplit(" ", 1)[1]) for (name,) in rows)


async def release(db: Reader, campaign: str) -> None:
    await db(f"DELETE FROM campaign WHERE id = '{campaign}' RETURNING id")


def opening_text(api: FakeBotApi, chat: int, text: str | None = None) -> bool:
    texts = [text] if text is not None else [m.text or "" for m in api.sent_messages(chat)]
    return any(t.startswith("La collecte des besoins et des services est ouverte") for t in texts)


def reminder_text(api: FakeBotApi, chat: int, text: str | None = None) -> bool:
    texts = [text] if text is not None else [m.text or "" for m in api.sent_messages(chat)]
    return any(t.startswith("Plus que") for t in texts)
