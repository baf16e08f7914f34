"""``recueil run`` with RECUEIL_METRICS_ADDRESS: /health and /metrics of the running bot."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import aiohttp
from fake_bot_api import FakeBotApi
from prometheus_client.parser import text_string_to_metric_families
from recueil_process import recueil_run
from test_telegram_journal import journal_until

TOKEN = "123456:secret-telegram-token"


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(exposition: str) -> Samples:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


async def scrape_until(http: aiohttp.ClientSession, url: str, turns: int) -> Samples:
    """/metrics once the bot has counted ``turns`` turns: a turn is counted after its last
    reply is marked sent, just after the fake Bot API has received it. The gauges read from
    the database are those of the scrape's start and the counters those of its end: the
    scrape that first sees the turns may predate the last mark, so one more is taken."""
    key = ("recueil_turns_total", (("transport", "telegram"),))

    async def scrape() -> Samples:
        async with http.get(url) as response:
            assert response.status == 200
            return parse(await response.text())

    async def poll() -> Samples:
        while True:
            if (await scrape()).get(key, 0) >= turns:
                return await scrape()
            await asyncio.sleep(0.05)

    return await asyncio.wait_for(poll(), 30)


async def health_once_a_job_ran(http: aiohttp.ClientSession, url: str) -> dict[str, object]:
    async def poll() -> dict[str, object]:
        while True:
            async with http.get(url) as response:
                assert response.status == 200
                health: dict[str, object] = await response.json()
            if health["last_scheduled_job"] is not None:
                return health
            await asyncio.sleep(0.1)

    return await asyncio.wait_for(poll(), 30)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_running_bot_serves_health_and_metrics(
    fake_bot_api: FakeBotApi, tmp_path: Path
) -> None:
    address = f"127.0.0.1:{free_port()}"
    async with recueil_run(
        RECUEIL_DATA_DIR=str(tmp_path),
        RECUEIL_TELEGRAM_TOKEN=TOKEN,
        RECUEIL_TELEGRAM_BASE_URL=fake_bot_api.base_url,
        RECUEIL_METRICS_ADDRESS=address,
        RECUEIL_SCHEDULE_SECONDS="1",  # the announcements' job: a scheduled run within a second
    ) as running:
        await journal_until(running, "health and metrics on")
        await fake_bot_api.user_starts(4242)
        await fake_bot_api.wait_for_messages(4242, 2, timeout=90)
        await fake_bot_api.user_sends_text(4242, "Villeurbanne")
        await fake_bot_api.wait_for_messages(4242, 3, timeout=30)
        async with aiohttp.ClientSession() as http:
            values = await scrape_until(http, f"http://{address}/metrics", 2)
            health = await health_once_a_job_ran(http, f"http://{address}/health")
    assert running.process.returncode == 0, running.journal
    assert health["database"] is True
    assert health["transports"] == {"telegram": "up"}
    assert health["scheduler"] == "running"  # SQLite: one process, no election
    assert values[("recueil_turns_total", (("transport", "telegram"),))] == 2
    assert values[("recueil_turn_seconds_count", (("transport", "telegram"),))] == 2
    assert values[("recueil_deliveries", (("status", "sent"),))] == 3
    assert values[("recueil_pending_deliveries", ())] == 0
    assert values[("recueil_transport_up", (("transport", "telegram"),))] == 1
