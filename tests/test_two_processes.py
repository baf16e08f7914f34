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
import socket
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
import sqlalchemy as sa
from databases import PG_URL, drop_postgres_schema, fresh_postgres_url
from recueil_process import RunningBot, recueil_run

from storage.models import Campaign
from storage.store import Store

sys.path.insert(0, str(Path(__file__).parent / "telegram"))
from fake_bot_api import FakeBotApi

TOKEN = "123456:two-processes-token"
SECRET = "two_processes-secret"
PUBLIC_URL = "https://recueil.example.org/telegram/hook"  # what Telegram knows: the balancer
AGENTS = 50
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


def script(number: int) -> list[str]:
    """What agent ``number`` types, from the welcome to its need being recorded."""
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
        "3",
        "Envoyer",
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def postgres_url():  # type: ignore[no-untyped-def]
    if not PG_URL:
        pytest.skip("RECUEIL_TEST_DATABASE_URL is not set")  # CI always sets it
    url = fresh_postgres_url()
    yield url
    drop_postgres_schema(url)


async def until(condition: Callable[[], Awaitable[bool]], what: str, bound: float = 30) -> None:
    """Check ``condition`` (a database read) until it holds; a bound, not a pacing."""
    deadline = time.monotonic() + bound
    while not await condition():
        assert time.monotonic() < deadline, f"timed out after {bound}s waiting for {what}"
        await asyncio.sleep(0.1)


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
    rng = random.Random(14)

    async def db(query: str) -> list[sa.Row]:
        def read() -> list[sa.Row]:
            with store.engine.begin() as connection:
                return list(connection.exec_driver_sql(query).all())

        return await asyncio.to_thread(read)

    begun = time.perf_counter()
    async with FakeBotApi() as api:

        def worker(index: int):  # type: ignore[no-untyped-def]
            return recueil_run(
                RECUEIL_DATA_DIR=str(tmp_path / f"worker{index}"),
                RECUEIL_DATABASE_URL=postgres_url,
                RECUEIL_TELEGRAM_TOKEN=TOKEN,
                RECUEIL_TELEGRAM_BASE_URL=api.base_url,
                RECUEIL_TELEGRAM_WEBHOOK_URL=PUBLIC_URL,
                RECUEIL_TELEGRAM_WEBHOOK_SECRET=SECRET,
                RECUEIL_TELEGRAM_WEBHOOK_LISTEN="127.0.0.1",
                RECUEIL_TELEGRAM_WEBHOOK_PORT=str(ports[index]),
                RECUEIL_NOW="2026-11-02T10:00:00+01:00",
                RECUEIL_CALENDAR_FILE=str(calendar),
                RECUEIL_SCHEDULE_SECONDS="1",
            )

        async with worker(0) as first, worker(1) as second, aiohttp.ClientSession() as http:
            workers: list[RunningBot] = [first, second]
            await api.wait_until(
                lambda: len(api.calls_to("setWebhook")) == 2, timeout=120, what="both webhooks"
            )
            print(f"workers ready in {time.perf_counter() - begun:.1f} s")

            async def post(update_id: int, worker: int) -> None:
                [update] = [u for u in api.pending_updates if u["update_id"] == update_id]
                url = f"http://127.0.0.1:{ports[worker]}/telegram/hook"
                headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
                async with http.post(url, json=update, headers=headers) as response:
                    assert response.status == 200

            async def agent(number: int) -> None:
                chat = 10_000 + number
                # One update after the other, as Telegram posts a chat's updates, each to
                # whichever worker the balancer picks.
                await post(await api.user_starts(chat), rng.randrange(2))
                for text in script(number):
                    await post(await api.user_sends_text(chat, text), rng.randrange(2))
                # Then a burst at once, to both workers: the database orders the turns.
                burst = [await api.user_sends_text(chat, "aide") for _ in range(BURST)]
                await asyncio.gather(*(post(u, i % 2) for i, u in enumerate(burst)))

            started = time.perf_counter()
            await asyncio.gather(*(agent(n) for n in range(AGENTS)))
            elapsed = time.perf_counter() - started
            turns = AGENTS * (len(script(0)) + 1 + BURST)
            print(f"{turns} turns over two workers in {elapsed:.1f} s")

            async def all_sent() -> bool:
                [(unsent,)] = await db("SELECT count(*) FROM delivery WHERE status <> 'sent'")
                return unsent == 0

            await until(all_sent, "every reply sent")  # a burst's last POST may end first

            # A campaign due in both processes: only the leader ticks it, each agent hears it once.
            leaders = await leader_pids(db)
            assert len(leaders) == 1 and leaders[0] in {w.process.pid for w in workers}
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
        with store.engine.connect() as connection:
            references = [
                r for (r,) in connection.exec_driver_sql("SELECT reference FROM contribution")
            ]
            events = connection.exec_driver_sql("SELECT count(*) FROM inbound_event").scalar()
            handled = connection.exec_driver_sql("SELECT sum(turns) FROM conversation").scalar()
        assert len(references) == AGENTS and len(set(references)) == AGENTS, references
        assert events == handled == AGENTS * (len(script(0)) + 1 + BURST)  # each update once
        for number in range(AGENTS):
            texts = [m.text or "" for m in api.sent_messages(10_000 + number)]
            assert sum(opening_text(api, 10_000 + number, t) for t in texts) == 1
            assert sum(reminder_text(api, 10_000 + number, t) for t in texts) == 1
            assert sum("enregistré sous la référence" in t for t in texts) == 1, texts
    finally:
        store.close()


async def leader_pids(db: Callable[[str], Awaitable[list[sa.Row]]]) -> list[int]:
    """The pid of the process leading this schema's scheduler, as it names its session."""
    rows = await db(
        "SELECT application_name FROM pg_stat_activity"
        " WHERE application_name LIKE 'recueil scheduler ' || current_schema() || ' pid %%'"
    )
    return sorted(int(name.rsplit(" ", 1)[1]) for (name,) in rows)


async def release(db: Callable[[str], Awaitable[list[sa.Row]]], campaign: str) -> None:
    await db(f"DELETE FROM campaign WHERE id = '{campaign}' RETURNING id")


def opening_text(api: FakeBotApi, chat: int, text: str | None = None) -> bool:
    texts = [text] if text is not None else [m.text or "" for m in api.sent_messages(chat)]
    return any(t.startswith("La collecte des besoins et des services est ouverte") for t in texts)


def reminder_text(api: FakeBotApi, chat: int, text: str | None = None) -> bool:
    texts = [text] if text is not None else [m.text or "" for m in api.sent_messages(chat)]
    return any(t.startswith("Plus que") for t in texts)


def check_each_message_sent_once_in_order(store: Store, api: FakeBotApi) -> None:
    """Every delivery row reached its chat exactly once, in the order of the rows: the
    order in which the turns, serialised by the database, queued them."""
    with store.engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT chat_id, payload, status FROM delivery ORDER BY id"
        ).all()
    assert Counter(status for _, _, status in rows) == Counter(sent=len(rows))
    queued: dict[int, list[str]] = {}
    for chat, payload, _ in rows:
        queued.setdefault(int(chat), []).append(payload["text"])
    for chat, texts in queued.items():
        sent = [m.text or "" for m in api.sent_messages(chat)]
        assert len(sent) == len(texts), (chat, sent, texts)
        for expected, got in zip(texts, sent, strict=True):
            assert got.startswith(expected[:30]), (chat, got, expected)
